/* runner.c - `rulec test`: finds *.test.yaml files, compiles the policies
 * SPDX-License-Identifier: Apache-2.0
 * each names, runs every case and says, field by field, where a result
 * differs from the expectation -- with the lines that ran, so the author
 * sees why. Reading, diff, documents, coverage, reports: testfile.c, diff.c,
 * doc.c, cover.c, report.c. */
#include "ruletest.h"
#include "dir.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct test_opts {
    char **paths;
    int npaths;
    bool coverage, json;
    double min_coverage;     /* -1: no threshold */
    const char *pattern;     /* -k */
    pcre2_code *k;
    const char *junit;
} test_opts;

static int usage(FILE *out)
{
    fprintf(out,
            "usage: rulec test [PATH...] [--coverage] [--min-coverage N] [-k PATTERN]\n"
            "                  [--json] [--junit FILE]\n"
            "\n"
            "Runs the cases of every *.test.yaml / *.test.yml file under the PATHs (folders\n"
            "are searched recursively; default: the current folder; a file named here is\n"
            "read as a test file whatever its name). Prints one line per case, then\n"
            "'N passed, M failed'.\n"
            "\n"
            "  --coverage         per policy: statements run, condition outcomes seen,\n"
            "                     lines never run\n"
            "  --min-coverage N   fail when any policy's STATEMENT coverage is below N%%\n"
            "                     (implies --coverage)\n"
            "  -k PATTERN         run only the cases whose name matches the regex PATTERN\n"
            "  --json             print the results as one JSON document instead\n"
            "  --junit FILE       also write JUnit XML to FILE\n"
            "\n"
            "example:\n"
            "  rulec test rules/ --coverage --min-coverage 90\n"
            "exit status: 0 all passed, 1 a case failed or coverage is too low,\n"
            "             2 a malformed test file or policy, or nothing to test\n");
    return EXIT_TROUBLE;
}

enum { OPT_COVERAGE = 256, OPT_MIN_COVERAGE, OPT_JSON, OPT_JUNIT };

/* Parses the options (getopt_long, like every rulec command); *help is set
 * for -h/--help. */
static bool parse_opts(int argc, char **argv, test_opts *o, bool *help)
{
    static const struct option longopts[] = {
        {"coverage", no_argument, NULL, OPT_COVERAGE},
        {"min-coverage", required_argument, NULL, OPT_MIN_COVERAGE},
        {"json", no_argument, NULL, OPT_JSON},
        {"junit", required_argument, NULL, OPT_JUNIT},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    *help = false;
    o->min_coverage = -1;
    o->paths = calloc((size_t)argc + 1, sizeof *o->paths);
    if (!o->paths)
        return false;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":hk:", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_COVERAGE:
            o->coverage = true;
            break;
        case OPT_JSON:
            o->json = true;
            break;
        case 'k':
            o->pattern = optarg;
            break;
        case OPT_JUNIT:
            o->junit = optarg;
            break;
        case OPT_MIN_COVERAGE: {
            char *end;
            double v = strtod(optarg, &end);
            if (end == optarg || *end || !(v >= 0 && v <= 100)) {
                fprintf(stderr, "rulec test: --min-coverage takes a percentage (0-100), not '%s'\n",
                        optarg);
                return false;
            }
            o->min_coverage = v;
            o->coverage = true;
            break;
        }
        case 'h':
            *help = true;
            return false;
        case ':':
        case '?': {
            char name[64];
            cli_bad_option(argv, c, name, sizeof name);
            if (c == ':')
                fprintf(stderr, "rulec test: %s needs a value\n", name);
            else
                fprintf(stderr, "rulec test: unknown option '%s'\n", name);
            return false;
        }
        default:
            return false;
        }
    }
    for (int i = optind; i < argc; i++)
        o->paths[o->npaths++] = argv[i];
    if (o->pattern) {
        int code;
        PCRE2_SIZE off;
        o->k = pcre2_compile((PCRE2_SPTR)o->pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code, &off,
                             NULL);
        if (!o->k) {
            PCRE2_UCHAR buf[256];
            pcre2_get_error_message(code, buf, sizeof buf);
            fprintf(stderr, "rulec test: -k: invalid regex at offset %zu: %s\n", (size_t)off,
                    (char *)buf);
            return false;
        }
    }
    return true;
}

