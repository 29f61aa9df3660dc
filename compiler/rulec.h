/* rulec.h - the one public header of the rules compiler (librulec).
 * SPDX-License-Identifier: Apache-2.0
 *
 * One call, rc_load, turns a list of inputs -- `.rules` sources and `.rbc`
 * bundles, told apart by their content (the bundle magic), never by a file
 * name -- into a verified rv_program (see rulevm.h) and a report: the
 * diagnostics as records and as printed text, and on request the whole set
 * as one bundle and each compiled policy's coverage map. Every host loads
 * policies this way: rulec, its test runner, rulesd, the benchmarks, the
 * fuzz targets and the unit tests.
 *
 * A file with no content cannot be told apart that way: an empty (or
 * comment-only) source compiles to a policy with no rules, which loads
 * with a warning -- or, when the file is named `*.rbc`, is an error: a
 * bundle name with no bundle behind it is a truncated deployment, and must
 * not become a policy that allows everything.
 *
 * OWNERSHIP. The library never exits and never prints. An rc_report is
 * made by rc_report_new and freed by rc_report_free; everything reachable
 * from it (records, text, bundle bytes, coverage maps, the inputs
 * rc_read_inputs filled in) lives until then. rc_load copies what it needs
 * from the inputs: the caller may free them once it returns. The program it
 * makes belongs to the caller (rv_program_free). Memory comes from
 * malloc/free.
 *
 * SETS. Loading applies the contract's policy-set rule once, in the VM
 * (rv_program_load): policies run in ascending priority, ties by name; of
 * two policies with one name only the higher priority is kept, and two with
 * one name and one priority are an error. Sources are checked against the
 * same rule first, so that a clash between two sources is reported at both
 * headers.
 */
#ifndef RULEC_H
#define RULEC_H

#include "rulevm.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Inputs ---- */

typedef struct rc_input {
    const char *name;       /* for diagnostics, and a source's policy "source" */
    const char *data;       /* source text or bundle bytes */
    size_t size;            /* bytes */
    int has_priority;       /* nonzero: every policy of this source gets priority */
    int32_t priority;       /* (an error for a bundle: its priorities are fixed) */
    size_t tag;             /* the caller's own (rc_read_inputs: the argument index);
                               reported back per policy in rc_report.policy_tag */
} rc_input;

typedef struct rc_report rc_report;

/* Lists the policy files of a folder, the one rule every host follows:
 * names ending in `.rules` or `.rbc` that do not start with '.', sorted by
 * name (strcmp), not recursive. *paths is a malloc'd array of malloc'd
 * "dir/name" strings (free with rc_free_paths). Returns 0, or an errno
 * value (ENOTDIR when dir is not a folder). */
int rc_list_folder(const char *dir, char ***paths, size_t *count);
void rc_free_paths(char **paths, size_t count);

/* Reads policy arguments: a folder stands for the files rc_list_folder
 * names (an error when there are none), anything else for itself ("-":
 * standard input). Each file is read whole, refusing more than max_bytes
 * (0: 64 MiB), and appended to the report's input list with tag = the index
 * of the argument it came from. Every problem (unreadable, empty folder,
 * too large, a NUL byte in a non-bundle) is an error record naming the
 * file; the others are still read. Returns 1 when all were read. */
int rc_read_inputs(rc_report *report, const char *const *args, size_t nargs, size_t max_bytes);

/* Told of each problem as it is recorded (message as in the record), so a
 * host can say where the argument came from (a configuration entry, a
 * test file's line). */
typedef void (*rc_problem_fn)(void *ud, const char *message);
/* rc_read_inputs for one argument, whose inputs all get tag; on_problem
 * (may be NULL) hears each problem too. Returns 1 when all was read. */
int rc_read_input(rc_report *report, const char *arg, size_t tag, size_t max_bytes,
                  rc_problem_fn on_problem, void *ud);
/* The inputs rc_read_inputs read, in order (owned by the report; a caller
 * may set has_priority/priority on them before rc_load). */
rc_input *rc_report_inputs(rc_report *report, size_t *count);

/* ---- Loading ---- */

#define RC_BUNDLE   1u   /* fill rc_report.bundle: the whole set as one bundle */
#define RC_COVERAGE 2u   /* fill rc_report.coverage for compiled policies */

typedef enum rc_result {
    RC_OK = 0,
    RC_INVALID,     /* the sources have errors (see the records) */
    RC_FAILED       /* an input cannot be used: a corrupt or unverifiable
                       bundle, a clash between bundles, out of memory */
} rc_result;

