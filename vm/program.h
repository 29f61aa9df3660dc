/* program.h - the bytecode bundle format and the loaded program (internal).
 * SPDX-License-Identifier: Apache-2.0
 *
 * The compiler writes this format (compiler/emit.c); the VM loads it
 * (vm/load.c), verifies every policy (vm/verify.c) and only then runs it.
 * All integers are little-endian.
 *
 *   bundle  := header policy*        (then, in a signed bundle, a section
 *                                     starting RV_SIG_MAGIC: not read here)
 *   header  := magic "\x7fRBC"  u16 version(=3)  u16 flags(=0)
 *              u32 total_size   u32 crc32(bytes 16..total_size)
 *              u32 npolicies
 *   policy  := u32 size (bytes that follow, for this policy)
 *              str name  i32 priority  str source
 *              u32 nkinds  str*            (0 kinds: every kind, "on *")
 *              str target                  ("dstack", "skypilot", "any": whose
 *                                           requests it judges)
 *              u32 nconsts value*
 *              u32 nparams (str name, value default)*
 *              u32 nregex  (str pattern, u32 flags, u32 line, u32 column)*
 *              u32 npaths  path*
 *              u32 nslots  u32 ncode u32 code[ncode]
 *              u32 nlines  (u32 pc, u32 line)*   sorted by pc; a pc maps to
 *                                                 the last entry <= it
 *   str     := u32 len, bytes (no NUL)
 *   path    := u32 nseg  (u8 0, str key | u8 1, i32 index)*
 *   value   := u8 tag (rv_doc_type) then: nothing (null) | u8 (bool) |
 *              i64 (int) | f64 (float) | str (string) |
 *              u32 n value* (array) | u32 n (str key, value)* (object)
 */
#ifndef RV_PROGRAM_H
#define RV_PROGRAM_H

#include "rulevm.h"
#include "value.h"

#include <stdatomic.h>
#include <stdint.h>

#define RV_MAGIC "\x7f" "RBC"
/* A signed bundle is a bundle followed by a signature section that starts
 * with this magic (sign/sign.h, docs/signing.md). The loader reads the
 * bundle and leaves the section alone: whether to trust a signature is the
 * host's decision. Any other bytes after a bundle are an error. */
#define RV_SIG_MAGIC "\x7f" "RBS"
/* Version 2 added SECRET marks (opcodes.h), version 3 each policy's target.
 * An older bundle is refused with a message that says to recompile it
 * (load.c): a version 1 bundle's messages and changes would be logged as if
 * no value came from a secret, and a version 2 bundle's "on *" policies
 * would judge every protocol's requests (a SkyPilot policy writing task.*
 * fields into a dstack spec). */
#define RV_FORMAT_VERSION 3
/* The target whose policies judge every request, whatever its target. */
#define RV_TARGET_ANY "any"
#define RV_HEADER_SIZE 20

#define RV_STACK_MAX 256   /* value stack slots; the verifier bounds depth */
#define RV_SLOTS_MAX 16    /* quantifier nesting */
#define RV_CONST_DEPTH_MAX 64
#define RV_DIGEST_HEX 65   /* a SHA-256 digest as lowercase hex, NUL-terminated */

/* Regex flags (bundle format). */
#define RV_RE_I 1u
#define RV_RE_M 2u
#define RV_RE_S 4u
#define RV_RE_X 8u

typedef struct rv_seg {
    const char *key;   /* NULL: an index segment */
    uint32_t klen;
    int32_t index;     /* negative counts from the end */
    uint32_t slot;     /* the VM's lookup memo slot, shared by every segment
                        * reached by the same keys (pathslots.c) */
} rv_seg;

typedef struct rv_path {
    uint32_t nseg;
    rv_seg *segs;
    const char *text;  /* display form, e.g. configuration.env["HF_TOKEN"] */
} rv_path;

typedef struct rv_param {
    const char *name;
    rv_node *value;      /* the default, or the override */
    const char *json;    /* compact JSON of value, for introspection */
    uint8_t type;        /* the default's rv_doc_type: what an override must be */
    const char *default_json;  /* the default as loaded, for messages */
} rv_param;

typedef struct rv_regex {
    void *code;          /* pcre2_code_8 *, compiled (and JIT-ed) at load */
    const char *pattern;
    uint32_t flags, line, column;
} rv_regex;

typedef struct rv_line {
    uint32_t pc, line;
} rv_line;

typedef struct rv_policy {
    const char *name;
    const char *source;
    int32_t priority;
    uint32_t checksum;
    uint32_t nkinds;
    const char **kinds;
    const char *target;  /* whose requests it judges; after loading, one of
                          * rv_program.targets (equal names, one pointer) */
    bool judges_all;     /* its target is RV_TARGET_ANY */
    uint32_t nconsts;
    rv_node **consts;
    uint32_t nparams;
    rv_param *params;
    uint32_t nregex;
    rv_regex *regex;
    uint32_t npaths;
    rv_path *paths;
    uint32_t nslots;
    uint32_t ncode;
    uint32_t *code;
    uint32_t nlines;
    rv_line *lines;
    uint32_t max_stack;  /* computed by the verifier */
    uint32_t blob;       /* index of the bundle it was loaded from */
    char digest[RV_DIGEST_HEX];  /* SHA-256 of its section as saved (digest.c) */
} rv_policy;

