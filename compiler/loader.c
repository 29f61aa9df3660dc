/* loader.c - the compiler library's one way in (rulec.h): policy arguments
 * SPDX-License-Identifier: Apache-2.0
 * to inputs (folders listed by one rule), inputs to a verified program and
 * a report. Sources are compiled together, each into a bundle of its own,
 * and then loaded with the bundles given as inputs by rv_program_load, so
 * freshly compiled code passes the same verifier as a file from disk.
 */
#include "compile.h"
#include "dir.h"
#include "file.h"
#include "rulec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_MAX_BYTES ((size_t)64 << 20)

struct rc_report {
    ru_arena arena;            /* records, sources, names */
    rc_diags diags;
    rc_input *inputs;          /* what rc_read_inputs read (data malloc'd) */
    size_t ninputs, cap_inputs;
    /* Derived from diags on demand, dropped when records are added. */
    rc_diagnostic *records;
    size_t nrecords;
    int records_of;            /* diags count the cache was made from */
    char *text;                /* the last rc_report_text */
    size_t text_len;
    /* From the last rc_load. */
    void *bundle;              /* malloc'd */
    size_t bundle_size;
    size_t npolicies;
    size_t *policy_tag;
    rc_input_form *input_form; /* per input given to rc_load */
    size_t ninput_form;
    const char **policy_text;
    size_t *policy_text_len;
    const rc_cover_map **coverage;
};

static const rc_loc no_loc = {0, 0, 0, 0};

rc_report *rc_report_new(void)
{
    rc_report *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    ru_arena_init(&r->arena, NULL, NULL);
    rc_diags_init(&r->diags, &r->arena);
    r->records_of = -1;
    return r;
}

ru_arena *rc_report_arena(rc_report *r)
{
    return &r->arena;
}

rc_diags *rc_report_diags(rc_report *r)
{
    return &r->diags;
}

static void forget_load(rc_report *r)
{
    free(r->bundle);
    r->bundle = NULL;
    r->bundle_size = 0;
    free(r->policy_tag);
    free(r->input_form);
    free(r->policy_text);
    free(r->policy_text_len);
    free(r->coverage);
    r->policy_tag = NULL;
    r->input_form = NULL;
    r->ninput_form = 0;
    r->policy_text = NULL;
    r->policy_text_len = NULL;
    r->coverage = NULL;
    r->npolicies = 0;
}

void rc_report_free(rc_report *r)
{
    if (!r)
        return;
    forget_load(r);
    for (size_t i = 0; i < r->ninputs; i++)
        free((void *)(uintptr_t)r->inputs[i].data);  /* read by rc_read_inputs */
    free(r->inputs);
    free(r->records);
    free(r->text);
    ru_arena_free(&r->arena);
    free(r);
}

/* A problem with a whole file (no place in it), or with none. */
static void file_error(rc_report *r, const char *file, const char *message)
{
    rc_source *src = NULL;
    if (file) {
        src = ru_arena_alloc(&r->arena, sizeof *src);
        if (src)
            *src = (rc_source){ru_arena_strndup(&r->arena, file, strlen(file)), NULL, 0, false, 0};
    }
    rc_diag(&r->diags, RC_ERROR, src, no_loc, "%s", message);
}

/* ---- folders and files ---- */

static bool is_policy_file(const char *name)
{
    size_t n = strlen(name);
    if (name[0] == '.')
        return false;  /* editors' and tools' hidden files */
    return (n > 6 && strcmp(name + n - 6, ".rules") == 0) || (n > 4 && strcmp(name + n - 4, ".rbc") == 0);
}

void rc_free_paths(char **paths, size_t count)
{
    ru_free_paths(paths, count);
}

static bool keep_policy_file(const char *name, void *ud)
{
    (void)ud;
    return is_policy_file(name);
}

int rc_list_folder(const char *dir, char ***paths, size_t *count)
{
    return ru_list_dir(dir, keep_policy_file, NULL, paths, count);
}

/* Where reading reports a problem: a record, and the caller's hook. */
typedef struct reading {
    rc_report *r;
    rc_problem_fn on_problem;
    void *ud;
} reading;

