/* cli_main.c - rulec's entry point: subcommand dispatch, usage, and the
 * helpers every subcommand shares (reading files, expanding folders,
 * turning policy arguments into one verified program).
 */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: rulec <command> [options]\n"
    "\n"
    "commands:\n"
    "  check FILE...                      check policies, print every diagnostic\n"
    "  compile FILE... -o BUNDLE.rbc      compile policies into one bytecode bundle\n"
    "  disasm BUNDLE.rbc|FILE...          print a readable listing of the bytecode\n"
    "  apply POLICY... SPEC --kind K [--user U] [--project P] [--param NAME=VALUE]...\n"
    "        [--output json|yaml] [--explain] [--max-input-size BYTES]\n"
    "                                     apply policies to a spec (JSON or YAML, '-' = stdin)\n"
    "  apply POLICY... --request FILE --kind K [--ndjson]\n"
    "                                     answer dstack REST plugin request bodies\n"
    "  test [PATH...] [--coverage] [--min-coverage N] [-k PATTERN] [--json] [--junit FILE]\n"
    "                                     run the *.test.yaml policy tests under PATHs\n"
    "\n"
    "POLICY is a .rules source, a .rbc bundle, or a folder of them.\n"
    "exit status: 0 allowed/ok, 1 rejected/errors in policies, 2 usage or input error\n";

char *cli_read_file(const char *path, size_t *len, size_t limit)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "rulec: cannot read '%s': %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (limit && n > limit) {
            fprintf(stderr, "rulec: '%s' is larger than the %zu-byte input limit (--max-input-size)\n",
                    path, limit);
            free(buf);
            buf = NULL;
            break;
        }
        if (n < cap) {
            if (ferror(f)) {
                fprintf(stderr, "rulec: cannot read '%s': %s\n", path, strerror(errno));
                free(buf);
                buf = NULL;
            }
            break;
        }
        cap *= 2;
        char *nb = realloc(buf, cap + 1);
        if (!nb) {
            free(buf);
            buf = NULL;
            fprintf(stderr, "rulec: cannot read '%s': out of memory\n", path);
            break;
        }
        buf = nb;
    }
    if (f != stdin)
        fclose(f);
    if (!buf)
        return NULL;
    buf[n] = '\0';
    *len = n;
    return buf;
}

bool cli_write_atomically(const char *path, const void *data, size_t len)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) {
        fprintf(stderr, "rulec: cannot write '%s': out of memory\n", path);
        return false;
    }
    snprintf(tmp, n, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, "rulec: cannot write '%s': %s\n", path, strerror(errno));
        free(tmp);
        return false;
    }
    /* mkstemp makes the file private; what we write is not secret, so give
     * it the permissions a plain create would (0666 less the umask). */
    mode_t mask = umask(0);
    umask(mask);
    bool ok = fchmod(fd, 0666 & ~mask) == 0;
    const char *p = data;
    size_t left = len;
    while (ok && left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            ok = false;
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    if (ok && fsync(fd) != 0)
        ok = false;
    int saved = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        fprintf(stderr, "rulec: cannot write '%s': %s\n", path, strerror(saved));
        unlink(tmp);
    }
    free(tmp);
    return ok;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void cli_free_paths(char **paths, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(paths[i]);
    free(paths);
}

