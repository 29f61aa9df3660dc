/* policyset.c - turns the configured policy paths into one verified
 * program. Each .rules file is compiled on its own, so that a per-entry
 * priority override can be applied to its policy before it is written as a
 * bundle; then every bundle is loaded together, which applies the
 * contract's set rules (same name: highest priority wins) and verifies
 * freshly compiled code exactly like a .rbc file from disk.
 */
#include "policyset.h"

#include "compile.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define POLICY_MAX_BYTES ((size_t)64 << 20)
#define TOKEN_MAX_BYTES 4096

typedef struct input {
    char *path;
    char *data;
    size_t len;
    size_t entry;        /* index in cfg->policies */
} input;

typedef struct builder {
    const rd_config *cfg;
    rd_buf *diag;
    input *inputs;
    size_t ninputs, cap;
    bool failed;
} builder;

static void problem(builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(builder *b, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rd_buf_puts(b->diag, msg);
    rd_buf_putc(b->diag, '\n');
    b->failed = true;
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

/* Lists a folder's *.rules and *.rbc files, sorted (not recursive, like
 * rulec). Returns a malloc'd array (possibly of 0 paths) of malloc'd
 * paths, or NULL on error (errno set: not a folder, unreadable, ...). */
static char **list_folder(const char *dir, size_t *count)
{
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    size_t n = 0, cap = 16;
    char **out = malloc(cap * sizeof *out);
    if (!out) {
        closedir(d);
        errno = ENOMEM;
        return NULL;
    }
    struct dirent *de;
    bool oom = false;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || (!has_suffix(de->d_name, ".rules") && !has_suffix(de->d_name, ".rbc")))
            continue;
        if (n == cap) {
            char **no = realloc(out, (cap *= 2) * sizeof *out);
            if (!no) {
                oom = true;
                break;
            }
            out = no;
        }
        size_t len = strlen(dir) + strlen(de->d_name) + 2;
        if (!(out[n] = malloc(len))) {
            oom = true;
            break;
        }
        snprintf(out[n], len, "%s%s%s", dir, has_suffix(dir, "/") ? "" : "/", de->d_name);
        n++;
    }
    closedir(d);
    if (oom) {
        for (size_t i = 0; i < n; i++)
            free(out[i]);
        free(out);
        errno = ENOMEM;
        return NULL;
    }
    if (n)
        qsort(out, n, sizeof *out, compare_strings);
    *count = n;
    return out;
}

static void add_input(builder *b, char *path, size_t entry)
{
    if (b->ninputs == b->cap) {
        input *ni = realloc(b->inputs, (b->cap = b->cap ? b->cap * 2 : 16) * sizeof *ni);
        if (!ni) {
            free(path);
            problem(b, "out of memory");
            return;
        }
        b->inputs = ni;
    }
    b->inputs[b->ninputs++] = (input){path, NULL, 0, entry};
}

static void expand(builder *b)
{
    for (size_t e = 0; e < b->cfg->npolicies && !b->failed; e++) {
        const rd_policy_entry *pe = &b->cfg->policies[e];
        struct stat st;
        if (stat(pe->path, &st) != 0) {
            problem(b, "%s: cannot read '%s': %s", pe->where, pe->path, strerror(errno));
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            char *p = strdup(pe->path);
            if (!p)
                problem(b, "out of memory");
            else
                add_input(b, p, e);
            continue;
        }
        size_t n;
        char **paths = list_folder(pe->path, &n);
        if (!paths) {
            problem(b, "%s: cannot open folder '%s': %s", pe->where, pe->path, strerror(errno));
            continue;
        }
        if (n == 0) {
            free(paths);
            problem(b, "%s: folder '%s' holds no .rules or .rbc files", pe->where, pe->path);
            continue;
        }
        for (size_t i = 0; i < n; i++)
            add_input(b, paths[i], e);
        free(paths);
    }
}

static char *read_file(const char *path, size_t limit, size_t *len, char *why, size_t whysize)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, whysize, "%s", strerror(errno));
        return NULL;
    }
    rd_buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        rd_buf_put(&b, chunk, n);
        if (b.len > limit)
            break;
    }
    bool err = ferror(f) != 0;
    fclose(f);
    if (err || b.oom || b.len > limit) {
        snprintf(why, whysize, "%s", err ? "read error" : b.oom ? "out of memory" : "larger than the 64 MiB limit");
        rd_buf_free(&b);
        return NULL;
    }
    if (!b.data)
        rd_buf_put(&b, "", 0);
    if (b.oom) {
        snprintf(why, whysize, "out of memory");
        return NULL;
    }
    *len = b.len;
    return b.data;
}

