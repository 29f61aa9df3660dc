/* doc_json.c - JSON text to rv_node trees and back.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Reading is one strict pass (RFC 8259, UTF-8 as RFC 3629 defines it) that
 * builds the tree straight into the arena, so every byte it takes comes
 * through the arena's allocator (the VM's hook). It is iterative: an
 * explicit stack, bounded by the nesting limit, holds the open containers,
 * and the values of an open container wait on a second stack until it
 * closes, when they are copied into storage of exactly their size. Every
 * refusal names what is wrong and where (line and column in the fields of
 * rv_error, as every parser of the library reports them). The one leniency
 * is a leading UTF-8 byte order mark, which is skipped (RFC 8259, 8.1).
 *
 * Fidelity. The text is copied into the arena twice. The first copy stays
 * as it came in: every value keeps a span of it (src), so a number or a
 * string no policy replaced prints exactly as written (`1e400`, `1.0`,
 * `"\u00e9"`), and an object or array no policy changed can be copied out
 * whole (RV_VERBATIM). In the second copy each string without escapes gets
 * a NUL written over its closing quote and becomes the node's text (or the
 * member's key), so most strings cost no copy at all; strings with escapes
 * are decoded into the arena. Keys with escapes keep their text as written
 * right after the decoded key (rv_member.kesc).
 *
 * Printing takes src when a value has one and lays the rest out as before:
 * compact, or indented like Python's json.dumps(indent=2).
 */
#include "value.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define DEFAULT_NESTING 512

/* ---- reading ---- */

/* A value read inside a container that is still open: its key (objects),
 * where the key's quote is (for a duplicate's message), the value. */
typedef struct pending {
    rv_member m;
    size_t keyat;
} pending;

/* A string token read: its text (NUL-terminated), its length, where the
 * token is (from the opening quote to just past the closing one), and
 * whether it held escapes. */
typedef struct jstr {
    const char *s;
    uint32_t len;
    size_t at, end;
    bool escaped;
} jstr;

/* An open container: the node (type set, storage filled at its close),
 * where its bracket is, where its values start on the pending stack. The
 * member of an object whose value is being read is the last on the
 * pending stack: its key is put there when read, its value when done. */
typedef struct frame {
    rv_node *node;
    size_t at;
    size_t base;
} frame;

typedef struct reader {
    ru_arena *a;
    const char *src;      /* the text as it came in: spans point here */
    char *w;              /* the working copy: strings and keys point here */
    size_t len, i;
    uint32_t max_nesting;
    rv_error *err;
    pending *pend;
    size_t npend, cappend;
    frame *fr;
    size_t nfr, capfr;
    uint32_t *dup_table;  /* duplicate-key check of large objects */
    size_t dup_cap;
    rv_node *pool;        /* nodes taken from the arena in blocks */
    size_t pool_left;
} reader;

/* 1-based line and column (in characters, not bytes) of a byte offset. The
 * text before an error is valid UTF-8 (the first invalid byte is the
 * error), so counting lead bytes counts characters. */
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

static bool fail_st(reader *r, rv_status st, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool fail_st(reader *r, rv_status st, size_t off, const char *fmt, ...)
{
    if (!r->err)
        return false;
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    /* The position goes in the fields only (see rv_error). */
    if (st == RV_EPARSE)
        rv_set_error(r->err, st, "invalid JSON: %s", what);
    else
        rv_set_error(r->err, st, "%s", what);
    if (st != RV_ENOMEM)
        position(r->src, r->len, off, &r->err->line, &r->err->column);
    return false;
}

#define fail(r, off, ...) fail_st(r, RV_EPARSE, off, __VA_ARGS__)

static bool oom(reader *r)
{
    return fail_st(r, RV_ENOMEM, 0, "out of memory while parsing JSON");
}

/* What stands at off, for "unexpected ..." messages. */
static void describe_at(const reader *r, size_t off, char *out, size_t size)
{
    if (off >= r->len) {
        snprintf(out, size, "end of input");
        return;
    }
    unsigned char c = (unsigned char)r->src[off];
    if (c >= 0x20 && c < 0x7f)
        snprintf(out, size, "character '%c'", c);
    else if (c == 0)
        snprintf(out, size, "NUL byte (0x00)");
    else if (c == '\f')
        snprintf(out, size, "form feed (0x0C), which is not JSON whitespace");
    else if (c < 0x20 || c == 0x7f)
        snprintf(out, size, "control character 0x%02X", c);
    else
        snprintf(out, size, "byte 0x%02X", c);
}

/* "unexpected X" at off, with what was expected there when given. */
static bool unexpected(reader *r, size_t off, const char *expected)
{
    char what[80];
    describe_at(r, off, what, sizeof what);
    if (expected)
        return fail(r, off, "unexpected %s: expected %s", what, expected);
    return fail(r, off, "unexpected %s", what);
}

static inline bool is_ws(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Every JSON whitespace byte is at most ' ' and every token starts above
 * it: one comparison settles the common case of no whitespace at all. The
 * cursor never passes the end, where the working copy has a NUL (SCAN_PAD),
 * so the byte at r->i can always be read. */
static inline void skip_ws(reader *r)
{
    const char *w = r->w;
    size_t i = r->i, n = r->len;
    if ((unsigned char)w[i] > ' ')
        return;
    while (i < n && is_ws(w[i]))
        i++;
    r->i = i;
}

#define NODE_BLOCK 32
/* Bytes after each decoded key that key_hash may read (never use). */
#define KEY_PAD 8
/* Zero bytes after the working copy of the text (its NUL included). The
 * NUL at w[len] ends every scan that reaches the end (it is a string stop,
 * not whitespace, no token's byte), so the hot loops read ahead without
 * checking the length: a string scan loads 16 bytes from any place up to
 * w[len], and a literal compares 5 bytes from any place before it. */
#define SCAN_PAD 16

/* Nodes come from the arena in blocks (a spec is mostly nodes), written
 * whole once: the type, the text it was read from (src, srclen: then
 * flagged RV_NODE_SRC; NULL for none), the value part zero. */
static inline rv_node *new_node(reader *r, uint8_t type, const char *src, uint32_t srclen)
{
    if (!r->pool_left) {
        r->pool = ru_arena_alloc(r->a, NODE_BLOCK * sizeof *r->pool);
        if (!r->pool)
            return NULL;
        r->pool_left = NODE_BLOCK;
    }
    rv_node *n = r->pool++;
    r->pool_left--;
    *n = (rv_node){ .type = type, .flags = src ? RV_NODE_SRC : 0, .srclen = srclen, .src = src };
    return n;
}

/* ---- strings ---- */

#if defined(__SSE2__)
/* The string stops among the 16 bytes at p, one bit each (the first byte
 * is the lowest bit). A signed compare with 0x20 takes both the control
 * characters and every byte of 0x80 and above (negative as signed). */
static inline unsigned stops_in_16(const unsigned char *p)
{
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i q = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
    __m128i b = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));
    __m128i c = _mm_cmplt_epi8(x, _mm_set1_epi8(0x20));
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(q, b), c));
}
#else
/* Without SSE2 (x86-64 always has it), 8 bytes at a step in a word.
 *
 * The string stops among the 8 bytes of x (little-endian: the first byte
 * is the lowest): a byte below 0x20, '"', '\\' or 0x80 and above gets its
 * high bit set in the result. These are the usual has-less/has-zero bit
 * tricks: a borrow can mark a byte above a real stop, never one below, so
 * the lowest bit set is exactly the first stop. */