/* The policies that run for one kind, in run order (indices into
 * rv_program.policies), so a request never looks at policies for other
 * kinds: with a thousand policies of which one applies, evaluation costs
 * about what one policy costs. */
typedef struct rv_kind_list {
    const char *kind;
    uint32_t n;
    uint32_t *policies;
} rv_kind_list;

struct rv_program {
    rv_config cfg;
    ru_arena arena;      /* everything the program owns except PCRE2 codes */
    uint32_t npolicies;
    rv_policy **policies;  /* in run order: priority, then name */
    uint32_t nkinds;
    rv_kind_list *kinds;   /* sorted by kind name, for binary search */
    rv_kind_list any_kind; /* for kinds no policy names: the "on *" ones */
    /* The distinct targets of the policies, each policy's target pointing
     * at its entry: a request's target is found here once per decision,
     * then each policy is one pointer comparison (rv_program_target). */
    uint32_t ntargets;
    const char **targets;
    uint32_t nsegs;        /* distinct rv_seg.slot numbers in all policies */
    /* Set by the first rv_vm_eval (which sees the program as const, and may
     * run on any thread): from then on rv_program_set_param refuses. A
     * pointer to a flag in the arena, so evaluation writes no field of the
     * program itself. */
    atomic_bool *sealed;
    /* SHA-256 of the bundle rv_program_save writes (digest.c): kept in
     * step with every parameter override. */
    char digest[RV_DIGEST_HEX];
};

/* Marks prog as evaluated: parameters are fixed from now on. */
void rv_program_seal(const rv_program *prog);

/* Numbers every path segment of every policy (rv_seg.slot, prog->nsegs):
 * segments reached by the same keys from their path's start share a slot
 * (pathslots.c). false when memory ran out. */
bool rv_number_segments(rv_program *prog);

/* The run list for a kind (never NULL). */
const rv_kind_list *rv_program_kind_list(const rv_program *prog, const char *kind);

/* The program's own pointer for a request's target (rv_request.target),
 * NULL when no policy has it. A policy judges the request when the host
 * named no target, when it judges_all, or when its target is that pointer. */
const char *rv_program_target(const rv_program *prog, const char *target);

/* Serializes policies (filled in by the compiler: every field but checksum,
 * max_stack and regex code) as one bundle, in the given order. */
bool rv_bundle_write(ru_buf *out, rv_policy *const *policies, size_t n);

/* The contract's policy-set rule (setrule.c), the one implementation the
 * loader and the compiler share. */
typedef struct rv_set_entry {
    rv_policy *policy;
    size_t origin;       /* the caller's: where the policy came from */
    bool dropped;        /* set: overridden by a higher priority of its name */
} rv_set_entry;

/* Why rv_set_rule refused a set. */
typedef enum rv_set_clash {
    RV_CLASH_PRIORITY,   /* one name, one priority: which one runs? */
    RV_CLASH_TARGET      /* one name, two targets: one would silently
                          * replace the other's rules for its protocol */
} rv_set_clash;

/* Applies the rule to e[0..n): of each name only the highest priority is
 * kept; the kept entries come first, in run order (priority, then name),
 * *kept of them, the dropped ones after them. A name may be overridden
 * only within its target. Two entries with one name and one priority, or
 * with one name and two targets: returns false with clash = their origins
 * and *why, e reordered but *kept unset. */
bool rv_set_rule(rv_set_entry *e, size_t n, size_t *kept, size_t clash[2], rv_set_clash *why);

/* Whether a key can be written bare in a path (an identifier). */
bool rv_is_ident(const char *s, size_t n);
/* Appends the display form of n path segments, as the language writes a
 * path: a.b["odd key"][0]. */
void rv_path_write(ru_buf *b, const rv_seg *segs, uint32_t n);

/* Copies in (or the defaults, if NULL) to out, filling every zero field
 * with its default. */
void rv_config_resolve(rv_config *out, const rv_config *in);

/* PCRE2 general-context memory hooks over an rv_config's allocator (ud is
 * the const rv_config *, which must outlive every PCRE2 object made with
 * them). Each block records its size so frees pass the true old size. */
void *rv_pcre2_malloc(size_t size, void *ud);
void rv_pcre2_free(void *p, void *ud);

/* SHA-256 of data as 64 lowercase hex digits and a NUL (digest.c). */
void rv_sha256_hex(const void *data, size_t len, char out[RV_DIGEST_HEX]);
/* Recomputes prog->digest and every policy's digest from the policies as
 * they are now, serializing the set into scratch (its memory is the
 * caller's to free). false when memory ran out: then no digest changed. */
bool rv_program_digest_update(rv_program *prog, ru_buf *scratch);

/* CRC-32 (IEEE 802.3, the zlib polynomial). */
uint32_t rv_crc32(const void *data, size_t len);

/* Checks one decoded policy: operand indices, forward jumps, quantifier
 * structure, stack depth, ends in HALT. Sets p->max_stack. On failure fills
 * err (RV_EVERIFY) naming the policy and pc. */
bool rv_verify_policy(rv_policy *p, rv_error *err);
/* The same, taking its scratch memory (8 bytes per instruction, released
 * before it returns) from alloc rather than malloc, so that a program load
 * honours rv_config.alloc. Out of memory: false with RV_ENOMEM. */
bool rv_verify_policy_alloc(rv_policy *p, rv_alloc_fn alloc, void *ud, rv_error *err);

#endif