/* ---- finding test files ---- */

typedef struct strlist {
    char **v;
    size_t n, cap;
} strlist;

static bool push(strlist *l, char *s)
{
    if (!s)
        return false;
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        char **nv = realloc(l->v, ncap * sizeof *nv);
        if (!nv) {
            free(s);
            return false;
        }
        l->v = nv;
        l->cap = ncap;
    }
    l->v[l->n++] = s;
    return true;
}

static void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool not_hidden(const char *name, void *ud)
{
    (void)ud;
    return name[0] != '.';
}

/* Collects test files under dir (sorted, recursively; hidden folders and
 * symbolic links to folders are not entered). The .rules files of a folder
 * that holds test files go to rules: they are expected to be tested, so
 * coverage reports them even when no test loads them. */
static bool walk(const char *dir, int depth, strlist *tests, strlist *rules)
{
    char **names;   /* "dir/name", sorted by name */
    size_t nnames;
    int e = ru_list_dir(dir, not_hidden, NULL, &names, &nnames);
    if (e) {
        fprintf(stderr, "rulec test: cannot open folder '%s': %s\n", dir, strerror(e));
        return false;
    }
    /* "./x" reads worse than "x" in every line of output. */
    size_t skip = strcmp(dir, ".") == 0 ? 2 : 0;
    strlist subdirs = {0}, local_rules = {0};
    size_t tests_before = tests->n;
    bool ok = true;
    for (size_t i = 0; ok && i < nnames; i++) {
        const char *name = strrchr(names[i], '/') + 1;
        char *path = strdup(names[i] + skip);
        struct stat st;
        if (!path) {
            ok = false;
        } else if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            ok = push(&subdirs, path);
        } else if (has_suffix(name, ".test.yaml") || has_suffix(name, ".test.yml")) {
            ok = push(tests, path);
        } else if (has_suffix(name, ".rules")) {
            ok = push(&local_rules, path);
        } else {
            free(path);
        }
    }
    if (tests->n > tests_before)
        for (size_t i = 0; ok && i < local_rules.n; i++) {
            ok = push(rules, local_rules.v[i]);
            local_rules.v[i] = NULL;
        }
    for (size_t i = 0; ok && i < subdirs.n; i++) {
        if (depth >= 64) {
            fprintf(stderr, "rulec test: '%s' is nested too deep\n", subdirs.v[i]);
            ok = false;
        } else {
            ok = walk(subdirs.v[i], depth + 1, tests, rules);
        }
    }
    ru_free_paths(names, nnames);
    strlist_free(&subdirs);
    strlist_free(&local_rules);
    return ok;
}

/* ---- a test file's policies, compiled and loaded ---- */

typedef struct loaded {
    rc_report *report;       /* inputs, diagnostics, bundle, coverage maps */
    rv_program *prog;
    rv_program **case_progs; /* per case; NULL: the file's program */
    size_t ncases;
    /* Per policy of the loaded program (run order): */
    size_t nrun;
    rv_policy_info *info;
    tt_cover_pol **cover;
    uint8_t **ran;           /* pcs run by the current case */
    const char *target;      /* the file's `target:` (NULL: dstack), for rc_request_target */
} loaded;

static void loaded_free(loaded *L)
{
    for (size_t i = 0; L->case_progs && i < L->ncases; i++)
        rv_program_free(L->case_progs[i]);
    free(L->case_progs);
    rv_program_free(L->prog);
    for (size_t i = 0; L->ran && i < L->nrun; i++)
        free(L->ran[i]);
    free(L->ran);
    free(L->info);
    free(L->cover);
    rc_report_free(L->report);
}

/* Prints the report's diagnostics to stderr, keeping a copy for the
 * reports. */
static void print_diags(rc_report *report, tt_errors *errs)
{
    size_t len;
    const char *text = rc_report_text(report, "rulec", &len);
    cli_put_diagnostics(text, len, stderr);
    ru_buf_put(&errs->text, text, len);
    errs->count += rc_report_errors(report);
}

