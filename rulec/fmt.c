/* fmt.c - `rulec fmt`: lays policy files out canonically (rc_format in
 * SPDX-License-Identifier: Apache-2.0
 * the compiler library does the work), printing the result, listing the
 * files that would change (--check, for CI), showing the change (--diff)
 * or rewriting files in place (-w) through a temporary file renamed into
 * place. A file that does not parse is never rewritten: its diagnostics
 * are printed and it counts as an error.
 */
#include "cli.h"
#include "dir.h"
#include "textdiff.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char fmt_usage[] =
    "usage: rulec fmt [--check | --diff | -w] [PATH...]\n"
    "\n"
    "Lays out .rules files in the one canonical layout (docs/language.md, \"Layout\"):\n"
    "indentation, spacing, line breaks of long statements, at most one blank line\n"
    "between statements, comments kept where they were. A PATH that is a folder\n"
    "stands for every *.rules file under it (recursively, names starting with '.'\n"
    "skipped); no PATH, or '-', reads standard input. A file that does not parse is\n"
    "refused with its diagnostics and never rewritten.\n"
    "  (no option)   print the formatted text to standard output\n"
    "  --check       print nothing but the names of the files that would change;\n"
    "                exit 1 when there is one (for CI)\n"
    "  --diff        print a unified diff of what would change\n"
    "  -w, --write   rewrite the files that would change, in place and atomically\n"
    "\n"
    "example:\n"
    "  rulec fmt --check rules/        # in CI\n"
    "  rulec fmt -w rules/             # before committing\n"
    "exit status: 0 all formatted (or written), 1 a file would change (--check,\n"
    "--diff) or does not parse, 2 usage or input error\n";

enum { MODE_PRINT, MODE_CHECK, MODE_DIFF, MODE_WRITE };
enum { OPT_CHECK = 256, OPT_DIFF };

typedef struct paths {
    char **v;
    size_t n, cap;
} paths;

static bool add_path(paths *p, const char *s)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 16;
        char **v = realloc(p->v, cap * sizeof *v);
        if (!v)
            return false;
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n] = strdup(s);
    return p->v[p->n++] != NULL;
}

static bool not_hidden(const char *name, void *ud)
{
    (void)ud;
    return name[0] != '.';
}

static bool is_rules(const char *path)
{
    size_t n = strlen(path);
    return n > 6 && strcmp(path + n - 6, ".rules") == 0;
}

/* The *.rules files under dir, in name order, recursively. */
static int walk(const char *dir, paths *out)
{
    char **names;
    size_t n;
    int e = ru_list_dir(dir, not_hidden, NULL, &names, &n);
    if (e) {
        fprintf(stderr, "rulec fmt: cannot list '%s': %s\n", dir, strerror(e));
        return 2;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct stat st;
        if (stat(names[i], &st) != 0) {
            fprintf(stderr, "rulec fmt: cannot read '%s': %s\n", names[i], strerror(errno));
            rc = 2;
        } else if (S_ISDIR(st.st_mode)) {
            rc = walk(names[i], out);
        } else if (is_rules(names[i]) && !add_path(out, names[i])) {
            fprintf(stderr, "rulec fmt: out of memory\n");
            rc = 2;
        }
    }
    ru_free_paths(names, n);
    return rc;
}

/* Formats one file; returns 0 unchanged (or written), 1 changed or not
 * parsing, 2 unreadable or not written. */
static int format_one(const char *path, int mode)
{
    size_t len;
    char *text = cli_read_file(path, &len, CLI_DEFAULT_MAX_INPUT);
    if (!text)
        return 2;
    const char *name = strcmp(path, "-") ? path : "<stdin>";
    rc_report *report = rc_report_new();
    if (!report) {
        free(text);
        fprintf(stderr, "rulec fmt: out of memory\n");
        return 2;
    }
    char *out = NULL;
    size_t outlen = 0;
    rc_result r = rc_format(report, name, text, len, &out, &outlen);
    cli_print_report(report);
    rc_report_free(report);
    int rc;
    if (r != RC_OK) {
        rc = r == RC_INVALID ? 1 : 2;
    } else {
        bool changed = outlen != len || memcmp(out, text, len) != 0;
        rc = 0;
        switch (mode) {
        case MODE_PRINT:
            fwrite(out, 1, outlen, stdout);
            break;
        case MODE_CHECK:
            if (changed) {
                printf("%s\n", name);
                rc = 1;
            }
            break;
        case MODE_DIFF:
            if (changed) {
                ru_buf d = {0};
                cli_text_diff(&d, name, text, len, out, outlen);
                fwrite(d.data, 1, d.len, stdout);
                if (d.oom) {
                    fprintf(stderr, "rulec fmt: out of memory\n");
                    rc = 2;
                } else {
                    rc = 1;
                }
                ru_buf_free(&d);
            }
            break;
        case MODE_WRITE:
            if (changed && strcmp(path, "-") == 0)
                fwrite(out, 1, outlen, stdout);
            else if (changed && !cli_write_atomically(path, out, outlen))
                rc = 2;
            break;
        }
    }
    free(out);
    free(text);
    return rc;
}

int cli_fmt(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"check", no_argument, NULL, OPT_CHECK},
        {"diff", no_argument, NULL, OPT_DIFF},
        {"write", no_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int mode = MODE_PRINT, modes = 0;
    optind = 1;
    opterr = 0;
    int c;
    char bad[64];
    while ((c = getopt_long(argc, argv, "+wh", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(fmt_usage, stdout);
            return 0;
        case OPT_CHECK: mode = MODE_CHECK; modes++; break;
        case OPT_DIFF: mode = MODE_DIFF; modes++; break;
        case 'w': mode = MODE_WRITE; modes++; break;
        default:
            fprintf(stderr, "rulec fmt: unknown option '%s'\n\n%s", cli_bad_option(argv, c, bad, sizeof bad),
                    fmt_usage);
            return EXIT_TROUBLE;
        }
    }
    if (modes > 1) {
        fprintf(stderr, "rulec fmt: --check, --diff and -w exclude one another\n\n%s", fmt_usage);
        return EXIT_TROUBLE;
    }
    paths files = {0};
    int rc = 0;
    if (optind == argc && !add_path(&files, "-"))
        rc = 2;
    for (int i = optind; i < argc && rc < 2; i++) {
        struct stat st;
        if (strcmp(argv[i], "-") != 0 && stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            size_t before = files.n;
            rc = walk(argv[i], &files);
            if (rc == 0 && files.n == before) {
                fprintf(stderr, "rulec fmt: no .rules file under '%s'\n", argv[i]);
                rc = 2;
            }
        } else if (!add_path(&files, argv[i])) {
            fprintf(stderr, "rulec fmt: out of memory\n");
            rc = 2;
        }
    }
    for (size_t i = 0; i < files.n; i++) {
        int r = format_one(files.v[i], mode);
        if (r > rc)
            rc = r;
    }
    for (size_t i = 0; i < files.n; i++)
        free(files.v[i]);
    free(files.v);
    return rc;
}
