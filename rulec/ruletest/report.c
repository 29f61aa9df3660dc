/* report.c - machine-readable results of `rulec test`: one JSON
 * SPDX-License-Identifier: Apache-2.0
 * document (--json) and JUnit XML (--junit FILE). The XML goes to a temporary
 * file beside FILE, renamed into place, so CI never reads half a report. */
#include "cli.h"
#include "ruletest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void tt_report_init(tt_report *r)
{
    memset(r, 0, sizeof *r);
    ru_arena_init(&r->arena, NULL, NULL);
}

void tt_report_free(tt_report *r)
{
    free(r->results);
    free(r->files);
    free(r->file_errors);
    ru_arena_free(&r->arena);
    memset(r, 0, sizeof *r);
}

static const char *keep(tt_report *r, const char *s)
{
    return s ? ru_arena_strndup(&r->arena, s, strlen(s)) : NULL;
}

bool tt_report_file(tt_report *r, const char *file, const char *error)
{
    if (r->nfiles == r->capfiles) {
        size_t ncap = r->capfiles ? r->capfiles * 2 : 16;
        const char **nf = realloc(r->files, ncap * sizeof *nf);
        if (!nf)
            return false;
        r->files = nf;
        const char **ne = realloc(r->file_errors, ncap * sizeof *ne);
        if (!ne)
            return false;
        r->file_errors = ne;
        r->capfiles = ncap;
    }
    r->files[r->nfiles] = keep(r, file);
    r->file_errors[r->nfiles] = error ? keep(r, error) : NULL;
    r->nfiles++;
    return r->files[r->nfiles - 1] != NULL;
}

bool tt_report_case(tt_report *r, const tt_result *res)
{
    if (r->nresults == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 32;
        tt_result *nr = realloc(r->results, ncap * sizeof *nr);
        if (!nr)
            return false;
        r->results = nr;
        r->cap = ncap;
    }
    tt_result *d = &r->results[r->nresults++];
    *d = *res;
    d->file = keep(r, res->file);
    d->name = keep(r, res->name);
    d->failures = keep(r, res->failures ? res->failures : "");
    d->context = keep(r, res->context ? res->context : "");
    return d->file && d->name && d->failures && d->context;
}

/* ---- JSON ---- */

/* The document is built in a VM of its own and printed by it. */
typedef struct jb {
    rv_vm *vm;
    bool oom;
} jb;

static rv_doc *jstr(jb *j, const char *s)
{
    rv_doc *n = s ? rv_vm_new_string(j->vm, s) : rv_vm_new_null(j->vm);
    if (!n)
        j->oom = true;
    return n;
}

static void put(jb *j, rv_doc *obj, const char *key, rv_doc *v)
{
    if (!obj || !v || rv_vm_object_put(j->vm, obj, key, v) != RV_OK)
        j->oom = true;
}

static void push_item(jb *j, rv_doc *arr, rv_doc *v)
{
    if (!arr || !v || rv_vm_array_push(j->vm, arr, v) != RV_OK)
        j->oom = true;
}

/* Splits text into a list of its lines. */
static rv_doc *jlines(jb *j, const char *text)
{
    rv_doc *arr = rv_vm_new_array(j->vm);
    if (!arr) {
        j->oom = true;
        return NULL;
    }
    while (text && *text) {
        const char *nl = strchr(text, '\n');
        size_t n = nl ? (size_t)(nl - text) : strlen(text);
        char *line = strndup(text, n);
        push_item(j, arr, line ? rv_vm_new_string(j->vm, line) : NULL);
        free(line);
        text += n + (nl != NULL);
    }
    return arr;
}

static rv_doc *jline_numbers(jb *j, const uint32_t *v, size_t n)
{
    rv_doc *arr = rv_vm_new_array(j->vm);
    for (size_t i = 0; arr && i < n; i++)
        push_item(j, arr, rv_vm_new_int(j->vm, v[i]));
    if (!arr)
        j->oom = true;
    return arr;
}

