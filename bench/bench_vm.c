/* bench_vm.c - in-process benchmark of the library: compiles a policy set
 * SPDX-License-Identifier: Apache-2.0
 * through the compiler's entry point, loads it, then times each decision on
 * each request body split into parse, evaluate, print (of the dstack
 * response {"spec","error"}) and reset, and counts the VM's instructions and
 * the allocator calls of every phase. Prints one JSON object for the runner
 * (bench/run.py).
 *
 *   bench_vm [--iters N] [--reps R] [--compile-reps C] [--cpu-time] [--no-baseline]
 *            --policy PATH... --request FILE...
 *
 * --cpu-time times with the thread's CPU clock instead of the wall clock:
 * time other tenants of a shared machine take is then not counted, which is
 * what comparing a 3 MB spec with a 3 KB one needs (each decision of the
 * big one spans many scheduler ticks). --no-baseline leaves cJSON out (for
 * the profiles, which count everything the process does).
 *
 * PATH is a .rules file or a folder of them. A request's kind comes from
 * its spec (configuration.type fleet/volume/gateway, else run). Bodies are
 * re-printed compactly first, as dstack posts them. The response is printed
 * as rulesd prints it (compact, RV_VERBATIM). Built with HAVE_CJSON (when
 * libcjson-dev is installed), each repetition also times cJSON parsing and
 * printing the same body, the baseline the speed targets are stated against
 * (docs/json.md), so both figures share the machine's load.
 */
#include "rulec.h"
#include "rulevm.h"

#include "file.h"

#ifdef HAVE_CJSON
#include <cjson/cJSON.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

enum { PH_PARSE, PH_EVAL, PH_PRINT, PH_RESET, NPHASES };
static const char *const phase_names[NPHASES] = {"parse", "eval", "print", "reset"};

/* ---- allocation counting through rv_config.alloc ---- */
static int cur_phase = PH_RESET;
static unsigned long long nallocs[NPHASES];  /* new blocks and growths */

static void *count_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud;
    (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    nallocs[cur_phase]++;
    return realloc(ptr, nsize);
}

static clockid_t bench_clock = CLOCK_MONOTONIC;
static int baseline = 1;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(bench_clock, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_vm: %s: %s\n", what, msg);
    exit(2);
}

static char *slurp(const char *path, size_t *len)
{
    char *data;
    int e = ru_read_file(path, 0, &data, len);
    if (e)
        die(path, strerror(e));
    return data;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---- arguments ---- */
typedef struct srclist {
    char **paths;
    size_t n, cap;
} srclist;

static void add_path(srclist *l, const char *p)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->paths = realloc(l->paths, l->cap * sizeof *l->paths);
        if (!l->paths)
            die("policies", "out of memory");
    }
    l->paths[l->n++] = strdup(p);
}

typedef struct compile_times {
    double front_ns, write_ns, load_ns;  /* one compilation */
    size_t npolicies, bundle_bytes;
} compile_times;

/* Compiles the sources (already read) and loads them through the compiler
 * library, as every host does (rc_load), timing the whole. The split is
 * measured beside it: "load" is loading the same set's bundle (verifier and
 * regex compilation), "write" is writing that bundle (rv_program_save), and
 * "front" (front end and code generation) is the rest of the whole.
 * Returns the program. */
static rv_program *compile_once(const rc_input *srcs, size_t n, const rv_config *cfg,
                                compile_times *t)
{
    rc_report *report = rc_report_new();
    if (!report)
        die("policies", "out of memory");
    rv_program *prog;
    double t0 = now_ns();
    if (rc_load(report, srcs, n, &(rc_options){cfg, 0, NULL}, &prog) != RC_OK) {
        fputs(rc_report_text(report, "bench_vm", NULL), stderr);
        die("policies", "do not compile");
    }
    double t1 = now_ns();
    const void *bundle;
    size_t size;
    rv_error err;
    rv_vm *vm;
    if (rv_vm_new(cfg, &vm) != RV_OK)
        die("bundle", "out of memory");
    if (rv_program_save(prog, vm, &bundle, &size, &err) != RV_OK)
        die("bundle", err.message);
    double t2 = now_ns();
    rv_blob blob = {bundle, size, "bench"};
    rv_program *again;
    if (rv_program_load(&blob, 1, cfg, &again, &err) != RV_OK)
        die("load", err.message);
    double t3 = now_ns();
    rv_program_free(again);
    t->write_ns = t2 - t1;
    t->load_ns = t3 - t2;
    t->front_ns = (t1 - t0) - t->load_ns - t->write_ns;
    if (t->front_ns < 0)
        t->front_ns = 0;
    t->npolicies = rv_program_policy_count(prog);
    t->bundle_bytes = size;
    rv_vm_free(vm);
    rc_report_free(report);
    return prog;
}

