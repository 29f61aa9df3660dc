/* doc_yaml.c - YAML text to rv_node trees and back, through libyaml.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Parsing walks libyaml's event stream with an explicit stack (no
 * recursion) and reads the text the way PyYAML's SafeLoader does, since
 * dstack and SkyPilot read and write their YAML with it: plain scalars
 * resolve by YAML 1.1 (yaml_resolve.h), keys keep whether they were null,
 * booleans or numbers, and merge keys (`<<: *base`) are resolved as
 * PyYAML resolves them. Aliases expand into deep copies under a budget in
 * bytes, so an alias bomb stops early whether it repeats many small nodes
 * or one large string. Each mapping and sequence records where its parts
 * stood in a copy of the text (yaml_layout.h), so that a changed document
 * can be printed as its own text with a few edits (yaml_edit.c). Printing
 * drives libyaml's emitter and quotes every string that would otherwise
 * read back as another type.
 */
#include "yaml_layout.h"

#include "hash.h"
#include "yaml_resolve.h"

#include <yaml.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_NESTING 512
/* Alias expansion budget, in bytes of the tree the copies add (node
 * structs, members, string and key bytes): at most ALIAS_PER_BYTE times
 * the text's size, at least ALIAS_FLOOR_BYTES, never more than
 * ALIAS_MAX_BYTES. Legitimate specs use a handful of small aliases; a
 * 130 KB text that repeats one 100 KB anchored string 10,000 times (1 GB)
 * stops after 13 copies. */
#define ALIAS_PER_BYTE 10u
#define ALIAS_FLOOR_BYTES ((size_t)1 << 20)
#define ALIAS_MAX_BYTES ((size_t)64 << 20)
#define TAG_PREFIX "tag:yaml.org,2002:"

static bool eq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* ---- Parsing ---- */

typedef struct anchor {
    const char *name;
    rv_node *node;
    size_t bytes;      /* what a copy of the anchored tree costs (see above) */
    uint32_t height;   /* 0 for a scalar, 1 + deepest child for containers */
} anchor;

typedef struct frame {
    rv_node *node;
    const char *key;   /* pending mapping key */
    size_t klen;
    bool have_key;
    bool ktyped;       /* the pending key was a null, boolean or number */
    bool merge_key;    /* the pending key is `<<`: its value is merged */
    rv_node *merges;   /* the merge keys' values, in order (an array), or NULL */
    const char *anchor;
    size_t bytes_at_start;
    uint32_t child_height;
    yaml_mark_t start;
    size_t ebase;      /* its entries start here in yparse.ents */
    uint32_t kstart;   /* the pending key's first byte */
    uint32_t vstart;   /* the container's first byte (its anchor or tag) */
    uint32_t last_end; /* the end of the last value placed in it */
    bool props;        /* the container had an anchor or a tag */
    bool flow;
} frame;

typedef struct yparse {
    ru_arena *a;
    rv_error *err;
    const char *text;
    size_t len;
    uint32_t max_nesting;
    frame *stack;
    size_t depth, cap;
    ru_map anchors;        /* name -> anchor; a redefinition replaces */
    size_t bytes;          /* the tree's cost so far, alias copies included */
    size_t alias_bytes;    /* the part alias copies made */
    size_t alias_limit;
    rv_node *root;
    bool failed;
    /* Layouts (yaml_layout.h): none when the text is UTF-16 (libyaml
     * counts characters, and offsets here are UTF-8 bytes) or too long
     * for 32-bit offsets. */
    ry_source *src;
    ry_entry *ents;        /* the open containers' entries, a stack */
    size_t nents, ecap;
    size_t ci, bi;         /* a character index of libyaml's and its byte */
    size_t bom;            /* bytes of a UTF-8 byte order mark (libyaml
                            * does not count it) */
} yparse;

/* What a node, a string and a member cost in the alias budget. */
#define NODE_COST sizeof(rv_node)
#define MEMBER_COST sizeof(rv_member)

static void fail_at(yparse *p, rv_status st, yaml_mark_t m, const char *what)
{
    if (p->failed)
        return;
    p->failed = true;
    /* The position goes in the fields only (see rv_error). */
    if (st == RV_EPARSE)
        rv_set_error(p->err, st, "invalid YAML: %s", what);
    else
        rv_set_error(p->err, st, "%s", what);
    if (p->err) {
        p->err->line = m.line + 1;
        p->err->column = m.column + 1;
    }
}

static void fail_oom(yparse *p)
{
    if (p->failed)
        return;
    p->failed = true;
    rv_set_error(p->err, RV_ENOMEM, "out of memory while parsing YAML");
}

/* The byte offset in the text of libyaml's character index: marks count
 * characters (CRLF as two), so the offset is found by walking UTF-8 from
 * the last one asked, which is near: marks come nearly in order. */