static inline uint64_t stops_in_word(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    uint64_t lt20 = (x - ones * 0x20) & ~x;
    uint64_t zq = (q - ones) & ~q;
    uint64_t zb = (b - ones) & ~b;
    return (lt20 | zq | zb | x) & high;
}
#endif

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The four hex digits at s[i..i+3] as a code unit, or -1. */
static long hex4(const reader *r, size_t i)
{
    if (i + 4 > r->len)
        return -1;
    long v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval((unsigned char)r->w[i + k]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

/* Checks the escape whose backslash is at *i and moves past it. Surrogate
 * escapes must come as a high-low pair: a lone one has no UTF-8 form. */
static bool check_escape(reader *r, size_t *i, size_t quote)
{
    size_t at = *i;
    if (at + 1 >= r->len)
        return fail(r, quote, "unterminated string");
    unsigned char e = (unsigned char)r->w[at + 1];
    switch (e) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        *i = at + 2;
        return true;
    case 'u':
        break;
    default:
        if (e >= 0x20 && e < 0x7f)
            return fail(r, at, "invalid escape '\\%c' (JSON has \\\" \\\\ \\/ \\b \\f \\n \\r \\t "
                               "and \\uXXXX)", e);
        return fail(r, at, "invalid escape: '\\' followed by byte 0x%02X", e);
    }
    long cu = hex4(r, at + 2);
    if (cu < 0) {
        /* Show what stands there, as far as it is printable. */
        char shown[5];
        size_t k = 0;
        while (k < 4 && at + 2 + k < r->len && r->w[at + 2 + k] > 0x20 && r->w[at + 2 + k] < 0x7f &&
               r->w[at + 2 + k] != '"' && r->w[at + 2 + k] != '\\') {
            shown[k] = r->w[at + 2 + k];
            k++;
        }
        shown[k] = '\0';
        return fail(r, at, "invalid escape '\\u%s': \\u takes four hex digits", shown);
    }
    const char *text = r->src + at + 2;  /* the four digits as written */
    if (cu >= 0xDC00 && cu <= 0xDFFF)
        return fail(r, at, "lone surrogate \\u%.4s: a low surrogate (\\uDC00-\\uDFFF) must follow a "
                           "high one (\\uD800-\\uDBFF)", text);
    if (cu >= 0xD800 && cu <= 0xDBFF) {
        long lo = at + 7 < r->len && r->w[at + 6] == '\\' && r->w[at + 7] == 'u' ? hex4(r, at + 8) : -1;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return fail(r, at, "lone surrogate \\u%.4s: a high surrogate must be followed by a low "
                               "one (\\uDC00-\\uDFFF)", text);
        *i = at + 12;
        return true;
    }
    *i = at + 6;
    return true;
}

/* Checks the UTF-8 sequence whose lead byte (0x80 or above) is at *i and
 * moves past it: the well-formed sequences of RFC 3629 (Unicode's table
 * 3-7), nothing overlong, no surrogate, nothing above U+10FFFF. */
static bool check_utf8(reader *r, size_t *i)
{
    size_t at = *i;
    const unsigned char *s = (const unsigned char *)r->w;
    unsigned char c = s[at];
    int more;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0xC0)
        return fail(r, at, "invalid UTF-8: byte 0x%02X continues a sequence that did not start", c);
    if (c < 0xC2)
        return fail(r, at, "invalid UTF-8: byte 0x%02X starts an overlong encoding", c);
    if (c < 0xE0) {
        more = 1;
    } else if (c < 0xF0) {
        more = 2;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c < 0xF5) {
        more = 3;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return fail(r, at, "invalid UTF-8: byte 0x%02X never appears in UTF-8%s", c,
                    c < 0xF8 ? " (it would start a code point above U+10FFFF)" : "");
    }
    for (int k = 1; k <= more; k++) {
        if (at + (size_t)k >= r->len || (s[at + k] & 0xC0) != 0x80) {
            char next[48];
            if (at + (size_t)k >= r->len)
                snprintf(next, sizeof next, "the text ends");
            else
                snprintf(next, sizeof next, "byte 0x%02X follows", s[at + k]);
            return fail(r, at, "invalid UTF-8: byte 0x%02X starts a %d-byte sequence, but %s%s", c,
                        more + 1, next, k == 1 ? " (is the text Latin-1 rather than UTF-8?)" : "");
        }
    }
    unsigned char c1 = s[at + 1];
    if (c1 < lo || c1 > hi) {
        if (c == 0xED) {
            unsigned cp = (unsigned)(c & 0x0F) << 12 | (unsigned)(c1 & 0x3F) << 6 | (s[at + 2] & 0x3F);
            return fail(r, at, "invalid UTF-8: an encoded surrogate (U+%04X); surrogates are not "
                               "characters", cp);
        }
        if (c == 0xF4)
            return fail(r, at, "invalid UTF-8: a code point above U+10FFFF");
        return fail(r, at, "invalid UTF-8: an overlong encoding (byte 0x%02X 0x%02X)", c, c1);
    }
    *i = at + 1 + (size_t)more;
    return true;
}

