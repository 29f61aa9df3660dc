/* value.c - the document tree: construction, copying, the value semantics
 * SPDX-License-Identifier: Apache-2.0
 * the VM and the compiler's constant folding share (truthiness, equality,
 * ordering), and the number/JSON text forms every printer builds on.
 *
 * Nothing here allocates except through an ru_arena or an ru_buf's
 * allocator, and nothing crashes on OOM: constructors return NULL and a
 * buffer sets its sticky `oom` flag.
 */
#include "value.h"

#include "hash.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const rv_node rv_null_node = { .type = RV_NULL };
const rv_node rv_true_node = { .type = RV_BOOL, .u.b = 1 };
const rv_node rv_false_node = { .type = RV_BOOL, .u.b = 0 };

/* ---- Node construction ---- */

static rv_node *new_node(ru_arena *a, uint8_t type)
{
    rv_node *n = ru_arena_alloc(a, sizeof *n);
    if (n) {
        memset(n, 0, sizeof *n);
        n->type = type;
    }
    return n;
}

rv_node *rv_new_null(ru_arena *a)
{
    return new_node(a, RV_NULL);
}

rv_node *rv_new_bool(ru_arena *a, bool b)
{
    rv_node *n = new_node(a, RV_BOOL);
    if (n)
        n->u.b = b ? 1 : 0;
    return n;
}

rv_node *rv_new_int(ru_arena *a, int64_t i)
{
    rv_node *n = new_node(a, RV_INT);
    if (n)
        n->u.i = i;
    return n;
}

rv_node *rv_new_float(ru_arena *a, double f)
{
    rv_node *n = new_node(a, RV_FLOAT);
    if (n)
        n->u.f = f;
    return n;
}

rv_node *rv_new_string(ru_arena *a, const char *s, size_t n)
{
    if (n > UINT32_MAX)
        return NULL;
    rv_node *node = new_node(a, RV_STRING);
    if (!node)
        return NULL;
    char *copy = ru_arena_strndup(a, s, n);
    if (!copy)
        return NULL;
    node->u.s = copy;
    node->len = (uint32_t)n;
    return node;
}

rv_node *rv_new_array(ru_arena *a, uint32_t cap)
{
    rv_node *n = new_node(a, RV_ARRAY);
    if (!n)
        return NULL;
    if (cap) {
        n->u.items = ru_arena_alloc(a, (size_t)cap * sizeof(rv_node *));
        if (!n->u.items)
            return NULL;
        n->cap = cap;
    }
    return n;
}

rv_node *rv_new_object(ru_arena *a, uint32_t cap)
{
    rv_node *n = new_node(a, RV_OBJECT);
    if (!n)
        return NULL;
    if (cap) {
        n->u.members = ru_arena_alloc(a, (size_t)cap * sizeof(rv_member));
        if (!n->u.members)
            return NULL;
        n->cap = cap;
    }
    return n;
}

/* The next capacity for a full array/object; 0 when it cannot grow. */
static uint32_t grown_cap(uint32_t cap)
{
    if (cap == 0)
        return 4;
    if (cap >= UINT32_MAX / 2)
        return cap == UINT32_MAX ? 0 : UINT32_MAX;
    return cap * 2;
}

bool rv_array_push(ru_arena *a, rv_node *arr, rv_node *v)
{
    if (!arr || arr->type != RV_ARRAY || !v)
        return false;
    if (arr->len == arr->cap) {
        uint32_t ncap = grown_cap(arr->cap);
        if (!ncap)
            return false;
        rv_node **items = ru_arena_alloc(a, (size_t)ncap * sizeof *items);
        if (!items)
            return false;
        if (arr->len)
            memcpy(items, arr->u.items, (size_t)arr->len * sizeof *items);
        arr->u.items = items; /* the old array stays in the arena until reset */
        arr->cap = ncap;
    }
    arr->u.items[arr->len++] = v;
    arr->flags |= RV_NODE_EDITED;
    return true;
}

/* The key is stored as given, not copied: it must live as long as the
 * object (callers pass arena or program memory). */
bool rv_object_push(ru_arena *a, rv_node *obj, const char *key, size_t klen, rv_node *v)
{
    if (!obj || obj->type != RV_OBJECT || !v || !key || klen > RV_KEY_MAX)
        return false;
    if (obj->len == obj->cap) {
        uint32_t ncap = grown_cap(obj->cap);
        if (!ncap)
            return false;
        rv_member *members = ru_arena_alloc(a, (size_t)ncap * sizeof *members);
        if (!members)
            return false;
        if (obj->len)
            memcpy(members, obj->u.members, (size_t)obj->len * sizeof *members);
        obj->u.members = members;
        obj->cap = ncap;
    }
    obj->u.members[obj->len++] = (rv_member){ .key = key, .klen = (uint32_t)klen, .value = v };
    obj->flags |= RV_NODE_EDITED;
    return true;
}