static uint32_t byte_of(yparse *p, size_t index)
{
    const unsigned char *t = (const unsigned char *)p->text;
    while (p->ci < index && p->bi < p->len) {
        p->bi++;
        while (p->bi < p->len && (t[p->bi] & 0xC0) == 0x80)
            p->bi++;
        p->ci++;
    }
    while (p->ci > index && p->bi > p->bom) {
        p->bi--;
        while (p->bi > p->bom && (t[p->bi] & 0xC0) == 0x80)
            p->bi--;
        p->ci--;
    }
    return (uint32_t)p->bi;
}

static void push_entry(yparse *p, const ry_entry *en)
{
    if (p->nents == p->ecap) {
        size_t ncap = p->ecap ? p->ecap * 2 : 64;
        ry_entry *ne = p->a->alloc(p->a->ud, p->ents, p->ecap * sizeof *ne, ncap * sizeof *ne);
        if (!ne) {
            fail_oom(p);
            return;
        }
        p->ents = ne;
        p->ecap = ncap;
    }
    p->ents[p->nents++] = *en;
}

/* A node's text, for its entry in the container that holds it. */
typedef struct span {
    uint32_t start, end;
    bool props;
} span;

static span span_of(yparse *p, const yaml_event_t *ev, bool props)
{
    span s = { 0, 0, props };
    if (p->src) {
        s.start = byte_of(p, ev->start_mark.index);
        s.end = byte_of(p, ev->end_mark.index);
    }
    return s;
}

/* Alias copies are built by pushes, which mark them changed: they are as
 * read. */
static void clear_edited(rv_node *n)
{
    if (n->type != RV_ARRAY && n->type != RV_OBJECT)
        return;
    n->flags &= (uint8_t)~RV_NODE_EDITED;
    for (uint32_t i = 0; i < n->len; i++)
        clear_edited(n->type == RV_ARRAY ? n->u.items[i] : n->u.members[i].value);
}

static anchor *find_anchor(yparse *p, const char *name)
{
    return ru_map_get(&p->anchors, name, strlen(name));
}

static void add_anchor(yparse *p, const char *name, rv_node *n, size_t bytes, uint32_t height)
{
    /* A redefined anchor refers to its latest node: put replaces. */
    anchor *an = ru_arena_alloc(p->a, sizeof *an);
    if (!an || !ru_map_put(&p->anchors, name, strlen(name), an, NULL)) {
        fail_oom(p);
        return;
    }
    *an = (anchor){ name, n, bytes, height };
}

static const char *arena_name(yparse *p, const yaml_char_t *s)
{
    if (!s)
        return NULL;
    const char *c = ru_arena_strndup(p->a, (const char *)s, strlen((const char *)s));
    if (!c)
        fail_oom(p);
    return c;
}

static const char *kind_word(const rv_node *n)
{
    static const char *const names[] = {"null", "a boolean", "an integer", "a number",
                                        "a string", "a list", "a mapping"};
    return names[n->type];
}

/* A merge key's value: a mapping, or a list of mappings (PyYAML's rule). */
static void add_merge(yparse *p, frame *f, rv_node *n, yaml_mark_t m)
{
    bool ok = n->type == RV_OBJECT;
    if (n->type == RV_ARRAY) {
        ok = true;
        for (uint32_t i = 0; i < n->len && ok; i++)
            ok = n->u.items[i]->type == RV_OBJECT;
    }
    if (!ok) {
        char what[120];
        snprintf(what, sizeof what, "a merge key '<<' takes a mapping or a list of mappings, not %s%s",
                 n->type == RV_ARRAY ? "a list holding " : "",
                 n->type == RV_ARRAY ? "something else" : kind_word(n));
        fail_at(p, RV_EPARSE, m, what);
        return;
    }
    if (!f->merges && !(f->merges = rv_new_array(p->a, 2))) {
        fail_oom(p);
        return;
    }
    if (!rv_array_push(p->a, f->merges, n))
        fail_oom(p);
}

/* Where the next value goes: the top container, or the root. sp is its
 * text. */
static void place(yparse *p, rv_node *n, uint32_t height, yaml_mark_t m, span sp)
{
    if (p->failed)
        return;
    if (p->depth == 0) {
        if (p->root) {
            fail_at(p, RV_EPARSE, m, "more than one root node");
            return;
        }
        p->root = n;
        return;
    }
    frame *f = &p->stack[p->depth - 1];
    if (f->child_height < height)
        f->child_height = height;
    f->last_end = sp.end;
    bool ok;
    ry_entry en = { .value = n, .kstart = sp.start, .vstart = sp.start, .vend = sp.end,
                    .props = sp.props };
    if (f->node->type == RV_ARRAY) {
        ok = rv_array_push(p->a, f->node, n);
    } else if (f->merge_key) {
        f->have_key = f->merge_key = false;
        add_merge(p, f, n, m);
        return;
    } else {
        ok = rv_object_push(p->a, f->node, f->key, f->klen, n);
        if (ok)
            f->node->u.members[f->node->len - 1].ktyped = f->ktyped;
        p->bytes += MEMBER_COST + f->klen + 1;
        f->have_key = false;
        en.key = f->key;
        en.kstart = f->kstart;
    }
    if (!ok)
        fail_oom(p);
    else if (p->src)
        push_entry(p, &en);
}

