/* cli_apply.c - `rulec apply`: run policies on a spec file, or answer dstack
 * REST plugin request bodies ({"user","project","spec"} in, {"spec","error"}
 * out), one at a time or as NDJSON batches.
 *
 * Nothing is printed on stdout until the decision is complete, so an input
 * error never leaves a partial document behind.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

typedef struct apply_opts {
    const char *kind, *user, *project;
    const char *request;       /* --request FILE */
    bool ndjson, explain;
    int output;                /* RV_AUTO: same as the input */
    size_t max_input;          /* bytes; --max-input-size */
    cli_param *params;
    size_t nparams;
    char **positional;
    int npositional;
} apply_opts;

static int usage(void)
{
    fprintf(stderr,
            "usage: rulec apply POLICY... SPEC --kind K [--user U] [--project P]\n"
            "                   [--param NAME=VALUE]... [--output json|yaml] [--explain]\n"
            "                   [--max-input-size BYTES]\n"
            "       rulec apply POLICY... --request FILE --kind K [--ndjson]\n");
    return EXIT_TROUBLE;
}

static bool parse_opts(int argc, char **argv, apply_opts *o)
{
    memset(o, 0, sizeof *o);
    o->user = o->project = "";
    o->max_input = CLI_DEFAULT_MAX_INPUT;
    o->positional = calloc((size_t)argc, sizeof *o->positional);
    o->params = calloc((size_t)argc, sizeof *o->params);
    if (!o->positional || !o->params)
        return false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *next = i + 1 < argc ? argv[i + 1] : NULL;
#define TAKE(field)                                                          \
        do {                                                                 \
            if (!next) {                                                     \
                fprintf(stderr, "rulec apply: %s needs a value\n", a);       \
                return false;                                                \
            }                                                                \
            field = next;                                                    \
            i++;                                                             \
        } while (0)
        if (strcmp(a, "--kind") == 0)
            TAKE(o->kind);
        else if (strcmp(a, "--user") == 0)
            TAKE(o->user);
        else if (strcmp(a, "--project") == 0)
            TAKE(o->project);
        else if (strcmp(a, "--request") == 0)
            TAKE(o->request);
        else if (strcmp(a, "--ndjson") == 0)
            o->ndjson = true;
        else if (strcmp(a, "--explain") == 0)
            o->explain = true;
        else if (strcmp(a, "--output") == 0) {
            const char *v;
            TAKE(v);
            if (strcmp(v, "json") == 0)
                o->output = RV_JSON;
            else if (strcmp(v, "yaml") == 0)
                o->output = RV_YAML;
            else {
                fprintf(stderr, "rulec apply: --output takes json or yaml, not '%s'\n", v);
                return false;
            }
        } else if (strcmp(a, "--max-input-size") == 0) {
            const char *v;
            TAKE(v);
            char *end;
            unsigned long long n = strtoull(v, &end, 10);
            if (end == v || *end || n == 0) {
                fprintf(stderr, "rulec apply: --max-input-size takes a number of bytes, not '%s'\n", v);
                return false;
            }
            o->max_input = (size_t)n;
        } else if (strcmp(a, "--param") == 0) {
            char *v;
            TAKE(v);
            if (!cli_parse_param(v, &o->params[o->nparams])) {
                fprintf(stderr, "rulec apply: --param takes NAME=VALUE, not '%s'\n", v);
                return false;
            }
            o->nparams++;
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "rulec apply: unknown option '%s'\n", a);
            return false;
        } else {
            o->positional[o->npositional++] = argv[i];
        }
#undef TAKE
    }
    if (!o->kind) {
        fprintf(stderr, "rulec apply: --kind is required (run, fleet, volume, gateway, ...)\n");
        return false;
    }
    if (o->ndjson && !o->request) {
        fprintf(stderr, "rulec apply: --ndjson goes with --request FILE\n");
        return false;
    }
    int need = o->request ? 1 : 2;
    if (o->npositional < need) {
        fprintf(stderr, o->request ? "rulec apply: no policy given\n"
                                   : "rulec apply: give one or more policies and a spec\n");
        return false;
    }
    return true;
}