static bool is_bundle(const char *data, size_t len)
{
    return len >= 4 && memcmp(data, RV_MAGIC, 4) == 0;
}

/* Captures the compiler's printed diagnostics (it prints to a FILE). */
static void append_diags(builder *b, const rc_diags *diags)
{
    if (!diags->head)
        return;
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem) {
        rd_buf_puts(b->diag, "(diagnostics lost: out of memory)\n");
        return;
    }
    rc_diags_print(diags, mem);
    fclose(mem);
    rd_buf_put(b->diag, text, len);
    free(text);
}

/* Names of the policies one entry contributed, for its param overrides. */
typedef struct names {
    char **v;
    size_t n;
} names;

static void names_add(names *ns, const char *name)
{
    for (size_t i = 0; i < ns->n; i++)
        if (strcmp(ns->v[i], name) == 0)
            return;
    char **nv = realloc(ns->v, (ns->n + 1) * sizeof *nv);
    if (!nv)
        return;
    ns->v = nv;
    if ((ns->v[ns->n] = strdup(name)))
        ns->n++;
}

static void names_free(names *ns, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < ns[i].n; j++)
            free(ns[i].v[j]);
        free(ns[i].v);
    }
    free(ns);
}

static bool policy_index(const rv_program *prog, const char *name, size_t *out)
{
    for (size_t i = 0; i < rv_program_policy_count(prog); i++) {
        rv_policy_info info;
        rv_program_policy(prog, i, &info);
        if (strcmp(info.name, name) == 0) {
            *out = i;
            return true;
        }
    }
    return false;
}

static bool declares(const rv_program *prog, size_t i, const char *param)
{
    rv_policy_info info;
    rv_program_policy(prog, i, &info);
    for (size_t j = 0; j < info.nparams; j++) {
        const char *name, *value;
        rv_program_param(prog, i, j, &name, &value);
        if (strcmp(name, param) == 0)
            return true;
    }
    return false;
}

static void apply_overrides(builder *b, rv_program *prog, const names *entry_names)
{
    rv_error err;
    for (size_t e = 0; e < b->cfg->npolicies; e++) {
        const rd_policy_entry *pe = &b->cfg->policies[e];
        for (size_t k = 0; k < pe->nparams; k++) {
            const rd_param_override *o = &pe->params[k];
            bool done = false;
            for (size_t j = 0; j < entry_names[e].n; j++) {
                size_t idx;
                const char *pname = entry_names[e].v[j];
                if (!policy_index(prog, pname, &idx) || !declares(prog, idx, o->name))
                    continue;
                if (rv_program_set_param(prog, pname, o->name, o->value_json, &err) != RV_OK) {
                    problem(b, "%s: %s", o->where, err.message);
                    return;
                }
                done = true;
            }
            if (!done) {
                rd_buf list = {0};
                for (size_t j = 0; j < entry_names[e].n; j++)
                    rd_buf_printf(&list, "%s'%s'", j ? ", " : "", entry_names[e].v[j]);
                problem(b, "%s: no policy in '%s' (%s) declares a parameter '%s'", o->where, pe->path,
                        list.data ? list.data : "none", o->name);
                rd_buf_free(&list);
                return;
            }
        }
    }
    for (size_t k = 0; k < b->cfg->nparams; k++) {
        const rd_param_override *o = &b->cfg->params[k];
        if (rv_program_set_param(prog, o->policy, o->name, o->value_json, &err) != RV_OK) {
            problem(b, "%s: %s", o->where, err.message);
            return;
        }
    }
}

static char *policies_json(const rv_program *prog, uint64_t revision, const char *loaded_at,
                           size_t *len)
{
    rd_buf j = {0};
    rd_buf_printf(&j, "{\"revision\":%llu,\"loaded_at\":\"%s\",\"policies\":[",
                  (unsigned long long)revision, loaded_at);
    for (size_t i = 0; i < rv_program_policy_count(prog); i++) {
        rv_policy_info info;
        rv_program_policy(prog, i, &info);
        rd_buf_puts(&j, i ? ",{\"name\":" : "{\"name\":");
        rd_buf_json_string(&j, info.name, strlen(info.name));
        rd_buf_puts(&j, ",\"source\":");
        rd_buf_json_string(&j, info.source ? info.source : "", info.source ? strlen(info.source) : 0);
        rd_buf_printf(&j, ",\"priority\":%d,\"checksum\":\"%08x\",\"instructions\":%zu,\"kinds\":[",
                      (int)info.priority, (unsigned)info.checksum, info.ninstructions);
        if (info.nkinds == 0)
            rd_buf_puts(&j, "\"*\"");
        for (size_t k = 0; k < info.nkinds; k++) {
            if (k)
                rd_buf_putc(&j, ',');
            rd_buf_json_string(&j, info.kinds[k], strlen(info.kinds[k]));
        }
        rd_buf_puts(&j, "],\"parameters\":{");
        for (size_t k = 0; k < info.nparams; k++) {
            const char *name, *value;
            rv_program_param(prog, i, k, &name, &value);
            if (k)
                rd_buf_putc(&j, ',');
            rd_buf_json_string(&j, name, strlen(name));
            rd_buf_putc(&j, ':');
            rd_buf_puts(&j, value);  /* already compact JSON */
        }
        rd_buf_puts(&j, "}}");
    }
    rd_buf_puts(&j, "]}\n");
    if (j.oom) {
        rd_buf_free(&j);
        return NULL;
    }
    *len = j.len;
    return j.data;
}

