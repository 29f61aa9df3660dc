/* ruletest.h - what the modules of `rulec test` share: test files read into
 * SPDX-License-Identifier: Apache-2.0
 * cases (testfile.c), expected-against-actual diffs (diff.c), document
 * helpers (doc.c), coverage (cover.c) and reports (report.c); runner.c
 * drives them. Like every program, the runner sees only public headers:
 * documents are rv_doc (rulevm.h), parsed into and built in VMs the runner
 * owns, and read through the rv_doc_* accessors. */
#ifndef RULETEST_H
#define RULETEST_H

#include "cli.h"     /* rulec.h, rulevm.h */
#include "arena.h"
#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A position in a test file (1-based), for located errors. */
typedef struct tt_loc {
    unsigned long line, col;
} tt_loc;

/* An expected message or warning: exact text, or a PCRE2 regex searched
 * anywhere in the text (anchor it with ^ and $ to match the whole). */
typedef struct tt_msg {
    const char *text;
    bool is_regex;
    void *re;            /* pcre2_code_8 *, freed by tt_file_free */
    tt_loc loc;
} tt_msg;

/* One segment of a spec path: a key, or an index when key is NULL. */
typedef struct tt_seg {
    const char *key;
    size_t klen;
    long index;
} tt_seg;

/* An expected change (`changes:`) or removal (`removed:`). */
typedef struct tt_change {
    tt_seg *segs;
    size_t nseg;
    const char *path;    /* canonical text, as the diff prints paths */
    rv_doc *value;       /* NULL: the field must be gone (never changed) */
    tt_loc loc;
} tt_change;

/* A parameter override: policy NULL means every policy that declares it. */
typedef struct tt_param {
    const char *policy, *name;
    const char *value;   /* a YAML string as written, read by rc_set_param (1h) */
    bool json;           /* value is any other YAML value as compact JSON */
    tt_loc loc;
} tt_param;

typedef enum tt_spec_mode {
    TT_SPEC_ANY,         /* the output spec is not checked */
    TT_SPEC_WHOLE,       /* expect.spec: the whole output */
    TT_SPEC_CHANGES,     /* expect.changes/removed: these and nothing else */
    TT_SPEC_UNCHANGED    /* expect.unchanged: true */
} tt_spec_mode;

typedef struct tt_case {
    const char *name;
    tt_loc loc;
    const char *kind, *user, *project;
    const char *spec_json;    /* the input spec, compact JSON */
    const char *request_json; /* $request (a mapping), compact JSON; NULL: none */
    tt_param *params;         /* overrides for this case only */
    size_t nparams;
    int decision;             /* 1 allowed, 0 rejected */
    bool check_messages, check_warnings;
    tt_msg *messages, *warnings;
    size_t nmessages, nwarnings;
    tt_spec_mode spec_mode;
    const rv_doc *expect_spec;  /* TT_SPEC_WHOLE: the expected spec */
    tt_change *changes;
    size_t nchanges;
} tt_case;

/* A `policies:` entry: a .rules file or a folder of them. */
typedef struct tt_policy_ref {
    const char *path;         /* resolved against the test file's folder */
    tt_loc loc;
    tt_param *params;         /* policy is NULL here: "the policies from path" */
    size_t nparams;
} tt_policy_ref;

typedef struct tt_file {
    const char *path;
    rv_vm *vm;                /* the file's documents (specs, expected values)
                                 live in this VM until tt_file_free */
    ru_arena arena;           /* everything else below lives here */
    const char *target;       /* `target:`: of policies naming none, and of
                                 the cases' kinds; NULL: dstack */
    tt_policy_ref *policies;
    size_t npolicies;
    tt_param *params;
    size_t nparams;
    tt_case *cases;
    size_t ncases;
    void **regexes;           /* every compiled tt_msg.re, to free */
    size_t nregexes, cap_regexes;
} tt_file;

/* Where errors go: stderr, and a copy kept for the reports. */
typedef struct tt_errors {
    ru_buf text;
    int count;
} tt_errors;

