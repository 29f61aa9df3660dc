/* eval.c - `rulec eval EXPR --spec FILE --kind K`: one expression of the
 * SPDX-License-Identifier: Apache-2.0
 * language evaluated against a spec, for trying things out.
 *
 * The expression is compiled as policies like any other, twice: once for
 * the target, so it is checked against the target's schemas, typed and
 * named exactly as in a file,
 *
 *     policy "eval" target T;
 *     on K { match [
 *     EXPR
 *     ] { } }
 *
 * and once for the target "any" (no schema, so a made-up field may be
 * written), where its value is stored in the spec and read back:
 *
 *     policy "eval" target any;
 *     on K { set __eval = (
 *     EXPR
 *     ); }
 *
 * The expression is line 3 from column 1, so a diagnostic there is its
 * own: it is printed against the expression alone ("expression:1:COL");
 * the wrappers' own warnings say nothing about it and are dropped. The
 * value is printed by the VM's JSON printer, its type from the document.
 */
#include "cli.h"

#include "buf.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char eval_usage[] =
    "usage: rulec eval EXPR --spec FILE --kind K [--target T] [--user U] [--project P]\n"
    "\n"
    "Evaluates one expression of the language against a spec (JSON or YAML, '-':\n"
    "standard input) as a policy for kind K would see it, and prints its value as\n"
    "JSON and its type (null, bool, int, float, string, list, map). The expression is\n"
    "checked as in a policy file: paths against the target's schemas, types, names;\n"
    "errors point into the expression.\n"
    "  --spec FILE     the spec (required)\n"
    "  --kind K        the kind the spec is ($kind; required): run, fleet, launch...\n"
    "  --target T      dstack (default), skypilot, or any (no schema)\n"
    "  --user U        $user (default \"\")\n"
    "  --project P     $project (default \"\")\n"
    "\n"
    "example:\n"
    "  rulec eval 'configuration.resources.gpu.count.min > 2' --spec run.json --kind run\n"
    "  false\n"
    "  bool\n"
    "exit status: 0 evaluated, 1 the expression has errors or cannot be evaluated on\n"
    "this spec, 2 usage or input error\n";

enum { OPT_SPEC = 256, OPT_KIND, OPT_TARGET, OPT_USER, OPT_PROJECT };

#define EXPR_LINE 3

/* Prints the report's records: those on the expression's line against the
 * expression, the wrapper's (an unknown kind or target) without a place. */
static void print_diagnostics(rc_report *report, const char *expr)
{
    size_t n;
    const rc_diagnostic *d = rc_report_diagnostics(report, &n);
    ru_buf out = {0};
    size_t elen = strlen(expr);
    for (size_t i = 0; i < n; i++) {
        const char *sev = d[i].severity == RC_ERROR ? "error" : d[i].severity == RC_WARNING ? "warning" : "note";
        const char *msg = d[i].message;
        rc_span span = d[i].span;
        /* What the wrapper's closer ran into is the expression's end. */
        if (span.first_line == EXPR_LINE + 1 && span.first_column == 1) {
            span = (rc_span){EXPR_LINE, (int)elen + 1, EXPR_LINE, (int)elen + 2};
            if (strncmp(msg, "syntax error: unexpected ']'", 28) == 0 ||
                strncmp(msg, "syntax error: unexpected ')'", 28) == 0) {
                ru_buf_printf(&out, "expression:1:%zu: %s: syntax error: the expression ends too early%s\n%s\n",
                              elen + 1, sev, msg + 28, expr);
                for (size_t c = 0; c < elen; c++)
                    ru_buf_putc(&out, ' ');
                ru_buf_puts(&out, "^\n");
                continue;
            }
        }
        if (span.first_line != EXPR_LINE) {
            /* The wrapper's own lints say nothing about the expression. */
            if (d[i].severity == RC_ERROR)
                ru_buf_printf(&out, "rulec: %s: %s\n", sev, msg);
            continue;
        }
        int col = span.first_column;
        int end = span.last_line == EXPR_LINE ? span.last_column : (int)elen + 1;
        ru_buf_printf(&out, "expression:1:%d: %s: %s\n%s\n", col, sev, msg, expr);
        for (int c = 1; c < col; c++)
            ru_buf_putc(&out, ' ');
        ru_buf_putc(&out, '^');
        for (int c = col + 1; c < end; c++)
            ru_buf_putc(&out, '~');
        ru_buf_putc(&out, '\n');
    }
    if (out.data)
        cli_put_diagnostics(out.data, out.len, stderr);
    ru_buf_free(&out);
}