static bool expecting_key(yparse *p)
{
    if (p->depth == 0)
        return false;
    frame *f = &p->stack[p->depth - 1];
    return f->node->type == RV_OBJECT && !f->have_key;
}

static void set_key(yparse *p, const char *s, size_t n, bool typed)
{
    frame *f = &p->stack[p->depth - 1];
    f->key = ru_arena_strndup(p->a, s, n);
    f->klen = n;
    f->have_key = true;
    f->ktyped = typed;
    f->merge_key = false;
    if (!f->key)
        fail_oom(p);
}

/* A plain key PyYAML reads as null, a boolean or a number keeps that type
 * (member.ktyped); nulls and booleans are spelt one way ("null", "true",
 * "false"), integers in decimal when they fit, so that a policy finds
 * `image_id: {~: x}` as image_id["null"] and JSON output shows the key
 * as Python's json would. */
static void typed_key(yparse *p, const char *s, size_t n, ry_tag t)
{
    char digits[32];
    int64_t i;
    double d;
    switch (t) {
    case RY_NULL:
        set_key(p, "null", 4, true);
        return;
    case RY_BOOL:
        if (ry_bool(s, n))
            set_key(p, "true", 4, true);
        else
            set_key(p, "false", 5, true);
        return;
    case RY_INT:
        if (ry_int(s, n, &i, &d)) {
            int len = snprintf(digits, sizeof digits, "%lld", (long long)i);
            set_key(p, digits, (size_t)len, true);
            return;
        }
        set_key(p, s, n, true);
        return;
    case RY_FLOAT:
        set_key(p, s, n, true);
        return;
    default:
        set_key(p, s, n, false);
    }
}

/* -?(0|[1-9][0-9]*): an integer JSON can hold as written. */
static bool json_integer(const char *s, size_t n)
{
    size_t i = n && s[0] == '-' ? 1 : 0;
    if (i == n || (s[i] == '0' && n - i > 1))
        return false;
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Keeps the text of a scalar whose value this tree cannot hold as PyYAML
 * does (RV_NODE_YAML), and as its JSON text too when it is one. */
static rv_node *keep_text(yparse *p, rv_node *node, const char *s, size_t n, bool json_too)
{
    if (!node || n > UINT32_MAX)
        return node;
    char *copy = ru_arena_strndup(p->a, s, n);
    if (!copy)
        return NULL;
    node->src = copy;
    node->srclen = (uint32_t)n;
    node->flags |= RV_NODE_YAML | (json_too ? RV_NODE_SRC : 0);
    return node;
}

static rv_node *number_node(yparse *p, const char *s, size_t n, bool as_float)
{
    int64_t i;
    double d;
    if (ry_resolve(s, n) == RY_INT) {
        if (ry_int(s, n, &i, &d))
            return as_float ? rv_new_float(p->a, (double)i) : rv_new_int(p->a, i);
        if (as_float)
            return rv_new_float(p->a, d);
        /* Too big for 64 bits: a float of the same magnitude for policies
         * to compare, and the digits for the output, which PyYAML reads
         * back as the integer it was. */
        return keep_text(p, rv_new_float(p->a, d), s, n, json_integer(s, n));
    }
    return rv_new_float(p->a, ry_float(s, n));
}

static rv_node *scalar_node(yparse *p, const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    ry_tag t = plain ? ry_resolve(s, n) : RY_STR;
    if (tag && strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) == 0) {
        /* An explicit tag decides, whatever the style, as PyYAML's
         * constructors do (`!!int "8"` is 8). */
        const char *name = tag + strlen(TAG_PREFIX);
        ry_tag r = ry_resolve(s, n);
        bool valid = true;
        if (strcmp(name, "str") == 0) {
            t = RY_STR;
        } else if (strcmp(name, "null") == 0) {
            t = RY_NULL;   /* PyYAML's !!null ignores the text */
        } else if (strcmp(name, "bool") == 0) {
            t = RY_BOOL;
            valid = r == RY_BOOL;
        } else if (strcmp(name, "int") == 0) {
            t = RY_INT;
            valid = r == RY_INT;
        } else if (strcmp(name, "float") == 0) {
            t = RY_FLOAT;
            valid = r == RY_FLOAT || r == RY_INT;
        }
        if (!valid) {
            char what[96];
            snprintf(what, sizeof what, "value does not fit its tag !!%.40s", name);
            fail_at(p, RV_EPARSE, ev->start_mark, what);
            return NULL;
        }
    } else if (tag && strcmp(tag, "!") == 0) {
        t = RY_STR;  /* "!" forces a string; other local tags carry no meaning here */
    }

    rv_node *node;
    switch (t) {
    case RY_NULL:
        node = rv_new_null(p->a);
        break;
    case RY_BOOL:
        node = rv_new_bool(p->a, ry_bool(s, n));
        break;
    case RY_INT:
        node = number_node(p, s, n, false);
        break;
    case RY_FLOAT:
        node = number_node(p, s, n, true);
        break;
    case RY_TIMESTAMP:
        /* PyYAML makes a date: a string here, written back plain, so
         * that it reads back as one. */
        node = keep_text(p, rv_new_string(p->a, s, n), s, n, false);
        break;
    default:
        /* Strings, and a merge or value key standing as a value. */
        node = rv_new_string(p->a, s, n);
    }
    if (!node)
        fail_oom(p);
    return node;
}