/* A problem reading a `policies:` entry is reported at its line. */
typedef struct ref_reading {
    const tt_file *f;
    const tt_policy_ref *r;
    tt_errors *errs;
} ref_reading;

static void ref_problem(void *ud, const char *message)
{
    ref_reading *rr = ud;
    tt_error(rr->errs, rr->f->path, rr->r->loc, "%s", message);
}

/* Reads the files a `policies:` entry names (a file, or a folder by the
 * library's one rule), tagged with the entry. */
static bool read_ref(loaded *L, const tt_file *f, size_t ref, tt_errors *errs)
{
    ref_reading rr = {f, &f->policies[ref], errs};
    size_t before, after;
    rc_report_inputs(L->report, &before);
    bool ok = rc_read_input(L->report, rr.r->path, ref, 0, ref_problem, &rr);
    rc_input *in = rc_report_inputs(L->report, &after);
    for (size_t i = before; i < after; i++) {
        /* A test is about the source its lines refer to. */
        if (in[i].size >= 4 && memcmp(in[i].data, "\x7f" "RBC", 4) == 0) {
            tt_error(errs, f->path, rr.r->loc, "'%s' is a compiled bundle; a test names .rules sources",
                     in[i].name);
            ok = false;
        }
    }
    return ok;
}

static rv_status set_override(rv_program *prog, const char *policy, const tt_param *p,
                              rv_error *err)
{
    return p->json ? rv_program_set_param(prog, policy, p->name, p->value, err)
                   : rc_set_param(prog, policy, p->name, p->value, err);
}

/* Applies the overrides of the policies entries and the file, then the
 * case's. report: whether problems are reported (once, for the file's own
 * program; per-case programs repeat the same shared overrides). */
static bool apply_params(loaded *L, const tt_file *f, const tt_case *tc, rv_program *prog,
                         bool report, tt_errors *errs)
{
    bool ok = true;
    rv_error err;
    for (size_t r = 0; r < f->npolicies; r++) {
        const tt_policy_ref *ref = &f->policies[r];
        for (size_t k = 0; k < ref->nparams; k++) {
            const tt_param *p = &ref->params[k];
            bool any = false;
            for (size_t j = 0; j < L->nrun; j++) {
                if (rc_report_policy_tag(L->report, j) != r || !rv_program_declares(prog, j, p->name))
                    continue;
                any = true;
                if (set_override(prog, L->info[j].name, p, &err) != RV_OK) {
                    if (report)
                        tt_error(errs, f->path, p->loc, "%s", err.message);
                    ok = false;
                }
            }
            if (!any) {
                if (report)
                    tt_error(errs, f->path, p->loc, "no policy from '%s' declares a parameter '%s'",
                             ref->path, p->name);
                ok = false;
            }
        }
    }
    for (size_t k = 0; k < f->nparams; k++) {
        const tt_param *p = &f->params[k];
        if (set_override(prog, p->policy, p, &err) != RV_OK) {
            if (report)
                tt_error(errs, f->path, p->loc, "%s", err.message);
            ok = false;
        }
    }
    for (size_t k = 0; tc && k < tc->nparams; k++) {
        const tt_param *p = &tc->params[k];
        if (set_override(prog, p->policy, p, &err) != RV_OK) {
            tt_error(errs, f->path, p->loc, "%s", err.message);
            ok = false;
        }
    }
    return ok;
}

/* Another program from the same bundle: a case with overrides of its own
 * needs one (a program is immutable once it has evaluated anything). */
static rv_program *load_bundle(loaded *L, const tt_file *f, tt_errors *errs)
{
    rv_blob blob = {NULL, 0, f->path};
    blob.data = rc_report_bundle(L->report, &blob.size);
    rv_program *prog = NULL;
    rv_error err;
    if (rv_program_load(&blob, 1, NULL, &prog, &err) != RV_OK) {
        tt_error(errs, f->path, (tt_loc){0, 0}, "%s", err.message);
        return NULL;
    }
    return prog;
}

