/* target.h - the orchestrators a policy can judge: each target's kinds and
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

typedef struct rc_target_kind {
    const char *name;              /* "run" */
    const char *schema;            /* NUL-terminated JSON Schema text */
    const char *schema_end;
} rc_target_kind;

typedef struct rc_target {
    const char *name;              /* "dstack" */
    const rc_target_kind *kinds;   /* NULL for "any" */
    size_t nkinds;
    /* Its secrets.json (NUL-terminated): per kind, the paths whose values
     * are credentials (secret.h). NULL for "any", which knows no paths. */
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

/* Parsed schemas, one per (target, kind), parsed on first use into arena
 * and kept for the compilation. */
typedef struct rc_schemas {
    ru_arena *arena;
    struct rc_schema_slot {
        const rc_target_kind *kind;
        const rv_node *root;
    } slots[16];
    size_t n;
} rc_schemas;

void rc_schemas_init(rc_schemas *s, ru_arena *arena);
/* The root of kind's schema, NULL when it cannot be parsed (a build
 * problem: the embedded bytes are checked by the tests). */
const rv_node *rc_schema_of(rc_schemas *s, const rc_target_kind *kind);

#endif