static void on_scalar(yparse *p, const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    if (expecting_key(p)) {
        bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev->data.scalar.tag;
        ry_tag t = plain ? ry_resolve(s, n) : RY_STR;
        if (t == RY_MERGE) {
            frame *f = &p->stack[p->depth - 1];
            f->have_key = f->merge_key = true;
            return;
        }
        typed_key(p, s, n, t);
        if (p->src)
            p->stack[p->depth - 1].kstart = byte_of(p, ev->start_mark.index);
        return;
    }
    size_t before = p->bytes;
    rv_node *node = scalar_node(p, ev);
    if (!node)
        return;
    p->bytes += NODE_COST + (node->type == RV_STRING ? node->len + 1 : 0);
    if (ev->data.scalar.anchor) {
        const char *name = arena_name(p, ev->data.scalar.anchor);
        if (name)
            add_anchor(p, name, node, p->bytes - before, 0);
    }
    place(p, node, 0, ev->start_mark,
          span_of(p, ev, ev->data.scalar.anchor || ev->data.scalar.tag));
}

static void on_alias(yparse *p, const yaml_event_t *ev)
{
    anchor *an = find_anchor(p, (const char *)ev->data.alias.anchor);
    if (!an) {
        fail_at(p, RV_EPARSE, ev->start_mark, "alias to an undefined anchor");
        return;
    }
    if (p->src)
        p->src->editable = false;
    if (expecting_key(p)) {
        if (p->src)
            p->stack[p->depth - 1].kstart = byte_of(p, ev->start_mark.index);
        const rv_node *k = an->node;
        if (k->type == RV_STRING) {
            set_key(p, k->u.s, k->len, false);
        } else if (k->type == RV_NULL) {
            set_key(p, "null", 4, true);
        } else if (k->type == RV_BOOL) {
            set_key(p, k->u.b ? "true" : "false", k->u.b ? 4 : 5, true);
        } else if (k->type != RV_ARRAY && k->type != RV_OBJECT) {
            ru_buf b;
            ru_buf_init(&b, p->a->alloc, p->a->ud);
            rv_format_number(&b, k);
            if (b.oom)
                fail_oom(p);
            else
                set_key(p, b.data, b.len, true);
            ru_buf_free(&b);
        } else {
            fail_at(p, RV_EPARSE, ev->start_mark, "mapping keys must be scalars");
        }
        return;
    }
    if (p->depth + an->height > p->max_nesting) {
        char what[64];
        snprintf(what, sizeof what, "nesting deeper than %lu levels",
                 (unsigned long)p->max_nesting);
        fail_at(p, RV_ELIMIT, ev->start_mark, what);
        return;
    }
    if (an->bytes > p->alias_limit - p->alias_bytes) {
        char what[200];
        snprintf(what, sizeof what,
                 "aliases expand to more than %zu bytes (the limit for a %zu-byte text: %u times its size, "
                 "at least %zu)",
                 p->alias_limit, p->len, ALIAS_PER_BYTE, (size_t)ALIAS_FLOOR_BYTES);
        fail_at(p, RV_ELIMIT, ev->start_mark, what);
        return;
    }
    p->alias_bytes += an->bytes;
    p->bytes += an->bytes;
    rv_node *n = rv_copy(p->a, an->node);
    if (!n) {
        fail_oom(p);
        return;
    }
    clear_edited(n);
    place(p, n, an->height, ev->start_mark, span_of(p, ev, false));
}