static rv_doc *jshare(jb *j, size_t part, size_t whole, const char *part_name,
                      const char *whole_name)
{
    rv_doc *o = rv_vm_new_object(j->vm);
    put(j, o, whole_name, rv_vm_new_int(j->vm, (int64_t)whole));
    put(j, o, part_name, rv_vm_new_int(j->vm, (int64_t)part));
    /* Nothing to cover has no meaningful share: null, not a made-up 100. */
    put(j, o, "percent",
        whole ? rv_vm_new_float(j->vm, round(tt_percent(part, whole) * 10.0) / 10.0)
              : rv_vm_new_null(j->vm));
    return o;
}

bool tt_report_json(const tt_report *r, const tt_cover *cover, double min_coverage, FILE *out)
{
    jb j = {NULL, false};
    if (rv_vm_new(NULL, &j.vm) != RV_OK)
        return false;
    rv_vm *vm = j.vm;
    size_t passed = 0, failed = 0, errors = 0;
    for (size_t i = 0; i < r->nresults; i++)
        r->results[i].passed ? passed++ : failed++;
    for (size_t i = 0; i < r->nfiles; i++)
        errors += r->file_errors[i] != NULL;

    rv_doc *root = rv_vm_new_object(vm);
    put(&j, root, "passed", rv_vm_new_int(vm, (int64_t)passed));
    put(&j, root, "failed", rv_vm_new_int(vm, (int64_t)failed));
    put(&j, root, "errors", rv_vm_new_int(vm, (int64_t)errors));
    rv_doc *files = rv_vm_new_array(vm);
    for (size_t i = 0; files && i < r->nfiles; i++) {
        rv_doc *f = rv_vm_new_object(vm);
        put(&j, f, "file", jstr(&j, r->files[i]));
        put(&j, f, "errors", jlines(&j, r->file_errors[i]));
        push_item(&j, files, f);
    }
    put(&j, root, "files", files);
    rv_doc *cases = rv_vm_new_array(vm);
    for (size_t i = 0; cases && i < r->nresults; i++) {
        const tt_result *res = &r->results[i];
        rv_doc *c = rv_vm_new_object(vm);
        put(&j, c, "file", jstr(&j, res->file));
        put(&j, c, "line", rv_vm_new_int(vm, (int64_t)res->line));
        put(&j, c, "name", jstr(&j, res->name));
        put(&j, c, "passed", rv_vm_new_bool(vm, res->passed));
        put(&j, c, "failures", jlines(&j, res->failures));
        put(&j, c, "ran", jlines(&j, res->context));
        push_item(&j, cases, c);
    }
    put(&j, root, "cases", cases);
    if (cover) {
        rv_doc *cov = rv_vm_new_array(vm);
        for (size_t i = 0; cov && i < tt_cover_count(cover); i++) {
            tt_cover_stats s;
            tt_cover_stats_get(cover, i, &s);
            rv_doc *p = rv_vm_new_object(vm);
            put(&j, p, "policy", jstr(&j, s.name));
            put(&j, p, "source", jstr(&j, s.source));
            put(&j, p, "statements", jshare(&j, s.stmts_run, s.stmts, "run", "total"));
            put(&j, p, "condition_outcomes", jshare(&j, s.outcomes_seen, s.outcomes, "seen", "total"));
            put(&j, p, "lines_not_run", jline_numbers(&j, s.lines_not_run, s.nlines_not_run));
            put(&j, p, "conditions_never_true", jline_numbers(&j, s.never_true, s.nnever_true));
            put(&j, p, "conditions_never_false", jline_numbers(&j, s.never_false, s.nnever_false));
            if (min_coverage >= 0)
                put(&j, p, "below_minimum",
                    rv_vm_new_bool(vm, tt_percent(s.stmts_run, s.stmts) < min_coverage));
            tt_cover_stats_free(&s);
            push_item(&j, cov, p);
        }
        put(&j, root, "coverage", cov);
        if (min_coverage >= 0)
            put(&j, root, "min_coverage", rv_vm_new_float(vm, min_coverage));
    }
    const char *text;
    size_t len;
    rv_error err;
    bool ok = !j.oom && root && rv_vm_print(vm, root, RV_JSON, RV_PRETTY, &text, &len, &err) == RV_OK;
    if (ok) {
        fwrite(text, 1, len, out);
        fputc('\n', out);
    }
    rv_vm_free(vm);
    return ok;
}

