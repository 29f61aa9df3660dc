/* SPDX-License-Identifier: Apache-2.0 */
/* schema.c - shapes: the schemas a path may be at (schema.h). */
#include "schema.h"

#include <string.h>
#include <strings.h>

#define MAX_NODES 64   /* members one path can be at; more is "any" */

static const rv_node *member(const rv_node *obj, const char *key)
{
    if (!obj || obj->type != RV_OBJECT)
        return NULL;
    rv_member *m = rv_object_find(obj, key, strlen(key));
    return m ? m->value : NULL;
}

/* "#/$defs/Name" in the root document. */
static const rv_node *deref(const rv_node *root, const rv_node *ref)
{
    if (!ref || ref->type != RV_STRING || strncmp(ref->u.s, "#/$defs/", 8) != 0)
        return NULL;
    const rv_node *defs = member(root, "$defs");
    if (!defs || defs->type != RV_OBJECT)
        return NULL;
    rv_member *m = rv_object_find(defs, ref->u.s + 8, ref->len - 8);
    return m ? m->value : NULL;
}

typedef struct acc {
    const rv_node *nodes[MAX_NODES];
    size_t n;
    bool any;
} acc;

static void add(acc *x, const rv_node *n)
{
    for (size_t i = 0; i < x->n; i++)
        if (x->nodes[i] == n)
            return;
    if (x->n == MAX_NODES)
        x->any = true;  /* too many to follow: say nothing rather than wrong */
    else
        x->nodes[x->n++] = n;
}

/* Whether a schema node constrains structure at all. */
static bool structural(const rv_node *n)
{
    return member(n, "type") || member(n, "properties") || member(n, "items") ||
           member(n, "additionalProperties") || member(n, "enum") || member(n, "const");
}

/* A schema that only constrains a value (required, minItems, ...): no
 * type, fields, items, reference or union of its own. */
static bool constraint_only(const rv_node *n)
{
    return n && n->type == RV_OBJECT && !structural(n) && !member(n, "$ref") &&
           !member(n, "anyOf") && !member(n, "oneOf") && !member(n, "allOf");
}

/* Adds the concrete members of n: references followed, unions flattened. */
static void expand(const rv_node *root, const rv_node *n, acc *x, int depth)
{
    if (x->any)
        return;
    if (!n || depth > 32) {
        x->any = true;
        return;
    }
    if (n->type == RV_BOOL) {  /* true: anything; false: nothing */
        if (n->u.b)
            x->any = true;
        return;
    }
    if (n->type != RV_OBJECT) {
        x->any = true;
        return;
    }
    const rv_node *ref = member(n, "$ref");
    if (ref) {
        expand(root, deref(root, ref), x, depth + 1);
        return;
    }
    static const char *const unions[] = {"anyOf", "oneOf", "allOf"};
    bool united = false;
    for (size_t u = 0; u < 3; u++) {
        const rv_node *list = member(n, unions[u]);
        if (!list || list->type != RV_ARRAY)
            continue;
        united = true;
        for (uint32_t i = 0; i < list->len; i++) {
            /* Beside a shape of its own, a member that only constrains
             * (dstack's ReplicaGroup: anyOf [{required: [replicas]},
             * {required: [count]}]) narrows that shape and adds none: read
             * as "any value" it would hide every field of the object. */
            if (structural(n) && constraint_only(list->u.items[i]))
                continue;
            expand(root, list->u.items[i], x, depth + 1);
        }
    }
    if (united && !structural(n))
        return;
    if (!structural(n)) {
        x->any = true;  /* {} or only descriptions: any value */
        return;
    }
    add(x, n);
}

static rc_shape finish(const rv_node *root, const acc *x, ru_arena *a)
{
    rc_shape s = {root, NULL, 0, x->any};
    if (x->any || x->n == 0)
        return s;
    const rv_node **v = ru_arena_alloc(a, x->n * sizeof *v);
    if (!v) {
        s.any = true;  /* out of memory: check nothing further */
        return s;
    }
    memcpy(v, x->nodes, x->n * sizeof *v);
    s.nodes = v;
    s.n = x->n;
    return s;
}

