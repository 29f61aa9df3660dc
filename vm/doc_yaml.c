/* doc_yaml.c - YAML text to rv_node trees and back, through libyaml.
 *
 * Parsing walks libyaml's event stream with an explicit stack (no
 * recursion), resolves plain scalars by the YAML 1.2 core schema, and
 * expands aliases into deep copies under a node budget so an alias bomb
 * ("billion laughs") stops early. Printing drives libyaml's emitter and
 * quotes every string that would otherwise read back as another type.
 */
#include "value.h"

#include "hash.h"

#include <yaml.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_NESTING 512
/* Alias expansion budget: at most this many nodes, and at most
 * ALIAS_PER_BYTE nodes per input byte (with a small floor), whichever is
 * lower. Legitimate specs use a handful of aliases. */
#define ALIAS_MAX_NODES 1000000u
#define ALIAS_PER_BYTE 100u
#define ALIAS_FLOOR 10000u
#define TAG_PREFIX "tag:yaml.org,2002:"

/* ---- Core schema resolution ---- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool all_of(const char *s, size_t n, const char *set)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!memchr(set, s[i], strlen(set)))
            return false;
    return true;
}

static bool eq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

static bool is_null_text(const char *s, size_t n)
{
    return n == 0 || eq(s, n, "~") || eq(s, n, "null") || eq(s, n, "Null") || eq(s, n, "NULL");
}

static int bool_text(const char *s, size_t n) /* 1 true, 0 false, -1 neither */
{
    if (eq(s, n, "true") || eq(s, n, "True") || eq(s, n, "TRUE"))
        return 1;
    if (eq(s, n, "false") || eq(s, n, "False") || eq(s, n, "FALSE"))
        return 0;
    return -1;
}

static bool is_int_text(const char *s, size_t n)
{
    if (n > 2 && s[0] == '0' && s[1] == 'x')
        return all_of(s + 2, n - 2, "0123456789abcdefABCDEF");
    if (n > 2 && s[0] == '0' && s[1] == 'o')
        return all_of(s + 2, n - 2, "01234567");
    if (n > 0 && (s[0] == '-' || s[0] == '+'))
        s++, n--;
    return all_of(s, n, "0123456789");
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? and the specials. */
static bool is_float_text(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    const char *r = s + i;
    size_t rn = n - i;
    if (eq(r, rn, ".inf") || eq(r, rn, ".Inf") || eq(r, rn, ".INF"))
        return true;
    if (eq(s, n, ".nan") || eq(s, n, ".NaN") || eq(s, n, ".NAN"))
        return true;
    size_t intd = 0, fracd = 0;
    while (i < n && is_digit(s[i]))
        i++, intd++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && is_digit(s[i]))
            i++, fracd++;
        if (intd == 0 && fracd == 0)
            return false;
    } else if (intd == 0) {
        return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            i++;
        size_t ed = 0;
        while (i < n && is_digit(s[i]))
            i++, ed++;
        if (ed == 0)
            return false;
    }
    return i == n;
}

/* The type a plain, untagged scalar resolves to. */
static rv_doc_type plain_type(const char *s, size_t n)
{
    if (is_null_text(s, n))
        return RV_NULL;
    if (bool_text(s, n) >= 0)
        return RV_BOOL;
    if (is_int_text(s, n))
        return RV_INT;
    if (is_float_text(s, n))
        return RV_FLOAT;
    return RV_STRING;
}

/* s is NUL-terminated (libyaml scalars are). */
static double float_value(const char *s, size_t n)
{
    const char *r = s;
    bool neg = false;
    if (*r == '-' || *r == '+')
        neg = *r++ == '-';
    if (r[0] == '.' && (r[1] == 'i' || r[1] == 'I'))
        return neg ? -INFINITY : INFINITY;
    if (r[0] == '.' && (r[1] == 'n' || r[1] == 'N'))
        return NAN;
    (void)n;
    return strtod(s, NULL);
}

static rv_node *int_node(ru_arena *a, const char *s, size_t n)
{
    int base = 10;
    const char *digits = s;
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
        base = s[1] == 'x' ? 16 : 8;
        digits = s + 2;
    }
    errno = 0;
    if (base == 10) {
        long long v = strtoll(digits, NULL, 10);
        if (errno != ERANGE)
            return rv_new_int(a, (int64_t)v);
        return rv_new_float(a, strtod(s, NULL)); /* too big: keep the magnitude */
    }
    unsigned long long u = strtoull(digits, NULL, base);
    if (errno != ERANGE && u <= (unsigned long long)INT64_MAX)
        return rv_new_int(a, (int64_t)u);
    double d = 0;
    for (const char *p = digits; *p; p++) {
        char c = *p;
        int v = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
        d = d * base + v;
    }
    return rv_new_float(a, d);
}

/* ---- Parsing ---- */

typedef struct anchor {
    const char *name;
    rv_node *node;
    size_t count;      /* nodes in the anchored tree */
    uint32_t height;   /* 0 for a scalar, 1 + deepest child for containers */
} anchor;