rv_member *rv_object_find(const rv_node *obj, const char *key, size_t klen)
{
    if (!obj || obj->type != RV_OBJECT)
        return NULL;
    rv_member *m = obj->u.members, *end = m + obj->len;
    if (klen == 0) {
        for (; m < end; m++)
            if (m->klen == 0)
                return m;
        return NULL;
    }
    /* Many keys of a spec have the same length: the first byte tells most
     * of them apart before the rest is compared. */
    char first = key[0];
    for (; m < end; m++)
        if (m->klen == klen && m->key[0] == first && rv_same_bytes(m->key + 1, key + 1, (uint32_t)klen - 1))
            return m;
    return NULL;
}

/* A scalar's copy keeps its text: scalars never change. */
static rv_node *with_src(rv_node *c, const rv_node *n)
{
    if (c) {
        c->flags = n->flags & (RV_NODE_SRC | RV_NODE_YAML);
        c->src = n->src;
        c->srclen = n->srclen;
    }
    return c;
}

rv_node *rv_copy(ru_arena *a, const rv_node *n)
{
    if (!n)
        return NULL;
    switch (n->type) {
    case RV_NULL:
        return rv_new_null(a);
    case RV_BOOL:
        return rv_new_bool(a, n->u.b != 0);
    case RV_INT:
        return with_src(rv_new_int(a, n->u.i), n);
    case RV_FLOAT:
        return with_src(rv_new_float(a, n->u.f), n);
    case RV_STRING:
        return with_src(rv_new_string(a, n->u.s, n->len), n);
    case RV_ARRAY: {
        rv_node *c = rv_new_array(a, n->len);
        if (!c)
            return NULL;
        for (uint32_t i = 0; i < n->len; i++) {
            rv_node *item = rv_copy(a, n->u.items[i]);
            if (!item)
                return NULL;
            c->u.items[i] = item;
        }
        c->len = n->len;
        return c;
    }
    case RV_OBJECT: {
        rv_node *c = rv_new_object(a, n->len);
        if (!c)
            return NULL;
        for (uint32_t i = 0; i < n->len; i++) {
            const rv_member *m = &n->u.members[i];
            /* The key, its NUL and its text as written (rv_member.kesc). */
            size_t raw = m->kesc > RV_KEY_PLAIN ? m->kesc : 0;
            char *key = ru_arena_alloc(a, (size_t)m->klen + 1 + raw);
            rv_node *v = rv_copy(a, m->value);
            if (!key || !v)
                return NULL;
            memcpy(key, m->key, m->klen);
            key[m->klen] = '\0';
            if (raw)
                memcpy(key + m->klen + 1, m->key + m->klen + 1, raw);
            c->u.members[i] = (rv_member){ .key = key, .klen = m->klen, .ktyped = m->ktyped, .kesc = m->kesc, .value = v };
        }
        c->len = n->len;
        return c;
    }
    }
    return NULL;
}

/* ---- Semantics ---- */

bool rv_truthy(const rv_node *n)
{
    if (!n)
        return false;
    switch (n->type) {
    case RV_NULL:
        return false;
    case RV_BOOL:
        return n->u.b != 0;
    case RV_INT:
        return n->u.i != 0;
    case RV_FLOAT:
        return n->u.f != 0.0; /* NaN is true, as in Python */
    case RV_STRING:
    case RV_ARRAY:
    case RV_OBJECT:
        return n->len != 0;
    }
    return false;
}

static bool is_number(const rv_node *n)
{
    return n->type == RV_INT || n->type == RV_FLOAT;
}

/* Exact comparison of an int64 with a double, without rounding the int to
 * a double (2^53 + 1 must not equal 2^53). false when f is NaN. */
static bool cmp_int_float(int64_t i, double f, int *cmp)
{
    if (isnan(f))
        return false;
    /* -2^63 is exactly representable; 2^63 is the first double above range. */
    if (f >= 9223372036854775808.0) {
        *cmp = -1;
        return true;
    }
    if (f < -9223372036854775808.0) {
        *cmp = 1;
        return true;
    }
    double t = trunc(f);
    int64_t ti = (int64_t)t;
    if (i != ti)
        *cmp = i < ti ? -1 : 1;
    else
        *cmp = f > t ? -1 : f < t ? 1 : 0;
    return true;
}

