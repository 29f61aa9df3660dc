/* policyset.c - turns the configured policy entries into one verified
 * SPDX-License-Identifier: Apache-2.0
 * program through the compiler library (rulec.h), like every other host:
 * each entry's files are read by the library's one folder rule, tagged
 * with the entry (for its priority and parameter overrides), and loaded
 * together, which applies the contract's set rules and verifies freshly
 * compiled code exactly like a .rbc file from disk.
 */
#include "policyset.h"

#include "file.h"
#include "hash.h"
#include "log.h"
#include "rulec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define POLICY_MAX_BYTES ((size_t)64 << 20)
#define TOKEN_MAX_BYTES 4096

typedef struct builder {
    const rd_config *cfg;
    ru_buf *diag;
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
    ru_buf_puts(b->diag, msg);
    ru_buf_putc(b->diag, '\n');
    b->failed = true;
}

static rv_status set_override(rv_program *prog, const char *policy, const rd_param_override *o,
                              rv_error *err)
{
    return o->json ? rv_program_set_param(prog, policy, o->name, o->value, err)
                   : rc_set_param(prog, policy, o->name, o->value, err);
}

/* Per-entry overrides go to the policies that entry contributed (the
 * report tags each program policy with its entry); then the global ones. */
static void apply_overrides(builder *b, rv_program *prog, const rc_report *report)
{
    rv_error err;
    size_t npol = rv_program_policy_count(prog);
    for (size_t e = 0; e < b->cfg->npolicies; e++) {
        const rd_policy_entry *pe = &b->cfg->policies[e];
        for (size_t k = 0; k < pe->nparams; k++) {
            const rd_param_override *o = &pe->params[k];
            bool done = false;
            ru_buf list = {0};
            for (size_t i = 0; i < npol; i++) {
                if (rc_report_policy_tag(report, i) != e)
                    continue;
                rv_policy_info info;
                rv_program_policy(prog, i, &info);
                ru_buf_printf(&list, "%s'%s'", list.len ? ", " : "", info.name);
                if (!rv_program_declares(prog, i, o->name))
                    continue;
                if (set_override(prog, info.name, o, &err) != RV_OK) {
                    problem(b, "%s: %s", o->where, err.message);
                    ru_buf_free(&list);
                    return;
                }
                done = true;
            }
            ru_buf_terminate(&list);
            if (!done)
                problem(b, "%s: no policy in '%s' (%s) declares a parameter '%s'", o->where, pe->path,
                        list.len ? list.data : "none", o->name);
            ru_buf_free(&list);
            if (!done)
                return;
        }
    }
    for (size_t k = 0; k < b->cfg->nparams; k++) {
        const rd_param_override *o = &b->cfg->params[k];
        if (set_override(prog, o->policy, o, &err) != RV_OK) {
            problem(b, "%s: %s", o->where, err.message);
            return;
        }
    }
}

/* "bundles": each signed input and what its verified signature says. */
static void bundles_json(ru_buf *j, const rd_set *set)
{
    ru_buf_puts(j, "\"bundles\":[");
    bool first = true;
    for (size_t i = 0; i < set->nfiles; i++) {
        const rd_set_file *f = &set->files[i];
        if (!f->is_signed)
            continue;
        ru_buf_puts(j, first ? "{\"source\":" : ",{\"source\":");
        first = false;
        ru_buf_json_string(j, f->path, strlen(f->path));
        ru_buf_printf(j, ",\"revision\":\"%s\",\"created\":", f->sig.revision);
        ru_buf_json_string(j, f->sig.created, strlen(f->sig.created));
        ru_buf_printf(j, ",\"sha256\":\"%s\",\"signed_by\":\"%s\",\"key_file\":", f->sig.sha256,
                      f->sig.key_id);
        ru_buf_json_string(j, f->sig.key_file, strlen(f->sig.key_file));
        ru_buf_putc(j, '}');
    }
    ru_buf_puts(j, "],");
}