/* ---- one request body ---- */
typedef struct request {
    const char *path;
    char *text;  /* compact JSON */
    size_t len, spec_len;
    size_t values;  /* JSON values in the body, containers included */
    const char *kind;
} request;

/* Every value of a document, containers included (the unit of the
 * per-value cost). Recursion is bounded by the parser's nesting limit. */
static size_t count_values(const rv_doc *d)
{
    size_t n = 1;
    rv_doc_type t = rv_doc_kind(d);
    for (size_t i = 0; (t == RV_ARRAY || t == RV_OBJECT) && i < rv_doc_len(d); i++)
        n += count_values(t == RV_ARRAY ? rv_doc_item(d, i) : rv_doc_value(d, i));
    return n;
}

static void load_request(rv_vm *vm, const char *path, request *r)
{
    size_t len;
    char *raw = slurp(path, &len);
    rv_doc *body;
    rv_error err;
    if (rv_vm_parse(vm, raw, len, RV_JSON, &body, &err) != RV_OK)
        die(path, err.message);
    rv_doc *spec = rv_doc_get(body, "spec");
    if (!spec || rv_doc_kind(spec) != RV_OBJECT)
        die(path, "no spec object");
    r->values = count_values(body);
    const char *type = rv_doc_string(rv_doc_get(rv_doc_get(spec, "configuration"), "type"));
    r->kind = "run";
    if (type && (!strcmp(type, "fleet") || !strcmp(type, "volume") || !strcmp(type, "gateway")))
        r->kind = strcmp(type, "fleet") == 0 ? "fleet" : strcmp(type, "volume") == 0 ? "volume" : "gateway";
    const char *out;
    size_t outlen;
    if (rv_vm_print(vm, spec, RV_JSON, 0, &out, &outlen, &err) != RV_OK)
        die(path, err.message);
    r->spec_len = outlen;
    if (rv_vm_print(vm, body, RV_JSON, 0, &out, &outlen, &err) != RV_OK)
        die(path, err.message);
    r->text = malloc(outlen + 1);
    if (!r->text)
        die(path, "out of memory");
    memcpy(r->text, out, outlen + 1);
    r->len = outlen;
    r->path = path;
    free(raw);
    rv_vm_reset(vm);
}

/* A clock read when phases are timed (phase_ns not NULL), else 0. */
static double stamp(const double *phase_ns)
{
    return phase_ns ? now_ns() : 0;
}

/* One decision as a server makes it; phase_ns (when not NULL) gets each
 * phase's time. */
static void decide(rv_vm *vm, const rv_program *prog, const request *r, double *phase_ns,
                   rv_decision *d, size_t *outlen)
{
    rv_doc *body;
    rv_error err;
    double t0 = stamp(phase_ns);
    cur_phase = PH_PARSE;
    if (rv_vm_parse(vm, r->text, r->len, RV_JSON, &body, &err) != RV_OK)
        die(r->path, err.message);
    double t1 = stamp(phase_ns);
    cur_phase = PH_EVAL;
    rv_doc *spec = rv_doc_get(body, "spec");
    const char *user = rv_doc_string(rv_doc_get(body, "user"));
    const char *project = rv_doc_string(rv_doc_get(body, "project"));
    rv_request req = {.kind = r->kind, .user = user ? user : "", .project = project ? project : ""};
    if (rv_vm_eval(vm, prog, &req, spec, d, &err) != RV_OK)
        die(r->path, err.message);
    double t2 = stamp(phase_ns);
    cur_phase = PH_PRINT;
    rv_doc *resp = rv_vm_new_object(vm);
    rv_doc *error = d->allowed ? rv_vm_new_null(vm)
                               : rv_vm_new_string(vm, d->nerrors ? d->errors[0].text : "");
    const char *out;
    if (!resp || !error || rv_vm_object_put(vm, resp, "spec", d->spec) != RV_OK ||
        rv_vm_object_put(vm, resp, "error", error) != RV_OK ||
        rv_vm_print(vm, resp, RV_JSON, RV_VERBATIM, &out, outlen, &err) != RV_OK)
        die(r->path, "cannot print the response");
    double t3 = stamp(phase_ns);
    cur_phase = PH_RESET;
    rv_vm_reset(vm);
    double t4 = stamp(phase_ns);
    if (!phase_ns)
        return;
    phase_ns[PH_PARSE] += t1 - t0;
    phase_ns[PH_EVAL] += t2 - t1;
    phase_ns[PH_PRINT] += t3 - t2;
    phase_ns[PH_RESET] += t4 - t3;
}