static bool cmp_numbers(const rv_node *x, const rv_node *y, int *cmp)
{
    if (x->type == RV_INT && y->type == RV_INT) {
        *cmp = x->u.i < y->u.i ? -1 : x->u.i > y->u.i;
        return true;
    }
    if (x->type == RV_INT)
        return cmp_int_float(x->u.i, y->u.f, cmp);
    if (y->type == RV_INT) {
        if (!cmp_int_float(y->u.i, x->u.f, cmp))
            return false;
        *cmp = -*cmp;
        return true;
    }
    double a = x->u.f, b = y->u.f;
    if (isnan(a) || isnan(b))
        return false;
    *cmp = a < b ? -1 : a > b;
    return true;
}

static int cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return alen < blen ? -1 : alen > blen;
}

bool rv_equal(const rv_node *x, const rv_node *y)
{
    if (x == y)
        return true;
    if (!x || !y)
        return false;
    if (is_number(x) && is_number(y)) {
        int c;
        return cmp_numbers(x, y, &c) && c == 0;
    }
    if (x->type != y->type)
        return false;
    switch (x->type) {
    case RV_NULL:
        return true;
    case RV_BOOL:
        return (x->u.b != 0) == (y->u.b != 0);
    case RV_STRING:
        return x->len == y->len && (x->len == 0 || memcmp(x->u.s, y->u.s, x->len) == 0);
    case RV_ARRAY:
        if (x->len != y->len)
            return false;
        for (uint32_t i = 0; i < x->len; i++)
            if (!rv_equal(x->u.items[i], y->u.items[i]))
                return false;
        return true;
    case RV_OBJECT:
        if (x->len != y->len)
            return false;
        for (uint32_t i = 0; i < x->len; i++) {
            const rv_member *m = &x->u.members[i];
            const rv_member *o = &y->u.members[i];
            /* Same key at the same place is the common case: O(n) then. */
            if (!(o->klen == m->klen && (m->klen == 0 || memcmp(o->key, m->key, m->klen) == 0))) {
                o = rv_object_find(y, m->key, m->klen);
                if (!o)
                    return false;
            }
            if (!rv_equal(m->value, o->value))
                return false;
        }
        return true;
    }
    return false;
}

bool rv_compare(const rv_node *x, const rv_node *y, int *cmp)
{
    if (!x || !y)
        return false;
    if (is_number(x) && is_number(y))
        return cmp_numbers(x, y, cmp);
    if (x->type == RV_STRING && y->type == RV_STRING) {
        *cmp = cmp_bytes(x->u.s, x->len, y->u.s, y->len);
        return true;
    }
    return false;
}

/* ---- Text forms ---- */

/* Shortest round-trip text of a finite double, laid out as Python's repr:
 * exponent form when the decimal exponent is below -4 or at least 16,
 * else positional with at least one digit after the point. */