static void on_start(yparse *p, const yaml_event_t *ev, bool mapping)
{
    if (expecting_key(p)) {
        fail_at(p, RV_EPARSE, ev->start_mark, "mapping keys must be scalars");
        return;
    }
    if (p->depth + 1 > p->max_nesting) {
        char what[64];
        snprintf(what, sizeof what, "nesting deeper than %lu levels",
                 (unsigned long)p->max_nesting);
        fail_at(p, RV_ELIMIT, ev->start_mark, what);
        return;
    }
    if (p->depth == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 16;
        frame *ns = p->a->alloc(p->a->ud, p->stack, p->cap * sizeof *ns, ncap * sizeof *ns);
        if (!ns) {
            fail_oom(p);
            return;
        }
        p->stack = ns;
        p->cap = ncap;
    }
    rv_node *n = mapping ? rv_new_object(p->a, 0) : rv_new_array(p->a, 0);
    const yaml_char_t *an = mapping ? ev->data.mapping_start.anchor
                                    : ev->data.sequence_start.anchor;
    const char *name = an ? arena_name(p, an) : NULL;
    if (!n || (an && !name)) {
        fail_oom(p);
        return;
    }
    bool props = mapping ? ev->data.mapping_start.anchor || ev->data.mapping_start.tag
                         : ev->data.sequence_start.anchor || ev->data.sequence_start.tag;
    bool flow = mapping ? ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
                        : ev->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
    uint32_t at = p->src ? byte_of(p, ev->start_mark.index) : 0;
    p->stack[p->depth++] = (frame){ .node = n, .anchor = name, .bytes_at_start = p->bytes,
                                    .start = ev->start_mark, .ebase = p->nents, .vstart = at,
                                    .last_end = at, .props = props, .flow = flow };
    p->bytes += NODE_COST;
}

/* A mapping's members once its merge keys are resolved, as PyYAML's
 * flatten_mapping and dict do: the merged mappings' members first (of a
 * list [a, b], b's then a's, so a's win), then the mapping's own; a later
 * value replaces an earlier one under the same key, in the place where
 * that key first appeared. */
static void resolve_merges(yparse *p, frame *f)
{
    rv_node *obj = f->node, *own = rv_new_object(p->a, obj->len);
    if (!own) {
        fail_oom(p);
        return;
    }
    if (obj->len)
        memcpy(own->u.members, obj->u.members, obj->len * sizeof *obj->u.members);
    own->len = obj->len;
    obj->len = 0;
    ru_map at;   /* key -> 1 + its index in obj */
    ru_map_init(&at, p->a);
    for (uint32_t s = 0; s <= f->merges->len; s++) {
        /* The merge sources in order, then the mapping itself. */
        rv_node *src = s < f->merges->len ? f->merges->u.items[s] : own;
        uint32_t nmaps = src->type == RV_ARRAY ? src->len : 1;
        for (uint32_t k = nmaps; k-- > 0;) {
            rv_node *map = src->type == RV_ARRAY ? src->u.items[k] : src;
            for (uint32_t i = 0; i < map->len; i++) {
                const rv_member *m = &map->u.members[i];
                void *old;
                uintptr_t slot = (uintptr_t)ru_map_get(&at, m->key, m->klen);
                if (slot) {
                    obj->u.members[slot - 1].value = m->value;
                    obj->u.members[slot - 1].ktyped = m->ktyped;
                    continue;
                }
                if (!rv_object_push(p->a, obj, m->key, m->klen, m->value) ||
                    !ru_map_put(&at, m->key, m->klen, (void *)(uintptr_t)obj->len, &old)) {
                    fail_oom(p);
                    return;
                }
                obj->u.members[obj->len - 1].ktyped = m->ktyped;
            }
        }
    }
}

/* Gives a closed container its layout (yaml_layout.h) and returns its
 * text; pops its entries either way. */
static span close_layout(yparse *p, frame *f, const yaml_event_t *ev)
{
    span sp = { f->vstart, f->last_end, f->props };
    if (!p->src)
        return sp;
    /* A flow collection ends past its bracket; a block one where libyaml
     * saw the next token, so at its last value instead. */
    if (f->flow)
        sp.end = byte_of(p, ev->end_mark.index);
    size_t n = p->nents - f->ebase;
    ry_layout *l = ru_arena_alloc(p->a, sizeof *l + n * sizeof *l->e);
    if (!l) {
        fail_oom(p);
        return sp;
    }
    *l = (ry_layout){ .src = p->src, .start = sp.start, .end = sp.end, .flow = f->flow,
                      .merged = f->merges != NULL, .n = (uint32_t)n,
                      .e = (ry_entry *)(void *)(l + 1) };
    if (n)
        memcpy(l->e, p->ents + f->ebase, n * sizeof *l->e);
    p->nents = f->ebase;
    f->node->src = (const char *)(const void *)l;
    f->node->srclen = 0;
    f->node->flags |= RV_NODE_YLAYOUT;
    return sp;
}

static void on_end(yparse *p, const yaml_event_t *ev)
{
    if (p->depth == 0)
        return; /* libyaml never does this */
    frame f = p->stack[--p->depth];
    long dup = f.node->type == RV_OBJECT ? rv_object_duplicate(p->a, f.node) : -1;
    if (dup >= 0) {
        /* A repeated key would let a spec show a policy one value while
         * the orchestrator uses another: refuse it. (A key merged in with
         * `<<` is overridden by the mapping's own, as in PyYAML.) */
        char what[160];
        snprintf(what, sizeof what, "duplicate key \"%.100s\" in the mapping that starts here",
                 f.node->u.members[dup].key);
        fail_at(p, RV_EPARSE, f.start, what);
        return;
    }
    if (f.merges)
        resolve_merges(p, &f);
    /* As read: the pushes that built it marked it changed. */
    f.node->flags &= (uint8_t)~RV_NODE_EDITED;
    span sp = close_layout(p, &f, ev);
    uint32_t height = f.child_height + 1;
    if (f.anchor)
        add_anchor(p, f.anchor, f.node, p->bytes - f.bytes_at_start, height);
    place(p, f.node, height, f.start, sp);
}

