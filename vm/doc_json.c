/* doc_json.c - JSON text to rv_node trees and back.
 *
 * cJSON checks the syntax and gives the shape of the tree, but it keeps
 * numbers as doubles (so `2.0` and `2` look the same and big integers lose
 * digits) and strings as C strings (so "\u0000" truncates). A small lexical
 * side pass over the text therefore records every number and string token
 * in document order; a depth-first walk of the cJSON tree meets them in the
 * same order and takes each value from its token. The same pass bounds the
 * nesting depth before cJSON runs, so a hostile document never recurses.
 */
#include "value.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_NESTING 512

typedef struct tok {
    size_t off, len;   /* strings: the bytes between the quotes, still escaped */
    bool escaped;      /* strings: holds a backslash, so needs decoding */
} tok;

typedef struct tokvec {
    tok *v;
    size_t n, cap;
} tokvec;

typedef struct scan {
    ru_arena *arena;
    tokvec nums, strs;
    bool oom;
    size_t hint;       /* first capacity of the token vectors */
    /* First lexical error the pass can see that cJSON might not: a bad
     * number (`01`, `1.`), a raw control character in a string. */
    size_t bad_off;
    const char *bad_what;
    /* Set when nesting went past the limit. */
    bool too_deep;
    size_t deep_off;
} scan;

/* Token vectors live in the document's arena: the parse is followed by a
 * reset anyway, and taking them from malloc made every parse pay for a
 * large allocation that forced glibc to consolidate the small chunks cJSON
 * had just freed. Growth copies; the old storage is simply left behind. */
static void tok_push(scan *s, tokvec *tv, size_t off, size_t len, bool escaped)
{
    if (s->oom)
        return;
    if (tv->n == tv->cap) {
        size_t ncap = tv->cap ? tv->cap * 2 : s->hint;
        tok *nv = ru_arena_alloc(s->arena, ncap * sizeof *nv);
        if (!nv) {
            s->oom = true;
            return;
        }
        if (tv->n)
            memcpy(nv, tv->v, tv->n * sizeof *nv);
        tv->v = nv;
        tv->cap = ncap;
    }
    tv->v[tv->n++] = (tok){ off, len, escaped };
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool valid_number(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n || !is_digit(s[i]))
        return false;
    if (s[i] == '0')
        i++;
    else
        while (i < n && is_digit(s[i]))
            i++;
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || !is_digit(s[i]))
            return false;
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || !is_digit(s[i]))
            return false;
        while (i < n && is_digit(s[i]))
            i++;
    }
    return i == n;
}

static void set_bad(scan *s, size_t off, const char *what)
{
    if (!s->bad_what) {
        s->bad_off = off;
        s->bad_what = what;
    }
}

/* Bytes that end a run of plain string content: the closing quote, an
 * escape, or a control character (an error the pass reports). */
static const unsigned char string_stop[256] = {
    [0] = 1, [1] = 1, [2] = 1, [3] = 1, [4] = 1, [5] = 1, [6] = 1, [7] = 1, [8] = 1, [9] =
    1, [10] = 1, [11] = 1, [12] = 1, [13] = 1, [14] = 1, [15] = 1, [16] = 1, [17] = 1,
    [18] = 1, [19] = 1, [20] = 1, [21] = 1, [22] = 1, [23] = 1, [24] = 1, [25] = 1, [26] =
    1, [27] = 1, [28] = 1, [29] = 1, [30] = 1, [31] = 1, ['"'] = 1, ['\\'] = 1,
};

/* The side pass. Tokens outside strings that start with '-' or a digit are
 * numbers (in valid JSON nothing else does); strings are skipped with their
 * escapes. Stops early only when nesting goes past the limit. */