static char *policies_json(const rv_program *prog, const rd_set *set, uint64_t revision, const char *loaded_at,
                           size_t *len)
{
    ru_buf j = {0};
    ru_buf_printf(&j, "{\"revision\":%llu,\"loaded_at\":\"%s\",\"set_sha256\":\"%s\",",
                  (unsigned long long)revision, loaded_at, rv_program_digest(prog));
    if (set->bundle_revision[0])
        ru_buf_printf(&j, "\"bundle_revision\":\"%s\",", set->bundle_revision);
    bundles_json(&j, set);
    ru_buf_puts(&j, "\"policies\":[");
    for (size_t i = 0; i < rv_program_policy_count(prog); i++) {
        rv_policy_info info;
        rv_program_policy(prog, i, &info);
        ru_buf_puts(&j, i ? ",{\"name\":" : "{\"name\":");
        ru_buf_json_string(&j, info.name, strlen(info.name));
        ru_buf_puts(&j, ",\"source\":");
        ru_buf_json_string(&j, info.source ? info.source : "", info.source ? strlen(info.source) : 0);
        ru_buf_puts(&j, ",\"target\":");
        ru_buf_json_string(&j, info.target, strlen(info.target));
        ru_buf_printf(&j, ",\"priority\":%d,\"checksum\":\"%08x\",\"sha256\":\"%s\",\"instructions\":%zu,"
                      "\"kinds\":[",
                      (int)info.priority, (unsigned)info.checksum, rv_program_policy_digest(prog, i),
                      info.ninstructions);
        if (info.nkinds == 0)
            ru_buf_puts(&j, "\"*\"");
        for (size_t k = 0; k < info.nkinds; k++) {
            if (k)
                ru_buf_putc(&j, ',');
            ru_buf_json_string(&j, info.kinds[k], strlen(info.kinds[k]));
        }
        ru_buf_puts(&j, "],\"parameters\":{");
        for (size_t k = 0; k < info.nparams; k++) {
            const char *name, *value;
            rv_program_param(prog, i, k, &name, &value);
            if (k)
                ru_buf_putc(&j, ',');
            ru_buf_json_string(&j, name, strlen(name));
            ru_buf_putc(&j, ':');
            ru_buf_puts(&j, value);  /* already compact JSON */
        }
        ru_buf_puts(&j, "}}");
    }
    ru_buf_puts(&j, "]}\n");
    if (j.oom) {
        ru_buf_free(&j);
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
    size_t len;
    char *data;
    int e = ru_read_file(path, TOKEN_MAX_BYTES, &data, &len);
    if (e) {
        problem(b, "cannot read the token file '%s': %s", path,
                e == EFBIG ? "larger than 4096 bytes: not a token file?" : strerror(e));
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
 * first use is set up here, single-threaded. A policy that stops on such a
 * spec (`lower(configuration.image)` of a missing image) is no fault of
 * the set: it fails closed on that input, as the language says, so an
 * evaluation error or a limit here is fine; only the library failing
 * (out of memory, a bad program) refuses the set. */
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
    rv_request req = {.kind = "run", .user = "", .project = ""};  /* every policy */
    rv_status st = rv_vm_parse(vm, "{}", 2, RV_JSON, &spec, &err);
    if (st == RV_OK)
        st = rv_vm_eval(vm, prog, &req, spec, &d, &err);
    if (st != RV_OK && st != RV_EEVAL && st != RV_ELIMIT)
        problem(b, "the policy set cannot run (on an empty run spec): %s", err.message);
    rv_vm_free(vm);
}

typedef struct entry_reading {
    builder *b;
    const rd_policy_entry *pe;
} entry_reading;

static void entry_problem(void *ud, const char *message)
{
    entry_reading *er = ud;
    problem(er->b, "%s: %s", er->pe->where, message);
}

/* Reads every entry's files into report, tagged with the entry and
 * carrying its priority override. A problem is reported with the entry's
 * place in the configuration. */
static void read_entries(builder *b, rc_report *report)
{
    for (size_t e = 0; e < b->cfg->npolicies; e++) {
        entry_reading er = {b, &b->cfg->policies[e]};
        size_t before, after;
        rc_report_inputs(report, &before);
        rc_read_input(report, er.pe->path, e, POLICY_MAX_BYTES, entry_problem, &er);
        rc_input *in = rc_report_inputs(report, &after);
        for (size_t i = before; i < after; i++) {
            if (er.pe->has_priority && in[i].size >= 4 && memcmp(in[i].data, "\x7f" "RBC", 4) == 0) {
                /* Said here, where the configuration's place is known. */
                problem(b, "%s.priority: '%s' is a compiled bundle; its priorities are fixed "
                           "(recompile it, or override the priority on its .rules source)",
                        er.pe->where, in[i].name);
                continue;
            }
            in[i].has_priority = er.pe->has_priority;
            in[i].priority = er.pe->priority;
        }
    }
}

/* ---- what each file was: truncation must not fail open ---- */

static int compare_files(const void *a, const void *b)
{
    return strcmp(((const rd_set_file *)a)->path, ((const rd_set_file *)b)->path);
}

static const rd_set_file *find_file(const rd_set *set, const char *path)
{
    rd_set_file key = {.path = (char *)(uintptr_t)path, .form = RC_FORM_UNKNOWN};
    return set ? bsearch(&key, set->files, set->nfiles, sizeof key, compare_files) : NULL;
}

static bool is_bundle_bytes(const rc_input *in)
{
    return in->size >= 4 && memcmp(in->data, "\x7f" "RBC", 4) == 0;
}

/* Before compiling: a file that the served set loaded as a bundle must
 * still be one. Read by content it might otherwise load as a source --
 * empty, a policy that does nothing, under the bundle policy's name. */
static void check_bundles_kept(builder *b, const rc_input *in, size_t n, const rd_set *prev)
{
    for (size_t i = 0; prev && i < n; i++) {
        const rd_set_file *was = find_file(prev, in[i].name);
        if (!was || was->form != RC_FORM_BUNDLE || is_bundle_bytes(&in[i]))
            continue;
        if (in[i].size == 0)
            problem(b, "%s: error: was a compiled bundle in revision %llu and is now empty "
                       "(a truncated or unfinished deployment?): not loaded",
                    in[i].name, (unsigned long long)prev->revision);
        else
            problem(b, "%s: error: was a compiled bundle in revision %llu and is no longer one (its %zu "
                       "bytes do not start with the bundle magic): not loaded; compile it again, or "
                       "give the source a .rules name",
                    in[i].name, (unsigned long long)prev->revision, in[i].size);
    }
}

/* After compiling: a source that held rules in the served set must still
 * hold some; one that compiles to none (emptied, truncated to its header
 * or to comments) is refused rather than served as "allow everything". */
static void check_rules_kept(builder *b, rc_report *report, const rc_input *in, size_t n, const rd_set *prev)
{
    for (size_t i = 0; prev && i < n; i++) {
        const rd_set_file *was = find_file(prev, in[i].name);
        if (was && was->form == RC_FORM_SOURCE && rc_report_input_form(report, i) == RC_FORM_NO_RULES)
            problem(b, "%s: error: held rules in revision %llu and now holds none (%s; a truncated or "
                       "unfinished deployment?): not loaded; to retire a policy, remove its file",
                    in[i].name, (unsigned long long)prev->revision,
                    in[i].size ? "only comments, blanks or a header" : "it is empty");
    }
}

/* What this set's files are, for the next reload to compare with; sigs
 * (NULL: none were checked) move into the set. */
static bool record_files(rd_set *set, rc_report *report, const rc_input *in, size_t n, rd_signed_info *sigs)
{
    set->files = calloc(n ? n : 1, sizeof *set->files);
    if (!set->files)
        return false;
    for (size_t i = 0; i < n; i++) {
        rd_set_file *f = &set->files[set->nfiles++];
        f->path = strdup(in[i].name);
        f->form = rc_report_input_form(report, i);
        if (sigs) {
            f->is_signed = true;
            f->sig = sigs[i];
            sigs[i].key_file = NULL;
        }
        if (!f->path)
            return false;
    }
    qsort(set->files, set->nfiles, sizeof *set->files, compare_files);
    /* One signed bundle: the set's signed revision. */
    if (sigs && n == 1) {
        memcpy(set->bundle_revision, set->files[0].sig.revision, sizeof set->bundle_revision);
        memcpy(set->bundle_key_id, set->files[0].sig.key_id, sizeof set->bundle_key_id);
    }
    return true;
}

/* With signatures required, every input is checked before anything is
 * compiled; sigs (n entries) gets what each signature says. */
static bool check_signatures(builder *b, const rc_input *in, size_t n, const rd_set *prev, rd_signed_info *sigs)
{
    const rd_signed_info **was = calloc(n ? n : 1, sizeof *was);
    if (!was) {
        problem(b, "out of memory");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const rd_set_file *f = find_file(prev, in[i].name);
        was[i] = f && f->is_signed ? &f->sig : NULL;
    }
    bool ok = rd_trust_check(b->cfg, in, n, was, sigs, b->diag);
    free(was);
    if (!ok)
        b->failed = true;
    return ok;
}

static rd_set *build(const rd_config *cfg, uint64_t revision, const rd_set *prev, const rc_input *pulled,
                     ru_buf *diag)
{
    builder b = {cfg, diag, false};
    rd_set *set = calloc(1, sizeof *set);
    rc_report *report = rc_report_new();
    rv_program *prog = NULL;
    rd_signed_info *sigs = NULL;
    size_t n = 0;
    if (!set || !report) {
        problem(&b, "out of memory");
        goto done;
    }
    const rc_input *inputs = pulled;
    if (pulled)
        n = 1;
    else {
        read_entries(&b, report);
        inputs = rc_report_inputs(report, &n);
    }
    /* A pulled download that is no bundle is refused by the signature
     * check below, in terms of a download rather than of a file. */
    if (!pulled)
        check_bundles_kept(&b, inputs, n, prev);
    if (b.failed)
        goto done;
    if (cfg->source.require_signature) {
        sigs = calloc(n ? n : 1, sizeof *sigs);
        if (!sigs) {
            problem(&b, "out of memory");
            goto done;
        }
        if (!check_signatures(&b, inputs, n, prev, sigs)) {
            free(sigs);
            sigs = NULL;
            goto done;
        }
    }
    rc_result r = rc_load(report, inputs, n, NULL, &prog);
    /* Warnings of a good set are logged too. */
    size_t len;
    const char *text = rc_report_text(report, NULL, &len);
    ru_buf_put(diag, text, len);
    set->nwarnings = rc_report_warnings(report);
    if (r != RC_OK) {
        b.failed = true;
        goto done;
    }
    check_rules_kept(&b, report, inputs, n, prev);
    if (b.failed)
        goto done;
    if (!record_files(set, report, inputs, n, sigs)) {
        problem(&b, "out of memory");
        goto done;
    }
    apply_overrides(&b, prog, report);
    if (b.failed)
        goto done;
    warm_up(&b, prog);
    if (b.failed || !load_token(&b, set))
        goto done;
    rd_time_iso(set->loaded_at, sizeof set->loaded_at);
    set->policies_json = policies_json(prog, set, revision, set->loaded_at, &set->policies_json_len);
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
    if (sigs) {
        for (size_t i = 0; i < n; i++)
            rd_signed_info_free(&sigs[i]);
        free(sigs);
    }
    if (prog)
        rv_program_free(prog);
    rc_report_free(report);
    if (b.failed && set) {
        rd_set_free(set);
        set = NULL;
    }
    return set;
}

rd_set *rd_set_build(const rd_config *cfg, uint64_t revision, const rd_set *prev, ru_buf *diag)
{
    return build(cfg, revision, prev, NULL, diag);
}

rd_set *rd_set_build_pulled(const rd_config *cfg, uint64_t revision, const rd_set *prev, const rc_input *pulled,
                            ru_buf *diag)
{
    return build(cfg, revision, prev, pulled, diag);
}

void rd_set_free(rd_set *set)
{
    if (!set)
        return;
    if (set->prog)
        rv_program_free(set->prog);
    free(set->policies_json);
    for (size_t i = 0; i < set->nfiles; i++) {
        free(set->files[i].path);
        rd_signed_info_free(&set->files[i].sig);
    }
    free(set->files);
    if (set->token) {
        /* Do not leave the token in freed heap memory. */
        volatile char *t = set->token;
        for (size_t i = 0; i < set->token_len; i++)
            t[i] = 0;
    }
    free(set->token);
    free(set);
}

static uint64_t stat_hash(uint64_t h, const char *path)
{
    struct stat st;
    h = ru_fnv1a(h, path, strlen(path) + 1);
    if (stat(path, &st) != 0) {
        int e = errno;
        return ru_fnv1a(h, &e, sizeof e);
    }
    int64_t f[5] = {(int64_t)st.st_size, (int64_t)st.st_mtim.tv_sec, (int64_t)st.st_mtim.tv_nsec,
                    (int64_t)st.st_ino, (int64_t)st.st_ctim.tv_nsec};
    return ru_fnv1a(h, f, sizeof f);
}

uint64_t rd_inputs_fingerprint(const rd_config *cfg)
{
    uint64_t h = RU_FNV_OFFSET;
    if (cfg->config_path)
        h = stat_hash(h, cfg->config_path);
    if (cfg->token_file)
        h = stat_hash(h, cfg->token_file);
    for (size_t k = 0; k < cfg->source.ntrusted_keys; k++)
        h = stat_hash(h, cfg->source.trusted_keys[k]);
    for (size_t e = 0; e < cfg->npolicies; e++) {
        const char *path = cfg->policies[e].path;
        size_t n;
        /* For a folder, its listing, not its own mtime: an editor's
         * temporary file must not trigger a reload of unchanged policies. */
        char **paths;
        if (rc_list_folder(path, &paths, &n) != 0)  /* a plain file */
            h = stat_hash(h, path);
        for (size_t i = 0; i < n; i++)
            h = stat_hash(h, paths[i]);
        rc_free_paths(paths, n);
    }
    return h;
}