typedef struct frame {
    rv_node *node;
    const char *key;   /* pending mapping key */
    size_t klen;
    bool have_key;
    const char *anchor;
    size_t count_at_start;
    uint32_t child_height;
    yaml_mark_t start;
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
    size_t created;        /* nodes made so far, alias copies included */
    size_t alias_nodes;    /* nodes made by alias expansion */
    size_t alias_limit;
    rv_node *root;
    bool failed;
} yparse;

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

static anchor *find_anchor(yparse *p, const char *name)
{
    return ru_map_get(&p->anchors, name, strlen(name));
}

static void add_anchor(yparse *p, const char *name, rv_node *n, size_t count, uint32_t height)
{
    /* A redefined anchor refers to its latest node: put replaces. */
    anchor *an = ru_arena_alloc(p->a, sizeof *an);
    if (!an || !ru_map_put(&p->anchors, name, strlen(name), an, NULL)) {
        fail_oom(p);
        return;
    }
    *an = (anchor){ name, n, count, height };
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

/* Where the next value goes: the top container, or the root. */
static void place(yparse *p, rv_node *n, uint32_t height, yaml_mark_t m)
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
    bool ok;
    if (f->node->type == RV_ARRAY) {
        ok = rv_array_push(p->a, f->node, n);
    } else {
        ok = rv_object_push(p->a, f->node, f->key, f->klen, n);
        f->have_key = false;
    }
    if (!ok)
        fail_oom(p);
}

static bool expecting_key(yparse *p)
{
    if (p->depth == 0)
        return false;
    frame *f = &p->stack[p->depth - 1];
    return f->node->type == RV_OBJECT && !f->have_key;
}

static void set_key(yparse *p, const char *s, size_t n)
{
    frame *f = &p->stack[p->depth - 1];
    f->key = ru_arena_strndup(p->a, s, n);
    f->klen = n;
    f->have_key = true;
    if (!f->key)
        fail_oom(p);
}

static rv_node *scalar_node(yparse *p, const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    rv_doc_type t;
    if (tag && strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) == 0) {
        const char *name = tag + strlen(TAG_PREFIX);
        bool valid = true;
        if (strcmp(name, "str") == 0) {
            t = RV_STRING;
        } else if (strcmp(name, "null") == 0) {
            t = RV_NULL;
            valid = is_null_text(s, n);
        } else if (strcmp(name, "bool") == 0) {
            t = RV_BOOL;
            valid = bool_text(s, n) >= 0;
        } else if (strcmp(name, "int") == 0) {
            t = RV_INT;
            valid = is_int_text(s, n);
        } else if (strcmp(name, "float") == 0) {
            t = RV_FLOAT;
            valid = is_int_text(s, n) || is_float_text(s, n);
        } else {
            t = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? plain_type(s, n) : RV_STRING;
        }
        if (!valid) {
            char what[96];
            snprintf(what, sizeof what, "value does not fit its tag !!%.40s", name);
            fail_at(p, RV_EPARSE, ev->start_mark, what);
            return NULL;
        }
    } else if (tag) {
        /* "!" forces a string; other local tags carry no meaning here. */
        t = strcmp(tag, "!") == 0 || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE
                ? RV_STRING
                : plain_type(s, n);
    } else {
        t = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? plain_type(s, n) : RV_STRING;
    }

    rv_node *node;
    switch (t) {
    case RV_NULL:
        node = rv_new_null(p->a);
        break;
    case RV_BOOL:
        node = rv_new_bool(p->a, bool_text(s, n) == 1);
        break;
    case RV_INT:
        node = int_node(p->a, s, n);
        break;
    case RV_FLOAT:
        if (is_int_text(s, n) && !is_float_text(s, n)) { /* !!float 0x10 */
            rv_node *i = int_node(p->a, s, n);
            node = i && i->type == RV_INT ? rv_new_float(p->a, (double)i->u.i) : i;
        } else {
            node = rv_new_float(p->a, float_value(s, n));
        }
        break;
    default:
        node = rv_new_string(p->a, s, n);
    }
    if (!node)
        fail_oom(p);
    return node;
}

static void on_scalar(yparse *p, const yaml_event_t *ev)
{
    if (expecting_key(p)) {
        /* Keys are text whatever they would resolve to: `1: x` has key "1". */
        set_key(p, (const char *)ev->data.scalar.value, ev->data.scalar.length);
        return;
    }
    rv_node *n = scalar_node(p, ev);
    if (!n)
        return;
    p->created++;
    if (ev->data.scalar.anchor) {
        const char *name = arena_name(p, ev->data.scalar.anchor);
        if (name)
            add_anchor(p, name, n, 1, 0);
    }
    place(p, n, 0, ev->start_mark);
}