static bool load(loaded *L, const tt_file *f, const test_opts *o, tt_cover *cover,
                 tt_errors *errs)
{
    memset(L, 0, sizeof *L);
    L->report = rc_report_new();
    if (!L->report)
        return false;
    bool ok = true;
    for (size_t r = 0; r < f->npolicies; r++)
        ok = read_ref(L, f, r, errs) && ok;
    if (!ok)
        return false;
    size_t n;
    rc_input *inputs = rc_report_inputs(L->report, &n);
    ok = rc_load(L->report, inputs, n,
                 &(rc_options){NULL, RC_BUNDLE | (o->coverage ? RC_COVERAGE : 0), f->target},
                 &L->prog) == RC_OK;
    print_diags(L->report, errs);
    if (!ok)
        return false;
    /* Keep going after a bad shared override: the cases' own overrides
     * are checked too, so one run reports every problem. */
    L->nrun = rv_program_policy_count(L->prog);
    L->info = calloc(L->nrun ? L->nrun : 1, sizeof *L->info);
    L->cover = calloc(L->nrun ? L->nrun : 1, sizeof *L->cover);
    L->ran = calloc(L->nrun ? L->nrun : 1, sizeof *L->ran);
    if (!L->info || !L->cover || !L->ran)
        return false;
    for (size_t i = 0; i < L->nrun; i++)
        rv_program_policy(L->prog, i, &L->info[i]);
    ok = apply_params(L, f, NULL, L->prog, true, errs);
    /* Loading every case's program now means a bad override is reported
     * before any case runs. */
    L->ncases = f->ncases;
    L->case_progs = calloc(f->ncases ? f->ncases : 1, sizeof *L->case_progs);
    if (!L->case_progs)
        return false;
    for (size_t i = 0; i < f->ncases; i++) {
        if (!f->cases[i].nparams)
            continue;
        L->case_progs[i] = load_bundle(L, f, errs);
        if (!L->case_progs[i] || !apply_params(L, f, &f->cases[i], L->case_progs[i], false, errs))
            ok = false;
    }
    if (!ok)
        return false;

    for (size_t i = 0; i < L->nrun; i++) {
        const rv_policy_info *info = &L->info[i];
        L->ran[i] = calloc(info->ninstructions ? info->ninstructions : 1, 1);
        if (!L->ran[i])
            return false;
        const rc_cover_map *map = rc_report_coverage(L->report, i);
        if (o->coverage && map) {
            L->cover[i] = tt_cover_policy(cover, info->name, info->source, map,
                                          (uint32_t)info->ninstructions);
            if (!L->cover[i])
                return false;
        }
    }
    return true;
}

/* ---- running a case ---- */

static void on_trace(void *ud, size_t policy, uint32_t pc, int taken)
{
    loaded *L = ud;
    if (policy >= L->nrun)
        return;
    if (L->cover[policy])
        tt_cover_hit(L->cover[policy], pc, taken);
    if (taken < 0 && pc < L->info[policy].ninstructions)
        L->ran[policy][pc] = 1;
}

/* Source line `line` of policy i, trimmed, for context lines. */
static void source_line(ru_buf *b, const loaded *L, const char *policy, uint32_t line)
{
    const char *text = NULL;
    size_t len = 0;
    for (size_t i = 0; i < L->nrun && !text; i++)
        if (strcmp(L->info[i].name, policy) == 0)
            text = rc_report_policy_text(L->report, i, &len);
    if (!text || line == 0)
        return;
    const char *p = text, *end = text + len;
    for (uint32_t l = 1; l < line && p < end; l++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : end;
    }
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\r'))
        n--;
    if (n == 0)
        return;
    ru_buf_puts(b, "   | ");
    if (n > 72) {
        ru_buf_put(b, p, 69);
        ru_buf_puts(b, "...");
    } else {
        ru_buf_put(b, p, n);
    }
}

static void quoted(ru_buf *b, const char *s)
{
    ru_buf_json_string(b, s, strlen(s));
}

/* Matches expected messages against actual ones, in any order: each
 * expected one takes the first unclaimed actual one it matches. */
