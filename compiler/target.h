/* target.h - the orchestrators a policy can judge: each target's kinds and
 * SPDX-License-Identifier: Apache-2.0
 * the JSON Schema of each kind's document (internal to the compiler).
 *
 * A target is data: a name and a table of kinds with their schema bytes
 * (schemas.S). Adding one (SkyPilot) is a table entry and its schemas, not
 * a new checker. The target "any" has no kinds and no schema: every kind
 * name and every path is accepted, for documents no schema describes.
 */
#ifndef RC_TARGET_H
#define RC_TARGET_H

#include "value.h"

#include <stdbool.h>
#include <stddef.h>

/* One root of a document made of several (SkyPilot's `task` and `config`),
 * with the schema of what is under it. */
typedef struct rc_schema_root {
    const char *name;              /* "task" */
    const char *schema;            /* NUL-terminated JSON Schema text */
    const char *schema_end;
} rc_schema_root;

/* A kind's document is described by one schema (dstack: the `spec`), or
 * by roots: an object with exactly those members, each with its schema. */
typedef struct rc_target_kind {
    const char *name;              /* "run", "jobs.launch" */
    const char *schema;            /* NUL-terminated JSON Schema text, or NULL (roots) */
    const char *schema_end;
    const rc_schema_root *roots;
    size_t nroots;
} rc_target_kind;

typedef struct rc_target {
    const char *name;              /* "dstack" */
    const rc_target_kind *kinds;   /* NULL for "any" */
    size_t nkinds;
    /* The JSON Schema of $request, what the target's hosts pass of a
     * request beyond $user, $project and $kind (NUL-terminated); NULL:
     * they pass nothing, and $request is an error (or anything, for
     * "any"). */
    const char *request_schema;
    /* Its secrets.json (NUL-terminated): per kind, the paths whose values
     * are credentials (secret.h); for a target whose kinds are made of
     * roots (SkyPilot), per root instead, the same for every kind. NULL
     * for "any", which knows no paths. */
    const char *secrets;
    const char *secrets_end;
} rc_target;

#define RC_DEFAULT_TARGET "dstack"

/* The target called name, or NULL. */
const rc_target *rc_target_find(const char *name);
/* Target i (for listing and suggestions), NULL past the last. */
const rc_target *rc_target_at(size_t i);
/* The index of kind in t, or -1. */
int rc_target_kind_index(const rc_target *t, const char *kind);

/* The kinds of t that an `on` block naming names[0..n) applies to ("*":
 * all of them; names t does not have are skipped: the checker reports
 * them), without repeats, in out (at most max). Returns how many. */
size_t rc_target_block_kinds(const rc_target *t, const char *const *names, size_t n,
                             const rc_target_kind **out, size_t max);

/* Parsed schemas, one per schema text, parsed on first use into arena and
 * kept for the compilation (the kinds of a target may share one). */
typedef struct rc_schemas {
    ru_arena *arena;
    struct rc_schema_slot {
        const char *text;
        const rv_node *root;
    } slots[32];
    size_t n;
} rc_schemas;

void rc_schemas_init(rc_schemas *s, ru_arena *arena);
/* The root of kind's schema, NULL when it cannot be parsed (a build
 * problem: the embedded bytes are checked by the tests). */
const rv_node *rc_schema_of(rc_schemas *s, const rc_target_kind *kind);
/* The root of t's $request schema; NULL when it has none. */
const rv_node *rc_request_schema_of(rc_schemas *s, const rc_target *t);

#endif