static bool load_token(builder *b, rd_set *set)
{
    const char *path = b->cfg->token_file;
    if (!path)
        return true;
    char why[256];
    size_t len;
    char *data = read_file(path, TOKEN_MAX_BYTES, &len, why, sizeof why);
    if (!data) {
        problem(b, "cannot read the token file '%s': %s", path, why);
        return false;
    }
    while (len && (data[len - 1] == '\n' || data[len - 1] == '\r' || data[len - 1] == ' ' ||
                   data[len - 1] == '\t'))
        len--;
    data[len] = '\0';
    bool bad = false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)data[i] <= ' ' || (unsigned char)data[i] >= 0x7f)
            bad = true;
    if (len < 16 || bad) {
        /* Never echo the token itself, not even a bad one. */
        problem(b, "the token file '%s' must hold one token of at least 16 printable characters "
                   "without spaces (it holds %zu bytes%s)", path, len, bad ? ", some not printable" : "");
        free(data);
        return false;
    }
    set->token = data;
    set->token_len = len;
    return true;
}

/* Runs the set once on an empty spec before any worker sees it: the
 * program is then provably runnable, and any state the library sets up on
 * first use is set up here, single-threaded. */
static void warm_up(builder *b, rv_program *prog)
{
    rv_vm *vm;
    if (rv_vm_new(NULL, &vm) != RV_OK) {
        problem(b, "out of memory");
        return;
    }
    rv_doc *spec;
    rv_error err;
    rv_decision d;
    rv_request req = {"run", "", ""};
    if (rv_vm_parse(vm, "{}", 2, RV_JSON, &spec, &err) != RV_OK ||
        rv_vm_eval(vm, prog, &req, spec, &d, &err) != RV_OK)
        problem(b, "the policy set fails on an empty run spec: %s", err.message);
    rv_vm_free(vm);
}