static size_t put_utf8(char *o, unsigned long cp)
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

/* Decodes n bytes of checked string content (escapes all valid) into out;
 * returns the decoded length (never more than n). */
static size_t decode(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] != '\\') {
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
            unsigned long cp = 0;
            for (int k = 0; k < 4; k++)
                cp = cp << 4 | (unsigned long)hexval((unsigned char)s[i + k]);
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {  /* checked: a low surrogate follows */
                unsigned long lo = 0;
                for (int k = 0; k < 4; k++)
                    lo = lo << 4 | (unsigned long)hexval((unsigned char)s[i + 2 + k]);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            }
            o += put_utf8(out + o, cp);
            break;
        }
        default: /* '"', '\\', '/' */
            out[o++] = e;
        }
    }
    return o;
}

/* Reads the string whose opening quote is at r->i. A key (key_form) with
 * escapes keeps its text as written after its NUL (rv_member.kesc). */
static inline __attribute__((always_inline)) bool read_string(reader *r, jstr *t, bool key_form)
{
    const unsigned char *s = (const unsigned char *)r->w;
    size_t quote = r->i, i = quote + 1, n = r->len;
    bool escaped = false;
    for (;;) {
        /* To the next stop; the NUL at s[n] is one (SCAN_PAD), so this
         * needs no check of the length while i <= n. */
        for (;;) {
#if defined(__SSE2__)
            unsigned m = stops_in_16(s + i);
            if (m) {
                i += (size_t)__builtin_ctz(m);
                break;
            }
            i += 16;
#else
            uint64_t x;
            memcpy(&x, s + i, 8);
            uint64_t m = stops_in_word(x);
            if (m) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                i += (size_t)__builtin_ctzll(m) >> 3;
#else
                while (s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\')
                    i++;  /* big-endian: a borrow may mark an earlier byte */
#endif
                break;
            }
            i += 8;
#endif
        }
        if (i >= n)
            return fail(r, quote, "unterminated string");
        unsigned char c = s[i];
        if (c == '"')
            break;
        if (c == '\\') {
            if (!check_escape(r, &i, quote))
                return false;
            escaped = true;
        } else if (c < 0x20) {
            return fail(r, i, "control character 0x%02X in a string: write it as an escape "
                              "(\\n, \\t, \\u00XX)", c);
        } else if (!check_utf8(r, &i)) {
            return false;
        }
    }
    size_t raw = i - quote - 1;
    if (raw > UINT32_MAX)
        return fail_st(r, RV_ELIMIT, quote, "string longer than 4 GiB");
    t->at = quote;
    t->end = i + 1;
    t->escaped = escaped;
    r->i = i + 1;
    if (!escaped) {
        r->w[i] = '\0';
        t->s = r->w + quote + 1;
        t->len = (uint32_t)raw;
        return true;
    }
    /* Decoded text, its NUL, then (keys) the text as written. */
    size_t extra = key_form ? raw + 2 + KEY_PAD : 0;
    char *out = ru_arena_alloc(r->a, raw + 1 + extra);
    if (!out)
        return oom(r);
    size_t dlen = decode(r->w + quote + 1, raw, out);
    out[dlen] = '\0';
    if (key_form)
        memcpy(out + dlen + 1, r->src + quote, raw + 2);
    t->s = out;
    t->len = (uint32_t)dlen;
    return true;
}

/* ---- numbers ---- */