static rv_format format_of(const char *path, const char *text, size_t len)
{
    size_t n = strlen(path);
    if (n > 5 && strcmp(path + n - 5, ".json") == 0)
        return RV_JSON;
    if ((n > 4 && strcmp(path + n - 4, ".yml") == 0) || (n > 5 && strcmp(path + n - 5, ".yaml") == 0))
        return RV_YAML;
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t' || text[i] == '\r'))
        i++;
    return i < len && (text[i] == '{' || text[i] == '[') ? RV_JSON : RV_YAML;
}

static void print_value(rv_vm *vm, FILE *out, const rv_doc *v)
{
    const char *text;
    size_t len;
    rv_error err;
    if (!v) {
        fputs("(missing)", out);
        return;
    }
    /* Printing reuses the VM's output buffer: copy before the next print. */
    if (rv_vm_print(vm, v, RV_JSON, 0, &text, &len, &err) == RV_OK)
        fwrite(text, 1, len, out);
}

static void print_explain(rv_vm *vm, const rv_decision *d, FILE *out)
{
    if (d->nchanges == 0) {
        fprintf(out, "no changes\n");
        return;
    }
    for (size_t i = 0; i < d->nchanges; i++) {
        const rv_change *c = &d->changes[i];
        fprintf(out, "%s: ", c->path);
        print_value(vm, out, c->old_value);
        fputs(" -> ", out);
        if (c->new_value)
            print_value(vm, out, c->new_value);
        else
            fputs("(removed)", out);
        fprintf(out, "  (%s:%u)\n", c->policy, c->line);
    }
}

static void print_warnings(const rv_decision *d)
{
    for (size_t i = 0; i < d->nwarnings; i++)
        fprintf(stderr, "warning: %s (%s:%u)\n", d->warnings[i].text, d->warnings[i].policy,
                d->warnings[i].line);
}

static int apply_spec(rv_program *prog, const apply_opts *o)
{
    const char *path = o->positional[o->npositional - 1];
    size_t len;
    char *text = cli_read_file(path, &len, o->max_input);
    if (!text)
        return EXIT_TROUBLE;
    rv_vm *vm;
    if (rv_vm_new(NULL, &vm) != RV_OK) {
        free(text);
        fprintf(stderr, "rulec: out of memory\n");
        return EXIT_TROUBLE;
    }
    int rc = EXIT_TROUBLE;
    rv_format in = format_of(path, text, len);
    rv_doc *spec;
    rv_error err;
    rv_decision d;
    rv_request req = {o->kind, o->user, o->project};
    if (rv_vm_parse(vm, text, len, in, &spec, &err) != RV_OK) {
        if (err.line)
            fprintf(stderr, "rulec: %s:%lu:%lu: %s\n", path, err.line, err.column, err.message);
        else
            fprintf(stderr, "rulec: %s: %s\n", path, err.message);
        goto done;
    }
    if (rv_doc_kind(spec) != RV_OBJECT) {
        fprintf(stderr, "rulec: %s: the spec must be a %s object\n", path, in == RV_JSON ? "JSON" : "YAML mapping");
        goto done;
    }
    if (rv_doc_len(spec) == 3 && rv_doc_get(spec, "spec") && rv_doc_get(spec, "user") &&
        rv_doc_get(spec, "project"))
        fprintf(stderr, "rulec: note: %s looks like a dstack request body ({user, project, spec}); "
                        "use --request %s to answer it as dstack's REST plugin would\n", path, path);
    if (rv_vm_eval(vm, prog, &req, spec, &d, &err) != RV_OK) {
        fprintf(stderr, "rulec: %s: %s\n", path, err.message);
        goto done;
    }
    print_warnings(&d);
    if (o->explain)
        print_explain(vm, &d, stderr);
    if (!d.allowed) {
        for (size_t i = 0; i < d.nerrors; i++)
            printf("rejected: %s (%s:%u)\n", d.errors[i].text, d.errors[i].policy,
                   d.errors[i].line);
        rc = EXIT_REJECTED;
        goto done;
    }
    rv_format outfmt = o->output ? (rv_format)o->output : in;
    const char *out;
    size_t outlen;
    if (rv_vm_print(vm, d.spec, outfmt, RV_PRETTY, &out, &outlen, &err) != RV_OK) {
        fprintf(stderr, "rulec: %s\n", err.message);
        goto done;
    }
    fwrite(out, 1, outlen, stdout);
    if (outlen && out[outlen - 1] != '\n')
        putchar('\n');
    rc = EXIT_ALLOWED;
done:
    rv_vm_free(vm);
    free(text);
    return rc;
}