rc_shape rc_shape_any(void)
{
    return (rc_shape){NULL, NULL, 0, true};
}

rc_shape rc_shape_root(const rv_node *schema, ru_arena *a)
{
    if (!schema)
        return rc_shape_any();
    acc x = {{0}, 0, false};
    expand(schema, schema, &x, 0);
    return finish(schema, &x, a);
}

/* Whether type (a string or a list of strings) names t. */
static bool has_type(const rv_node *n, const char *t)
{
    const rv_node *type = member(n, "type");
    if (!type)
        return false;
    if (type->type == RV_STRING)
        return strcmp(type->u.s, t) == 0;
    if (type->type == RV_ARRAY)
        for (uint32_t i = 0; i < type->len; i++)
            if (type->u.items[i]->type == RV_STRING && strcmp(type->u.items[i]->u.s, t) == 0)
                return true;
    return false;
}

static bool objectish(const rv_node *n)
{
    return has_type(n, "object") || member(n, "properties") || member(n, "additionalProperties");
}

static bool arrayish(const rv_node *n)
{
    return has_type(n, "array") || member(n, "items");
}

rc_shape rc_shape_step(const rc_shape *in, const char *key, size_t klen, ru_arena *a)
{
    if (in->any)
        return *in;
    acc x = {{0}, 0, false};
    for (size_t i = 0; i < in->n; i++) {
        const rv_node *n = in->nodes[i];
        if (key) {
            if (!objectish(n))
                continue;
            const rv_node *props = member(n, "properties");
            rv_member *m = props && props->type == RV_OBJECT ? rv_object_find(props, key, klen) : NULL;
            if (m) {
                expand(in->root, m->value, &x, 0);
                continue;
            }
            if (member(n, "patternProperties")) {
                x.any = true;
                continue;
            }
            const rv_node *extra = member(n, "additionalProperties");
            if (!extra)
                x.any = true;  /* JSON Schema's default: other keys are allowed */
            else
                expand(in->root, extra, &x, 0);  /* false adds nothing */
        } else {
            if (!arrayish(n))
                continue;
            const rv_node *items = member(n, "items");
            if (items)
                expand(in->root, items, &x, 0);
            else
                x.any = true;
        }
    }
    return finish(in->root, &x, a);
}

rc_shape rc_shape_elements(const rc_shape *in, ru_arena *a)
{
    if (in->any)
        return *in;
    acc x = {{0}, 0, false};
    for (size_t i = 0; i < in->n; i++) {
        const rv_node *n = in->nodes[i];
        if (arrayish(n)) {
            const rv_node *items = member(n, "items");
            if (items)
                expand(in->root, items, &x, 0);
            else
                x.any = true;
        }
        if (objectish(n)) {
            /* A map's values: its declared fields' schemas and the rest. */
            const rv_node *props = member(n, "properties");
            for (uint32_t k = 0; props && props->type == RV_OBJECT && k < props->len; k++)
                expand(in->root, props->u.members[k].value, &x, 0);
            const rv_node *extra = member(n, "additionalProperties");
            if (!extra)
                x.any = true;
            else
                expand(in->root, extra, &x, 0);
        }
    }
    return finish(in->root, &x, a);
}

bool rc_shape_always_has(const rc_shape *in, const char *key, size_t klen)
{
    if (in->any || in->n == 0)
        return false;
    for (size_t i = 0; i < in->n; i++) {
        const rv_node *n = in->nodes[i];
        const rv_node *type = member(n, "type");
        if (!type || type->type != RV_STRING || strcmp(type->u.s, "object") != 0)
            return false;  /* may be something other than an object */
        const rv_node *props = member(n, "properties");
        rv_member *m = props && props->type == RV_OBJECT ? rv_object_find(props, key, klen) : NULL;
        const rv_node *req = member(n, "required");
        bool required = false;
        for (uint32_t j = 0; req && req->type == RV_ARRAY && j < req->len && !required; j++) {
            const rv_node *r = req->u.items[j];
            required = r->type == RV_STRING && r->len == klen && memcmp(r->u.s, key, klen) == 0;
        }
        if (!m || !required)
            return false;
        acc x = {{0}, 0, false};
        expand(in->root, m->value, &x, 0);
        if (x.any || x.n == 0)
            return false;
        for (size_t j = 0; j < x.n; j++)
            if (!member(x.nodes[j], "type") || has_type(x.nodes[j], "null"))
                return false;
    }
    return true;
}