static void on_alias(yparse *p, const yaml_event_t *ev)
{
    anchor *an = find_anchor(p, (const char *)ev->data.alias.anchor);
    if (!an) {
        fail_at(p, RV_EPARSE, ev->start_mark, "alias to an undefined anchor");
        return;
    }
    if (expecting_key(p)) {
        if (an->node->type == RV_STRING) {
            set_key(p, an->node->u.s, an->node->len);
        } else if (an->node->type != RV_ARRAY && an->node->type != RV_OBJECT) {
            ru_buf b;
            ru_buf_init(&b, p->a->alloc, p->a->ud);
            rv_json_compact(&b, an->node);
            if (b.oom)
                fail_oom(p);
            else
                set_key(p, b.data, b.len);
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
    if (an->count > p->alias_limit - p->alias_nodes) {
        char what[96];
        snprintf(what, sizeof what, "aliases expand to more than %zu nodes", p->alias_limit);
        fail_at(p, RV_ELIMIT, ev->start_mark, what);
        return;
    }
    p->alias_nodes += an->count;
    p->created += an->count;
    rv_node *n = rv_copy(p->a, an->node);
    if (!n) {
        fail_oom(p);
        return;
    }
    place(p, n, an->height, ev->start_mark);
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
    p->created++;
    p->stack[p->depth++] = (frame){ .node = n, .anchor = name, .count_at_start = p->created - 1,
                                    .start = ev->start_mark };
}

static void on_end(yparse *p, const yaml_event_t *ev)
{
    if (p->depth == 0)
        return; /* libyaml never does this */
    frame f = p->stack[--p->depth];
    long dup = f.node->type == RV_OBJECT ? rv_object_duplicate(p->a, f.node) : -1;
    if (dup >= 0) {
        /* A repeated key would let a spec show a policy one value while
         * the orchestrator uses another: refuse it. */
        char what[160];
        snprintf(what, sizeof what, "duplicate key \"%.100s\" in the mapping that starts here",
                 f.node->u.members[dup].key);
        fail_at(p, RV_EPARSE, f.start, what);
        return;
    }
    uint32_t height = f.child_height + 1;
    if (f.anchor)
        add_anchor(p, f.anchor, f.node, p->created - f.count_at_start, height);
    place(p, f.node, height, ev->start_mark);
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

rv_node *rv_yaml_parse(ru_arena *a, const char *text, size_t len, uint32_t max_nesting,
                       rv_error *err)
{
    yparse p = { .a = a, .err = err, .text = text, .len = len };
    ru_map_init(&p.anchors, a);
    p.max_nesting = max_nesting ? max_nesting : DEFAULT_NESTING;
    size_t by_size = len > ALIAS_MAX_NODES / ALIAS_PER_BYTE ? ALIAS_MAX_NODES : len * ALIAS_PER_BYTE;
    if (by_size < ALIAS_FLOOR)
        by_size = ALIAS_FLOOR;
    p.alias_limit = by_size < ALIAS_MAX_NODES ? by_size : ALIAS_MAX_NODES;

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
    if (p.failed)
        return NULL;
    if (docs == 0 || !p.root) {
        rv_set_error(err, RV_EPARSE, "empty YAML document");
        return NULL;
    }
    return p.root;
}

/* ---- Printing ---- */

typedef struct ywrite {
    yaml_emitter_t em;
    ru_buf *b;
    rv_error *err;
    bool failed;
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

/* Strings YAML 1.1 readers (PyYAML, which dstack uses) would take as
 * something else; quoting them costs nothing and keeps them strings there. */
static bool yaml11_special(const char *s, size_t n)
{
    static const char *const words[] = { "yes", "Yes", "YES", "no", "No", "NO", "on", "On",
                                         "ON", "off", "Off", "OFF", "y", "Y", "n", "N", "=" };
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (eq(s, n, words[i]))
            return true;
    /* 1_000, 1:30, 2024-01-31, 1e3 and friends. */
    return n > 0 && (is_digit(s[0]) || s[0] == '+' || s[0] == '-' || s[0] == '.') &&
           all_of(s, n, "0123456789_:.-+eE");
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
    if (n > INT32_MAX) {
        emit_fail(w, "string too long");
        return;
    }
    if (plain_type(s, n) != RV_STRING || yaml11_special(s, n))
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
        }
        emit_scalar(w, tmp, strlen(tmp), YAML_PLAIN_SCALAR_STYLE, true);
        break;
    }
    case RV_STRING:
        emit_string(w, n->u.s, n->len, false);
        break;
    case RV_ARRAY: {
        yaml_sequence_style_t st = n->len ? YAML_BLOCK_SEQUENCE_STYLE : YAML_FLOW_SEQUENCE_STYLE;
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
        yaml_mapping_style_t st = n->len ? YAML_BLOCK_MAPPING_STYLE : YAML_FLOW_MAPPING_STYLE;
        if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, st)) {
            emit_fail(w, NULL);
            return;
        }
        emit(w, &ev);
        for (uint32_t i = 0; i < n->len && !w->failed; i++) {
            emit_string(w, n->u.members[i].key, n->u.members[i].klen, true);
            emit_node(w, n->u.members[i].value);
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
    ywrite w = { .b = b, .err = err };
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