/* The expression as one line: a newline would move the columns. */
static char *one_line(const char *expr)
{
    char *s = strdup(expr);
    for (char *p = s; p && *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return s;
}

/* Compiles the expression in one of the wrappers (the file comment's):
 * prog NULL the check for target, else the evaluation for "any" into
 * *prog. Prints the diagnostics. Returns an exit code. */
static int compile(rc_report *report, const char *expr, const char *target, const char *kind,
                   rv_program **prog)
{
    ru_buf src = {0};
    if (!prog)
        ru_buf_printf(&src, "policy \"eval\" target %s;\non %s { match [\n%s\n] { } }\n", target, kind, expr);
    else
        ru_buf_printf(&src, "policy \"eval\" target %s;\non %s { set __eval = (\n%s\n); }\n", target, kind, expr);
    if (src.oom) {
        fprintf(stderr, "rulec: out of memory\n");
        return EXIT_TROUBLE;
    }
    rc_input input = {"eval", src.data, src.len, 0, 0, 0};
    rv_program *p = NULL;
    rc_result r = rc_load(report, &input, 1, &(rc_options){NULL, 0, target}, &p);
    print_diagnostics(report, expr);
    ru_buf_free(&src);
    if (prog)
        *prog = p;
    else
        rv_program_free(p);
    return r == RC_OK ? 0 : r == RC_INVALID ? EXIT_REJECTED : EXIT_TROUBLE;
}

static int evaluate(rv_program *prog, const char *spec_path, const rv_request *req)
{
    size_t len;
    char *text = cli_read_file(spec_path, &len, CLI_DEFAULT_MAX_INPUT);
    if (!text)
        return EXIT_TROUBLE;
    rv_vm *vm;
    if (rv_vm_new(NULL, &vm) != RV_OK) {
        free(text);
        fprintf(stderr, "rulec: out of memory\n");
        return EXIT_TROUBLE;
    }
    int rc = EXIT_TROUBLE;
    rv_doc *spec;
    rv_error err;
    rv_decision d;
    if (!cli_parse_spec(vm, spec_path, text, len, NULL, &spec))
        goto done;
    if (rv_vm_eval(vm, prog, req, spec, &d, &err) != RV_OK) {
        /* "eval:3: cannot apply ..." : the line is the expression's. */
        const char *m = err.message;
        const char *colon = strncmp(m, "eval:", 5) == 0 ? strchr(m + 5, ':') : NULL;
        fprintf(stderr, "expression: error: %s\n", colon ? colon + 2 : m);
        rc = EXIT_REJECTED;
        goto done;
    }
    const rv_doc *v = rv_doc_get(d.spec, "__eval");
    static const char *const types[] = {
        [RV_NULL] = "null", [RV_BOOL] = "bool", [RV_INT] = "int", [RV_FLOAT] = "float",
        [RV_STRING] = "string", [RV_ARRAY] = "list", [RV_OBJECT] = "map",
    };
    size_t n = 4;
    const char *json = "null";
    if (v && rv_vm_print(vm, v, RV_JSON, 0, &json, &n, &err) != RV_OK) {
        fprintf(stderr, "rulec: %s\n", err.message);
        goto done;
    }
    printf("%.*s\n%s\n", (int)n, json, v ? types[rv_doc_kind(v)] : "null");
    rc = 0;
done:
    rv_vm_free(vm);
    free(text);
    return rc;
}

int cli_eval(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"spec", required_argument, NULL, OPT_SPEC},
        {"kind", required_argument, NULL, OPT_KIND},
        {"target", required_argument, NULL, OPT_TARGET},
        {"user", required_argument, NULL, OPT_USER},
        {"project", required_argument, NULL, OPT_PROJECT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *spec = NULL, *kind = NULL, *target = "dstack", *user = "", *project = "";
    optind = 1;
    opterr = 0;
    int c;
    char bad[64];
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(eval_usage, stdout); return 0;
        case OPT_SPEC: spec = optarg; break;
        case OPT_KIND: kind = optarg; break;
        case OPT_TARGET: target = optarg; break;
        case OPT_USER: user = optarg; break;
        case OPT_PROJECT: project = optarg; break;
        case ':':
            fprintf(stderr, "rulec eval: %s needs a value\n\n%s", cli_bad_option(argv, c, bad, sizeof bad),
                    eval_usage);
            return EXIT_TROUBLE;
        default:
            fprintf(stderr, "rulec eval: unknown option '%s'\n\n%s", cli_bad_option(argv, c, bad, sizeof bad),
                    eval_usage);
            return EXIT_TROUBLE;
        }
    }
    if (optind != argc - 1 || !spec || !kind) {
        fprintf(stderr, "rulec eval: %s\n\n%s",
                optind == argc ? "no expression given"
                : optind < argc - 1 ? "give one expression (quote it: 'a > 1')"
                : !spec ? "--spec FILE is required" : "--kind K is required",
                eval_usage);
        return EXIT_TROUBLE;
    }
    char why[512];
    if (!rc_target_has_kind(target, kind, why, sizeof why)) {
        fprintf(stderr, "rulec eval: %s\n", why);
        return EXIT_TROUBLE;
    }
    char *expr = one_line(argv[optind]);
    rc_report *report = rc_report_new();
    if (!expr || !report) {
        fprintf(stderr, "rulec: out of memory\n");
        free(expr);
        rc_report_free(report);
        return EXIT_TROUBLE;
    }
    rv_program *prog = NULL;
    /* The target is checked first: a kind may be dotted (jobs.launch), and
     * is written as given once rc_target_has_kind accepted it. */
    int rc = compile(report, expr, target, kind, NULL);
    if (rc == 0)
        rc = compile(report, expr, "any", kind, &prog);
    if (rc == 0) {
        /* Compiled for "any": no other target's policy to keep out. */
        rv_request req = {.kind = kind, .user = user, .project = project};
        rc = evaluate(prog, spec, &req);
    }
    rv_program_free(prog);
    rc_report_free(report);
    free(expr);
    return rc;
}