static void libyaml_error(yparse *p, const yaml_parser_t *yp)
{
    if (yp->error == YAML_MEMORY_ERROR) {
        fail_oom(p);
        return;
    }
    const char *problem = yp->problem ? yp->problem : "syntax error";
    yaml_mark_t m = yp->problem_mark;
    if (yp->error == YAML_READER_ERROR) {
        /* Reader errors carry a byte offset, not a mark. */
        m.line = m.column = 0;
        for (size_t i = 0; i < yp->problem_offset && i < p->len; i++) {
            if (p->text[i] == '\n') {
                m.line++;
                m.column = 0;
            } else if (((unsigned char)p->text[i] & 0xC0) != 0x80) {
                m.column++;
            }
        }
    }
    char what[256];
    if (yp->context)
        snprintf(what, sizeof what, "%s (%s)", problem, yp->context);
    else
        snprintf(what, sizeof what, "%s", problem);
    fail_at(p, RV_EPARSE, m, what);
}

/* Whether the text breaks lines other than with LF or CRLF: CR alone, or
 * NEL, LS and PS, which YAML 1.1 (and libyaml) take as line breaks too;
 * or holds a tab, which libyaml takes as a separator in places PyYAML
 * refuses (`max_price: 9<TAB># note`): kept, such text would be carried
 * into an answer that the orchestrator's PyYAML cannot read. */
static bool odd_breaks(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\t')
            return true;
        if (c == '\r' && (i + 1 == len || text[i + 1] != '\n'))
            return true;
        if (c == 0xC2 && i + 1 < len && (unsigned char)text[i + 1] == 0x85)
            return true;
        if (c == 0xE2 && i + 2 < len && (unsigned char)text[i + 1] == 0x80 &&
            ((unsigned char)text[i + 2] == 0xA8 || (unsigned char)text[i + 2] == 0xA9))
            return true;
    }
    return false;
}

rv_node *rv_yaml_parse(ru_arena *a, const char *text, size_t len, uint32_t max_nesting,
                       rv_error *err)
{
    yparse p = { .a = a, .err = err, .text = text, .len = len };
    ru_map_init(&p.anchors, a);
    p.max_nesting = max_nesting ? max_nesting : DEFAULT_NESTING;
    size_t by_size = len > ALIAS_MAX_BYTES / ALIAS_PER_BYTE ? ALIAS_MAX_BYTES : len * ALIAS_PER_BYTE;
    if (by_size < ALIAS_FLOOR_BYTES)
        by_size = ALIAS_FLOOR_BYTES;
    p.alias_limit = by_size < ALIAS_MAX_BYTES ? by_size : ALIAS_MAX_BYTES;

    /* The text is copied for the layouts (the caller may free its own). */
    bool utf16 = len >= 2 && (((unsigned char)text[0] == 0xFF && (unsigned char)text[1] == 0xFE) ||
                              ((unsigned char)text[0] == 0xFE && (unsigned char)text[1] == 0xFF));
    if (!utf16 && len < UINT32_MAX) {
        char *copy = ru_arena_alloc(a, len + 1);
        p.src = ru_arena_alloc(a, sizeof *p.src);
        if (!copy || !p.src) {
            rv_set_error(err, RV_ENOMEM, "out of memory while parsing YAML");
            return NULL;
        }
        if (len)
            memcpy(copy, text, len);
        copy[len] = '\0';
        *p.src = (ry_source){ .text = copy, .len = len, .editable = !odd_breaks(text, len) };
        if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
            p.bom = p.bi = 3;
    }

    yaml_parser_t yp;
    if (!yaml_parser_initialize(&yp)) {
        rv_set_error(err, RV_ENOMEM, "out of memory while parsing YAML");
        return NULL;
    }
    yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
    int docs = 0;
    bool done = false;
    while (!done && !p.failed) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&yp, &ev)) {
            libyaml_error(&p, &yp);
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (docs++ > 0)
                fail_at(&p, RV_EPARSE, ev.start_mark,
                        "more than one document (a spec is exactly one)");
            break;
        case YAML_SCALAR_EVENT:
            on_scalar(&p, &ev);
            break;
        case YAML_ALIAS_EVENT:
            on_alias(&p, &ev);
            break;
        case YAML_SEQUENCE_START_EVENT:
            on_start(&p, &ev, false);
            break;
        case YAML_MAPPING_START_EVENT:
            on_start(&p, &ev, true);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            on_end(&p, &ev);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&yp);
    if (p.stack)
        a->alloc(a->ud, p.stack, p.cap * sizeof *p.stack, 0);
    if (p.ents)
        a->alloc(a->ud, p.ents, p.ecap * sizeof *p.ents, 0);
    if (p.failed)
        return NULL;
    if (docs == 0 || !p.root) {
        rv_set_error(err, RV_EPARSE, "empty YAML document");
        return NULL;
    }
    if (p.src)
        p.src->root = p.root;
    return p.root;
}