/* ---- JUnit XML ---- */

static void xml_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default:
            /* XML 1.0 cannot hold other control characters at all. */
            if (c < 0x20 && c != '\n' && c != '\t' && c != '\r')
                fputc('?', f);
            else
                fputc(c, f);
        }
    }
}

/* The first line of text, for a failure's message attribute. */
static void xml_first_line(FILE *f, const char *text)
{
    const char *nl = strchr(text, '\n');
    size_t n = nl ? (size_t)(nl - text) : strlen(text);
    char buf[512];
    snprintf(buf, sizeof buf, "%.*s", (int)(n < sizeof buf - 1 ? n : sizeof buf - 1), text);
    xml_text(f, buf);
}

static void write_junit(const tt_report *r, FILE *f)
{
    size_t failed = 0, errors = 0;
    for (size_t i = 0; i < r->nresults; i++)
        failed += !r->results[i].passed;
    for (size_t i = 0; i < r->nfiles; i++)
        errors += r->file_errors[i] != NULL;
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    fprintf(f, "<testsuites name=\"rulec test\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\">\n",
            r->nresults + errors, failed, errors);
    for (size_t i = 0; i < r->nfiles; i++) {
        const char *file = r->files[i];
        size_t tests = 0, fails = 0;
        for (size_t k = 0; k < r->nresults; k++)
            if (strcmp(r->results[k].file, file) == 0) {
                tests++;
                fails += !r->results[k].passed;
            }
        bool err = r->file_errors[i] != NULL;
        fputs("  <testsuite name=\"", f);
        xml_text(f, file);
        fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%d\">\n", tests + err, fails, err);
        if (err) {
            /* A file that cannot be read is one errored test, so CI shows
             * it rather than a suite that silently ran nothing. */
            fputs("    <testcase classname=\"", f);
            xml_text(f, file);
            fputs("\" name=\"(test file)\">\n      <error message=\"", f);
            xml_first_line(f, r->file_errors[i]);
            fputs("\">", f);
            xml_text(f, r->file_errors[i]);
            fputs("</error>\n    </testcase>\n", f);
        }
        for (size_t k = 0; k < r->nresults; k++) {
            const tt_result *res = &r->results[k];
            if (strcmp(res->file, file) != 0)
                continue;
            fputs("    <testcase classname=\"", f);
            xml_text(f, file);
            fputs("\" name=\"", f);
            xml_text(f, res->name);
            fprintf(f, "\" file=\"");
            xml_text(f, file);
            fprintf(f, "\" line=\"%lu\"", res->line);
            if (res->passed) {
                fputs("/>\n", f);
                continue;
            }
            fputs(">\n      <failure message=\"", f);
            xml_first_line(f, res->failures);
            fputs("\">", f);
            xml_text(f, res->failures);
            if (res->context[0]) {
                fputs("what ran:\n", f);
                xml_text(f, res->context);
            }
            fputs("</failure>\n    </testcase>\n", f);
        }
        fputs("  </testsuite>\n", f);
    }
    fputs("</testsuites>\n", f);
}

bool tt_report_junit(const tt_report *r, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        fprintf(stderr, "rulec test: --junit: out of memory\n");
        return false;
    }
    write_junit(r, f);
    bool ok = fclose(f) == 0 && text;
    if (!ok)
        fprintf(stderr, "rulec test: --junit: out of memory\n");
    else
        ok = cli_write_atomically(path, text, len);
    free(text);
    return ok;
}
