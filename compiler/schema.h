/* schema.h - walking a kind's JSON Schema along a policy's path (internal
 * SPDX-License-Identifier: Apache-2.0
 * to the compiler): where can `configuration.resources.gpu` be, and what
 * fields are there?
 *
 * A shape is the set of schemas a path may be at, with references followed
 * and unions (anyOf, oneOf, allOf) flattened into their members, or "any"
 * where no schema says what is there (a free-form value). Only the keywords
 * that give structure are read: $ref (into $defs), type, properties,
 * additionalProperties, items, and the union keywords; everything else
 * (descriptions, bounds, enums) is left for later checks.
 */
#ifndef RC_SCHEMA_H
#define RC_SCHEMA_H

#include "buf.h"
#include "value.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct rc_shape {
    const rv_node *root;       /* the schema document ($defs live here) */
    const rv_node **nodes;     /* concrete schemas, no duplicates */
    size_t n;
    bool any;                  /* anything may be here */
} rc_shape;

/* The shape of a whole document: the schema's root. */
rc_shape rc_shape_root(const rv_node *schema, ru_arena *a);
/* The "any" shape (no schema, or nothing known). */
rc_shape rc_shape_any(void);

/* One step along a path: a field (key != NULL) or a list index (key NULL).
 * Returns the shape there; an empty, non-any shape means the step leads
 * nowhere in any member (an unknown field, a field of a scalar, an index
 * into a non-list). */
rc_shape rc_shape_step(const rc_shape *in, const char *key, size_t klen, ru_arena *a);

/* What a quantifier visits: list items and map values. */
rc_shape rc_shape_elements(const rc_shape *in, ru_arena *a);

/* Whether field key is certainly present and not null wherever the shape
 * is an object: every member is an object schema that lists key in
 * "required", and every form key's schema can take (its union flattened)
 * names a type other than null. Anything less certain (an "any" shape, a
 * member that may be another type, no "type") is false. */
bool rc_shape_always_has(const rc_shape *in, const char *key, size_t klen);

/* Whether s may be a map whose keys are data (env, tags, labels: an object
 * whose schema allows other keys), not only an object of fixed fields. */
bool rc_shape_may_be_open_map(const rc_shape *s);

/* Whether the shape can hold an object with named fields (properties), or
 * a map (any key). */
bool rc_shape_has_fields(const rc_shape *s);

/* The field names of the shape's objects, deduplicated, in schema order
 * (at most max; returns how many). */
size_t rc_shape_fields(const rc_shape *s, const char **names, size_t max);

/* Value types, as bits: what a schema accepts or an expression yields. */
enum {
    RC_T_NULL = 1, RC_T_BOOL = 2, RC_T_INT = 4, RC_T_FLOAT = 8, RC_T_STRING = 16,
    RC_T_LIST = 32, RC_T_MAP = 64,
    RC_T_ANY = 127
};

/* The types the shape accepts ("integer" is RC_T_INT, "number" RC_T_INT |
 * RC_T_FLOAT, an enum the types of its values); RC_T_ANY when any value
 * goes. */
unsigned rc_shape_types(const rc_shape *s);

/* Whether a string at s is compared ignoring case by the orchestrator
 * (SkyPilot's case_insensitive_enum): "AWS" and "aws" mean the same. */
bool rc_shape_ignores_case(const rc_shape *s);

/* For a string: whether the shape admits it. A shape whose strings are all
 * enumerated (enum, const) admits only those; *enumerated says whether
 * that was the case, and names (up to max) get the allowed strings for a
 * suggestion (*nnames of them). */
bool rc_shape_admits_string(const rc_shape *s, const char *str, size_t len, bool *enumerated,
                            const char **names, size_t max, size_t *nnames);

/* The members of a shape (an object's possible forms) whose field key can
 * hold the string str (keep_matching), or those where it cannot be
 * anything else (its schema is the const str) dropped (!keep_matching):
 * how `match obj.key == "str"` and its else narrow obj. */
rc_shape rc_shape_narrow(const rc_shape *s, const char *key, size_t klen, const char *str, size_t len,
                         bool keep_matching, ru_arena *a);

/* Appends the types in mask, for messages: "a number or null". */
void rc_types_describe(unsigned mask, ru_buf *b);

/* Appends what the shape can be, for messages: "an object", "a number or
 * null", "a list", ... */
void rc_shape_describe(const rc_shape *s, ru_buf *b);

#endif