static void side_pass(scan *s, const char *t, size_t len, uint32_t max_nesting)
{
    uint32_t depth = 0;
    size_t i = 0;
    while (i < len && !s->oom) {
        char c = t[i];
        if (c == '"') {
            size_t start = ++i;
            bool escaped = false;
            for (;;) {
                while (i < len && !string_stop[(unsigned char)t[i]])
                    i++;
                if (i >= len || t[i] == '"')
                    break;
                if (t[i] == '\\') {
                    escaped = true;
                    i += 2;
                } else {
                    set_bad(s, i, "control character in string");
                    i++;
                }
            }
            if (i >= len) {
                set_bad(s, start - 1, "unterminated string");
                tok_push(s, &s->strs, start, len - start, escaped);
                return;
            }
            tok_push(s, &s->strs, start, i - start, escaped);
            i++;
        } else if (c == '-' || is_digit(c)) {
            size_t start = i;
            while (i < len && (is_digit(t[i]) || t[i] == '-' || t[i] == '+' || t[i] == '.' ||
                               t[i] == 'e' || t[i] == 'E'))
                i++;
            if (!valid_number(t + start, i - start))
                set_bad(s, start, "invalid number");
            tok_push(s, &s->nums, start, i - start, false);
        } else {
            if (c == '[' || c == '{') {
                if (++depth > max_nesting) {
                    s->too_deep = true;
                    s->deep_off = i;
                    return;
                }
            } else if ((c == ']' || c == '}') && depth > 0) {
                depth--;
            }
            i++;
        }
    }
}