static void check_messages(ru_buf *out, const char *what, const tt_msg *exp, size_t nexp,
                           const rv_message *act, size_t nact)
{
    unsigned char *used = calloc(nact ? nact : 1, 1);
    if (!used)
        return;
    for (size_t i = 0; i < nexp; i++) {
        size_t k = 0;
        while (k < nact && (used[k] || !tt_msg_matches(&exp[i], act[k].text)))
            k++;
        if (k < nact) {
            used[k] = 1;
            continue;
        }
        ru_buf_printf(out, "missing %s", what);
        if (exp[i].is_regex) {
            ru_buf_puts(out, " matching /");
            ru_buf_puts(out, exp[i].text);
            ru_buf_putc(out, '/');
        } else {
            ru_buf_puts(out, ": ");
            quoted(out, exp[i].text);
        }
        ru_buf_putc(out, '\n');
    }
    for (size_t k = 0; k < nact; k++) {
        if (used[k])
            continue;
        ru_buf_printf(out, "unexpected %s: ", what);
        quoted(out, act[k].text);
        ru_buf_printf(out, " (%s:%u)\n", act[k].policy, act[k].line);
    }
    free(used);
}

/* What ran: the lines per policy, then every change, message and warning
 * with the policy line that made it. */
static void what_ran(ru_buf *out, const loaded *L, const rv_program *prog, rv_vm *vm,
                     const rv_decision *d)
{
    bool any = false;
    for (size_t i = 0; i < L->nrun; i++) {
        uint32_t n = (uint32_t)L->info[i].ninstructions, nl = 0;
        uint32_t *lines = malloc((n ? n : 1) * sizeof *lines);
        if (!lines)
            return;
        for (uint32_t pc = 0; pc < n; pc++) {
            uint32_t line = L->ran[i][pc] ? rv_program_line(prog, i, pc) : 0;
            if (line && (nl == 0 || lines[nl - 1] != line))
                lines[nl++] = line;
        }
        /* Code order is nearly line order; sort to print ranges. */
        for (uint32_t a = 1; a < nl; a++)
            for (uint32_t b = a; b > 0 && lines[b - 1] > lines[b]; b--) {
                uint32_t t = lines[b];
                lines[b] = lines[b - 1];
                lines[b - 1] = t;
            }
        uint32_t k = 0;
        for (uint32_t a = 0; a < nl; a++)
            if (k == 0 || lines[k - 1] != lines[a])
                lines[k++] = lines[a];
        if (k) {
            ru_buf_puts(out, any ? "; " : "");
            ru_buf_printf(out, "%s line%s ", L->info[i].name, k > 1 ? "s" : "");
            tt_lines_append(out, lines, k);
            any = true;
        }
        free(lines);
    }
    ru_buf_puts(out, any ? "\n" : "no policy applies to this kind\n");
    for (size_t i = 0; i < d->nchanges; i++) {
        const rv_change *c = &d->changes[i];
        ru_buf_printf(out, "%s:%u: %s: ", c->policy, c->line, c->path);
        if (c->old_value)
            tt_doc_json(out, vm, c->old_value);
        else
            ru_buf_puts(out, "(missing)");
        ru_buf_puts(out, " -> ");
        if (c->new_value)
            tt_doc_json(out, vm, c->new_value);
        else
            ru_buf_puts(out, "(removed)");
        source_line(out, L, c->policy, c->line);
        ru_buf_putc(out, '\n');
    }
    for (int w = 0; w < 2; w++) {
        const rv_message *m = w ? d->warnings : d->errors;
        size_t n = w ? d->nwarnings : d->nerrors;
        for (size_t i = 0; i < n; i++) {
            ru_buf_printf(out, "%s:%u: %s ", m[i].policy, m[i].line, w ? "warned" : "rejected");
            quoted(out, m[i].text);
            source_line(out, L, m[i].policy, m[i].line);
            ru_buf_putc(out, '\n');
        }
    }
}

/* Runs one case in vm (reset first; everything the case parses, builds
 * and prints lives there); fills fails (what differed) and, on failure,
 * context. */
