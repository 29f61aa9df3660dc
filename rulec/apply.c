/* apply.c - `rulec apply`: run policies on a spec file, or answer
 * SPDX-License-Identifier: Apache-2.0
 * orchestrators' request bodies as rulesd does, one at a time or as NDJSON
 * batches: dstack's REST plugin ({"user","project","spec"} in,
 * {"spec","error"} out) and SkyPilot's RESTful admin policy (a JSON string
 * in; the HTTP status and body out).
 *
 * Nothing is printed on stdout until the decision is complete, so an input
 * error never leaves a partial document behind.
 */
#include "cli.h"
#include "dstack.h"
#include "lines.h"
#include "scrub.h"
#include "skypilot.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct apply_opts {
    const char *kind, *user, *project;
    const char *target;        /* --target: of policies naming none; and the kinds */
    const char *request;       /* --request FILE */
    bool skypilot;             /* the request is SkyPilot's (--target or the body) */
    bool ndjson, explain, help;
    int output;                /* RV_AUTO: same as the input */
    size_t max_input;          /* bytes; --max-input-size */
    cli_param *params;
    size_t nparams;
    char **positional;
    int npositional;
} apply_opts;

/* The synopsis goes with a usage error; --help adds the details. */
static const char apply_synopsis[] =
    "usage: rulec apply POLICY... SPEC --kind K [--user U] [--project P]\n"
    "                   [--param NAME=VALUE]... [--output json|yaml] [--explain]\n"
    "                   [--max-input-size BYTES]\n"
    "       rulec apply POLICY... --request FILE [--kind K] [--target NAME] [--ndjson]\n"
    "                   [--param NAME=VALUE]... [--explain] [--max-input-size BYTES]\n";

static const char apply_details[] =
    "\n"
    "Applies policies to a spec (JSON or YAML, '-' is standard input) and prints the\n"
    "rewritten spec, or every rejection message.\n"
    "  -k, --kind K            the spec's kind, one of the target's (dstack: run, fleet,\n"
    "                          volume, gateway; skypilot: launch, jobs.launch, ...)\n"
    "      --target NAME       the target of policies whose header names none, and of\n"
    "                          --kind (default dstack; skypilot; 'any': every kind, no\n"
    "                          schema)\n"
    "  -u, --user U            $user (default empty)\n"
    "  -p, --project P         $project (default empty)\n"
    "      --param NAME=VALUE  override a parameter (NAME or POLICY.NAME; VALUE written as\n"
    "                          in a policy: 1h, 24GB, [\"a\"]; a bare word is a string;\n"
    "                          it must have the default's type)\n"
    "  -o, --output FORMAT     json or yaml (default: the spec's own format); a YAML\n"
    "                          spec keeps its comments and layout where unchanged\n"
    "      --explain           list every change on standard error (values from\n"
    "                          secrets shown as [REDACTED])\n"
    "      --max-input-size N  refuse a spec or request over N bytes (default 64 MiB)\n"
    "      --request FILE      FILE holds an orchestrator's request body; print the\n"
    "                          answer rulesd would give. dstack (--kind K): the body\n"
    "                          {user, project, spec}, the response {spec, error}.\n"
    "                          SkyPilot (--target skypilot, or a body that is a JSON\n"
    "                          string holding an object with request_name and task):\n"
    "                          the body names the request, so no --kind; allowed:\n"
    "                          the 200 body (a JSON string), rejected: the 400 text\n"
    "      --ndjson            with --request: one request per line, one response line\n"
    "                          each (an empty line is a bad request too); SkyPilot's\n"
    "                          lines are {\"status\": CODE, \"body\": TEXT}. Answers\n"
    "                          are flushed whenever rulec waits for input (--request -\n"
    "                          can be fed through a pipe, a line at a time)\n"
    "\n"
    "example:\n"
    "  rulec apply rules/ task.json --kind run --user alice --explain\n"
    "  rulec apply rules/ --request body.json --kind run\n"
    "  rulec apply rules/skypilot/ --request skypilot-body.json\n"
    "exit status: 0 allowed, 1 rejected, 2 usage or input error (or a bad request)\n";

enum { OPT_PARAM = 256, OPT_EXPLAIN, OPT_MAX_INPUT, OPT_REQUEST, OPT_NDJSON, OPT_TARGET };