#ifdef HAVE_CJSON
/* cJSON parsing and printing the body, iters times: ns per body. */
static double cjson_round(const request *r, long iters)
{
    size_t sink = 0;
    double t0 = now_ns();
    for (long i = 0; i < iters; i++) {
        cJSON *j = cJSON_ParseWithLength(r->text, r->len);
        char *out = j ? cJSON_PrintUnformatted(j) : NULL;
        if (!out)
            die(r->path, "cJSON cannot read or print it");
        sink += strlen(out);
        free(out);
        cJSON_Delete(j);
    }
    double ns = (now_ns() - t0) / (double)iters;
    return sink ? ns : 0;
}
#endif

static void print_stats(const char *name, double *v, size_t n, double scale)
{
    qsort(v, n, sizeof *v, cmp_dbl);
    double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    printf("\"%s\": {\"median\": %.1f, \"min\": %.1f, \"max\": %.1f}", name, med * scale,
           v[0] * scale, v[n - 1] * scale);
}

/* What one clock read costs, to take out of every phase. */
static double clock_overhead(void)
{
    double best[15];
    for (int k = 0; k < 15; k++) {
        double t0 = now_ns();
        for (int i = 0; i < 1000; i++)
            (void)now_ns();
        best[k] = (now_ns() - t0) / 1001;
    }
    qsort(best, 15, sizeof *best, cmp_dbl);
    return best[7];
}