/* Answers one request body; prints the response (one line when compact).
 * Returns 0 allowed, 1 rejected, 2 bad request: then nothing is printed,
 * problem_out says what is wrong and at[0], at[1] where in the body (line,
 * column; 0 when it is not about a place in the text). */
static int answer(rv_vm *vm, rv_program *prog, const apply_opts *o, const char *text, size_t len,
                  bool compact, char *problem_out, size_t problem_size, unsigned long at[2])
{
    at[0] = at[1] = 0;
    rv_vm_reset(vm);
    rv_doc *body;
    rv_error err;
    const char *problem = NULL;
    char msg[700];
    if (rv_vm_parse(vm, text, len, RV_JSON, &body, &err) != RV_OK) {
        snprintf(msg, sizeof msg, "%s", err.message);
        problem = msg;
        at[0] = err.line;
        at[1] = err.column;
    } else if (rv_doc_kind(body) != RV_OBJECT) {
        problem = "the request body must be a JSON object";
    } else if (!rv_doc_get(body, "spec") || rv_doc_kind(rv_doc_get(body, "spec")) != RV_OBJECT) {
        problem = "the request body has no \"spec\" object";
    }
    if (problem) {
        snprintf(problem_out, problem_size, "%s", problem);
        return EXIT_TROUBLE;
    }
    rv_doc *spec = rv_doc_get(body, "spec");
    const char *user = rv_doc_string(rv_doc_get(body, "user"));
    const char *project = rv_doc_string(rv_doc_get(body, "project"));
    rv_request req = {o->kind, user ? user : "", project ? project : ""};
    rv_decision d;
    if (rv_vm_eval(vm, prog, &req, spec, &d, &err) != RV_OK) {
        snprintf(problem_out, problem_size, "%s", err.message);
        return EXIT_TROUBLE;
    }
    print_warnings(&d);
    if (o->explain)
        print_explain(vm, &d, stderr);

    rv_doc *resp = rv_vm_new_object(vm);
    rv_doc *error = NULL;
    if (!d.allowed) {
        /* dstack shows one message: join them all. */
        size_t total = 1;
        for (size_t i = 0; i < d.nerrors; i++)
            total += strlen(d.errors[i].text) + 2;
        char *joined = malloc(total);
        if (joined) {
            joined[0] = '\0';
            for (size_t i = 0; i < d.nerrors; i++) {
                if (i)
                    strcat(joined, "; ");
                strcat(joined, d.errors[i].text);
            }
            error = rv_vm_new_string(vm, joined);
            free(joined);
        }
    } else {
        error = rv_vm_new_null(vm);
    }
    const char *out;
    size_t outlen;
    if (!resp || !error || rv_vm_object_put(vm, resp, "spec", d.spec) != RV_OK ||
        rv_vm_object_put(vm, resp, "error", error) != RV_OK ||
        rv_vm_print(vm, resp, RV_JSON, compact ? 0 : RV_PRETTY, &out, &outlen, &err) != RV_OK) {
        snprintf(problem_out, problem_size, "out of memory");
        return EXIT_TROUBLE;
    }
    fwrite(out, 1, outlen, stdout);
    putchar('\n');
    return d.allowed ? EXIT_ALLOWED : EXIT_REJECTED;
}