static void format_double(ru_buf *b, double d)
{
    if (!isfinite(d)) {
        ru_buf_puts(b, "null");
        return;
    }
    if (d == 0.0) {
        ru_buf_puts(b, signbit(d) ? "-0.0" : "0.0");
        return;
    }
    /* Any decimal of at most 15 significant digits round-trips uniquely
     * (DBL_DIG), so for normal numbers the first precision that reads back
     * is the shortest once trailing zeros are dropped; 17 digits always
     * read back. Subnormals hold fewer digits: search them from 1 up. */
    char tmp[48];
    for (int prec = fabs(d) >= DBL_MIN ? 14 : 0; prec <= 16; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    /* tmp is [-]D.DDDDe[+-]XX */
    const char *p = tmp;
    bool neg = false;
    if (*p == '-') {
        neg = true;
        p++;
    }
    char digits[24];
    int nd = 0;
    for (; *p && *p != 'e' && *p != 'E'; p++)
        if (*p >= '0' && *p <= '9' && nd < (int)sizeof digits - 1)
            digits[nd++] = *p;
    int exp10 = *p ? atoi(p + 1) : 0;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';

    char out[64];
    int o = 0;
    if (neg)
        out[o++] = '-';
    if (exp10 < -4 || exp10 >= 16) {
        out[o++] = digits[0];
        if (nd > 1) {
            out[o++] = '.';
            memcpy(out + o, digits + 1, (size_t)nd - 1);
            o += nd - 1;
        }
        o += snprintf(out + o, sizeof out - (size_t)o, "e%c%02d", exp10 < 0 ? '-' : '+',
                      exp10 < 0 ? -exp10 : exp10);
    } else if (exp10 >= 0) {
        for (int i = 0; i <= exp10; i++)
            out[o++] = i < nd ? digits[i] : '0';
        out[o++] = '.';
        if (nd > exp10 + 1) {
            memcpy(out + o, digits + exp10 + 1, (size_t)(nd - exp10 - 1));
            o += nd - exp10 - 1;
        } else {
            out[o++] = '0';
        }
    } else {
        out[o++] = '0';
        out[o++] = '.';
        for (int i = 0; i < -exp10 - 1; i++)
            out[o++] = '0';
        memcpy(out + o, digits, (size_t)nd);
        o += nd;
    }
    ru_buf_put(b, out, (size_t)o);
}

/* Digits of an integer without printf: numbers are most of what a spec
 * holds, and this is on every printed decision. */
static void format_int(ru_buf *b, int64_t v)
{
    char tmp[24];
    char *p = tmp + sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    ru_buf_put(b, p, (size_t)(tmp + sizeof tmp - p));
}

void rv_format_number(ru_buf *b, const rv_node *n)
{
    if (n->type == RV_INT) {
        format_int(b, n->u.i);
    } else if (n->type == RV_FLOAT) {
        double f = n->u.f;
        /* Whole numbers of moderate size (64.0, 100.0, 2.0: most floats in
         * a spec) print as their digits and ".0", exactly as the shortest
         * round-trip form would, without the snprintf/strtod search. */
        if (f == f && f > -1e15 && f < 1e15 && f == (double)(int64_t)f && !(f == 0 && signbit(f))) {
            format_int(b, (int64_t)f);
            ru_buf_put(b, ".0", 2);
        } else {
            format_double(b, f);
        }
    } else {
        ru_buf_puts(b, "null");
    }
}

void rv_json_compact(ru_buf *b, const rv_node *n)
{
    switch (n->type) {
    case RV_NULL:
        ru_buf_puts(b, "null");
        break;
    case RV_BOOL:
        ru_buf_puts(b, n->u.b ? "true" : "false");
        break;
    case RV_INT:
    case RV_FLOAT:
        rv_format_number(b, n);
        break;
    case RV_STRING:
        ru_buf_json_string(b, n->u.s, n->len);
        break;
    case RV_ARRAY:
        ru_buf_putc(b, '[');
        for (uint32_t i = 0; i < n->len; i++) {
            if (i)
                ru_buf_putc(b, ',');
            rv_json_compact(b, n->u.items[i]);
        }
        ru_buf_putc(b, ']');
        break;
    case RV_OBJECT:
        ru_buf_putc(b, '{');
        for (uint32_t i = 0; i < n->len; i++) {
            const rv_member *m = &n->u.members[i];
            if (i)
                ru_buf_putc(b, ',');
            ru_buf_json_string(b, m->key, m->klen);
            ru_buf_putc(b, ':');
            rv_json_compact(b, m->value);
        }
        ru_buf_putc(b, '}');
        break;
    default:
        ru_buf_puts(b, "null");
    }
}

void rv_message_text(ru_buf *b, const rv_node *n)
{
    if (n->type == RV_STRING)
        ru_buf_put(b, n->u.s, n->len);
    else
        rv_json_compact(b, n);
}

void rv_describe(ru_buf *b, const rv_node *n)
{
    switch (n->type) {
    case RV_NULL:
        ru_buf_puts(b, "null");
        return;
    case RV_BOOL:
        ru_buf_puts(b, n->u.b ? "a bool (true)" : "a bool (false)");
        return;
    case RV_INT:
    case RV_FLOAT:
        ru_buf_puts(b, n->type == RV_INT ? "an integer (" : "a float (");
        rv_format_number(b, n);
        ru_buf_putc(b, ')');
        return;
    case RV_STRING:
        if (n->len > RV_DESCRIBE_MAX) {
            ru_buf_printf(b, "a string of %u bytes", n->len);
            return;
        }
        ru_buf_puts(b, "a string (");
        rv_json_compact(b, n);
        ru_buf_putc(b, ')');
        return;
    case RV_ARRAY:
        ru_buf_puts(b, "a list");
        return;
    default:
        ru_buf_puts(b, "a map");
        return;
    }
}

void rv_set_error(rv_error *err, rv_status st, const char *fmt, ...)
{
    if (!err)
        return;
    err->status = st;
    err->line = err->column = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

long rv_object_duplicate(ru_arena *a, const rv_node *obj)
{
    if (obj->type != RV_OBJECT || obj->len < 2)
        return -1;
    const rv_member *m = obj->u.members;
    uint32_t n = obj->len;
    if (n <= 16) {
        for (uint32_t i = 1; i < n; i++)
            for (uint32_t j = 0; j < i; j++)
                if (m[i].klen == m[j].klen && memcmp(m[i].key, m[j].key, m[i].klen) == 0)
                    return (long)i;
        return -1;
    }
    ru_map seen;
    ru_map_init(&seen, a);
    for (uint32_t i = 0; i < n; i++) {
        void *before;
        if (!ru_map_put(&seen, m[i].key, m[i].klen, (void *)(uintptr_t)&m[i], &before))
            return -1;  /* out of memory: the caller's next allocation reports it */
        if (before)
            return (long)i;
    }
    return -1;
}