bool rc_shape_may_be_open_map(const rc_shape *s)
{
    if (s->any)
        return false;
    for (size_t i = 0; i < s->n; i++) {
        const rv_node *n = s->nodes[i];
        const rv_node *extra = member(n, "additionalProperties");
        if (objectish(n) && (member(n, "patternProperties") ||
                             (extra && !(extra->type == RV_BOOL && !extra->u.b))))
            return true;
    }
    return false;
}

bool rc_shape_has_fields(const rc_shape *s)
{
    if (s->any)
        return true;
    for (size_t i = 0; i < s->n; i++)
        if (objectish(s->nodes[i]))
            return true;
    return false;
}

size_t rc_shape_fields(const rc_shape *s, const char **names, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        const rv_node *props = member(s->nodes[i], "properties");
        for (uint32_t j = 0; props && props->type == RV_OBJECT && j < props->len && k < max; j++) {
            const char *name = props->u.members[j].key;
            bool seen = false;
            for (size_t q = 0; q < k && !seen; q++)
                seen = strcmp(names[q], name) == 0;
            if (!seen)
                names[k++] = name;
        }
    }
    return k;
}

void rc_shape_describe(const rc_shape *s, ru_buf *b)
{
    rc_types_describe(rc_shape_types(s), b);
}

/* The types a JSON Schema "type" word stands for. */
static unsigned type_bits(const char *t)
{
    static const struct { const char *name; unsigned bits; } words[] = {
        {"null", RC_T_NULL}, {"boolean", RC_T_BOOL}, {"integer", RC_T_INT},
        {"number", RC_T_INT | RC_T_FLOAT}, {"string", RC_T_STRING}, {"array", RC_T_LIST},
        {"object", RC_T_MAP},
    };
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strcmp(t, words[i].name) == 0)
            return words[i].bits;
    return 0;
}

static unsigned value_bits(const rv_node *v)
{
    switch (v->type) {
    case RV_NULL: return RC_T_NULL;
    case RV_BOOL: return RC_T_BOOL;
    case RV_INT: return RC_T_INT;
    case RV_FLOAT: return RC_T_FLOAT;
    case RV_STRING: return RC_T_STRING;
    case RV_ARRAY: return RC_T_LIST;
    default: return RC_T_MAP;
    }
}

/* What one concrete schema accepts. */
static unsigned node_types(const rv_node *n)
{
    const rv_node *type = member(n, "type");
    unsigned bits = 0;
    if (type && type->type == RV_STRING)
        bits = type_bits(type->u.s);
    else if (type && type->type == RV_ARRAY)
        for (uint32_t i = 0; i < type->len; i++)
            if (type->u.items[i]->type == RV_STRING)
                bits |= type_bits(type->u.items[i]->u.s);
    if (type)
        return bits;
    const rv_node *en = member(n, "enum"), *cn = member(n, "const");
    if (cn)
        return value_bits(cn);
    if (en && en->type == RV_ARRAY) {
        for (uint32_t i = 0; i < en->len; i++)
            bits |= value_bits(en->u.items[i]);
        return bits;
    }
    if (objectish(n))
        return RC_T_MAP;
    if (arrayish(n))
        return RC_T_LIST;
    return RC_T_ANY;
}

unsigned rc_shape_types(const rc_shape *s)
{
    if (s->any)
        return RC_T_ANY;
    unsigned bits = 0;
    for (size_t i = 0; i < s->n; i++)
        bits |= node_types(s->nodes[i]);
    return bits;
}