/* Powers of ten a double holds exactly. */
static const double exact_pow10[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* Reads the number at r->i: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
 * An integer that fits int64 is an int; anything else is a float, the
 * nearest double: a big integer rounds, 1e400 is +inf, 1e-400 is 0 (the
 * text is kept either way, and printed while the value is untouched). */
static rv_node *read_number(reader *r)
{
    const char *w = r->w;
    size_t start = r->i, i = start, n = r->len;
    bool neg = false;
    if (w[i] == '-') {
        neg = true;
        i++;
    }
    if (i >= n || !is_digit(w[i])) {
        fail(r, start, "a number needs a digit after '-'");
        return NULL;
    }
    if (w[i] == '0' && i + 1 < n && is_digit(w[i + 1])) {
        fail(r, start, "a number cannot start with a leading zero");
        return NULL;
    }
    /* mant takes up to 19 significant digits exactly (19 nines still fit
     * 64 bits); with more, the value is not exact here (slow path). The
     * value is mant * 10^(scale + exponent).
     * The loops need no check of the length: the text ends in a NUL
     * (SCAN_PAD), which is no digit. */
    uint64_t mant = 0;
    int sig = 0;
    long scale = 0;
    bool exact = true, is_float = false;
    for (; is_digit(w[i]); i++) {
        if (sig < 19) {
            mant = mant * 10 + (uint64_t)(w[i] - '0');
            sig += mant != 0;
        } else {
            exact = false;
            scale++;
        }
    }
    if (w[i] == '.') {
        is_float = true;
        i++;
        if (i >= n || !is_digit(w[i])) {
            fail(r, i - 1, "a number needs digits after its decimal point");
            return NULL;
        }
        for (; is_digit(w[i]); i++) {
            if (sig < 19) {
                mant = mant * 10 + (uint64_t)(w[i] - '0');
                sig += mant != 0;
                scale--;
            } else {
                exact = false;
            }
        }
    }
    long exp10 = 0;
    if (w[i] == 'e' || w[i] == 'E') {
        is_float = true;
        size_t e_at = i++;
        bool eneg = false;
        if (w[i] == '+' || w[i] == '-')
            eneg = w[i++] == '-';
        if (i >= n || !is_digit(w[i])) {
            fail(r, e_at, "a number needs digits in its exponent");
            return NULL;
        }
        for (; is_digit(w[i]); i++)
            if (exp10 < 1000000)
                exp10 = exp10 * 10 + (w[i] - '0');
        if (eneg)
            exp10 = -exp10;
    }
    r->i = i;
    size_t len = i - start;
    if (len > UINT32_MAX) {
        fail_st(r, RV_ELIMIT, start, "number longer than 4 GiB");
        return NULL;
    }
    rv_node *node = new_node(r, RV_INT, r->src + start, (uint32_t)len);
    if (!node) {
        oom(r);
        return NULL;
    }
    if (!is_float && exact &&
        (mant <= (uint64_t)INT64_MAX || (neg && mant == (uint64_t)INT64_MAX + 1))) {
        node->u.i = neg ? (int64_t)(0 - mant) : (int64_t)mant;
        return node;
    }
    node->type = RV_FLOAT;
    /* When the digits and the power of ten are both exact doubles, one
     * correctly rounded operation gives the nearest double (Clinger's fast
     * path): most floats in a spec (2.0, 0.5, 1e3) take it. */
    long e = scale + exp10;
    if (exact && mant <= (1ull << 53) && e >= -22 && e <= 22) {
        double d = (double)mant;
        d = e < 0 ? d / exact_pow10[-e] : d * exact_pow10[e];
        node->u.f = neg ? -d : d;
        return node;
    }
    /* Everything else: the C library's correctly rounded conversion, on a
     * NUL-terminated copy of the token (strtod reads no further than JSON
     * does there: the token is already checked). */
    char small[64];
    char *z = small;
    if (len >= sizeof small) {
        z = ru_arena_alloc(r->a, len + 1);
        if (!z) {
            oom(r);
            return NULL;
        }
    }
    memcpy(z, r->src + start, len);
    z[len] = '\0';
    node->u.f = strtod(z, NULL);
    return node;
}

/* The bytes of a word: a literal must not run on into one ("nullx"), and
 * a word that is no literal is named whole in the message. */
static const unsigned char word_byte[256] = {
    ['a' ... 'z'] = 1, ['A' ... 'Z'] = 1, ['0' ... '9'] = 1, ['_'] = 1,
};

/* true, false, null; anything else that starts with a letter is named. */
static rv_node *read_literal(reader *r)
{
    size_t i = r->i, n = r->len, len = 0;
    const char *w = r->w + i;
    uint8_t type = RV_NULL;
    int b = 0;
    /* By the first letter, null (the commonest) first. The text ends in a
     * NUL and padding (SCAN_PAD), so 5 bytes from i < n can be read, and
     * a word cut short by the end does not match. */
    if (w[0] == 'n' && memcmp(w, "null", 4) == 0)
        len = 4;
    else if (w[0] == 't' && memcmp(w, "true", 4) == 0)
        type = RV_BOOL, b = 1, len = 4;
    else if (w[0] == 'f' && memcmp(w, "false", 5) == 0)
        type = RV_BOOL, len = 5;
    char c = w[len];  /* a NUL at the end */
    if (len && !word_byte[(unsigned char)c]) {
        /* With its text, so that a run of members as read can hold it. */
        rv_node *v = new_node(r, type, r->src + i, (uint32_t)len);
        if (!v) {
            oom(r);
            return NULL;
        }
        v->u.b = b;
        r->i = i + len;
        return v;
    }
    size_t end = i;
    while (end < n && end - i < 32 && word_byte[(unsigned char)r->w[end]])
        end++;
    fail(r, i, "invalid literal '%.*s' (JSON has true, false and null; strings take double quotes)",
         (int)(end - i), r->src + i);
    return NULL;
}

/* ---- containers ---- */

/* A new entry on the pending stack (contents unset). */
static inline pending *push_pending(reader *r)
{
    if (r->npend == r->cappend) {
        size_t ncap = r->cappend ? r->cappend * 2 : 64;
        pending *np = ru_arena_alloc(r->a, ncap * sizeof *np);
        if (!np) {
            oom(r);
            return NULL;
        }
        if (r->npend)
            memcpy(np, r->pend, r->npend * sizeof *np);
        r->pend = np;   /* the old stack stays in the arena until reset */
        r->cappend = ncap;
    }
    return &r->pend[r->npend++];
}

static bool open_container(reader *r, uint8_t type)
{
    if (r->nfr >= r->max_nesting)
        return fail_st(r, RV_ELIMIT, r->i, "nesting deeper than %lu levels",
                       (unsigned long)r->max_nesting);
    if (r->nfr == r->capfr) {
        size_t ncap = r->capfr ? r->capfr * 2 : 16;
        frame *nf = ru_arena_alloc(r->a, ncap * sizeof *nf);
        if (!nf)
            return oom(r);
        if (r->nfr)
            memcpy(nf, r->fr, r->nfr * sizeof *nf);
        r->fr = nf;
        r->capfr = ncap;
    }
    rv_node *n = new_node(r, type, NULL, 0);
    if (!n)
        return oom(r);
    r->fr[r->nfr++] = (frame){ .node = n, .at = r->i, .base = r->npend };
    r->i++;
    return true;
}

static inline bool same_key(const rv_member *a, const rv_member *b)
{
    return a->klen == b->klen && (a->klen == 0 || (a->key[0] == b->key[0] &&
                                                   rv_same_bytes(a->key, b->key, a->klen)));
}

/* The 8 bytes at p (which may run past the key: the text's copy and every
 * decoded key have KEY_PAD bytes after them). */
static inline uint64_t load8(const char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

/* A hash of a key, 8 bytes at a step (keys are short; equal keys need
 * equal hashes, nothing more): the bytes past a short key are masked off. */
static inline uint64_t key_hash(const char *k, size_t n)
{
    uint64_t h = n * 0x9E3779B97F4A7C15ull, w;
    if (n < 8) {
        if (n == 0)
            return h;
        w = load8(k);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        w >>= 64 - 8 * n;
#else
        w &= ~0ull >> (64 - 8 * n);
#endif
    } else {
        for (; n > 8; k += 8, n -= 8) {
            h = (h ^ load8(k)) * 0xFF51AFD7ED558CCDull;
            h ^= h >> 32;
        }
        w = load8(k + n - 8);  /* the last 8 bytes, overlapping the step before */
    }
    h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
    return h ^ (h >> 29);
}

/* Index of the first member whose key repeats an earlier one, or -1: a
 * repeated key would let a spec show a policy one value while the
 * orchestrator, which keeps the last, uses another. Small objects compare
 * pairwise; larger ones go through an open-addressing table of member
 * indexes that the reader keeps for the whole text. */
static long find_duplicate(reader *r, const pending *p, size_t n, bool *failed)
{
    if (n < 2)
        return -1;
    if (n <= 12) {
        for (size_t i = 1; i < n; i++)
            for (size_t j = 0; j < i; j++)
                if (same_key(&p[i].m, &p[j].m))
                    return (long)i;
        return -1;
    }
    size_t cap = 32;
    while (cap < 2 * n)
        cap *= 2;
    if (cap > r->dup_cap) {
        r->dup_table = ru_arena_alloc(r->a, cap * sizeof *r->dup_table);
        if (!r->dup_table) {
            *failed = true;
            return -1;
        }
        r->dup_cap = cap;
    }
    uint32_t *t = r->dup_table;
    memset(t, 0xff, cap * sizeof *t);
    for (size_t i = 0; i < n; i++) {
        size_t h = (size_t)key_hash(p[i].m.key, p[i].m.klen) & (cap - 1);
        while (t[h] != UINT32_MAX) {
            if (same_key(&p[t[h]].m, &p[i].m))
                return (long)i;
            h = (h + 1) & (cap - 1);
        }
        t[h] = (uint32_t)i;
    }
    return -1;
}

/* Closes the innermost container at r->i (its closing bracket): its values
 * move into storage of their exact size. Returns the finished node. */
static rv_node *close_container(reader *r)
{
    frame *f = &r->fr[r->nfr - 1];
    rv_node *n = f->node;
    size_t cnt = r->npend - f->base;
    const pending *p = cnt ? r->pend + f->base : NULL;
    if (cnt > UINT32_MAX) {
        fail_st(r, RV_ELIMIT, f->at, "more than 4294967295 values in one container");
        return NULL;
    }
    if (n->type == RV_OBJECT) {
        bool failed = false;
        long dup = find_duplicate(r, p, cnt, &failed);
        if (failed) {
            oom(r);
            return NULL;
        }
        if (dup >= 0) {
            fail(r, p[dup].keyat, "duplicate key \"%.100s\"", p[dup].m.key);
            return NULL;
        }
        if (cnt) {
            rv_member *m = ru_arena_alloc(r->a, cnt * sizeof *m);
            if (!m) {
                oom(r);
                return NULL;
            }
            for (size_t k = 0; k < cnt; k++)
                m[k] = p[k].m;
            n->u.members = m;
        }
    } else if (cnt) {
        rv_node **items = ru_arena_alloc(r->a, cnt * sizeof *items);
        if (!items) {
            oom(r);
            return NULL;
        }
        for (size_t k = 0; k < cnt; k++)
            items[k] = p[k].m.value;
        n->u.items = items;
    }
    n->len = n->cap = (uint32_t)cnt;
    r->i++;
    size_t span = r->i - f->at;
    if (span <= UINT32_MAX) {   /* a longer one is printed from its parts */
        n->flags = RV_NODE_SRC;
        n->src = r->src + f->at;
        n->srclen = (uint32_t)span;
    }
    r->npend = f->base;
    r->nfr--;
    return n;
}

/* Reads the key of a member (the string at r->i, then ':') into a new
 * entry on the pending stack, which gets its value when that is read.
 * Inlined into its two callers: a call per key costs more than the key.
 * Compact text (as dstack posts it) has no blanks before the key or around
 * the ':': the byte where they would be is looked at first. */
static inline __attribute__((always_inline)) bool read_key(reader *r, const char *expected)
{
    if (r->w[r->i] != '"') {
        skip_ws(r);
        if (r->w[r->i] != '"')
            return unexpected(r, r->i, expected);
    }
    jstr key = {0};  /* set by read_string; zeroed for the compiler, which cannot see that */
    if (!read_string(r, &key, true))
        return false;
    if (r->w[r->i] != ':') {
        skip_ws(r);
        if (r->w[r->i] != ':')
            return unexpected(r, r->i, "':' after the key");
    }
    r->i++;
    pending *p = push_pending(r);
    if (!p)
        return false;
    uint32_t kesc = !key.escaped ? RV_KEY_PLAIN
                    : key.end - key.at <= UINT32_MAX ? (uint32_t)(key.end - key.at) : 0;
    p->m = (rv_member){ .key = key.s, .klen = key.len, .kesc = kesc };
    p->keyat = key.at;
    return true;
}

/* Reads one scalar at r->i (c is its first byte). */
static rv_node *read_scalar(reader *r, char c)
{
    if (c == '"') {
        jstr t = {0};
        if (!read_string(r, &t, false))
            return NULL;
        bool spans = t.end - t.at <= UINT32_MAX;
        rv_node *v = new_node(r, RV_STRING, spans ? r->src + t.at : NULL,
                              spans ? (uint32_t)(t.end - t.at) : 0);
        if (!v) {
            oom(r);
            return NULL;
        }
        v->u.s = t.s;
        v->len = t.len;
        return v;
    }
    if (c == '-' || is_digit(c))
        return read_number(r);
    if (c >= 'a' && c <= 'z')
        return read_literal(r);
    unexpected(r, r->i, r->nfr ? "a value" : NULL);
    return NULL;
}

/* The grammar as a loop: read a value; then, inside a container, a ','
 * and the next member or item, or the closing bracket, which completes
 * the container as a value of its own. */
static rv_node *read_document(reader *r)
{
    for (;;) {
        skip_ws(r);
        if (r->i >= r->len) {
            unexpected(r, r->i, r->nfr ? "a value" : NULL);
            return NULL;
        }
        char c = r->w[r->i];
        rv_node *v;
        if (c == '{' || c == '[') {
            if (!open_container(r, c == '{' ? RV_OBJECT : RV_ARRAY))
                return NULL;
            skip_ws(r);
            if (r->w[r->i] == (c == '{' ? '}' : ']')) {
                v = close_container(r);
                if (!v)
                    return NULL;
            } else if (c == '[' || read_key(r, "a key (a string in double quotes) or '}'")) {
                continue;  /* the first value */
            } else {
                return NULL;
            }
        } else {
            v = read_scalar(r, c);
            if (!v)
                return NULL;
        }

        /* v is complete: it goes to its container, which goes on with
         * ',' or closes, completing a value of its own. */
        for (;;) {
            if (r->nfr == 0)
                return v;
            frame *f = &r->fr[r->nfr - 1];
            bool obj = f->node->type == RV_OBJECT;
            if (obj) {
                r->pend[r->npend - 1].m.value = v;  /* its key is there */
            } else {
                pending *p = push_pending(r);
                if (!p)
                    return NULL;
                p->m = (rv_member){ .value = v };
            }
            if (r->w[r->i] != ',')
                skip_ws(r);  /* compact text has none: look first */
            if (r->w[r->i] == ',') {
                r->i++;
                if (obj && !read_key(r, "a key (a string in double quotes) after ','"))
                    return NULL;
                break;  /* the next value */
            }
            if (r->w[r->i] == (obj ? '}' : ']')) {
                v = close_container(r);
                if (!v)
                    return NULL;
                continue;
            }
            unexpected(r, r->i, obj ? "',' or '}'" : "',' or ']'");
            return NULL;
        }
    }
}

rv_node *rv_json_parse(ru_arena *a, const char *text, size_t len, uint32_t max_nesting,
                       rv_error *err)
{
    if (max_nesting == 0)
        max_nesting = DEFAULT_NESTING;
    if (len > (SIZE_MAX - 2 - SCAN_PAD) / 2) {
        rv_set_error(err, RV_ELIMIT, "JSON text too large");
        return NULL;
    }
    reader r = { .a = a, .len = len, .max_nesting = max_nesting, .err = err };
    /* The text as it came in, then the working copy with its padding. */
    char *copies = ru_arena_alloc(a, 2 * (len + 1) + SCAN_PAD);
    if (!copies) {
        oom(&r);
        return NULL;
    }
    memcpy(copies, text, len);
    copies[len] = '\0';
    memcpy(copies + len + 1, text, len);
    memset(copies + 2 * len + 1, 0, 1 + SCAN_PAD);
    r.src = copies;
    r.w = copies + len + 1;

    if (len >= 3 && memcmp(r.w, "\xEF\xBB\xBF", 3) == 0)
        r.i = 3;  /* a byte order mark: RFC 8259 lets a parser ignore it */
    /* A UTF-16 or UTF-32 text starts with their byte order mark, or has
     * NUL bytes where UTF-8 would have the first two ASCII characters: say
     * so, rather than name the first odd byte. */
    const unsigned char *u = (const unsigned char *)r.w;
    if ((len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF))) ||
        (len >= 4 && ((u[0] && !u[1] && !u[3]) || (!u[0] && !u[2])))) {
        fail(&r, 0, "the text looks like UTF-16 or UTF-32 (a byte order mark or NUL bytes at its "
                    "start): JSON must be UTF-8");
        return NULL;
    }
    skip_ws(&r);
    if (r.i == len) {
        fail(&r, len, "empty input");
        return NULL;
    }
    rv_node *doc = read_document(&r);
    if (!doc)
        return NULL;
    skip_ws(&r);
    if (r.i < len) {
        char what[80];
        describe_at(&r, r.i, what, sizeof what);
        fail(&r, r.i, "unexpected %s after the document", what);
        return NULL;
    }
    return doc;
}