void tt_error(tt_errors *e, const char *file, tt_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- testfile.c ---- */

/* Reads and checks a test file. false after reporting every problem found
 * (file:line:col); *f is then still initialised and must be freed. */
bool tt_file_read(const char *path, tt_file *f, tt_errors *errs);
void tt_file_free(tt_file *f);
/* Whether text matches an expected message. */
bool tt_msg_matches(const tt_msg *m, const char *text);
/* Appends a path in the canonical form: a.b["odd key"][0]. */
void tt_path_append_key(ru_buf *b, const char *key, size_t klen, bool first);

/* ---- diff.c ---- */

/* Lines saying how actual differs from expected, field by field, appended
 * to out (one "path: expected X, got Y" per line, each ending in '\n').
 * changes, when given, are the fields the case expects to change: a
 * difference anywhere else is labelled "(unchanged)". Values are printed
 * with vm (its print buffer is reused). Returns the number of differences. */
size_t tt_diff(ru_buf *out, rv_vm *vm, const rv_doc *expected, const rv_doc *actual,
               const tt_change *changes, size_t nchanges, bool label_unchanged);
/* Builds the expected spec for TT_SPEC_CHANGES: input with the changes
 * applied, built in vm (input and the change values are not modified; the
 * result shares their unchanged parts, so it is valid while they are).
 * NULL with a reason in why when a path cannot be applied. */
const rv_doc *tt_apply_changes(rv_vm *vm, rv_doc *input, const tt_change *changes,
                               size_t nchanges, char *why, size_t whysize);

/* ---- doc.c ---- */

/* Appends doc's compact JSON, printed with vm; false (and b->oom) when
 * out of memory. */
bool tt_doc_json(ru_buf *b, rv_vm *vm, const rv_doc *doc);
/* New containers in vm, sharing the values of the old ones, which are
 * never changed (NULL: out of memory). with_key: obj (NULL: an empty
 * object) with obj[key] = value, replaced in place or appended. with_item:
 * arr with item i = value (i == length appends). The without_ forms return
 * the input itself when there is nothing to remove. */
rv_doc *tt_doc_with_key(rv_vm *vm, const rv_doc *obj, const char *key, rv_doc *value);
rv_doc *tt_doc_without_key(rv_vm *vm, rv_doc *obj, const char *key);
rv_doc *tt_doc_with_item(rv_vm *vm, const rv_doc *arr, size_t i, rv_doc *value);
rv_doc *tt_doc_without_item(rv_vm *vm, rv_doc *arr, size_t i);

/* ---- cover.c ---- */

typedef struct tt_cover tt_cover;     /* coverage of every policy seen */
typedef struct tt_cover_pol tt_cover_pol;

tt_cover *tt_cover_new(void);
void tt_cover_free(tt_cover *c);
/* The record for a policy compiled from source (found or created).
 * ncode is its instruction count. NULL when out of memory. */
tt_cover_pol *tt_cover_policy(tt_cover *c, const char *name, const char *source,
                              const rc_cover_map *map, uint32_t ncode);
/* Records one trace event. */
void tt_cover_hit(tt_cover_pol *p, uint32_t pc, int taken);
size_t tt_cover_count(const tt_cover *c);
/* Figures for policy i (in name order). lines_not_run is a malloc'd array
 * of the first lines of statements never run (caller frees). */
typedef struct tt_cover_stats {
    const char *name, *source;
    size_t stmts, stmts_run;
    size_t outcomes, outcomes_seen;     /* 2 per condition */
    uint32_t *lines_not_run;
    size_t nlines_not_run;
    uint32_t *never_true, *never_false; /* condition lines, malloc'd */
    size_t nnever_true, nnever_false;
} tt_cover_stats;
void tt_cover_stats_get(const tt_cover *c, size_t i, tt_cover_stats *s);
void tt_cover_stats_free(tt_cover_stats *s);
/* Share as a percentage; an empty policy counts as fully covered. */
double tt_percent(size_t part, size_t whole);
/* Writes "12-14, 20" for sorted lines. */
void tt_lines_append(ru_buf *b, const uint32_t *lines, size_t n);

/* ---- report.c ---- */

/* What one case produced, for the reports. */
typedef struct tt_result {
    const char *file;
    const char *name;
    unsigned long line;
    bool passed;
    const char *failures;     /* what differed, one per line; "" when passed */
    const char *context;      /* what ran, one per line (failed cases) */
} tt_result;

typedef struct tt_report {
    tt_result *results;
    size_t nresults, cap;
    const char **files;       /* test files in run order */
    const char **file_errors; /* the file's load errors, or NULL */
    size_t nfiles, capfiles;
    ru_arena arena;           /* strings of the report */
} tt_report;

void tt_report_init(tt_report *r);
void tt_report_free(tt_report *r);
bool tt_report_file(tt_report *r, const char *file, const char *error);
bool tt_report_case(tt_report *r, const tt_result *res);
/* --json: the results (and coverage when cover is not NULL) on out. */
bool tt_report_json(const tt_report *r, const tt_cover *cover, double min_coverage, FILE *out);
/* --junit: JUnit XML written atomically (temp file, then rename). */
bool tt_report_junit(const tt_report *r, const char *path);

#endif
