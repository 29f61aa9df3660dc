/* rulevm.h - the one public header of the rules VM library (librulevm).
 * SPDX-License-Identifier: Apache-2.0
 *
 * The library loads verified bytecode bundles, parses specs (JSON or YAML),
 * evaluates policies against them and prints the result. It never exits,
 * never prints, and reports every failure through an rv_error.
 *
 * OWNERSHIP. An rv_program is built by rv_program_load from bytes the caller
 * owns and may free right after the call; the program copies what it needs.
 * Parameter overrides (rv_program_set_param) must be made before the program
 * is first evaluated; after that it is immutable and may be shared by any
 * number of threads, each with its own rv_vm. An rv_vm is not thread-safe.
 * Everything an rv_vm hands out -- documents (rv_doc), decisions, printed
 * text -- lives in the VM's scratch memory and stays valid until the next
 * rv_vm_reset() or rv_vm_free() on that VM; the caller never frees anything
 * the library hands out. Two exceptions: a decision's message and change
 * arrays are reused by the next rv_vm_eval, and printed text (rv_vm_print,
 * rv_program_disasm: NUL-terminated, in one buffer per VM) by the next
 * print on that VM. The library's own memory comes from the allocator in
 * rv_config (malloc/free by default); reading and printing JSON take all
 * of theirs from it. The exceptions are the dependencies: libyaml builds
 * its parser state with malloc/free while a YAML text is read, and PCRE2's
 * JIT takes its executable pages from the system.
 */
#ifndef RULEVM_H
#define RULEVM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The one place the version lives: rulec and rulesd print it, and the
 * Makefile reads these three lines for rulevm.pc and the shared library's
 * file name and SONAME (librulevm.so.MAJOR). */
#define RV_VERSION_MAJOR 0
#define RV_VERSION_MINOR 3
#define RV_VERSION_PATCH 0

/* Shaped like lua_Alloc: nsize == 0 frees ptr and returns NULL; otherwise
 * behaves as realloc(ptr, nsize) (osize is the old size, 0 for new blocks). */
typedef void *(*rv_alloc_fn)(void *ud, void *ptr, size_t osize, size_t nsize);

typedef enum rv_status {
    RV_OK = 0,
    RV_ENOMEM,   /* the allocator failed */
    RV_EFORMAT,  /* bytecode: bad magic, version, size or checksum */
    RV_EVERIFY,  /* bytecode: well formed but fails verification */
    RV_EPARSE,   /* a spec or value text is not valid JSON/YAML */
    RV_ELIMIT,   /* a limit was hit: instruction budget, regex work, nesting */
    RV_EPARAM,   /* a parameter override names no such policy or parameter,
                    or its value is not of the parameter's type */
    RV_EPOLICY,  /* a policy set is inconsistent (duplicate name and priority) */
    RV_EINPUT,   /* anything else wrong with what the caller passed */
    RV_EEVAL     /* evaluation: an operator or function cannot apply to its
                  * operands (types, division by zero); the message names the
                  * policy, line, operator and operands */
} rv_status;

/* Filled on failure. line/column are the 1-based position in the input
 * text (a spec, or a parameter's value) when known, 0 otherwise. The
 * position is in these fields only, never in message: a caller that prints
 * the error composes it, e.g. "file:line:col: message". */
typedef struct rv_error {
    rv_status status;
    unsigned long line, column;
    char message[512];
} rv_error;

typedef struct rv_config {
    rv_alloc_fn alloc;          /* NULL: malloc/realloc/free */
    void *alloc_ud;
    uint64_t instruction_budget;  /* per decision, all policies; 0: default */
    uint32_t regex_match_limit;   /* PCRE2 match limit; 0: default */
    uint32_t regex_depth_limit;   /* PCRE2 depth limit; 0: default */
    uint32_t max_nesting;         /* document nesting; 0: default (512) */
} rv_config;

void rv_config_init(rv_config *cfg);

/* ---- Programs: verified, immutable policy sets ---- */

typedef struct rv_program rv_program;
typedef struct rv_vm rv_vm;    /* an evaluator: see VMs and documents below */

typedef struct rv_blob {
    const void *data;
    size_t size;
    const char *name;  /* for messages (a file name); may be NULL */
} rv_blob;