static bool parse_opts(int argc, char **argv, apply_opts *o)
{
    static const struct option longopts[] = {
        {"kind", required_argument, NULL, 'k'},
        {"user", required_argument, NULL, 'u'},
        {"project", required_argument, NULL, 'p'},
        {"output", required_argument, NULL, 'o'},
        {"param", required_argument, NULL, OPT_PARAM},
        {"explain", no_argument, NULL, OPT_EXPLAIN},
        {"max-input-size", required_argument, NULL, OPT_MAX_INPUT},
        {"request", required_argument, NULL, OPT_REQUEST},
        {"ndjson", no_argument, NULL, OPT_NDJSON},
        {"target", required_argument, NULL, OPT_TARGET},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    o->user = o->project = "";
    o->max_input = CLI_DEFAULT_MAX_INPUT;
    o->params = calloc((size_t)argc, sizeof *o->params);
    if (!o->params)
        return false;
    const char *user_opt = NULL, *project_opt = NULL, *output_opt = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":k:u:p:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            o->help = true;
            return true;
        case 'k':
            o->kind = optarg;
            break;
        case 'u':
            o->user = user_opt = optarg;
            break;
        case 'p':
            o->project = project_opt = optarg;
            break;
        case 'o':
            output_opt = optarg;
            if (strcmp(optarg, "json") == 0)
                o->output = RV_JSON;
            else if (strcmp(optarg, "yaml") == 0)
                o->output = RV_YAML;
            else {
                fprintf(stderr, "rulec apply: --output takes json or yaml, not '%s'\n", optarg);
                return false;
            }
            break;
        case OPT_PARAM:
            if (!cli_parse_param(optarg, &o->params[o->nparams])) {
                fprintf(stderr, "rulec apply: --param takes NAME=VALUE, not '%s'\n", optarg);
                return false;
            }
            o->nparams++;
            break;
        case OPT_EXPLAIN:
            o->explain = true;
            break;
        case OPT_MAX_INPUT:
            if (!cli_parse_size("--max-input-size", optarg, &o->max_input))
                return false;
            break;
        case OPT_REQUEST:
            o->request = optarg;
            break;
        case OPT_NDJSON:
            o->ndjson = true;
            break;
        case OPT_TARGET:
            o->target = optarg;
            break;
        case ':':
        case '?': {
            char name[64];
            cli_bad_option(argv, c, name, sizeof name);
            if (c == ':')
                fprintf(stderr, "rulec apply: %s needs a value\n", name);
            else
                fprintf(stderr, "rulec apply: unknown option '%s'\n", name);
            return false;
        }
        default:
            return false;
        }
    }
    o->positional = argv + optind;
    o->npositional = argc - optind;
    /* A request may name its own kind (SkyPilot's bodies do): whether
     * --kind is needed is decided once the body is seen. */
    if ((!o->kind && !o->request) || (o->kind && !*o->kind)) {
        fprintf(stderr, "rulec apply: --kind %s (run, fleet, volume, gateway, ...)\n",
                o->kind ? "must not be empty" : "is required");
        return false;
    }
    /* A kind the target does not have would match no `on` block: the
     * policies would silently do nothing. (With --request, once the body
     * has said which protocol it is: apply_requests.) */
    char why[400];
    if (!rc_target_has_kind(o->target, o->request ? NULL : o->kind, why, sizeof why)) {
        fprintf(stderr, "rulec apply: %s: %s\n", strncmp(why, "unknown target", 14) == 0 ? "--target" : "--kind",
                why);
        return false;
    }
    if (o->ndjson && !o->request) {
        fprintf(stderr, "rulec apply: --ndjson goes with --request FILE\n");
        return false;
    }
    /* A request body names its user and project, and its response is
     * dstack's JSON: options that would be silently ignored are refused. */
    if (o->request && (user_opt || project_opt || output_opt)) {
        fprintf(stderr, "rulec apply: %s does not go with --request: %s\n",
                user_opt ? "--user" : project_opt ? "--project" : "--output",
                output_opt && !user_opt && !project_opt
                    ? "the response is the orchestrator's own body"
                    : "the request body names the user and project");
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

bool cli_parse_spec(rv_vm *vm, const char *path, const char *text, size_t len, rv_format *in,
                    rv_doc **spec)
{
    rv_error err;
    rv_format format = cli_spec_format(path, text, len);
    if (in)
        *in = format;
    if (rv_vm_parse(vm, text, len, format, spec, &err) != RV_OK) {
        if (err.line)
            fprintf(stderr, "rulec: %s:%lu:%lu: %s\n", path, err.line, err.column, err.message);
        else
            fprintf(stderr, "rulec: %s: %s\n", path, err.message);
        return false;
    }
    if (rv_doc_kind(*spec) != RV_OBJECT) {
        fprintf(stderr, "rulec: %s: the spec must be a %s object\n", path,
                format == RV_JSON ? "JSON" : "YAML mapping");
        return false;
    }
    return true;
}

rv_format cli_spec_format(const char *path, const char *text, size_t len)
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

/* --explain writes where anyone may read it (a CI log), so it follows the
 * decision log's rule (docs/rulesd.md, "Security"): a change the compiler
 * marked secret shows neither value, and a value or path that holds one of
 * the input spec's secret texts shows the marker instead. */
static void add_secret(void *ud, const char *text, size_t len)
{
    ru_scrub_add_json(ud, text, len);
}

/* The spec's secret texts (before evaluation rewrites it), for --explain. */
static void collect_secrets(ru_scrub *sc, const apply_opts *o, const char *kind, const rv_doc *spec)
{
    ru_scrub_init(sc, NULL, NULL);
    if (o->explain)
        rc_secret_values(o->target, kind, spec, add_secret, sc);
}

static void explain_value(rv_vm *vm, FILE *out, const rv_change *c, const rv_doc *v, ru_scrub *sc)
{
    const char *text;
    size_t len;
    rv_error err;
    if (!v) {
        fputs("(missing)", out);
        return;
    }
    /* Printing reuses the VM's output buffer: copy before the next print. */
    if (c->secret || rv_vm_print(vm, v, RV_JSON, 0, &text, &len, &err) != RV_OK ||
        ru_scrub_found(sc, text, len))
        fputs(RV_REDACTED, out);
    else
        fwrite(text, 1, len, out);
}

/* --explain: one line per change, coloured on a terminal (the path bold,
 * the arrow and the policy:line dim, "(removed)" and the undone note in the
 * warning colour). */
static void print_explain(rv_vm *vm, const rv_decision *d, FILE *out, ru_scrub *sc)
{
    const cli_palette *pal = cli_palette_for(out);
    if (d->nchanges == 0) {
        fprintf(out, "no changes\n");
        return;
    }
    /* A rejected spec goes back as it came: say that these were undone. */
    if (!d->allowed)
        fprintf(out, "%s(rejected: the spec is returned unchanged; these changes were made, then undone)%s\n",
                pal->warning, pal->reset);
    ru_buf path = {0};
    for (size_t i = 0; i < d->nchanges; i++) {
        const rv_change *c = &d->changes[i];
        ru_buf_clear(&path);
        ru_scrub_apply(sc, c->path, strlen(c->path), RV_REDACTED, RV_REDACTED, &path);
        fprintf(out, "%s%.*s%s: ", pal->bold, path.oom ? 10 : (int)path.len,
                path.oom ? RV_REDACTED : path.data, pal->reset);
        explain_value(vm, out, c, c->old_value, sc);
        fprintf(out, " %s->%s ", pal->dim, pal->reset);
        if (c->new_value)
            explain_value(vm, out, c, c->new_value, sc);
        else
            fprintf(out, "%s(removed)%s", pal->warning, pal->reset);
        fprintf(out, "  %s(%s:%u)%s\n", pal->dim, c->policy, c->line, pal->reset);
    }
    ru_buf_free(&path);
}

static void print_warnings(const rv_decision *d)
{
    /* Most decisions warn of nothing: asking whether stderr is a terminal
     * (a system call) would cost a batch one per line. */
    if (d->nwarnings == 0)
        return;
    const cli_palette *pal = cli_palette_for(stderr);
    for (size_t i = 0; i < d->nwarnings; i++)
        fprintf(stderr, "%swarning:%s %s (%s:%u)\n", pal->warning, pal->reset, d->warnings[i].text,
                d->warnings[i].policy, d->warnings[i].line);
}

/* Whether a dstack configuration's type belongs to kind (a run is a task,
 * a service or a dev environment; the other kinds are named by their
 * type). */
static bool type_fits_kind(const char *type, const char *kind)
{
    if (strcmp(kind, "run") == 0)
        return strcmp(type, "task") == 0 || strcmp(type, "service") == 0 ||
               strcmp(type, "dev-environment") == 0;
    return strcmp(type, kind) == 0;
}

/* The shorthands of a configuration as written: what dstack's client
 * expands before sending (every body it sends has objects there), so a
 * policy reading their fields sees a string or a number instead. */
typedef struct shorthands {
    ru_buf paths;     /* ", "-separated, each from "configuration" */
    size_t n;
} shorthands;

static bool is_scalar(const rv_doc *v)
{
    rv_doc_type t = v ? rv_doc_kind(v) : RV_NULL;
    return t == RV_STRING || t == RV_INT || t == RV_FLOAT;
}

static void shorthand_at(shorthands *sh, const ru_buf *where, const char *tail)
{
    if (sh->n++ < 6)
        ru_buf_printf(&sh->paths, "%sconfiguration%.*s%s", sh->n > 1 ? ", " : "", (int)where->len,
                      where->data ? where->data : "", tail);
}

/* A `resources` mapping: cpu, memory, gpu and disk as text or a number
 * (`gpu: H100:8`, `disk: 200GB`), or their ranges so (`gpu: {count: 8}`,
 * `count: 2..8`, `disk: {size: 100GB..}`). */
static void resources_shorthands(const rv_doc *res, const ru_buf *where, shorthands *sh)
{
    static const char *const fields[] = {"cpu", "memory", "gpu", "disk"};
    static const char *const ranges[] = {"count", "size", "memory", "total_memory"};
    char tail[64];
    for (size_t f = 0; f < sizeof fields / sizeof *fields; f++) {
        const rv_doc *v = rv_doc_get(res, fields[f]);
        if (is_scalar(v)) {
            snprintf(tail, sizeof tail, ".resources.%s", fields[f]);
            shorthand_at(sh, where, tail);
            continue;
        }
        if (!v || rv_doc_kind(v) != RV_OBJECT)
            continue;
        for (size_t r = 0; r < sizeof ranges / sizeof *ranges; r++)
            if (is_scalar(rv_doc_get(v, ranges[r]))) {
                snprintf(tail, sizeof tail, ".resources.%s.%s", fields[f], ranges[r]);
                shorthand_at(sh, where, tail);
            }
    }
}

/* Collects, below doc (at most depth levels; where: its path, without
 * "configuration"), every shorthand: those of each `resources` mapping,
 * and a replica range written as text (`replicas: 1..4`, a group's
 * `count: 1..2`). */
static void find_shorthands(const rv_doc *doc, ru_buf *where, int depth, shorthands *sh)
{
    size_t mark = where->len;
    if (depth <= 0 || !doc)
        return;
    if (rv_doc_kind(doc) == RV_ARRAY) {
        for (size_t i = 0; i < rv_doc_len(doc); i++) {
            ru_buf_printf(where, "[%zu]", i);
            find_shorthands(rv_doc_item(doc, i), where, depth - 1, sh);
            where->len = mark;
        }
        return;
    }
    if (rv_doc_kind(doc) != RV_OBJECT)
        return;
    const rv_doc *res = rv_doc_get(doc, "resources");
    if (res && rv_doc_kind(res) == RV_OBJECT)
        resources_shorthands(res, where, sh);
    for (size_t i = 0; i < rv_doc_len(doc); i++) {
        const char *key = rv_doc_key(doc, i);
        if (strcmp(key, "resources") == 0)
            continue;
        ru_buf_printf(where, ".%s", key);
        if ((strcmp(key, "replicas") == 0 || strcmp(key, "count") == 0) &&
            rv_doc_kind(rv_doc_value(doc, i)) == RV_STRING)
            shorthand_at(sh, where, "");
        else
            find_shorthands(rv_doc_value(doc, i), where, depth - 1, sh);
        where->len = mark;
    }
}

/* A dstack spec carries the configuration under "configuration", with a
 * type that matches its kind. A configuration file (the .dstack.yml a user
 * runs `dstack apply` on) given as the spec would pass every policy
 * unjudged and come out with a second configuration grafted on, so it is
 * recognised by its type and judged wrapped as the spec dstack sends
 * ({"configuration": ...}; *wrapped set: the caller prints the
 * configuration back), and anything else without a configuration is
 * refused with the fix. Returns false when refused. Only for the dstack
 * target: "any" takes any document. */
static bool dstack_shape(const char *path, rv_doc **spec, rv_vm *vm, const apply_opts *o,
                         bool *wrapped)
{
    *wrapped = false;
    if ((o->target && strcmp(o->target, "dstack") != 0) || rv_doc_len(*spec) == 0)
        return true;
    const rv_doc *conf = rv_doc_get(*spec, "configuration");
    if (!conf) {
        const char *type = rv_doc_string(rv_doc_get(*spec, "type"));
        if (!type) {
            fprintf(stderr, "rulec: %s: not a dstack %s spec: it has no \"configuration\" (the spec "
                            "dstack sends holds it there) and no \"type\" (as a configuration file "
                            "has); give the spec, a .dstack.yml, or --request with a request body\n",
                    path, o->kind);
            return false;
        }
        if (!type_fits_kind(type, o->kind)) {
            fprintf(stderr, "rulec: %s: a \"%s\" configuration, but --kind is %s\n", path, type,
                    o->kind);
            return false;
        }
        rv_doc *outer = rv_vm_new_object(vm);
        if (!outer || rv_vm_object_put(vm, outer, "configuration", *spec) != RV_OK) {
            fprintf(stderr, "rulec: out of memory\n");
            return false;
        }
        fprintf(stderr, "rulec: note: %s is a dstack configuration (type %s): judged as "
                        "{\"configuration\": ...} with its values as written; the configuration is "
                        "printed back\n", path, type);
        /* Judged as written, a shorthand is a string where the policies
         * read fields (gpu-limits reads resources.gpu.count): they may
         * allow here what rulesd, given the expanded request, rejects. */
        ru_buf where;
        shorthands sh = {.n = 0};
        ru_buf_init(&where, NULL, NULL);
        ru_buf_init(&sh.paths, NULL, NULL);
        find_shorthands(*spec, &where, 8, &sh);  /* the configuration, not yet wrapped */
        if (sh.n && !where.oom && !sh.paths.oom) {
            ru_buf_terminate(&sh.paths);
            fprintf(stderr, "rulec: warning: %s writes %s%s as dstack's shorthand, which dstack's client "
                            "expands into objects ({min, max} ranges) before sending: policies that read "
                            "those fields (GPU, CPU, memory, disk or replica limits) do not see them here, "
                            "so this decision may differ from rulesd's; judge the request body dstack "
                            "sends (--request) to be exact\n",
                    path, sh.paths.data, sh.n > 6 ? " and more" : "");
        }
        ru_buf_free(&where);
        ru_buf_free(&sh.paths);
        *spec = outer;
        *wrapped = true;
        return true;
    }
    const char *type = rv_doc_string(rv_doc_get(conf, "type"));
    if (type && !type_fits_kind(type, o->kind))
        fprintf(stderr, "rulec: note: %s is a \"%s\" configuration, but --kind is %s: the %s "
                        "policies judge it\n", path, type, o->kind, o->kind);
    return true;
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
    ru_scrub sc;
    ru_scrub_init(&sc, NULL, NULL);
    rv_format in;
    rv_doc *spec;
    rv_error err;
    rv_decision d;
    rv_request req = {.kind = o->kind, .user = o->user, .project = o->project,
                      .target = rc_request_target(o->target, o->kind)};
    if (!cli_parse_spec(vm, path, text, len, &in, &spec))
        goto done;
    bool wrapped = false;
    if (rv_doc_len(spec) == 3 && rv_doc_get(spec, "spec") && rv_doc_get(spec, "user") &&
        rv_doc_get(spec, "project"))
        fprintf(stderr, "rulec: note: %s looks like a dstack request body ({user, project, spec}); "
                        "use --request %s to answer it as dstack's REST plugin would\n", path, path);
    else if (!dstack_shape(path, &spec, vm, o, &wrapped))
        goto done;
    collect_secrets(&sc, o, o->kind, spec);
    if (rv_vm_eval(vm, prog, &req, spec, &d, &err) != RV_OK) {
        fprintf(stderr, "rulec: %s: %s\n", path, err.message);
        goto done;
    }
    print_warnings(&d);
    if (o->explain)
        print_explain(vm, &d, stderr, &sc);
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
    const rv_doc *result = wrapped ? rv_doc_get(d.spec, "configuration") : d.spec;
    /* YAML goes back as the text it came in, edited where the policies
     * changed it: comments and layout stay (docs/yaml.md). */
    int flags = RV_PRETTY | (outfmt == RV_YAML ? RV_VERBATIM : 0);
    if (!result || rv_vm_print(vm, result, outfmt, flags, &out, &outlen, &err) != RV_OK) {
        fprintf(stderr, "rulec: %s\n", err.message);
        goto done;
    }
    fwrite(out, 1, outlen, stdout);
    if (outlen && out[outlen - 1] != '\n')
        putchar('\n');
    rc = EXIT_ALLOWED;
done:
    ru_scrub_free(&sc);
    rv_vm_free(vm);
    free(text);
    return rc;
}

/* Answers one request body through the protocol module (dstack.h), as
 * rulesd does; prints the response (one line when compact). Returns 0
 * allowed, 1 rejected, 2 trouble: a bad request (nothing printed) or a
 * decision that could not be made (answered, as rulesd does, with a
 * fail-closed rejection); problem_out says what is wrong. */
static int answer(rv_vm *vm, rv_program *prog, const apply_opts *o, const char *text, size_t len,
                  bool compact, bool *printed, char *problem_out, size_t problem_size)
{
    *printed = false;
    rv_vm_reset(vm);
    dstack_request rq;
    if (!dstack_decode(vm, text, len, o->kind, &rq, problem_out, problem_size))
        return EXIT_TROUBLE;
    rv_request req = {.kind = rq.kind, .user = rq.user, .project = rq.project, .target = "dstack"};
    rv_decision d;
    rv_error err;
    char failure[700];
    /* The secrets are gathered only for --explain: a batch answers
     * thousands of requests that nobody asked to explain. */
    ru_scrub sc;
    if (o->explain)
        collect_secrets(&sc, o, rq.kind, rq.spec);
    bool decided = rv_vm_eval(vm, prog, &req, rq.spec, &d, &err) == RV_OK;
    if (decided)
        print_warnings(&d);
    if (o->explain) {
        if (decided)
            print_explain(vm, &d, stderr, &sc);
        ru_scrub_free(&sc);
    }
    if (!decided) {
        snprintf(failure, sizeof failure, DSTACK_FAILED_PREFIX "%s", err.message);
        snprintf(problem_out, problem_size, "%s", failure);
    }
    rv_doc *resp = dstack_response(vm, &rq, decided ? &d : NULL, failure);
    const char *out;
    size_t outlen;
    /* A compact answer is the wire form, as rulesd sends it: whatever no
     * policy changed (a rejected spec: all of it) goes back byte for byte
     * as received. A pretty one is laid out for reading. */
    if (!resp || rv_vm_print(vm, resp, RV_JSON, compact ? RV_VERBATIM : RV_PRETTY, &out, &outlen, &err) != RV_OK) {
        snprintf(problem_out, problem_size, "out of memory");
        return EXIT_TROUBLE;
    }
    fwrite(out, 1, outlen, stdout);
    putchar('\n');
    *printed = true;
    return !decided ? EXIT_TROUBLE : d.allowed ? EXIT_ALLOWED : EXIT_REJECTED;
}

/* Prints one NDJSON line {"status": CODE, "body": TEXT} for a SkyPilot
 * answer: the HTTP status matters to SkyPilot, and the body (JSON for 200,
 * text for 400 and 500) goes as a string so every answer is one line. */
static void print_status_line(rv_vm *vm, int status, const char *body, size_t len)
{
    /* body may sit in the VM's print buffer: copy it before printing. */
    char *copy = malloc(len + 1);
    rv_doc *line = rv_vm_new_object(vm);
    rv_doc *text = NULL;
    if (copy) {
        memcpy(copy, body, len);
        copy[len] = '\0';
        text = rv_vm_new_string(vm, copy);
        free(copy);
    }
    const char *out;
    size_t outlen;
    rv_error err;
    if (line && text && rv_vm_object_put(vm, line, "status", rv_vm_new_int(vm, status)) == RV_OK &&
        rv_vm_object_put(vm, line, "body", text) == RV_OK &&
        rv_vm_print(vm, line, RV_JSON, 0, &out, &outlen, &err) == RV_OK) {
        fwrite(out, 1, outlen, stdout);
        putchar('\n');
    } else {
        fputs("{\"status\":500,\"body\":\"out of memory\"}\n", stdout);
    }
}

/* Answers one SkyPilot body through the protocol module (skypilot.h), as
 * rulesd does: prints the answer's body (200: the double-encoded JSON;
 * 400: the messages; 500: why no decision was made), or with compact
 * (NDJSON) the {"status", "body"} line. Returns as answer() does. */
static int answer_skypilot(rv_vm *vm, rv_program *prog, const apply_opts *o, const char *text, size_t len,
                           bool compact, bool *printed, char *problem_out, size_t problem_size)
{
    *printed = false;
    rv_vm_reset(vm);
    skypilot_request rq;
    if (!skypilot_decode(vm, text, len, &rq, problem_out, problem_size))
        return EXIT_TROUBLE;
    rv_request req = {.kind = rq.name, .user = rq.user, .project = "", .request = rq.request,
                      .target = SKYPILOT_TARGET};
    rv_decision d;
    rv_error err;
    char failure[700], unfit[600];
    /* --explain hides SkyPilot's secrets: its paths, whatever --target. */
    ru_scrub sc;
    ru_scrub_init(&sc, NULL, NULL);
    if (o->explain)
        rc_secret_values(SKYPILOT_TARGET, rq.name, rq.spec, add_secret, &sc);
    bool decided = rv_vm_eval(vm, prog, &req, rq.spec, &d, &err) == RV_OK;
    if (decided) {
        print_warnings(&d);
        if (o->explain)
            print_explain(vm, &d, stderr, &sc);
    }
    ru_scrub_free(&sc);
    if (!decided) {
        snprintf(failure, sizeof failure, SKYPILOT_FAILED_PREFIX "%s", err.message);
        snprintf(problem_out, problem_size, "%s", failure);
    }
    skypilot_answer a;
    if (!skypilot_answer_of(vm, &rq, decided ? &d : NULL, failure, &a, unfit, sizeof unfit)) {
        snprintf(problem_out, problem_size, "out of memory");
        return EXIT_TROUBLE;
    }
    if (unfit[0])
        snprintf(problem_out, problem_size, "%s", unfit);
    if (compact) {
        print_status_line(vm, a.status, a.body, a.len);
    } else {
        fwrite(a.body, 1, a.len, stdout);
        putchar('\n');
    }
    *printed = true;
    return a.status == 200 ? EXIT_ALLOWED : a.status == 400 ? EXIT_REJECTED : EXIT_TROUBLE;
}

/* The first request (the whole file, or the first line of a batch) tells
 * the protocol when --target does not: SkyPilot's bodies are JSON strings
 * holding an object with request_name and task, dstack's are objects.
 * Checks --kind against it: dstack needs one, SkyPilot's body names its
 * own. */
static bool choose_protocol(apply_opts *o, const char *first, size_t len)
{
    if (o->target && strcmp(o->target, SKYPILOT_TARGET) == 0) {
        o->skypilot = true;
    } else if (!o->target || strcmp(o->target, "any") == 0) {
        rv_vm *vm;
        if (rv_vm_new(NULL, &vm) != RV_OK) {
            fprintf(stderr, "rulec: out of memory\n");
            return false;
        }
        o->skypilot = skypilot_recognize(vm, first, len);
        rv_vm_free(vm);
    }
    if (o->skypilot && o->kind) {
        fprintf(stderr, "rulec apply: --kind does not go with a SkyPilot request: the body names the request "
                        "(request_name)\n");
        return false;
    }
    if (!o->skypilot && !o->kind) {
        /* SkyPilot's object, not encoded the second time SkyPilot does. */
        rv_vm *vm;
        rv_doc *doc;
        rv_error err;
        bool single = false;
        if (rv_vm_new(NULL, &vm) == RV_OK) {
            single = rv_vm_parse(vm, first, len, RV_JSON, &doc, &err) == RV_OK && rv_doc_kind(doc) == RV_OBJECT &&
                     rv_doc_get(doc, "request_name") && rv_doc_get(doc, "task");
            rv_vm_free(vm);
        }
        if (single)
            fprintf(stderr, "rulec apply: %s holds SkyPilot's request object as plain JSON: SkyPilot sends a JSON "
                            "string holding it (encoded twice)\n", o->request);
        else
            fprintf(stderr, "rulec apply: --kind is required with a dstack request (run, fleet, volume, gateway); "
                            "a SkyPilot body is a JSON string holding an object with request_name and task\n");
        return false;
    }
    return true;
}

/* The answer to one request of a batch that could not be read as one: a
 * line like every other, so responses stay aligned with requests. */
static void print_bad_line(rv_vm *vm, const apply_opts *o, unsigned long lineno, const char *problem)
{
    rv_vm_reset(vm);
    char full[800];
    snprintf(full, sizeof full, "invalid request on line %lu: %s", lineno, problem);
    rv_doc *msg = rv_vm_new_string(vm, full);
    const char *out;
    size_t outlen;
    rv_error err;
    if (o->skypilot) {
        /* rulesd's 422 body. */
        rv_doc *detail = rv_vm_new_object(vm);
        if (detail && msg && rv_vm_object_put(vm, detail, "detail", msg) == RV_OK &&
            rv_vm_print(vm, detail, RV_JSON, 0, &out, &outlen, &err) == RV_OK)
            print_status_line(vm, 422, out, outlen);
        return;
    }
    rv_doc *resp = rv_vm_new_object(vm);
    if (resp && msg && rv_vm_object_put(vm, resp, "spec", rv_vm_new_null(vm)) == RV_OK &&
        rv_vm_object_put(vm, resp, "error", msg) == RV_OK &&
        rv_vm_print(vm, resp, RV_JSON, 0, &out, &outlen, &err) == RV_OK) {
        fwrite(out, 1, outlen, stdout);
        putchar('\n');
    }
}

static int answer_one(rv_vm *vm, rv_program *prog, const apply_opts *o, const char *text, size_t len,
                      bool compact, bool *printed, char *problem, size_t size)
{
    return o->skypilot ? answer_skypilot(vm, prog, o, text, len, compact, printed, problem, size)
                       : answer(vm, prog, o, text, len, compact, printed, problem, size);
}

/* stdout's buffer for a batch: answers go out a block at a time (the
 * reader flushes it before it waits for input, so a process feeding
 * requests through a pipe still gets each answer). */
static char batch_out[(size_t)1 << 20];

/* Answers --request FILE: reads the first request, picks the protocol
 * from it (choose_protocol), loads the policies with the target that
 * implies, and answers every request. */
static int apply_requests(apply_opts *o, int npolicies)
{
    char *text = NULL;
    const char *line = "";
    size_t len = 0, llen = 0;
    int n = 0;
    bool too_long = false;
    cli_lines in = {.fd = -1};
    if (!o->ndjson) {
        if (!(text = cli_read_file(o->request, &len, o->max_input)))
            return EXIT_TROUBLE;
    } else {
        if (!cli_lines_open(&in, o->request, o->max_input, stdout)) {
            fprintf(stderr, "rulec: cannot read '%s': %s\n", o->request, strerror(errno));
            return EXIT_TROUBLE;
        }
        if (!isatty(STDOUT_FILENO))
            setvbuf(stdout, batch_out, _IOFBF, sizeof batch_out);
        n = cli_lines_next(&in, &line, &llen, &too_long);
    }
    int rc = EXIT_TROUBLE;
    rv_vm *vm = NULL;
    rv_program *prog = NULL;
    if (n < 0) {
        fprintf(stderr, "rulec: cannot read '%s': %s\n", o->request, strerror(errno));
        goto out;
    }
    if (!choose_protocol(o, o->ndjson ? (n > 0 && !too_long ? line : "") : text,
                         o->ndjson ? (n > 0 && !too_long ? llen : 0) : len))
        goto out;
    /* Policies whose header names no target are dstack's unless --target
     * says otherwise, as in rulesd: one set means the same in both. */
    const char *target = o->target;
    if (o->kind) {
        char why[400];
        if (!rc_target_has_kind(target, o->kind, why, sizeof why)) {
            fprintf(stderr, "rulec apply: --kind: %s\n", why);
            goto out;
        }
    }
    if (!(prog = cli_load_program(o->positional, npolicies, target, o->params, o->nparams)))
        goto out;
    if (rv_vm_new(NULL, &vm) != RV_OK) {
        fprintf(stderr, "rulec: out of memory\n");
        goto out;
    }
    char problem[700];
    bool printed;
    if (!o->ndjson) {
        rc = answer_one(vm, prog, o, text, len, false, &printed, problem, sizeof problem);
        if (rc == EXIT_TROUBLE)
            fprintf(stderr, "rulec: %s: %s\n", o->request, problem);
        goto out;
    }
    /* A batch keeps going past a bad line (reported on stderr, and as the
     * exit status) so one bad request cannot hide the others; it stops
     * when the answers cannot be written (main reports that). */
    rc = 0;
    for (unsigned long lineno = 1; n > 0 && !ferror(stdout);
         lineno++, n = cli_lines_next(&in, &line, &llen, &too_long)) {
        while (llen && line[llen - 1] == '\r')
            llen--;
        /* One request line, one response line, always: an empty or blank
         * line is a bad request like any other, or responses would stop
         * pairing with requests by position. */
        printed = false;
        if (too_long || llen > o->max_input) {
            snprintf(problem, sizeof problem, "the request is larger than the %zu-byte input limit (--max-input-size)", o->max_input);
        } else {
            int one = answer_one(vm, prog, o, line, llen, true, &printed, problem, sizeof problem);
            if (one != EXIT_TROUBLE)
                continue;
        }
        rc = EXIT_TROUBLE;
        fprintf(stderr, "rulec: %s:%lu: %s\n", o->request, lineno, problem);
        if (!printed)  /* else answered: a fail-closed rejection */
            print_bad_line(vm, o, lineno, problem);
    }
    if (n < 0) {
        fprintf(stderr, "rulec: cannot read '%s': %s\n", o->request, strerror(errno));
        rc = EXIT_TROUBLE;
    }
out:
    fflush(stdout);
    free(text);
    cli_lines_close(&in);
    rv_vm_free(vm);
    rv_program_free(prog);
    return rc;
}

int cli_apply(int argc, char **argv)
{
    apply_opts o;
    int rc = EXIT_TROUBLE;
    if (!parse_opts(argc, argv, &o)) {
        fputs(apply_synopsis, stderr);
        goto out;
    }
    if (o.help) {
        fputs(apply_synopsis, stdout);
        fputs(apply_details, stdout);
        rc = 0;
        goto out;
    }
    if (o.request) {
        rc = apply_requests(&o, o.npositional);
        goto out;
    }
    rv_program *prog = cli_load_program(o.positional, o.npositional - 1, o.target, o.params, o.nparams);
    if (!prog)
        goto out;
    rc = apply_spec(prog, &o);
    rv_program_free(prog);
out:
    free(o.params);
    return rc;
}