bool rc_shape_admits_string(const rc_shape *s, const char *str, size_t len, bool *enumerated,
                            const char **names, size_t max, size_t *nnames)
{
    *enumerated = false;
    *nnames = 0;
    if (s->any)
        return true;
    bool any_string = false;
    for (size_t i = 0; i < s->n; i++) {
        const rv_node *n = s->nodes[i];
        if (!(node_types(n) & RC_T_STRING))
            continue;
        const rv_node *cn = member(n, "const"), *en = member(n, "enum");
        /* SkyPilot's own keyword: the strings allowed, compared ignoring
         * case (schemas/README.md). */
        const rv_node *ci = member(n, "case_insensitive_enum");
        bool fold = false;
        if (!cn && !(en && en->type == RV_ARRAY) && ci && ci->type == RV_ARRAY) {
            en = ci;
            fold = true;
        }
        if (!cn && !(en && en->type == RV_ARRAY)) {
            any_string = true;  /* a free string */
            continue;
        }
        *enumerated = true;
        const rv_node *one[1] = {cn};
        const rv_node *const *vals = cn ? one : (const rv_node *const *)en->u.items;
        uint32_t nv = cn ? 1 : en->len;
        for (uint32_t k = 0; k < nv; k++) {
            const rv_node *v = vals[k];
            if (v->type != RV_STRING)
                continue;
            if (v->len == len && (fold ? strncasecmp(v->u.s, str, len) : memcmp(v->u.s, str, len)) == 0)
                return true;
            bool seen = false;
            for (size_t q = 0; q < *nnames && !seen; q++)
                seen = strcmp(names[q], v->u.s) == 0;
            if (!seen && *nnames < max)
                names[(*nnames)++] = v->u.s;
        }
    }
    if (any_string)
        *enumerated = false;
    return any_string;
}

bool rc_shape_ignores_case(const rc_shape *s)
{
    if (s->any)
        return false;
    for (size_t i = 0; i < s->n; i++) {
        const rv_node *ci = member(s->nodes[i], "case_insensitive_enum");
        if (ci && ci->type == RV_ARRAY && !member(s->nodes[i], "enum") && !member(s->nodes[i], "const"))
            return true;
    }
    return false;
}

void rc_types_describe(unsigned mask, ru_buf *b)
{
    if (mask == RC_T_ANY) {
        ru_buf_puts(b, "any value");
        return;
    }
    static const struct { unsigned bits; const char *text; } names[] = {
        {RC_T_MAP, "an object"}, {RC_T_LIST, "a list"}, {RC_T_STRING, "a string"},
        {RC_T_INT | RC_T_FLOAT, "a number"}, {RC_T_INT, "an integer"}, {RC_T_FLOAT, "a float"},
        {RC_T_BOOL, "a boolean"}, {RC_T_NULL, "null"},
    };
    const char *seen[8];
    size_t n = 0;
    unsigned left = mask;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if ((left & names[i].bits) == names[i].bits) {
            seen[n++] = names[i].text;
            left &= ~names[i].bits;
        }
    if (n == 0) {
        ru_buf_puts(b, "nothing");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (i)
            ru_buf_puts(b, i + 1 == n ? " or " : ", ");
        ru_buf_puts(b, seen[i]);
    }
}

rc_shape rc_shape_narrow(const rc_shape *s, const char *key, size_t klen, const char *str, size_t len,
                         bool keep_matching, ru_arena *a)
{
    if (s->any || s->n < 2)
        return *s;
    acc x = {{0}, 0, false};
    for (size_t i = 0; i < s->n; i++) {
        rc_shape one = {s->root, &s->nodes[i], 1, false};
        rc_shape field = rc_shape_step(&one, key, klen, a);
        bool keep;
        if (keep_matching) {
            bool enumerated;
            const char *names[1];
            size_t nn;
            keep = field.any || (field.n && rc_shape_admits_string(&field, str, len, &enumerated, names, 0, &nn));
        } else {
            /* Dropped only when the field can be nothing but str. */
            keep = true;
            if (!field.any && field.n == 1) {
                const rv_node *cn = member(field.nodes[0], "const");
                keep = !(cn && cn->type == RV_STRING && cn->len == len && memcmp(cn->u.s, str, len) == 0);
            }
        }
        if (keep)
            add(&x, s->nodes[i]);
    }
    if (x.n == 0 && !x.any)
        return *s;  /* never true here: no narrowing rather than errors everywhere */
    return finish(s->root, &x, a);
}