/* Loads and verifies n bytecode bundles as one policy set: policies run in
 * ascending priority (ties by name); of two policies with the same name only
 * the higher priority is kept (equal priority is an RV_EPOLICY error). */
rv_status rv_program_load(const rv_blob *blobs, size_t n, const rv_config *cfg,
                          rv_program **out, rv_error *err);
void rv_program_free(rv_program *prog);

/* Overrides a parameter. policy may be NULL: then every policy that declares
 * the parameter gets the value, and it is an error if none does. value_json
 * is a JSON value; if it does not parse as JSON it is taken as a string.
 * (Text in the language's own literal syntax -- `1h`, `24GB` -- is read by
 * the compiler library: rc_set_param in rulec.h.)
 * The value must have the type of the parameter's declared default: an int
 * for an int, a float or an int for a float (an int becomes a float: 3 ->
 * 3.0), a string, a bool, a list or a map likewise; a null default declares
 * no type and takes any value. Anything else is RV_EPARAM with a message
 * naming policy.param, the type, the default and the value, and changes
 * nothing (with policy NULL, every policy that declares the parameter must
 * take the value). The declared type is the default's as loaded, so an
 * earlier override never changes what a later one must be.
 * Once rv_vm_eval has been called with the program (on any thread, whatever
 * it returned), parameters are fixed and this returns RV_EINPUT. Not
 * thread-safe: make every override before sharing the program. */
rv_status rv_program_set_param(rv_program *prog, const char *policy, const char *param,
                               const char *value_json, rv_error *err);

typedef struct rv_policy_info {
    const char *name;
    const char *source;     /* file the policy was compiled from */
    int32_t priority;
    uint32_t checksum;      /* CRC-32 of the policy's bytecode section */
    size_t nkinds;          /* 0 means every kind ("on *") */
    const char *const *kinds;
    size_t nparams;
    size_t ninstructions;
    size_t bundle;          /* index of the rv_blob it was loaded from */
    const char *target;     /* "dstack", "skypilot", "any" (rv_request.target) */
} rv_policy_info;

size_t rv_program_policy_count(const rv_program *prog);
void rv_program_policy(const rv_program *prog, size_t i, rv_policy_info *info);
/* Parameter j of policy i: its name and current value as compact JSON text
 * (valid as long as the program). */
void rv_program_param(const rv_program *prog, size_t i, size_t j, const char **name,
                      const char **value_json);
/* Whether policy i declares a parameter called name: 1 or 0. */
int rv_program_declares(const rv_program *prog, size_t i, const char *name);

/* SHA-256 content digests that identify what runs, as 64 lowercase hex
 * digits (NUL-terminated, valid as long as the program; NULL for a NULL
 * program or an i out of range). rv_program_digest is the digest of the
 * whole set: of exactly the bytes rv_program_save writes now (so of the
 * file `rulec compile` writes for the same inputs). rv_program_policy_digest
 * is policy i's: of its section of that bundle, the bytes its CRC-32
 * checksum covers (name, priority, source file name, kinds, constants,
 * parameters, regexes, paths, code, lines). Both cover the current
 * parameter values, so an override changes them. */
const char *rv_program_digest(const rv_program *prog);
const char *rv_program_policy_digest(const rv_program *prog, size_t i);

/* Prints a readable listing of the whole set (policies, parameters,
 * constants, instructions with source lines). The text is printed text of
 * vm, like rv_vm_print's (see OWNERSHIP). */
rv_status rv_program_disasm(const rv_program *prog, rv_vm *vm, const char **out, size_t *len,
                            rv_error *err);

/* Writes the whole set (the policies that run, in run order, with their
 * current parameter values) as one bundle that rv_program_load accepts:
 * several bundles merged into one. The bytes are in vm's print buffer,
 * like printed text (see OWNERSHIP): valid until the next print on vm. */
rv_status rv_program_save(const rv_program *prog, rv_vm *vm, const void **out, size_t *size,
                          rv_error *err);

/* ---- VMs and documents ---- */

typedef struct rv_doc rv_doc;    /* a node of a parsed or built document */

typedef enum rv_format { RV_AUTO = 0, RV_JSON, RV_YAML } rv_format;
typedef enum rv_doc_type {
    RV_NULL, RV_BOOL, RV_INT, RV_FLOAT, RV_STRING, RV_ARRAY, RV_OBJECT
} rv_doc_type;