static bool run_case(loaded *L, const tt_case *tc, rv_program *prog, rv_vm *vm, ru_buf *fails,
                     ru_buf *context)
{
    for (size_t i = 0; i < L->nrun; i++)
        memset(L->ran[i], 0, L->info[i].ninstructions ? L->info[i].ninstructions : 1);
    rv_vm_reset(vm);
    rv_error err;
    /* The input twice: once to evaluate (rewritten in place), once kept as
     * it came for `unchanged` and `changes`. */
    rv_doc *input, *spec;
    size_t len = strlen(tc->spec_json);
    if (rv_vm_parse(vm, tc->spec_json, len, RV_JSON, &input, &err) != RV_OK ||
        rv_vm_parse(vm, tc->spec_json, len, RV_JSON, &spec, &err) != RV_OK) {
        ru_buf_printf(fails, "cannot load the spec at line %lu, column %lu: %s\n", err.line,
                      err.column, err.message);
        return false;
    }
    rv_request req = {.kind = tc->kind, .user = tc->user, .project = tc->project,
                      .target = rc_request_target(L->target, tc->kind)};
    rv_doc *request = NULL;
    if (tc->request_json) {
        if (rv_vm_parse(vm, tc->request_json, strlen(tc->request_json), RV_JSON, &request, &err) !=
            RV_OK) {
            ru_buf_printf(fails, "cannot load the request: %s\n", err.message);
            return false;
        }
        req.request = request;
    }
    rv_decision d;
    rv_vm_set_trace(vm, on_trace, L);
    rv_status st = rv_vm_eval(vm, prog, &req, spec, &d, &err);
    rv_vm_set_trace(vm, NULL, NULL);
    if (st != RV_OK) {
        ru_buf_printf(fails, "evaluation stopped: %s\n", err.message);
        return false;
    }
    if (tc->decision >= 0 && d.allowed != tc->decision)
        ru_buf_printf(fails, "decision: expected %s, got %s\n",
                      tc->decision ? "allowed" : "rejected", d.allowed ? "allowed" : "rejected");
    if (tc->check_messages)
        check_messages(fails, "message", tc->messages, tc->nmessages, d.errors, d.nerrors);
    if (tc->check_warnings)
        check_messages(fails, "warning", tc->warnings, tc->nwarnings, d.warnings, d.nwarnings);
    switch (tc->spec_mode) {
    case TT_SPEC_ANY:
        break;
    case TT_SPEC_WHOLE:
        tt_diff(fails, vm, tc->expect_spec, d.spec, NULL, 0, false);
        break;
    case TT_SPEC_UNCHANGED:
        tt_diff(fails, vm, input, d.spec, NULL, 0, true);
        break;
    case TT_SPEC_CHANGES: {
        char why[300];
        const rv_doc *exp = tt_apply_changes(vm, input, tc->changes, tc->nchanges, why, sizeof why);
        if (!exp)
            ru_buf_printf(fails, "%s\n", why);
        else
            tt_diff(fails, vm, exp, d.spec, tc->changes, tc->nchanges, true);
        break;
    }
    }
    if (fails->len == 0)
        return true;
    what_ran(context, L, prog, vm, &d);
    return false;
}

static void print_indented(const char *text, const char *indent)
{
    while (*text) {
        const char *nl = strchr(text, '\n');
        size_t n = nl ? (size_t)(nl - text) : strlen(text);
        printf("%s%.*s\n", indent, (int)n, text);
        text += n + (nl != NULL);
    }
}

/* ---- coverage ---- */

/* Registers the .rules files found beside test files that no test loaded,
 * so an untested policy shows up at 0% instead of not at all. */
static bool cover_untested(const strlist *rules, tt_cover *cover, tt_errors *errs)
{
    bool ok = true;
    for (size_t i = 0; i < rules->n; i++) {
        rc_report *report = rc_report_new();
        rv_program *prog = NULL;
        const char *arg = rules->v[i];
        size_t n;
        if (!report)
            return false;
        bool read = rc_read_inputs(report, &arg, 1, 0);
        rc_input *inputs = rc_report_inputs(report, &n);
        if (read && rc_load(report, inputs, n, &(rc_options){NULL, RC_COVERAGE, NULL}, &prog) == RC_OK) {
            for (size_t j = 0; j < rv_program_policy_count(prog); j++) {
                rv_policy_info info;
                rv_program_policy(prog, j, &info);
                const rc_cover_map *map = rc_report_coverage(report, j);
                if (map && !tt_cover_policy(cover, info.name, info.source, map,
                                            (uint32_t)info.ninstructions))
                    ok = false;
            }
            rv_program_free(prog);
        } else {
            ok = false;
        }
        print_diags(report, errs);
        rc_report_free(report);
    }
    return ok;
}