static int apply_requests(rv_program *prog, const apply_opts *o)
{
    rv_vm *vm;
    if (rv_vm_new(NULL, &vm) != RV_OK) {
        fprintf(stderr, "rulec: out of memory\n");
        return EXIT_TROUBLE;
    }
    int rc;
    if (!o->ndjson) {
        size_t len;
        char *text = cli_read_file(o->request, &len, o->max_input);
        char problem[700];
        unsigned long at[2];
        rc = text ? answer(vm, prog, o, text, len, false, problem, sizeof problem, at) : EXIT_TROUBLE;
        if (text && rc == EXIT_TROUBLE && at[0])
            fprintf(stderr, "rulec: %s:%lu:%lu: %s\n", o->request, at[0], at[1], problem);
        else if (text && rc == EXIT_TROUBLE)
            fprintf(stderr, "rulec: %s: %s\n", o->request, problem);
        free(text);
    } else {
        FILE *in = strcmp(o->request, "-") == 0 ? stdin : fopen(o->request, "rb");
        if (!in) {
            perror(o->request);
            rv_vm_free(vm);
            return EXIT_TROUBLE;
        }
        /* A batch keeps going past a bad line (reported on stderr, and as
         * the exit status) so one bad request cannot hide the others. */
        rc = 0;
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        unsigned long lineno = 0;
        char problem[700];
        unsigned long at[2];
        while ((n = getline(&line, &cap, in)) >= 0) {
            lineno++;
            size_t len = (size_t)n;
            while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                len--;
            if (len == 0)
                continue;
            at[0] = at[1] = 0;
            if (len > o->max_input) {
                snprintf(problem, sizeof problem, "the request is larger than the %zu-byte input limit (--max-input-size)", o->max_input);
            } else if (answer(vm, prog, o, line, len, true, problem, sizeof problem, at) != EXIT_TROUBLE) {
                continue;
            }
            /* A bad line still gets its response line, so responses stay
             * aligned with requests; the reason goes to stderr too. */
            rc = EXIT_TROUBLE;
            /* A request is one line of the file: its column is the file's. */
            char where[64] = "";
            if (at[0])
                snprintf(where, sizeof where, ", column %lu", at[1]);
            if (at[0])
                fprintf(stderr, "rulec: %s:%lu:%lu: %s\n", o->request, lineno, at[1], problem);
            else
                fprintf(stderr, "rulec: %s:%lu: %s\n", o->request, lineno, problem);
            rv_vm_reset(vm);
            rv_doc *resp = rv_vm_new_object(vm);
            char full[800];
            snprintf(full, sizeof full, "invalid request on line %lu%s: %s", lineno, where, problem);
            rv_doc *msg = rv_vm_new_string(vm, full);
            const char *out;
            size_t outlen;
            rv_error err;
            if (resp && msg && rv_vm_object_put(vm, resp, "spec", rv_vm_new_null(vm)) == RV_OK &&
                rv_vm_object_put(vm, resp, "error", msg) == RV_OK &&
                rv_vm_print(vm, resp, RV_JSON, 0, &out, &outlen, &err) == RV_OK) {
                fwrite(out, 1, outlen, stdout);
                putchar('\n');
            }
        }
        free(line);
        if (in != stdin)
            fclose(in);
    }
    fflush(stdout);
    rv_vm_free(vm);
    return rc;
}

int cli_apply(int argc, char **argv)
{
    apply_opts o;
    int rc = EXIT_TROUBLE;
    if (!parse_opts(argc, argv, &o)) {
        usage();
        goto out;
    }
    int npolicies = o.request ? o.npositional : o.npositional - 1;
    rv_program *prog = cli_load_program(o.positional, npolicies, o.params, o.nparams);
    if (!prog)
        goto out;
    rc = o.request ? apply_requests(prog, &o) : apply_spec(prog, &o);
    rv_program_free(prog);
out:
    free(o.positional);
    free(o.params);
    return rc;
}