rv_status rv_vm_new(const rv_config *cfg, rv_vm **out);
void rv_vm_free(rv_vm *vm);
/* Releases everything the VM handed out since the last reset; keeps the
 * memory for reuse, so a steady stream of decisions needs nothing new from
 * the allocator (the parsers aside: see the note at the top). */
void rv_vm_reset(rv_vm *vm);

/* Parses text (JSON, YAML, or RV_AUTO: JSON when the first non-blank byte is
 * '{' or '[', else YAML). name is used in error messages. */
rv_status rv_vm_parse(rv_vm *vm, const char *text, size_t len, rv_format fmt,
                      rv_doc **out, rv_error *err);

/* Prints a document. flags: RV_PRETTY indents (2 spaces in JSON). YAML
 * output keeps key order. The text is printed text (see OWNERSHIP).
 * In JSON, a number or string read from JSON that no policy replaced prints
 * exactly as it was written (1e400, 1.0, -0.0, "\u00e9" unchanged); values
 * the VM computed or a host built print canonically (ints as digits, floats
 * in their shortest round-trip form, strings escaped only where JSON
 * must). RV_VERBATIM also copies out every object and array read from JSON
 * that nothing changed (neither it nor anything below it) as it was read,
 * whitespace included, so a spec a policy set rejected prints byte for byte
 * as it was received; in one that changed, the runs of members still as
 * read are copied as written and the rest laid out compactly. Without it,
 * containers are laid out by the printer. In YAML, RV_VERBATIM prints a
 * document read from YAML as its own text: byte for byte when nothing
 * changed, else that text with only the changed parts edited, so comments
 * and layout stay (docs/yaml.md, "What is kept"); without it, and for
 * anything else, YAML is printed from the values. */
#define RV_PRETTY 1
#define RV_VERBATIM 2
rv_status rv_vm_print(rv_vm *vm, const rv_doc *doc, rv_format fmt, int flags,
                      const char **out, size_t *len, rv_error *err);

/* Reading documents. Accessors given the wrong type return 0/NULL. */
rv_doc_type rv_doc_kind(const rv_doc *doc);
rv_doc *rv_doc_get(const rv_doc *obj, const char *key);  /* NULL if absent */
const char *rv_doc_string(const rv_doc *doc);            /* NULL unless a string */
int rv_doc_bool(const rv_doc *doc);                      /* 1 only for true */
int64_t rv_doc_int(const rv_doc *doc);                   /* ints (floats truncated) */
double rv_doc_number(const rv_doc *doc);                 /* ints and floats */
size_t rv_doc_len(const rv_doc *doc);    /* array items, object members, string bytes */
rv_doc *rv_doc_item(const rv_doc *arr, size_t i);        /* NULL out of range */
const char *rv_doc_key(const rv_doc *obj, size_t i);     /* member i's key */
/* Whether two documents are equal as the language's `==` sees them: ints
 * and floats by exact value (1 == 1.0), NaN equal to nothing, strings
 * bytewise, lists item by item, objects member by member in any key order.
 * 1 or 0. */
int rv_doc_equal(const rv_doc *a, const rv_doc *b);
rv_doc *rv_doc_value(const rv_doc *obj, size_t i);       /* member i's value */

/* Building documents (for responses). The results live in the VM like
 * parsed documents; strings and keys are copied. NULL when out of memory. */
rv_doc *rv_vm_new_object(rv_vm *vm);
rv_doc *rv_vm_new_array(rv_vm *vm);
rv_doc *rv_vm_new_string(rv_vm *vm, const char *s);
rv_doc *rv_vm_new_null(rv_vm *vm);
rv_doc *rv_vm_new_bool(rv_vm *vm, int b);
rv_doc *rv_vm_new_int(rv_vm *vm, int64_t i);
rv_doc *rv_vm_new_float(rv_vm *vm, double f);
/* Sets obj[key] (replacing an existing key in place). */
rv_status rv_vm_object_put(rv_vm *vm, rv_doc *obj, const char *key, rv_doc *value);
rv_status rv_vm_array_push(rv_vm *vm, rv_doc *arr, rv_doc *value);

/* ---- Decisions ---- */