static void read_problem(reading *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void read_problem(reading *rd, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rc_diag(&rd->r->diags, RC_ERROR, NULL, no_loc, "%s", msg);
    if (rd->on_problem)
        rd->on_problem(rd->ud, msg);
}

static bool add_input(reading *rd, const char *path, size_t tag, size_t max_bytes)
{
    rc_report *r = rd->r;
    size_t len = 0;
    char *data;
    int e = ru_read_file(path, max_bytes, &data, &len);
    if (e == EFBIG) {
        read_problem(rd, "'%s' is larger than the %zu-byte input limit", path, max_bytes);
        return false;
    }
    if (e) {
        read_problem(rd, "cannot read '%s': %s", path, strerror(e));
        return false;
    }
    if (r->ninputs == r->cap_inputs) {
        size_t ncap = r->cap_inputs ? r->cap_inputs * 2 : 16;
        rc_input *ni = realloc(r->inputs, ncap * sizeof *ni);
        if (!ni) {
            free(data);
            read_problem(rd, "out of memory");
            return false;
        }
        r->inputs = ni;
        r->cap_inputs = ncap;
    }
    char *name = ru_arena_strndup(&r->arena, path, strlen(path));
    if (!name) {
        free(data);
        read_problem(rd, "out of memory");
        return false;
    }
    r->inputs[r->ninputs++] = (rc_input){name, data, len, 0, 0, tag};
    return true;
}

int rc_read_input(rc_report *r, const char *arg, size_t tag, size_t max_bytes,
                  rc_problem_fn on_problem, void *ud)
{
    reading rd = {r, on_problem, ud};
    if (!max_bytes)
        max_bytes = DEFAULT_MAX_BYTES;
    struct stat st;
    if (strcmp(arg, "-") == 0 || stat(arg, &st) != 0 || !S_ISDIR(st.st_mode))
        return add_input(&rd, arg, tag, max_bytes);
    char **paths;
    size_t n;
    int e = rc_list_folder(arg, &paths, &n);
    if (e) {
        read_problem(&rd, "cannot open folder '%s': %s", arg, strerror(e));
        return 0;
    }
    bool ok = true;
    if (n == 0) {
        read_problem(&rd, "folder '%s' holds no .rules or .rbc files", arg);
        ok = false;
    }
    for (size_t k = 0; k < n; k++)
        ok = add_input(&rd, paths[k], tag, max_bytes) && ok;
    rc_free_paths(paths, n);
    return ok;
}

int rc_read_inputs(rc_report *r, const char *const *args, size_t nargs, size_t max_bytes)
{
    bool ok = true;
    for (size_t i = 0; i < nargs; i++)
        ok = rc_read_input(r, args[i], i, max_bytes, NULL, NULL) && ok;
    return ok;
}

rc_input *rc_report_inputs(rc_report *r, size_t *count)
{
    *count = r->ninputs;
    return r->inputs;
}

/* ---- loading ---- */

static bool is_bundle(const rc_input *in)
{
    return in->size >= 4 && memcmp(in->data, RV_MAGIC, 4) == 0;
}

/* 1 to 3 bytes of the magic and nothing else: what is left of a bundle cut
 * short, which no source can be. */
static bool is_cut_magic(const rc_input *in)
{
    return in->size > 0 && in->size < 4 && memcmp(in->data, RV_MAGIC, in->size) == 0;
}

static bool named_as_bundle(const char *name)
{
    size_t n = strlen(name);
    return n >= 4 && strcmp(name + n - 4, ".rbc") == 0;
}

/* Sources that compiled to no rules (code that is HALT alone): such a
 * policy allows everything and changes nothing, which is what a file
 * truncated to nothing, or copied before it was written, compiles to. A
 * file named as a bundle that holds no bundle and no rules is an error
 * (a truncated deployment must not switch enforcement off); any other is
 * a warning, so that `rulec check` and `rulesd --check` say so. */
static bool check_no_rules(rc_report *r, rc_source *srcs, size_t nsrcs, const rc_compiled *c)
{
    bool ok = true;
    for (size_t s = 0; c->no_rules && s < nsrcs; s++) {
        if (!c->no_rules[s])
            continue;
        if (named_as_bundle(srcs[s].name)) {
            rc_diag(&r->diags, RC_ERROR, &srcs[s], no_loc,
                    "named as a bundle, but %s: not loaded (a truncated or unfinished copy? "
                    "compile it again with rulec compile)",
                    srcs[s].len == 0 ? "the file is empty"
                                     : "it holds neither a bundle nor any rules");
            ok = false;
        } else {
            rc_diag(&r->diags, RC_WARNING, &srcs[s], no_loc,
                    "%s: as a policy it allows everything and changes nothing "
                    "(an empty or truncated file?)",
                    srcs[s].len == 0 ? "the file is empty" : "the file holds no rules");
        }
    }
    return ok;
}

/* Input i's place among the blobs handed to the VM. */
typedef struct origin {
    size_t input;
    size_t source;     /* index among the sources, or SIZE_MAX for a bundle */
} origin;

rc_result rc_load(rc_report *r, const rc_input *inputs, size_t ninputs, const rc_options *options,
                  rv_program **out)
{
    static const rc_options defaults = {NULL, 0, NULL};
    const rc_options *opt = options ? options : &defaults;
    const rv_config *cfg = opt->vm;
    unsigned flags = opt->flags;
    *out = NULL;
    forget_load(r);
    rc_source *srcs = ru_arena_alloc(&r->arena, (ninputs ? ninputs : 1) * sizeof *srcs);
    size_t *src_input = ru_arena_alloc(&r->arena, (ninputs ? ninputs : 1) * sizeof *src_input);
    rv_blob *blobs = calloc(ninputs ? ninputs : 1, sizeof *blobs);
    origin *blob_origin = calloc(ninputs ? ninputs : 1, sizeof *blob_origin);
    ru_buf *bundles = calloc(ninputs ? ninputs : 1, sizeof *bundles);
    size_t nsrcs = 0, nblobs = 0, nbundles = 0;
    rc_result result = RC_OK;
    rv_program *prog = NULL;
    rc_compiled compiled = {0};
    r->input_form = calloc(ninputs ? ninputs : 1, sizeof *r->input_form);
    r->ninput_form = r->input_form ? ninputs : 0;
    if (!srcs || !src_input || !blobs || !blob_origin || !bundles || !r->input_form) {
        rc_diag(&r->diags, RC_ERROR, NULL, no_loc, "out of memory");
        result = RC_FAILED;
        goto done;
    }

    /* Told apart by content: a bundle starts with the magic, whatever the
     * file is called. */
    for (size_t i = 0; i < ninputs; i++) {
        const rc_input *in = &inputs[i];
        const char *name = in->name ? in->name : "<input>";
        if (is_bundle(in)) {
            r->input_form[i] = RC_FORM_BUNDLE;
            if (in->has_priority) {
                file_error(r, name, "this is a compiled bundle, whose priorities are fixed "
                                          "(recompile it, or override the priority on its .rules source)");
                result = RC_FAILED;
            }
            continue;
        }
        if (is_cut_magic(in)) {
            char msg[160];
            snprintf(msg, sizeof msg, "a bundle cut short: %zu bytes, a bundle has at least %d",
                     in->size, RV_HEADER_SIZE);
            file_error(r, name, msg);
            result = RC_FAILED;
            continue;
        }
        if (memchr(in->data, '\0', in->size)) {
            file_error(r, name, "neither a .rules source nor a .rbc bundle (it holds a NUL byte)");
            result = RC_FAILED;
            continue;
        }
        /* The parser wants NUL-terminated text that outlives the records. */
        char *text = ru_arena_strndup(&r->arena, in->data, in->size);
        char *copy = ru_arena_strndup(&r->arena, name, strlen(name));
        if (!text || !copy) {
            rc_diag(&r->diags, RC_ERROR, NULL, no_loc, "out of memory");
            result = RC_FAILED;
            goto done;
        }
        src_input[nsrcs] = i;
        srcs[nsrcs++] = (rc_source){copy, text, in->size, in->has_priority != 0, in->priority};
    }
    bool compiled_ok = rc_compile_set(srcs, nsrcs, opt->target, &r->arena, &r->diags,
                                      (flags & RC_COVERAGE) != 0, &compiled);
    /* Said even when another source has errors: it is a problem of its own. */
    if (!check_no_rules(r, srcs, nsrcs, &compiled))
        result = RC_FAILED;
    if (!compiled_ok) {
        if (result == RC_OK)
            result = r->diags.nerrors ? RC_INVALID : RC_FAILED;
        if (!r->diags.nerrors)
            rc_diag(&r->diags, RC_ERROR, NULL, no_loc, "out of memory");
    }
    if (result != RC_OK)
        goto done;
    for (size_t k = 0; k < nsrcs; k++)
        r->input_form[src_input[k]] = compiled.no_rules[k] ? RC_FORM_NO_RULES : RC_FORM_SOURCE;

    /* Each source compiles to one policy: which one, if it survived the
     * set rule (SIZE_MAX: overridden by a higher priority of its name). */
    size_t *compiled_of = ru_arena_alloc(&r->arena, (nsrcs ? nsrcs : 1) * sizeof *compiled_of);
    if (!compiled_of) {
        rc_diag(&r->diags, RC_ERROR, NULL, no_loc, "out of memory");
        result = RC_FAILED;
        goto done;
    }
    for (size_t s = 0; s < nsrcs; s++)
        compiled_of[s] = SIZE_MAX;
    for (size_t k = 0; k < compiled.n; k++)
        compiled_of[compiled.source[k]] = k;

    /* Blobs in input order, one bundle per source (its surviving policy):
     * the VM then names the right file in any message, and each program
     * policy's bundle index leads back to its input. */
    for (size_t i = 0, s = 0; i < ninputs; i++) {
        if (is_bundle(&inputs[i])) {
            blob_origin[nblobs] = (origin){i, SIZE_MAX};
            blobs[nblobs++] = (rv_blob){inputs[i].data, inputs[i].size, inputs[i].name};
            continue;
        }
        while (s < nsrcs && src_input[s] < i)
            s++;
        if (s == nsrcs || src_input[s] != i)
            continue;  /* refused above */
        if (compiled_of[s] == SIZE_MAX)
            continue;  /* overridden by a higher priority of its name */
        ru_buf *b = &bundles[nbundles++];
        ru_buf_init(b, NULL, NULL);
        if (!rv_bundle_write(b, &compiled.policies[compiled_of[s]], 1) || b->oom) {
            rc_diag(&r->diags, RC_ERROR, NULL, no_loc, "out of memory");
            result = RC_FAILED;
            goto done;
        }
        blob_origin[nblobs] = (origin){i, s};
        blobs[nblobs++] = (rv_blob){b->data, b->len, srcs[s].name};
    }
    if (nblobs == 0) {
        rc_diag(&r->diags, RC_ERROR, NULL, no_loc, "no policies given");
        result = RC_FAILED;
        goto done;
    }
    rv_error err;
    rv_status st = rv_program_load(blobs, nblobs, cfg, &prog, &err);
    if (st != RV_OK) {
        rc_diag(&r->diags, RC_ERROR, NULL, no_loc, "%s", err.message);
        result = st == RV_EPOLICY ? RC_INVALID : RC_FAILED;
        goto done;
    }

    size_t n = rv_program_policy_count(prog);
    r->policy_tag = calloc(n ? n : 1, sizeof *r->policy_tag);
    r->policy_text = calloc(n ? n : 1, sizeof *r->policy_text);
    r->policy_text_len = calloc(n ? n : 1, sizeof *r->policy_text_len);
    r->coverage = calloc(n ? n : 1, sizeof *r->coverage);
    if (!r->policy_tag || !r->policy_text || !r->policy_text_len || !r->coverage) {
        rc_diag(&r->diags, RC_ERROR, NULL, no_loc, "out of memory");
        result = RC_FAILED;
        goto done;
    }
    r->npolicies = n;
    for (size_t i = 0; i < n; i++) {
        rv_policy_info info;
        rv_program_policy(prog, i, &info);
        const origin *o = &blob_origin[info.bundle];
        r->policy_tag[i] = inputs[o->input].tag;
        if (o->source == SIZE_MAX)
            continue;
        r->policy_text[i] = srcs[o->source].text;
        r->policy_text_len[i] = srcs[o->source].len;
        if (compiled.maps)
            r->coverage[i] = compiled.maps[compiled_of[o->source]];
    }
    if (flags & RC_BUNDLE) {
        /* The saved bytes live in a VM's print buffer: the report keeps a
         * copy of its own. */
        rv_vm *vm = NULL;
        const void *bytes;
        size_t size;
        st = rv_vm_new(cfg, &vm);
        if (st == RV_OK)
            st = rv_program_save(prog, vm, &bytes, &size, &err);
        else
            snprintf(err.message, sizeof err.message, "out of memory");
        if (st == RV_OK && (r->bundle = malloc(size ? size : 1))) {
            memcpy(r->bundle, bytes, size);
            r->bundle_size = size;
        } else if (st == RV_OK) {
            snprintf(err.message, sizeof err.message, "out of memory");
        }
        rv_vm_free(vm);
        if (!r->bundle) {
            rc_diag(&r->diags, RC_ERROR, NULL, no_loc, "%s", err.message);
            result = RC_FAILED;
            goto done;
        }
    }

done:
    for (size_t i = 0; i < nbundles; i++)
        ru_buf_free(&bundles[i]);
    free(bundles);
    free(blobs);
    free(blob_origin);
    if (result != RC_OK) {
        if (prog)
            rv_program_free(prog);
        forget_load(r);
        return result;
    }
    *out = prog;
    return RC_OK;
}

/* ---- the report ---- */

static void make_records(rc_report *r)
{
    size_t n;
    const rc_diag_rec **sorted = rc_diags_sorted(&r->diags, &n);
    free(r->records);
    r->records = NULL;
    r->nrecords = 0;
    if (!sorted)
        return;
    r->records = calloc(n, sizeof *r->records);
    if (r->records) {
        for (size_t i = 0; i < n; i++) {
            const rc_diag_rec *d = sorted[i];
            r->records[i] = (rc_diagnostic){d->severity, d->src ? d->src->name : NULL,
                                            d->src ? d->loc : no_loc, d->message};
        }
        r->nrecords = n;
    }
    free(sorted);
}

static int record_count(const rc_report *r)
{
    int n = 0;
    for (const rc_diag_rec *d = r->diags.head; d; d = d->next)
        n++;
    return n;
}

const rc_diagnostic *rc_report_diagnostics(rc_report *r, size_t *count)
{
    int now = record_count(r);
    if (r->records_of != now) {
        make_records(r);
        r->records_of = now;
    }
    *count = r->nrecords;
    return r->records;
}

int rc_report_errors(const rc_report *r)
{
    return r->diags.nerrors;
}

int rc_report_warnings(const rc_report *r)
{
    return r->diags.nwarnings;
}

const char *rc_report_text(rc_report *r, const char *program, size_t *len)
{
    free(r->text);
    r->text = NULL;
    r->text_len = 0;
    FILE *m = open_memstream(&r->text, &r->text_len);
    if (m) {
        size_t n;
        const rc_diag_rec **sorted = rc_diags_sorted(&r->diags, &n);
        if (n && !sorted)
            fprintf(m, "%s%sout of memory while sorting %zu diagnostics\n", program ? program : "",
                    program ? ": " : "", n);
        for (size_t i = 0; sorted && i < n; i++) {
            const rc_diag_rec *d = sorted[i];
            if (d->src) {
                rc_diag_print(d, m);  /* file:line:col: ..., the line, the carets */
                continue;
            }
            fprintf(m, "%s%s%s: %s\n", program ? program : "", program ? ": " : "",
                    d->severity == RC_ERROR ? "error" : d->severity == RC_WARNING ? "warning" : "note",
                    d->message);
        }
        free(sorted);
        if (fclose(m) != 0) {
            free(r->text);
            r->text = NULL;
        }
    }
    if (!r->text)
        r->text_len = 0;
    if (len)
        *len = r->text_len;
    return r->text ? r->text : "";
}

const void *rc_report_bundle(const rc_report *r, size_t *size)
{
    *size = r->bundle_size;
    return r->bundle;
}

size_t rc_report_policy_tag(const rc_report *r, size_t i)
{
    return i < r->npolicies ? r->policy_tag[i] : 0;
}

rc_input_form rc_report_input_form(const rc_report *r, size_t k)
{
    return k < r->ninput_form ? r->input_form[k] : RC_FORM_UNKNOWN;
}

const char *rc_report_policy_text(const rc_report *r, size_t i, size_t *len)
{
    if (len)
        *len = i < r->npolicies ? r->policy_text_len[i] : 0;
    return i < r->npolicies ? r->policy_text[i] : NULL;
}

const rc_cover_map *rc_report_coverage(const rc_report *r, size_t i)
{
    return i < r->npolicies ? r->coverage[i] : NULL;
}