/* ---- printing ---- */

/* Whether a container can be copied out as it was read: it has its text,
 * and neither it nor any container below it was changed since (a changed
 * container is marked RV_NODE_EDITED; the values of an unchanged one are
 * the ones read, so its scalars are as written too). */
static bool untouched(const rv_node *n)
{
    if ((n->flags & (RV_NODE_SRC | RV_NODE_EDITED)) != RV_NODE_SRC)
        return false;
    if (n->type == RV_ARRAY) {
        for (uint32_t i = 0; i < n->len; i++) {
            const rv_node *v = n->u.items[i];
            if ((v->type == RV_ARRAY || v->type == RV_OBJECT) && !untouched(v))
                return false;
        }
    } else {
        for (uint32_t i = 0; i < n->len; i++) {
            const rv_node *v = n->u.members[i].value;
            if ((v->type == RV_ARRAY || v->type == RV_OBJECT) && !untouched(v))
                return false;
        }
    }
    return true;
}

/* Copies n bytes. Most pieces a printer puts are short (keys, numbers,
 * words): those are copied with two overlapping loads and stores, which
 * never touch a byte outside [s, s + n), instead of a call to memcpy. */
static inline void copy_bytes(char *d, const char *s, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t a, z;
        memcpy(&a, s, 8);
        memcpy(&z, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &z, 8);
    } else if (n >= 4 && n < 8) {
        uint32_t a, z;
        memcpy(&a, s, 4);
        memcpy(&z, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &z, 4);
    } else if (n < 4) {
        for (size_t i = 0; i < n; i++)
            d[i] = s[i];
    } else {
        memcpy(d, s, n);
    }
}