typedef struct rv_request {
    const char *kind;     /* "run", "fleet", "jobs.launch", ... ($kind) */
    const char *user;     /* $user; NULL reads as "" */
    const char *project;  /* $project; NULL reads as "" */
    /* $request: what else the orchestrator says of the request, a document
     * the host builds (SkyPilot: {name, at_client_side, options,
     * client_api_version, client_version, user: {id, name, user_type}},
     * docs/language.md "Targets and schemas"); NULL reads as null. Read,
     * never written or copied: it must outlive the rv_vm_eval call. */
    const rv_doc *request;
    /* Whose protocol the request came by: "dstack" or "skypilot", the
     * target a policy names in its header (docs/language.md "Targets and
     * schemas"). Only that target's policies, and those of target "any",
     * judge it: a SkyPilot policy's `on *` never runs on a dstack spec.
     * NULL: every policy whose kinds match (a host with one target's
     * policies). Set it whenever policies of several targets may be loaded. */
    const char *target;
} rv_request;

/* SECRETS. The compiler marks every message part and every write whose
 * value it sees derive from a secret path of the target's schema (an env
 * value, a password, a private key: docs/language.md, "Secrets"), and
 * every write at, above or below such a path. A decision keeps the
 * requester's answer whole (text, the spec) and says what else may be
 * shown: a host that logs a decision, or explains it to anyone but the
 * requester, prints `redacted` for a message and RV_REDACTED for both
 * values of a change whose `secret` is set. */
#define RV_REDACTED "[REDACTED]"

typedef struct rv_message {
    const char *text;
    const char *policy;
    uint32_t line;
    /* text with every marked part replaced by RV_REDACTED: what may be
     * logged. The same pointer as text when no part is marked. */
    const char *redacted;
} rv_message;

typedef struct rv_change {
    const char *path;         /* e.g. configuration.tags.team */
    const rv_doc *old_value;  /* NULL: was missing */
    const rv_doc *new_value;  /* NULL: removed */
    const char *policy;
    uint32_t line;
    int secret;               /* 1: marked; log neither value (the path may be logged) */
} rv_change;

typedef struct rv_decision {
    int allowed;
    rv_doc *spec;  /* the rewritten spec, or the input unchanged if rejected */
    const rv_message *errors;   size_t nerrors;
    const rv_message *warnings; size_t nwarnings;
    const rv_change *changes;   size_t nchanges;
    uint64_t instructions;      /* executed, all policies */
} rv_decision;

/* Evaluates every policy of prog that applies to req->kind, in order, on
 * spec (which must be an object and is rewritten in place). On RV_OK the
 * decision is filled. On any error (RV_ELIMIT: a limit; RV_EEVAL: an
 * operator or function given values it is not defined for, such as
 * "example:12: cannot apply '+' to a string (\"off\") and an integer
 * (3600)") the spec is restored to its input state and no decision is made:
 * a host must then fail closed (rulesd rejects; rulec apply exits 2). */
rv_status rv_vm_eval(rv_vm *vm, const rv_program *prog, const rv_request *req,
                     rv_doc *spec, rv_decision *out, rv_error *err);

/* After rv_vm_eval failed: its error as it may be logged. An evaluation
 * error (RV_EEVAL) names its operands, which may be secrets or made from
 * them: here they are described by type only ("cannot apply int() to a
 * string"). Other errors quote no value of the spec and read as in
 * err->message. "" when the last rv_vm_eval did not fail. Valid until the
 * next rv_vm_eval, rv_vm_reset or rv_vm_free on vm. */
const char *rv_vm_redacted_error(const rv_vm *vm);

/* Observes execution for coverage: called once per executed instruction with
 * the policy index and pc, and with the outcome of each conditional jump
 * (taken = 1/0; -1 for other instructions). NULL turns it off. It must not
 * change the spec being evaluated (the evaluator remembers what it read). */
typedef void (*rv_trace_fn)(void *ud, size_t policy, uint32_t pc, int taken);
void rv_vm_set_trace(rv_vm *vm, rv_trace_fn fn, void *ud);

/* Source line of instruction pc in policy i, 0 if unknown. */
uint32_t rv_program_line(const rv_program *prog, size_t policy, uint32_t pc);

const char *rv_status_name(rv_status s);

#ifdef __cplusplus
}
#endif
#endif