/* Prints the coverage table; returns how many policies are below the
 * threshold. */
static size_t print_coverage(const tt_cover *cover, double min, bool print)
{
    size_t below = 0;
    if (print)
        printf("coverage (statements run, condition outcomes seen):\n");
    ru_buf b;
    ru_buf_init(&b, NULL, NULL);
    for (size_t i = 0; i < tt_cover_count(cover); i++) {
        tt_cover_stats s;
        tt_cover_stats_get(cover, i, &s);
        double pct = tt_percent(s.stmts_run, s.stmts);
        bool low = min >= 0 && pct < min;
        below += low;
        if (print) {
            char cond[64] = "n/a (no conditions)";
            if (s.outcomes)
                snprintf(cond, sizeof cond, "%zu/%zu %.1f%%", s.outcomes_seen, s.outcomes,
                         tt_percent(s.outcomes_seen, s.outcomes));
            printf("  %s (%s): statements %zu/%zu %.1f%%, condition outcomes %s%s\n", s.name,
                   s.source, s.stmts_run, s.stmts, pct, cond, low ? "  BELOW MINIMUM" : "");
            const char *label[3] = {"never run: line", "condition never true: line",
                                    "condition never false: line"};
            const uint32_t *v[3] = {s.lines_not_run, s.never_true, s.never_false};
            size_t nv[3] = {s.nlines_not_run, s.nnever_true, s.nnever_false};
            for (int k = 0; k < 3; k++) {
                if (!nv[k])
                    continue;
                b.len = 0;
                tt_lines_append(&b, v[k], nv[k]);
                ru_buf_terminate(&b);
                printf("      %s%s %s\n", label[k], nv[k] > 1 ? "s" : "", b.data ? b.data : "");
            }
        }
        tt_cover_stats_free(&s);
    }
    ru_buf_free(&b);
    if (print && below)
        printf("coverage: %zu polic%s below --min-coverage %g%% (statements)\n", below,
               below == 1 ? "y is" : "ies are", min);
    return below;
}

/* ---- the command ---- */

static bool wanted(const test_opts *o, const char *name)
{
    if (!o->k)
        return true;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(o->k, NULL);
    if (!md)
        return false;
    int rc = pcre2_match(o->k, (PCRE2_SPTR)name, strlen(name), 0, 0, md, NULL);
    pcre2_match_data_free(md);
    return rc >= 0;
}

/* Runs one test file; adds to the counts and the report. false when the
 * file or its policies are malformed. */