rd_set *rd_set_build(const rd_config *cfg, uint64_t revision, rd_buf *diag)
{
    builder b = {cfg, diag, NULL, 0, 0, false};
    rd_set *set = calloc(1, sizeof *set);
    names *entry_names = calloc(cfg->npolicies ? cfg->npolicies : 1, sizeof *entry_names);
    rv_arena arena;
    rv_arena_init(&arena, NULL, NULL);
    rc_diags diags;
    rc_diags_init(&diags, &arena);
    rv_blob *blobs = NULL;
    rv_buf *bundles = NULL;
    size_t nblobs = 0, nbundles = 0;
    rv_program *prog = NULL;
    if (!set || !entry_names) {
        problem(&b, "out of memory");
        goto done;
    }
    expand(&b);
    if (b.failed)
        goto done;
    blobs = calloc(b.ninputs + 1, sizeof *blobs);
    bundles = calloc(b.ninputs + 1, sizeof *bundles);
    if (!blobs || !bundles) {
        problem(&b, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < b.ninputs; i++) {
        input *in = &b.inputs[i];
        const rd_policy_entry *pe = &cfg->policies[in->entry];
        char why[256];
        if (!(in->data = read_file(in->path, POLICY_MAX_BYTES, &in->len, why, sizeof why))) {
            problem(&b, "%s: cannot read '%s': %s", pe->where, in->path, why);
            continue;
        }
        if (is_bundle(in->data, in->len)) {
            if (pe->has_priority) {
                problem(&b, "%s.priority: '%s' is a compiled bundle; its priorities are fixed "
                            "(recompile it, or override the priority on its .rules source)",
                        pe->where, in->path);
                continue;
            }
            /* Load it alone once to learn its policy names for overrides. */
            rv_blob one = {in->data, in->len, in->path};
            rv_program *alone;
            rv_error err;
            if (rv_program_load(&one, 1, NULL, &alone, &err) != RV_OK) {
                problem(&b, "%s: %s", in->path, err.message);
                continue;
            }
            for (size_t k = 0; k < rv_program_policy_count(alone); k++) {
                rv_policy_info info;
                rv_program_policy(alone, k, &info);
                names_add(&entry_names[in->entry], info.name);
            }
            rv_program_free(alone);
            blobs[nblobs++] = one;
            continue;
        }
        if (memchr(in->data, '\0', in->len)) {
            problem(&b, "%s: '%s' is neither a .rules source nor a .rbc bundle", pe->where, in->path);
            continue;
        }
        /* One compilation per file: errors in every file are reported. */
        /* Diagnostics keep a pointer to their source: it lives in the arena. */
        rc_source *src = rv_arena_alloc(&arena, sizeof *src);
        if (!src) {
            problem(&b, "out of memory");
            continue;
        }
        *src = (rc_source){in->path, in->data, in->len};
        rv_policy **pols;
        size_t npols;
        if (!rc_compile(src, 1, &arena, &diags, &pols, &npols)) {
            b.failed = true;
            continue;
        }
        for (size_t k = 0; k < npols; k++) {
            if (pe->has_priority)
                pols[k]->priority = pe->priority;
            names_add(&entry_names[in->entry], pols[k]->name);
        }
        rv_buf_init(&bundles[nbundles], NULL, NULL);
        if (!rv_bundle_write(&bundles[nbundles], pols, npols)) {
            rv_buf_free(&bundles[nbundles]);
            problem(&b, "out of memory");
            continue;
        }
        blobs[nblobs++] = (rv_blob){bundles[nbundles].data, bundles[nbundles].len, in->path};
        nbundles++;
    }
    append_diags(&b, &diags);
    if (b.failed)
        goto done;
    rv_error err;
    if (rv_program_load(blobs, nblobs, NULL, &prog, &err) != RV_OK) {
        problem(&b, "%s", err.message);
        goto done;
    }
    apply_overrides(&b, prog, entry_names);
    if (b.failed)
        goto done;
    warm_up(&b, prog);
    if (b.failed || !load_token(&b, set))
        goto done;
    rd_time_iso(set->loaded_at, sizeof set->loaded_at);
    set->policies_json = policies_json(prog, revision, set->loaded_at, &set->policies_json_len);
    if (!set->policies_json) {
        problem(&b, "out of memory");
        goto done;
    }
    atomic_init(&set->refs, 1);
    set->prog = prog;
    set->revision = revision;
    set->npolicies = rv_program_policy_count(prog);
    prog = NULL;
done:
    if (prog)
        rv_program_free(prog);
    for (size_t i = 0; i < nbundles; i++)
        rv_buf_free(&bundles[i]);
    free(bundles);
    free(blobs);
    for (size_t i = 0; i < b.ninputs; i++) {
        free(b.inputs[i].path);
        free(b.inputs[i].data);
    }
    free(b.inputs);
    if (entry_names)
        names_free(entry_names, cfg->npolicies);
    rv_arena_free(&arena);
    if (b.failed && set) {
        rd_set_free(set);
        set = NULL;
    }
    return set;
}

void rd_set_free(rd_set *set)
{
    if (!set)
        return;
    if (set->prog)
        rv_program_free(set->prog);
    free(set->policies_json);
    if (set->token) {
        /* Do not leave the token in freed heap memory. */
        volatile char *t = set->token;
        for (size_t i = 0; i < set->token_len; i++)
            t[i] = 0;
    }
    free(set->token);
    free(set);
}

static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static uint64_t stat_hash(uint64_t h, const char *path)
{
    struct stat st;
    h = fnv(h, path, strlen(path) + 1);
    if (stat(path, &st) != 0) {
        int e = errno;
        return fnv(h, &e, sizeof e);
    }
    int64_t f[5] = {(int64_t)st.st_size, (int64_t)st.st_mtim.tv_sec, (int64_t)st.st_mtim.tv_nsec,
                    (int64_t)st.st_ino, (int64_t)st.st_ctim.tv_nsec};
    return fnv(h, f, sizeof f);
}

uint64_t rd_inputs_fingerprint(const rd_config *cfg)
{
    uint64_t h = 14695981039346656037ull;
    if (cfg->config_path)
        h = stat_hash(h, cfg->config_path);
    if (cfg->token_file)
        h = stat_hash(h, cfg->token_file);
    for (size_t e = 0; e < cfg->npolicies; e++) {
        const char *path = cfg->policies[e].path;
        size_t n;
        /* For a folder, its listing, not its own mtime: an editor's
         * temporary file must not trigger a reload of unchanged policies. */
        char **paths = list_folder(path, &n);  /* NULL for a plain file */
        if (!paths)
            h = stat_hash(h, path);
        for (size_t i = 0; i < n; i++) {
            h = stat_hash(h, paths[i]);
            free(paths[i]);
        }
        free(paths);
    }
    return h;
}