/* ru_buf_put for the printer's pieces; quoted puts '"' on each side. */
static inline void put_bytes(ru_buf *b, const char *s, size_t n, bool quoted)
{
    size_t q = quoted ? 2 : 0;
    if (b->oom || n + q >= b->cap - b->len) {  /* room for the NUL too (buf.h) */
        if (quoted)
            ru_buf_putc(b, '"');
        ru_buf_put(b, s, n);
        if (quoted)
            ru_buf_putc(b, '"');
        return;
    }
    char *d = b->data + b->len;
    if (quoted)
        *d++ = '"';
    copy_bytes(d, s, n);
    if (quoted)
        d[n] = '"';
    b->len += n + q;
}

static void put_container_text(ru_buf *b, const rv_node *n)
{
    ru_buf_put(b, n->src, n->srclen);
}

static void put_scalar(ru_buf *b, const rv_node *n)
{
    if (n->flags & RV_NODE_SRC) {
        put_bytes(b, n->src, n->srclen, false);
        return;
    }
    switch (n->type) {
    case RV_NULL:
        put_bytes(b, "null", 4, false);
        break;
    case RV_BOOL:
        if (n->u.b)
            put_bytes(b, "true", 4, false);
        else
            put_bytes(b, "false", 5, false);
        break;
    case RV_STRING:
        ru_buf_json_string(b, n->u.s, n->len);
        break;
    default:
        rv_format_number(b, n);
    }
}