/* 1-based line and column (in characters, not bytes) of a byte offset. */
static void position(const char *t, size_t len, size_t off, unsigned long *line,
                     unsigned long *col)
{
    unsigned long l = 1, c = 1;
    if (off > len)
        off = len;
    for (size_t i = 0; i < off; i++) {
        if (t[i] == '\n') {
            l++;
            c = 1;
        } else if (((unsigned char)t[i] & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

static void parse_error(rv_error *err, rv_status st, const char *t, size_t len, size_t off,
                        const char *what)
{
    unsigned long line, col;
    position(t, len, off, &line, &col);
    if (!err)
        return;
    /* The position goes in the fields only (see rv_error). */
    if (st == RV_ELIMIT)
        rv_set_error(err, st, "%s", what);
    else
        rv_set_error(err, st, "invalid JSON: %s", what);
    err->line = line;
    err->column = col;
}

/* "unexpected character 'x'" or "unexpected end of input" at off. */
static void unexpected_at(rv_error *err, const char *t, size_t len, size_t off,
                          const char *suffix)
{
    char what[96];
    /* cJSON may stop before blanks; the culprit is what follows them. */
    while (off < len && is_ws(t[off]))
        off++;
    if (off >= len) {
        snprintf(what, sizeof what, "unexpected end of input%s", suffix);
    } else {
        unsigned char c = (unsigned char)t[off];
        if (c >= 0x20 && c < 0x7f)
            snprintf(what, sizeof what, "unexpected character '%c'%s", c, suffix);
        else
            snprintf(what, sizeof what, "unexpected byte 0x%02X%s", c, suffix);
    }
    parse_error(err, RV_EPARSE, t, len, off, what);
}

static unsigned hexval(char c)
{
    if (c >= '0' && c <= '9')
        return (unsigned)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (unsigned)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
        return (unsigned)(c - 'A' + 10);
    return 0;
}

static unsigned hex4(const char *p)
{
    return hexval(p[0]) << 12 | hexval(p[1]) << 8 | hexval(p[2]) << 4 | hexval(p[3]);
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes the escapes of a string token (cJSON has already accepted it)
 * into the arena. Decoded text is never longer than the escaped text. */
static char *decode_string(ru_arena *a, const char *s, size_t n, size_t *outlen)
{
    char *out = ru_arena_alloc(a, n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] != '\\' || i + 1 >= n) {
            out[o++] = s[i++];
            continue;
        }
        char e = s[i + 1];
        i += 2;
        switch (e) {
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'u': {
            if (i + 4 > n) {
                i = n;
                break;
            }
            unsigned cp = hex4(s + i);
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 <= n && s[i] == '\\' && s[i + 1] == 'u') {
                unsigned lo = hex4(s + i + 2);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF)
                cp = 0xFFFD; /* a lone surrogate has no UTF-8 form */
            o += put_utf8(out + o, cp);
            break;
        }
        default: /* '"', '\\', '/' */
            out[o++] = e;
        }
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

typedef struct conv {
    ru_arena *a;
    const char *text;
    scan *sc;
    size_t ni, si;
    bool mismatch;     /* token streams and cJSON disagree (should not happen) */
    const char *dup_key;  /* first repeated key found, and where */
    size_t dup_off;
} conv;

static rv_node *number_node(conv *c)
{
    if (c->ni >= c->sc->nums.n) {
        c->mismatch = true;
        return NULL;
    }
    tok tk = c->sc->nums.v[c->ni++];
    const char *s = c->text + tk.off;
    char small[64];
    char *z = small;
    if (tk.len >= sizeof small) {
        z = ru_arena_strndup(c->a, s, tk.len);
        if (!z)
            return NULL;
    } else {
        memcpy(small, s, tk.len);
        small[tk.len] = '\0';
    }
    if (!memchr(z, '.', tk.len) && !memchr(z, 'e', tk.len) && !memchr(z, 'E', tk.len)) {
        errno = 0;
        long long v = strtoll(z, NULL, 10);
        if (errno != ERANGE)
            return rv_new_int(c->a, (int64_t)v);
    }
    return rv_new_float(c->a, strtod(z, NULL));
}

static const char *string_tok(conv *c, size_t *outlen)
{
    if (c->si >= c->sc->strs.n) {
        c->mismatch = true;
        return NULL;
    }
    tok tk = c->sc->strs.v[c->si++];
    if (!tk.escaped) {
        *outlen = tk.len;
        return ru_arena_strndup(c->a, c->text + tk.off, tk.len);
    }
    return decode_string(c->a, c->text + tk.off, tk.len, outlen);
}

/* Recursion is bounded by the nesting limit checked in the side pass (and
 * by cJSON's own limit of CJSON_NESTING_LIMIT). */
static rv_node *convert(conv *c, const cJSON *j)
{
    if (cJSON_IsNull(j))
        return rv_new_null(c->a);
    if (cJSON_IsTrue(j))
        return rv_new_bool(c->a, true);
    if (cJSON_IsFalse(j))
        return rv_new_bool(c->a, false);
    if (cJSON_IsNumber(j))
        return number_node(c);
    if (cJSON_IsString(j)) {
        size_t n;
        const char *s = string_tok(c, &n);
        if (!s)
            return NULL;
        rv_node *node = rv_new_null(c->a);
        if (!node || n > UINT32_MAX)
            return NULL;
        node->type = RV_STRING;
        node->u.s = s;
        node->len = (uint32_t)n;
        return node;
    }
    if (cJSON_IsArray(j)) {
        rv_node *arr = rv_new_array(c->a, (uint32_t)cJSON_GetArraySize(j));
        if (!arr)
            return NULL;
        for (const cJSON *k = j->child; k; k = k->next) {
            rv_node *v = convert(c, k);
            if (!v || !rv_array_push(c->a, arr, v))
                return NULL;
        }
        return arr;
    }
    if (cJSON_IsObject(j)) {
        rv_node *obj = rv_new_object(c->a, (uint32_t)cJSON_GetArraySize(j));
        if (!obj)
            return NULL;
        size_t first_key = c->si;
        for (const cJSON *k = j->child; k; k = k->next) {
            size_t klen;
            const char *key = string_tok(c, &klen); /* the key comes first in the text */
            if (!key)
                return NULL;
            rv_node *v = convert(c, k);
            if (!v || !rv_object_push(c->a, obj, key, klen, v))
                return NULL;
        }
        long dup = rv_object_duplicate(c->a, obj);
        if (dup >= 0 && !c->dup_key) {
            /* Find the repeated key's token: keys and nested strings
             * interleave, so walk the string tokens from the first key. */
            const rv_member *m = &obj->u.members[dup];
            c->dup_key = m->key;
            c->dup_off = c->sc->strs.v[first_key].off;
            for (size_t t = first_key; t < c->si; t++) {
                size_t n;
                const char *k = decode_string(c->a, c->text + c->sc->strs.v[t].off,
                                              c->sc->strs.v[t].len, &n);
                if (k && n == m->klen && memcmp(k, m->key, n) == 0)
                    c->dup_off = c->sc->strs.v[t].off;
            }
        }
        return obj;
    }
    c->mismatch = true;
    return NULL;
}

rv_node *rv_json_parse(ru_arena *a, const char *text, size_t len, uint32_t max_nesting,
                       rv_error *err)
{
    if (max_nesting == 0)
        max_nesting = DEFAULT_NESTING;
    size_t first = 0;
    while (first < len && is_ws(text[first]))
        first++;
    if (first == len) {
        parse_error(err, RV_EPARSE, text, len, len, "empty input");
        return NULL;
    }

    scan s = { .arena = a, .hint = len / 16 > 64 ? len / 16 : 64 };
    side_pass(&s, text, len, max_nesting);
    rv_node *result = NULL;
    if (s.oom) {
        rv_set_error(err, RV_ENOMEM, "out of memory while parsing JSON");
        goto out;
    }
    if (s.too_deep) {
        char what[64];
        snprintf(what, sizeof what, "nesting deeper than %lu levels", (unsigned long)max_nesting);
        parse_error(err, RV_ELIMIT, text, len, s.deep_off, what);
        goto out;
    }

    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    size_t stop = end && end >= text ? (size_t)(end - text) : len;
    if (!root) {
        if (s.bad_what && s.bad_off <= stop)
            parse_error(err, RV_EPARSE, text, len, s.bad_off, s.bad_what);
        else
            unexpected_at(err, text, len, stop, "");
        goto out;
    }
    while (stop < len && is_ws(text[stop]))
        stop++;
    if (s.bad_what && s.bad_off <= stop) {
        parse_error(err, RV_EPARSE, text, len, s.bad_off, s.bad_what);
    } else if (stop < len) {
        unexpected_at(err, text, len, stop, " after the document");
    } else {
        conv c = { .a = a, .text = text, .sc = &s };
        result = convert(&c, root);
        if (result && (c.ni != s.nums.n || c.si != s.strs.n))
            c.mismatch = true;
        if (result && c.dup_key) {
            char what[160];
            snprintf(what, sizeof what, "duplicate key \"%.100s\"", c.dup_key);
            /* String tokens start after their quote; point at the quote. */
            size_t at = c.dup_off > 0 && text[c.dup_off - 1] == '"' ? c.dup_off - 1 : c.dup_off;
            parse_error(err, RV_EPARSE, text, len, at, what);
            result = NULL;
        } else if (c.mismatch) {
            result = NULL;
            rv_set_error(err, RV_EPARSE, "invalid JSON: could not match the document's tokens");
        } else if (!result) {
            rv_set_error(err, RV_ENOMEM, "out of memory while parsing JSON");
        }
    }
    cJSON_Delete(root);
out:
    return result;
}

/* ---- Printing ---- */

static void put_key(ru_buf *b, const rv_member *m)
{
    rv_node k = { .type = RV_STRING, .len = m->klen, .u.s = m->key };
    rv_json_compact(b, &k);
}

/* Laid out like Python's json.dumps(indent=2): one item per line, ", " never
 * trails a line, empty containers stay [] and {}. */
static void json_pretty(ru_buf *b, const rv_node *n, unsigned depth)
{
    if ((n->type != RV_ARRAY && n->type != RV_OBJECT) || n->len == 0) {
        rv_json_compact(b, n);
        return;
    }
    bool obj = n->type == RV_OBJECT;
    ru_buf_putc(b, obj ? '{' : '[');
    for (uint32_t i = 0; i < n->len && !b->oom; i++) {
        if (i)
            ru_buf_putc(b, ',');
        ru_buf_putc(b, '\n');
        for (unsigned k = 0; k <= depth; k++)
            ru_buf_put(b, "  ", 2);
        if (obj) {
            put_key(b, &n->u.members[i]);
            ru_buf_put(b, ": ", 2);
            json_pretty(b, n->u.members[i].value, depth + 1);
        } else {
            json_pretty(b, n->u.items[i], depth + 1);
        }
    }
    ru_buf_putc(b, '\n');
    for (unsigned k = 0; k < depth; k++)
        ru_buf_put(b, "  ", 2);
    ru_buf_putc(b, obj ? '}' : ']');
}

bool rv_json_write(ru_buf *b, const rv_node *n, bool pretty)
{
    if (pretty)
        json_pretty(b, n, 0);
    else
        rv_json_compact(b, n);
    return !b->oom;
}