/* ---- Printing ---- */

typedef struct ywrite {
    yaml_emitter_t em;
    ru_buf *b;
    rv_error *err;
    bool failed;
    bool flow;  /* every container in flow style, every string on one line */
} ywrite;

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
    ru_buf *b = data;
    ru_buf_put(b, (const char *)buffer, size);
    return !b->oom;
}

static void emit_fail(ywrite *w, const char *what)
{
    if (w->failed)
        return;
    w->failed = true;
    if (w->b->oom || w->em.error == YAML_MEMORY_ERROR || w->em.error == YAML_WRITER_ERROR)
        rv_set_error(w->err, RV_ENOMEM, "out of memory while printing YAML");
    else
        rv_set_error(w->err, RV_EINPUT, "cannot print as YAML: %s",
                     what ? what : w->em.problem ? w->em.problem : "emitter error");
}

static void emit(ywrite *w, yaml_event_t *ev)
{
    /* The emitter owns the event from here on, success or not. */
    if (!w->failed && !yaml_emitter_emit(&w->em, ev))
        emit_fail(w, NULL);
}

/* libyaml takes yaml_char_t * but copies the bytes; no write happens. */
static yaml_char_t *ychars(const char *s)
{
    return (yaml_char_t *)(uintptr_t)s;
}

/* Whether a string must be quoted to read back as a string: PyYAML (YAML
 * 1.1, which dstack and SkyPilot use) or a YAML 1.2 reader would take it
 * for something else (`yes`, `0o17`, `1_000`, `2024-01-31`, `<<`), or a
 * stricter 1.1 reader would (`y`, `n`). */
static bool needs_quotes(const char *s, size_t n)
{
    static const char *const words[] = {"y", "Y", "n", "N"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (eq(s, n, words[i]))
            return true;
    return ry_resolve(s, n) != RY_STR || ry_resolve_core(s, n) != RY_STR;
}

static void emit_scalar(ywrite *w, const char *s, size_t n, yaml_scalar_style_t style,
                        bool plain_ok)
{
    yaml_event_t ev;
    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, ychars(s), (int)n, plain_ok, 1, style)) {
        emit_fail(w, "a string is not valid UTF-8");
        return;
    }
    emit(w, &ev);
}

static void emit_string(ywrite *w, const char *s, size_t n, bool is_key)
{
    /* In a flow collection a line break would be folded into the next
     * line, whose indentation the piece's place decides: escape it. */
    if (w->flow && (memchr(s, '\n', n) || memchr(s, '\r', n))) {
        if (n > INT32_MAX)
            emit_fail(w, "string too long");
        else
            emit_scalar(w, s, n, YAML_DOUBLE_QUOTED_SCALAR_STYLE, false);
        return;
    }
    if (n > INT32_MAX) {
        emit_fail(w, "string too long");
        return;
    }
    if (needs_quotes(s, n))
        emit_scalar(w, s, n, YAML_SINGLE_QUOTED_SCALAR_STYLE, false);
    else if (!is_key && memchr(s, '\n', n))
        emit_scalar(w, s, n, YAML_LITERAL_SCALAR_STYLE, false);
    else
        emit_scalar(w, s, n, YAML_ANY_SCALAR_STYLE, true);
}