static void put_key(ru_buf *b, const rv_member *m)
{
    if (m->kesc == RV_KEY_PLAIN) {
        put_bytes(b, m->key, m->klen, true);
    } else if (m->kesc) {
        put_bytes(b, m->key + m->klen + 1, m->kesc, false);  /* as written (rv_member) */
    } else {
        ru_buf_json_string(b, m->key, m->klen);
    }
}

static void put_indent(ru_buf *b, unsigned depth)
{
    static const char spaces[] = "                                                                ";
    size_t n = (size_t)depth * 2;
    while (n > sizeof spaces - 1) {
        ru_buf_put(b, spaces, sizeof spaces - 1);
        n -= sizeof spaces - 1;
    }
    ru_buf_put(b, spaces, n);
}

/* Whether the bytes [p, q) of a text are blanks around exactly one c. */
static bool gap_is(const char *p, const char *q, char c)
{
    bool seen = false;
    for (; p < q; p++) {
        if (*p == c && !seen)
            seen = true;
        else if (!is_ws(*p))
            return false;
    }
    return seen;
}

/* Whether [p, q) lies inside [lo, hi) (compared as addresses: the parts may
 * come from other allocations, then they are simply not inside). */
static bool inside(const char *p, const char *q, const char *lo, const char *hi)
{
    return (uintptr_t)p >= (uintptr_t)lo && (uintptr_t)q <= (uintptr_t)hi && (uintptr_t)p <= (uintptr_t)q;
}