/* How to load. A zeroed struct (or NULL) means the defaults. */
typedef struct rc_options {
    const rv_config *vm;        /* the program's VM configuration; NULL: defaults */
    unsigned flags;             /* RC_BUNDLE, RC_COVERAGE */
    const char *target;         /* for sources whose header names none; NULL:
                                   "dstack". "any" checks no kinds or paths
                                   (documents no schema describes). */
} rc_options;

/* Compiles every source, checking its kinds and paths against its
 * target's schemas, checks the set, loads sources and bundles as one
 * verified program. Diagnostics of every input are reported, not only the
 * first failing one. On RC_OK *out is the program; otherwise *out is NULL
 * and the report says why. */
rc_result rc_load(rc_report *report, const rc_input *inputs, size_t ninputs,
                  const rc_options *options, rv_program **out);

/* Whether kind is one of target's kinds (target NULL: "dstack"; every kind
 * name is one of "any"'s; kind NULL: only whether the target exists). 1
 * when it is; 0 with why filled (NUL-terminated, at most size bytes): an
 * unknown target or kind, with the known names and the closest one. For
 * the kinds a request names (`rulec apply --kind`, test cases, rulesd's
 * /v1/evaluate). */
int rc_target_has_kind(const char *target, const char *kind, char *why, size_t size);

/* The rv_request.target a host passes for a request of kind, given the
 * target it was told (`--target`, a test file's `target:`; NULL:
 * "dstack"): that target's name, or for "any" the one target that has
 * the kind ("run": dstack, "launch": skypilot), so a set holding several
 * targets' policies never runs one protocol's `on *` on another's spec;
 * NULL when no target or several have it (every policy whose kinds match
 * runs). A static string. */
const char *rc_request_target(const char *target, const char *kind);

/* The known targets and their kinds, for completions and listings: the
 * name of target i ("dstack", "skypilot", "any"), and of kind i of target
 * (NULL: "dstack"); NULL past the last (and for every kind of "any", which
 * takes any name, or an unknown target). */
const char *rc_target_name(size_t i);
const char *rc_target_kind_name(const char *target, size_t i);

/* ---- Secrets ---- */

/* Told each secret value's text; text is valid during the call only. */
typedef void (*rc_secret_fn)(void *ud, const char *text, size_t len);

/* Calls fn with every secret value of spec, a document of kind in target
 * (NULL: "dstack"): the strings and numbers (as printed) at one of the
 * kind's secret paths (schemas/TARGET/secrets.json), or under a key that
 * names a credential (password, token, api-key, access_key, passphrase,
 * authorization, ...: docs/language.md, "Secrets") at any depth, each
 * string and number inside a list or map there one by one, and of a
 * "NAME=VALUE" string also VALUE. A target with no list ("any") has the
 * key rule only; one whose list cannot be read reports every value. For
 * hosts that log decisions: the compiler marks what it sees derive from a
 * secret (rulevm.h, SECRETS), and these texts are the last line of defence
 * for values that reach a logged text some other way (a policy copied one
 * into a field that is no secret, and another policy printed it). Returns
 * how many values it reported. */
size_t rc_secret_values(const char *target, const char *kind, const rv_doc *spec, rc_secret_fn fn,
                        void *ud);

/* ---- Parameter overrides ---- */

/* Reads text written in the language's literal syntax -- `1h`, `24GB`,
 * `2.0`, `-3`, `"text"`, `true`, `null`, `["a", "b"]`, `{a: 1}` -- with
 * the compiler's own scanner and parser, so a value means exactly what it
 * means as a `param` default (`1h` is the int 3600, `24GB` the float 24.0).
 * Returns 1 with *json the value as compact JSON (malloc'd: the caller
 * frees it); 0 when the text is not a literal (a bare word such as `ml`,
 * an expression, a syntax error), with *json NULL; -1 when memory ran out.
 * why (may be NULL) gets a NUL-terminated reason when 0 is returned, such
 * as "column 3: unknown unit suffix 'x'". */
int rc_literal_json(const char *text, size_t len, char **json, char *why, size_t whysize);

/* Overrides a parameter from text written as in a policy: the one way
 * rulec's --param, rulesd's configuration and --param and rule test files
 * read an override. A literal (rc_literal_json) is its value; any other
 * text is taken as a string (`team=ml`). Then rv_program_set_param checks
 * the value against the type of the parameter's declared default, so a
 * bare word is accepted only where the default is a string (or null), and
 * `intern_max_gpus=two` is RV_EPARAM. err->message names policy.param, the
 * type and the value; the caller adds where the override came from. */