static void emit_node(ywrite *w, const rv_node *n)
{
    yaml_event_t ev;
    if (w->failed)
        return;
    switch (n->type) {
    case RV_NULL:
        emit_scalar(w, "null", 4, YAML_PLAIN_SCALAR_STYLE, true);
        break;
    case RV_BOOL:
        if (n->u.b)
            emit_scalar(w, "true", 4, YAML_PLAIN_SCALAR_STYLE, true);
        else
            emit_scalar(w, "false", 5, YAML_PLAIN_SCALAR_STYLE, true);
        break;
    case RV_INT:
    case RV_FLOAT: {
        /* A number's text as read, when it reads back as the same number:
         * YAML's own (a big integer), or JSON's when PyYAML takes it for a
         * number too (123456789012345678901234567890, 1.0, not 1e400). */
        if ((n->flags & RV_NODE_YAML) ||
            ((n->flags & RV_NODE_SRC) && n->srclen && memchr("-0123456789", n->src[0], 11) &&
             (ry_resolve(n->src, n->srclen) == RY_INT || ry_resolve(n->src, n->srclen) == RY_FLOAT))) {
            emit_scalar(w, n->src, n->srclen, YAML_PLAIN_SCALAR_STYLE, true);
            break;
        }
        char tmp[64];
        if (n->type == RV_FLOAT && isnan(n->u.f)) {
            snprintf(tmp, sizeof tmp, ".nan");
        } else if (n->type == RV_FLOAT && isinf(n->u.f)) {
            snprintf(tmp, sizeof tmp, "%s", n->u.f < 0 ? "-.inf" : ".inf");
        } else {
            ru_buf nb;
            ru_buf_init(&nb, w->b->alloc, w->b->ud);
            rv_format_number(&nb, n);
            if (nb.oom || nb.len >= sizeof tmp) {
                ru_buf_free(&nb);
                w->b->oom = true;
                emit_fail(w, NULL);
                return;
            }
            memcpy(tmp, nb.data, nb.len);
            tmp[nb.len] = '\0';
            ru_buf_free(&nb);
            /* 1e+100 is a string to PyYAML (YAML 1.1 floats have a dot):
             * write 1.0e+100, as PyYAML itself does. */
            char *e = strchr(tmp, 'e');
            if (n->type == RV_FLOAT && e && !strchr(tmp, '.') && strlen(tmp) + 2 < sizeof tmp) {
                memmove(e + 2, e, strlen(e) + 1);
                e[0] = '.';
                e[1] = '0';
            }
        }
        emit_scalar(w, tmp, strlen(tmp), YAML_PLAIN_SCALAR_STYLE, true);
        break;
    }
    case RV_STRING:
        if (n->flags & RV_NODE_YAML)  /* a date, as it was written */
            emit_scalar(w, n->src, n->srclen, YAML_PLAIN_SCALAR_STYLE, true);
        else
            emit_string(w, n->u.s, n->len, false);
        break;
    case RV_ARRAY: {
        yaml_sequence_style_t st = n->len && !w->flow ? YAML_BLOCK_SEQUENCE_STYLE : YAML_FLOW_SEQUENCE_STYLE;
        if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, st)) {
            emit_fail(w, NULL);
            return;
        }
        emit(w, &ev);
        for (uint32_t i = 0; i < n->len && !w->failed; i++)
            emit_node(w, n->u.items[i]);
        yaml_sequence_end_event_initialize(&ev);
        emit(w, &ev);
        break;
    }
    case RV_OBJECT: {
        yaml_mapping_style_t st = n->len && !w->flow ? YAML_BLOCK_MAPPING_STYLE : YAML_FLOW_MAPPING_STYLE;
        if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, st)) {
            emit_fail(w, NULL);
            return;
        }
        emit(w, &ev);
        for (uint32_t i = 0; i < n->len && !w->failed; i++) {
            const rv_member *m = &n->u.members[i];
            /* A key read as a null, boolean or number goes back plain,
             * so that it reads back as one (`null: ami-1`). */
            if (m->ktyped && ry_resolve(m->key, m->klen) != RY_STR)
                emit_scalar(w, m->key, m->klen, YAML_PLAIN_SCALAR_STYLE, true);
            else
                emit_string(w, m->key, m->klen, true);
            emit_node(w, m->value);
        }
        yaml_mapping_end_event_initialize(&ev);
        emit(w, &ev);
        break;
    }
    default:
        emit_fail(w, "unknown node type");
    }
}

bool rv_yaml_write(ru_buf *b, const rv_node *n, rv_error *err)
{
    return rv_yaml_write_style(b, n, false, err);
}

bool rv_yaml_write_style(ru_buf *b, const rv_node *n, bool flow, rv_error *err)
{
    ywrite w = { .b = b, .err = err, .flow = flow };
    if (!yaml_emitter_initialize(&w.em)) {
        rv_set_error(err, RV_ENOMEM, "out of memory while printing YAML");
        return false;
    }
    yaml_emitter_set_output(&w.em, write_handler, b);
    yaml_emitter_set_unicode(&w.em, 1);
    yaml_emitter_set_indent(&w.em, 2);
    yaml_emitter_set_width(&w.em, -1); /* never fold long lines */
    yaml_emitter_set_break(&w.em, YAML_LN_BREAK);

    yaml_event_t ev;
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    emit(&w, &ev);
    if (!w.failed) {
        if (yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1))
            emit(&w, &ev);
        else
            emit_fail(&w, NULL);
    }
    emit_node(&w, n);
    if (!w.failed) {
        yaml_document_end_event_initialize(&ev, 1);
        emit(&w, &ev);
    }
    if (!w.failed) {
        yaml_stream_end_event_initialize(&ev);
        emit(&w, &ev);
    }
    if (!w.failed && !yaml_emitter_flush(&w.em))
        emit_fail(&w, NULL);
    yaml_emitter_delete(&w.em);
    if (!w.failed && b->oom)
        emit_fail(&w, NULL);
    return !w.failed;
}