char **cli_expand_policies(char **args, int nargs, size_t *count)
{
    size_t n = 0, cap = 16;
    char **out = malloc(cap * sizeof *out);
    if (!out)
        return NULL;
    for (int i = 0; i < nargs; i++) {
        struct stat st;
        if (strcmp(args[i], "-") != 0 && stat(args[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            DIR *d = opendir(args[i]);
            if (!d) {
                fprintf(stderr, "rulec: cannot open folder '%s': %s\n", args[i], strerror(errno));
                cli_free_paths(out, n);
                return NULL;
            }
            size_t first = n;
            struct dirent *de;
            while ((de = readdir(d))) {
                if (!has_suffix(de->d_name, ".rules") && !has_suffix(de->d_name, ".rbc"))
                    continue;
                if (n == cap) {
                    char **no = realloc(out, (cap *= 2) * sizeof *out);
                    if (!no) {
                        closedir(d);
                        cli_free_paths(out, n);
                        return NULL;
                    }
                    out = no;
                }
                size_t len = strlen(args[i]) + strlen(de->d_name) + 2;
                out[n] = malloc(len);
                if (!out[n]) {
                    closedir(d);
                    cli_free_paths(out, n);
                    return NULL;
                }
                snprintf(out[n], len, "%s%s%s", args[i],
                         has_suffix(args[i], "/") ? "" : "/", de->d_name);
                n++;
            }
            closedir(d);
            qsort(out + first, n - first, sizeof *out, compare_strings);
            if (n == first) {
                fprintf(stderr, "rulec: folder '%s' holds no .rules or .rbc files\n", args[i]);
                cli_free_paths(out, n);
                return NULL;
            }
            continue;
        }
        if (n == cap) {
            char **no = realloc(out, (cap *= 2) * sizeof *out);
            if (!no) {
                cli_free_paths(out, n);
                return NULL;
            }
            out = no;
        }
        out[n] = strdup(args[i]);
        if (!out[n]) {
            cli_free_paths(out, n);
            return NULL;
        }
        n++;
    }
    *count = n;
    return out;
}

bool cli_parse_param(char *arg, cli_param *p)
{
    char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return false;
    *eq = '\0';
    p->value = eq + 1;
    char *dot = strrchr(arg, '.');
    if (dot && dot != arg && dot[1]) {
        *dot = '\0';
        p->policy = arg;
        p->name = dot + 1;
    } else {
        p->policy = NULL;
        p->name = arg;
    }
    return true;
}

static bool is_bundle(const char *data, size_t len)
{
    return len >= 4 && memcmp(data, RV_MAGIC, 4) == 0;
}

rv_program *cli_load_program(char **args, int nargs, const cli_param *params, size_t nparams)
{
    size_t npaths = 0;
    char **paths = cli_expand_policies(args, nargs, &npaths);
    if (!paths)
        return NULL;

    rv_arena arena;
    rv_arena_init(&arena, NULL, NULL);
    rc_diags diags;
    rc_diags_init(&diags, &arena);
    rc_source *srcs = rv_arena_alloc(&arena, (npaths ? npaths : 1) * sizeof *srcs);
    rv_blob *blobs = rv_arena_alloc(&arena, (npaths + 1) * sizeof *blobs);
    char **datas = calloc(npaths ? npaths : 1, sizeof *datas);
    size_t nsrcs = 0, nblobs = 0;
    rv_program *prog = NULL;
    rv_buf bundle;
    rv_buf_init(&bundle, NULL, NULL);
    bool ok = srcs && blobs && datas;

    for (size_t i = 0; ok && i < npaths; i++) {
        size_t len;
        char *data = cli_read_file(paths[i], &len, CLI_DEFAULT_MAX_INPUT);
        if (!data) {
            ok = false;
            break;
        }
        datas[i] = data;
        if (is_bundle(data, len)) {
            blobs[nblobs++] = (rv_blob){data, len, paths[i]};
        } else {
            if (memchr(data, '\0', len)) {
                fprintf(stderr, "rulec: '%s' is neither a .rules source nor a .rbc bundle\n",
                        paths[i]);
                ok = false;
                break;
            }
            srcs[nsrcs++] = (rc_source){paths[i], data, len};
        }
    }

    if (ok && nsrcs > 0) {
        rv_policy **pols;
        size_t npols;
        ok = rc_compile(srcs, nsrcs, &arena, &diags, &pols, &npols);
        rc_diags_print(&diags, stderr);
        if (ok && !rv_bundle_write(&bundle, pols, npols)) {
            fprintf(stderr, "rulec: out of memory\n");
            ok = false;
        }
        if (ok)
            blobs[nblobs++] = (rv_blob){bundle.data, bundle.len, "(compiled sources)"};
    }
    if (ok && nblobs == 0) {
        fprintf(stderr, "rulec: no policies given\n");
        ok = false;
    }
    if (ok) {
        rv_error err;
        /* Freshly compiled code goes through the same verifier as a file. */
        if (rv_program_load(blobs, nblobs, NULL, &prog, &err) != RV_OK) {
            fprintf(stderr, "rulec: %s\n", err.message);
            ok = false;
        }
        for (size_t i = 0; ok && i < nparams; i++) {
            if (rv_program_set_param(prog, params[i].policy, params[i].name, params[i].value,
                                     &err) != RV_OK) {
                if (err.line)
                    fprintf(stderr, "rulec: --param: %s (value line %lu, column %lu)\n", err.message,
                            err.line, err.column);
                else
                    fprintf(stderr, "rulec: --param: %s\n", err.message);
                ok = false;
            }
        }
        if (!ok && prog) {
            rv_program_free(prog);
            prog = NULL;
        }
    }
    rv_buf_free(&bundle);
    if (datas)
        for (size_t i = 0; i < npaths; i++)
            free(datas[i]);
    free(datas);
    rv_arena_free(&arena);
    cli_free_paths(paths, npaths);
    return prog;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_TROUBLE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("rulec %d.%d\n", RV_VERSION_MAJOR, RV_VERSION_MINOR);
        return 0;
    }
    if (strcmp(cmd, "check") == 0)
        return cli_check(argc - 1, argv + 1);
    if (strcmp(cmd, "compile") == 0)
        return cli_compile(argc - 1, argv + 1);
    if (strcmp(cmd, "disasm") == 0)
        return cli_disasm(argc - 1, argv + 1);
    if (strcmp(cmd, "apply") == 0)
        return cli_apply(argc - 1, argv + 1);
    if (strcmp(cmd, "test") == 0)
        return cli_test(argc - 1, argv + 1);
    fprintf(stderr, "rulec: unknown command '%s'\n\n%s", cmd, usage_text);
    return EXIT_TROUBLE;
}