static bool run_file(const char *path, const test_opts *o, rv_vm *vm, tt_cover *cover,
                     tt_report *rep, size_t *passed, size_t *failed)
{
    tt_errors errs;
    ru_buf_init(&errs.text, NULL, NULL);
    errs.count = 0;
    tt_file f;
    loaded L;
    bool file_ok = tt_file_read(path, &f, &errs);
    bool loaded_ok = file_ok && load(&L, &f, o, cover, &errs);
    if (loaded_ok)
        L.target = f.target;
    if (file_ok && !loaded_ok && errs.count == 0)
        tt_error(&errs, path, (tt_loc){0, 0}, "out of memory");
    ru_buf_terminate(&errs.text);
    tt_report_file(rep, path, loaded_ok ? NULL : errs.text.data ? errs.text.data : "error");
    if (loaded_ok) {
        ru_buf fails, context;
        ru_buf_init(&fails, NULL, NULL);
        ru_buf_init(&context, NULL, NULL);
        for (size_t i = 0; i < f.ncases; i++) {
            const tt_case *tc = &f.cases[i];
            if (!wanted(o, tc->name))
                continue;
            fails.len = context.len = 0;
            bool ok = run_case(&L, tc, L.case_progs[i] ? L.case_progs[i] : L.prog, vm, &fails,
                               &context);
            ru_buf_terminate(&fails);
            ru_buf_terminate(&context);
            ok ? (*passed)++ : (*failed)++;
            tt_result res = {path, tc->name, tc->loc.line, ok, ok ? "" : fails.data,
                             ok ? "" : context.data};
            tt_report_case(rep, &res);
            if (o->json)
                continue;
            const cli_palette *pal = cli_palette_for(stdout);
            if (ok) {
                printf("%sPASS%s %s: %s\n", pal->pass, pal->reset, path, tc->name);
                continue;
            }
            printf("%sFAIL%s %s:%lu: %s\n", pal->fail, pal->reset, path, tc->loc.line, tc->name);
            print_indented(fails.data, "    ");
            if (context.len) {
                printf("  what ran:\n");
                print_indented(context.data, "    ");
            }
        }
        ru_buf_free(&fails);
        ru_buf_free(&context);
        rv_vm_reset(vm);
    }
    if (file_ok)
        loaded_free(&L);
    tt_file_free(&f);
    ru_buf_free(&errs.text);
    return loaded_ok;
}

int cli_test(int argc, char **argv)
{
    test_opts o;
    int rc = EXIT_TROUBLE;
    strlist tests = {0}, rules = {0};
    tt_cover *cover = NULL;
    rv_vm *vm = NULL;
    tt_report rep;
    tt_report_init(&rep);
    bool help;
    if (!parse_opts(argc, argv, &o, &help)) {
        usage(help ? stdout : stderr);
        rc = help ? 0 : EXIT_TROUBLE;
        goto out;
    }
    char *dot[] = {(char *)".", NULL};
    char **paths = o.npaths ? o.paths : dot;
    int npaths = o.npaths ? o.npaths : 1;
    for (int i = 0; i < npaths; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0) {
            fprintf(stderr, "rulec test: cannot read '%s': %s\n", paths[i], strerror(errno));
            goto out;
        }
        if (S_ISDIR(st.st_mode) ? !walk(paths[i], 0, &tests, &rules) : !push(&tests, strdup(paths[i])))
            goto out;
    }
    if (tests.n == 0) {
        fprintf(stderr, "rulec test: no test files (*.test.yaml, *.test.yml) under %s%s\n",
                paths[0], npaths > 1 ? " and the other paths" : "");
        goto out;
    }
    cover = tt_cover_new();
    if (!cover || rv_vm_new(NULL, &vm) != RV_OK) {
        fprintf(stderr, "rulec test: out of memory\n");
        goto out;
    }
    size_t passed = 0, failed = 0;
    bool malformed = false;
    for (size_t i = 0; i < tests.n; i++)
        if (!run_file(tests.v[i], &o, vm, cover, &rep, &passed, &failed))
            malformed = true;
    if (o.coverage) {
        tt_errors errs;
        ru_buf_init(&errs.text, NULL, NULL);
        errs.count = 0;
        if (!cover_untested(&rules, cover, &errs))
            malformed = true;
        ru_buf_free(&errs.text);
    }
    if (!malformed && passed + failed == 0) {
        fprintf(stderr, "rulec test: no case matches -k '%s'\n", o.pattern ? o.pattern : "");
        goto out;
    }
    size_t below = 0;
    if (o.coverage)
        below = print_coverage(cover, o.min_coverage, !o.json);
    if (o.json)
        tt_report_json(&rep, o.coverage ? cover : NULL, o.min_coverage, stdout);
    else
        printf("%zu passed, %zu failed\n", passed, failed);
    bool junit_ok = !o.junit || tt_report_junit(&rep, o.junit);
    rc = malformed || !junit_ok ? EXIT_TROUBLE : failed || below ? 1 : 0;
out:
    fflush(stdout);
    strlist_free(&tests);
    strlist_free(&rules);
    tt_cover_free(cover);
    rv_vm_free(vm);
    tt_report_free(&rep);
    if (o.k)
        pcre2_code_free(o.k);
    free(o.paths);
    return rc;
}