rv_status rc_set_param(rv_program *prog, const char *policy, const char *param, const char *text,
                       rv_error *err);

/* ---- Formatting ---- */

/* Lays out a source (text, len bytes; name for diagnostics) in the
 * canonical layout of `rulec fmt` (docs/language.md, "Layout"): only the
 * blanks between tokens change, comments stay where they were, and
 * formatting formatted text changes nothing. RC_OK: *out is the formatted
 * text (malloc'd, NUL-terminated, *outlen bytes; the caller frees it).
 * RC_INVALID: the text does not parse; the report holds the parser's
 * diagnostics and nothing is formatted. RC_FAILED: memory ran out, or the
 * layout would have changed a token (an internal error, reported); *out is
 * NULL. */
rc_result rc_format(rc_report *report, const char *name, const char *text, size_t len, char **out,
                    size_t *outlen);

/* ---- The report ---- */

typedef enum rc_severity { RC_ERROR, RC_WARNING, RC_NOTE } rc_severity;

/* A source span, 1-based; last_column is one past the last character.
 * (Field names are bison's: this is the parser's location type.) */
typedef struct rc_span {
    int first_line, first_column;
    int last_line, last_column;
} rc_span;

/* One diagnostic. A note belongs to the record before it. */
typedef struct rc_diagnostic {
    rc_severity severity;
    const char *file;       /* NULL: not tied to a file */
    rc_span span;           /* all 0 when not tied to a place */
    const char *message;
} rc_diagnostic;

/* Where each statement, and each statement's condition, sits in a
 * compiled policy's code: what `rulec test --coverage` needs to turn
 * executed instructions (rv_vm_set_trace) into statements and condition
 * outcomes. */
typedef struct rc_cover_point {
    uint32_t pc;            /* statement: its first instruction; condition: its JFALSE */
    rc_span span;           /* statement: the whole statement; condition: the expression */
} rc_cover_point;

typedef struct rc_cover_map {
    rc_cover_point *stmts;  /* in code order */
    size_t nstmts;
    rc_cover_point *conds;  /* match, forbid-if and warn-if conditions */
    size_t nconds;
} rc_cover_map;

rc_report *rc_report_new(void);   /* NULL: out of memory */
void rc_report_free(rc_report *report);

/* The records, sorted by file (in order of first appearance) and position,
 * each note right after its record. Valid until the next call that adds
 * records. */
const rc_diagnostic *rc_report_diagnostics(rc_report *report, size_t *count);
int rc_report_errors(const rc_report *report);
int rc_report_warnings(const rc_report *report);

/* Every record printed as `file:line:col: error: message`, the source
 * line, and `^~~~` under the span (`file: error: message` for a whole
 * file; `PROGRAM: error: message` for a record tied to no file, PROGRAM
 * being program, or nothing when it is NULL). NUL-terminated, "" when there
 * are none; len may be NULL. Valid until the next rc_report_text. */
const char *rc_report_text(rc_report *report, const char *program, size_t *len);

/* With RC_BUNDLE: the loaded set as one bundle (the file `rulec compile`
 * writes). NULL otherwise. */
const void *rc_report_bundle(const rc_report *report, size_t *size);

/* Per policy i of the loaded program (rv_program_policy order): the tag of
 * the input it came from, its source text (NULL for a policy from a
 * bundle), and, with RC_COVERAGE, its coverage map (NULL for a policy from
 * a bundle). i must be below rv_program_policy_count. */
size_t rc_report_policy_tag(const rc_report *report, size_t i);
/* What the last successful rc_load made of its input k (in the order they
 * were given): a host that watches its files compares this with what a
 * file held before (rulesd refuses a reload in which a bundle stopped
 * being one, or a source with rules compiled to none). RC_FORM_UNKNOWN
 * after a failed load or for k out of range. */
typedef enum rc_input_form {
    RC_FORM_UNKNOWN = 0,
    RC_FORM_BUNDLE,         /* a bundle (it starts with the magic) */
    RC_FORM_SOURCE,         /* a source whose policy holds rules */
    RC_FORM_NO_RULES        /* a source whose policy holds none (a warning) */
} rc_input_form;
rc_input_form rc_report_input_form(const rc_report *report, size_t k);
const char *rc_report_policy_text(const rc_report *report, size_t i, size_t *len);
const rc_cover_map *rc_report_coverage(const rc_report *report, size_t i);

#ifdef __cplusplus
}
#endif
#endif