/* Where member or item i of container n stands in n's text, if it is
 * still there as it was read: from its key's quote (objects) or its value
 * to the end of its value, in *from and *to. An item is as read when its
 * value is a scalar with its text or an untouched container, and that text
 * lies in n's; a member, when moreover what stands just before its value
 * is its key as written (without escapes), then the ':'. A value moved
 * from elsewhere cannot pass: each place in a text is one value's, and the
 * key written before it is that value's key. */
static bool as_read(const rv_node *n, uint32_t i, const char **from, const char **to)
{
    const char *lo = n->src, *hi = n->src + n->srclen;
    const rv_node *v = n->type == RV_OBJECT ? n->u.members[i].value : n->u.items[i];
    if (!(v->flags & RV_NODE_SRC) || ((v->type == RV_ARRAY || v->type == RV_OBJECT) && !untouched(v)))
        return false;
    const char *vs = v->src, *ve = v->src + v->srclen;
    if (!inside(vs, ve, lo, hi))
        return false;
    *to = ve;
    if (n->type == RV_ARRAY) {
        *from = vs;
        return true;
    }
    const rv_member *m = &n->u.members[i];
    if (m->kesc != RV_KEY_PLAIN)
        return false;
    const char *p = vs;
    while (p > lo && is_ws(p[-1]))
        p--;
    if (p == lo || *--p != ':')
        return false;
    while (p > lo && is_ws(p[-1]))
        p--;
    /* p is just past the key's closing quote: "key" ends here */
    if ((size_t)(p - lo) < (size_t)m->klen + 2 || p[-1] != '"' || p[-2 - (ptrdiff_t)m->klen] != '"' ||
        !rv_same_bytes(p - 1 - m->klen, m->key, m->klen))
        return false;
    *from = p - 2 - m->klen;
    return true;
}

/* pretty: laid out like Python's json.dumps(indent=2): one item per line,
 * ", " never trails a line, empty containers stay [] and {}; otherwise no
 * blanks at all. verbatim: an untouched container is copied as read, and
 * in a changed one every run of members or items still as read is copied
 * as one piece of its text (the ',' between two of them must be all that
 * separated them, so nothing removed comes back). The recursion is bounded
 * by the nesting limit the document was read with. */
static void write_value(ru_buf *b, const rv_node *n, bool pretty, bool verbatim, unsigned depth)
{
    if (n->type != RV_ARRAY && n->type != RV_OBJECT) {
        put_scalar(b, n);
        return;
    }
    if (verbatim && untouched(n)) {
        put_container_text(b, n);
        return;
    }
    bool obj = n->type == RV_OBJECT;
    bool runs = verbatim && (n->flags & RV_NODE_SRC);
    const char *run = NULL, *run_end = NULL;  /* the run being gathered */
    ru_buf_putc(b, obj ? '{' : '[');
    for (uint32_t i = 0; i < n->len && !b->oom; i++) {
        const char *from, *to;
        bool copied = runs && as_read(n, i, &from, &to);
        if (copied && run && gap_is(run_end, from, ',')) {
            run_end = to;  /* the next one as read, right after the last */
            continue;
        }
        if (run) {
            ru_buf_put(b, run, (size_t)(run_end - run));
            run = NULL;
        }
        if (i)
            ru_buf_putc(b, ',');
        if (pretty) {
            ru_buf_putc(b, '\n');
            put_indent(b, depth + 1);
        }
        if (copied) {
            run = from;
            run_end = to;
            continue;
        }
        const rv_node *v;
        if (obj) {
            put_key(b, &n->u.members[i]);
            if (pretty)
                ru_buf_put(b, ": ", 2);
            else
                ru_buf_putc(b, ':');
            v = n->u.members[i].value;
        } else {
            v = n->u.items[i];
        }
        /* Each child is checked on its own: an untouched container below a
         * changed one is still copied whole. (A check walks the subtree
         * down to its first change, so the work beyond printing grows with
         * the depth of the changes, which policies' paths bound.) */
        write_value(b, v, pretty, verbatim, depth + 1);
    }
    if (run)
        ru_buf_put(b, run, (size_t)(run_end - run));
    if (pretty && n->len) {
        ru_buf_putc(b, '\n');
        put_indent(b, depth);
    }
    ru_buf_putc(b, obj ? '}' : ']');
}

bool rv_json_write(ru_buf *b, const rv_node *n, bool pretty, bool verbatim)
{
    write_value(b, n, pretty, verbatim, 0);
    return !b->oom;
}
