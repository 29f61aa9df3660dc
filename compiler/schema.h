/* schema.h - walking a kind's JSON Schema along a policy's path (internal
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

/* Whether the shape can hold an object with named fields (properties), or
 * a map (any key). */
bool rc_shape_has_fields(const rc_shape *s);

/* The field names of the shape's objects, deduplicated, in schema order
 * (at most max; returns how many). */
size_t rc_shape_fields(const rc_shape *s, const char **names, size_t max);

/* Appends what the shape can be, for messages: "an object", "a number or
 * null", "a list", ... */
void rc_shape_describe(const rc_shape *s, ru_buf *b);

#endif