int main(int argc, char **argv)
{
    long iters = 2000, reps = 7, compile_reps = 3;
    srclist pol = {0}, reqs = {0};  /* pol: the arguments; folders are read by rulec's rule */
    srclist *cur = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--iters") && i + 1 < argc)
            iters = atol(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atol(argv[++i]);
        else if (!strcmp(argv[i], "--compile-reps") && i + 1 < argc)
            compile_reps = atol(argv[++i]);
        else if (!strcmp(argv[i], "--cpu-time"))
            bench_clock = CLOCK_THREAD_CPUTIME_ID;
        else if (!strcmp(argv[i], "--no-baseline"))
            baseline = 0;
        else if (!strcmp(argv[i], "--policy"))
            cur = &pol;
        else if (!strcmp(argv[i], "--request"))
            cur = &reqs;
        else if (cur == &pol)
            add_path(&pol, argv[i]);
        else if (cur == &reqs)
            add_path(&reqs, argv[i]);
        else
            die(argv[i], "unexpected argument (usage: bench_vm [--iters N] [--reps R] "
                         "[--compile-reps C] --policy PATH... --request FILE...)");
    }
    if (!pol.n || !reqs.n || iters < 1 || reps < 1 || compile_reps < 1)
        die("usage", "bench_vm [--iters N] [--reps R] [--compile-reps C] --policy PATH... --request FILE...");

    rv_config cfg;
    rv_config_init(&cfg);
    cfg.alloc = count_alloc;

    /* Sources are read once; compilation is timed from text to program. */
    rc_report *sources = rc_report_new();
    if (!sources)
        die("policies", "out of memory");
    if (!rc_read_inputs(sources, (const char *const *)pol.paths, pol.n, 0)) {
        fputs(rc_report_text(sources, "bench_vm", NULL), stderr);
        die("policies", "cannot be read");
    }
    size_t nsrcs;
    const rc_input *srcs = rc_report_inputs(sources, &nsrcs);
    double *front = calloc((size_t)compile_reps, sizeof(double));
    double *write = calloc((size_t)compile_reps, sizeof(double));
    double *load = calloc((size_t)compile_reps, sizeof(double));
    double *total = calloc((size_t)compile_reps, sizeof(double));
    if (!front || !write || !load || !total)
        die("compile", "out of memory");
    rv_program *prog = NULL;
    compile_times ct = {0};
    for (long k = 0; k < compile_reps; k++) {
        if (prog)
            rv_program_free(prog);
        prog = compile_once(srcs, nsrcs, &cfg, &ct);
        front[k] = ct.front_ns;
        write[k] = ct.write_ns;
        load[k] = ct.load_ns;
        total[k] = ct.front_ns + ct.write_ns + ct.load_ns;
    }
    printf("{\"files\": %zu, \"policies\": %zu, \"bundle_bytes\": %zu, \"compile_reps\": %ld,\n",
           nsrcs, ct.npolicies, ct.bundle_bytes, compile_reps);
    printf(" \"compile_ms\": {");
    print_stats("front", front, (size_t)compile_reps, 1e-6);
    printf(", ");
    print_stats("write", write, (size_t)compile_reps, 1e-6);
    printf(", ");
    print_stats("load", load, (size_t)compile_reps, 1e-6);
    printf(", ");
    print_stats("total", total, (size_t)compile_reps, 1e-6);
    printf("},\n");

    rv_vm *vm;
    if (rv_vm_new(&cfg, &vm) != RV_OK)
        die("vm", "out of memory");
    double overhead = clock_overhead();
    printf(" \"iters\": %ld, \"reps\": %ld, \"clock\": \"%s\", \"clock_overhead_ns\": %.1f,\n \"specs\": [\n",
           iters, reps, bench_clock == CLOCK_MONOTONIC ? "wall" : "cpu", overhead);

    double *samples[NPHASES + 2];  /* the phases, the total, cJSON */
    for (int p = 0; p <= NPHASES + 1; p++) {
        samples[p] = calloc((size_t)reps, sizeof(double));
        if (!samples[p])
            die("samples", "out of memory");
    }
    for (size_t s = 0; s < reqs.n; s++) {
        request r;
        load_request(vm, reqs.paths[s], &r);
        rv_decision d;
        size_t outlen = 0;
        double warm[NPHASES] = {0};
        /* Warm up: caches, the VM's scratch memory, PCRE2's JIT stack. */
        for (long i = 0; i < iters / 10 + 10; i++)
            decide(vm, prog, &r, warm, &d, &outlen);
        unsigned long long a0[NPHASES];
        memcpy(a0, nallocs, sizeof a0);
        for (long k = 0; k < reps; k++) {
            double ns[NPHASES] = {0};
            for (long i = 0; i < iters; i++)
                decide(vm, prog, &r, ns, &d, &outlen);
            /* With the CPU clock, whose reads are system calls costing about
             * as much as a small phase, the total is a loop of its own with
             * no reads inside. */
            double loop = 0;
            if (bench_clock != CLOCK_MONOTONIC) {
                double loop0 = now_ns();
                for (long i = 0; i < iters; i++)
                    decide(vm, prog, &r, NULL, &d, &outlen);
                loop = (now_ns() - loop0) / (double)iters;
            }
            double sum = 0;
            for (int p = 0; p < NPHASES; p++) {
                ns[p] = ns[p] / (double)iters - overhead;
                if (ns[p] < 0)
                    ns[p] = 0;
                samples[p][k] = ns[p];
                sum += ns[p];
            }
            samples[NPHASES][k] = bench_clock == CLOCK_MONOTONIC ? sum : loop;
#ifdef HAVE_CJSON
            if (baseline)
                samples[NPHASES + 1][k] = cjson_round(&r, iters) - overhead / (double)iters;
#endif
        }
        double per = (double)iters * (double)reps;
        const char *base = strrchr(r.path, '/');
        printf("  {\"name\": \"%s\", \"kind\": \"%s\", \"body_bytes\": %zu, \"spec_bytes\": %zu, "
               "\"values\": %zu, \"out_bytes\": %zu, \"allowed\": %d, \"instructions\": %llu, "
               "\"changes\": %zu,\n   ",
               base ? base + 1 : r.path, r.kind, r.len, r.spec_len, r.values, outlen, d.allowed,
               (unsigned long long)d.instructions, d.nchanges);
        for (int p = 0; p < NPHASES; p++) {
            print_stats(phase_names[p], samples[p], (size_t)reps, 1);
            printf(", ");
        }
        print_stats("total", samples[NPHASES], (size_t)reps, 1);
#ifdef HAVE_CJSON
        if (baseline) {
            printf(", ");
            print_stats("cjson_parse_print", samples[NPHASES + 1], (size_t)reps, 1);
        }
#endif
        printf(",\n   \"allocs\": {");
        for (int p = 0; p < NPHASES; p++)
            printf("%s\"%s\": %.3f", p ? ", " : "", phase_names[p],
                   (double)(nallocs[p] - a0[p]) / per);
        printf("}}%s\n", s + 1 < reqs.n ? "," : "");
        free(r.text);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf(" ],\n \"max_rss_kb\": %ld}\n", ru.ru_maxrss);

    rv_vm_free(vm);
    rv_program_free(prog);
    for (int p = 0; p <= NPHASES + 1; p++)
        free(samples[p]);
    rc_report_free(sources);
    free(front);
    free(write);
    free(load);
    free(total);
    for (size_t i = 0; i < pol.n; i++)
        free(pol.paths[i]);
    for (size_t i = 0; i < reqs.n; i++)
        free(reqs.paths[i]);
    free(pol.paths);
    free(reqs.paths);
    return 0;
}
