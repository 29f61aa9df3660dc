/* scrub.c - case-insensitive search for many patterns, filtered by the
 * SPDX-License-Identifier: Apache-2.0
 * texts' 4-byte windows and bounded by a budget (scrub.h).
 *
 * Why not Aho-Corasick: its automaton costs a hash lookup (a cache miss)
 * per pattern byte to build, and a request's secrets can be as large as
 * the request: measured, the automaton for 1,000 secrets of 240 bytes took
 * 70 ms, thirty times the decision. The window filter costs a bit set per
 * text byte and, for almost every pattern, one bit test; only a pattern
 * made entirely of windows that occur in the texts is searched for (memmem
 * over the folded text), and that search is paid from a budget
 * proportional to the input.
 */
#include "scrub.h"

#include <stdlib.h>
#include <string.h>

typedef struct entry {
    size_t off, len;
} entry;

typedef struct span {
    size_t start, end;   /* [start, end) */
} span;

static inline unsigned char fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static inline bool word_byte(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           c >= 0x80;
}

void ru_scrub_init(ru_scrub *s, ru_alloc_fn alloc, void *ud)
{
    memset(s, 0, sizeof *s);
    s->alloc = alloc ? alloc : ru_default_alloc;
    s->ud = ud;
    ru_buf_init(&s->folded, s->alloc, s->ud);
    ru_buf_init(&s->index, s->alloc, s->ud);
    ru_buf_init(&s->cands, s->alloc, s->ud);
    s->budget = SIZE_MAX;
}

void ru_scrub_clear(ru_scrub *s)
{
    ru_buf_clear(&s->folded);
    ru_buf_clear(&s->index);
    ru_buf_clear(&s->cands);
    s->prepared = false;
    s->budget = SIZE_MAX;
    s->exhausted = false;
    s->oom = false;
}

void ru_scrub_free(ru_scrub *s)
{
    ru_buf_free(&s->folded);
    ru_buf_free(&s->index);
    ru_buf_free(&s->cands);
    ru_scrub_init(s, s->alloc, s->ud);
}

size_t ru_scrub_count(const ru_scrub *s)
{
    return s->index.len / sizeof(entry);
}

size_t ru_scrub_bytes(const ru_scrub *s)
{
    return s->folded.len;
}

static entry entry_at(const ru_scrub *s, size_t i)
{
    entry e;
    memcpy(&e, s->index.data + i * sizeof e, sizeof e);
    return e;
}

bool ru_scrub_add(ru_scrub *s, const char *p, size_t n)
{
    if (n == 0)
        return !s->oom;
    entry e = {s->folded.len, n};
    ru_buf_put(&s->folded, p, n);
    if (!s->folded.oom) {
        char *f = s->folded.data + e.off;
        for (size_t i = 0; i < n; i++)
            f[i] = (char)fold((unsigned char)f[i]);
    }
    ru_buf_put(&s->index, (const char *)&e, sizeof e);
    if (s->folded.oom || s->index.oom)
        s->oom = true;
    return !s->oom;
}

bool ru_scrub_add_json(ru_scrub *s, const char *p, size_t n)
{
    if (!ru_scrub_add(s, p, n))
        return false;
    bool plain = true;
    for (size_t i = 0; i < n && plain; i++)
        plain = (unsigned char)p[i] >= 0x20 && p[i] != '"' && p[i] != '\\';
    if (plain)
        return true;
    ru_buf e;
    ru_buf_init(&e, s->alloc, s->ud);
    ru_buf_json_string(&e, p, n);
    bool ok = !e.oom && e.len >= 2 && ru_scrub_add(s, e.data + 1, e.len - 2);
    if (e.oom)
        s->oom = true;
    ru_buf_free(&e);
    return ok;
}

/* ---- the window filter ---- */

/* Keys: a 4-byte window (tag 1), or a whole short word (tag 2, its length
 * and bytes), folded. The texts' keys go into a bitmap of at least 16 bits
 * per key (one hash): a pattern whose key is absent cannot occur; a present
 * one may be a collision (about one in sixteen), which costs a search, not
 * a miss. A bitmap rather than a set: it stays in cache. */
typedef struct filter {
    uint64_t *bits;
    size_t nbits;      /* a power of two */
} filter;

static inline uint64_t window_key(const unsigned char *p)
{
    return (uint64_t)1 << 40 | (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
           (uint64_t)p[3] << 24;
}

static inline uint64_t word_key(const unsigned char *p, size_t n)
{
    uint64_t k = (uint64_t)2 << 40 | (uint64_t)n << 32;
    for (size_t i = 0; i < n; i++)
        k |= (uint64_t)p[i] << (8 * i);
    return k;
}

static inline size_t bit_of(const filter *f, uint64_t k)
{
    return (size_t)((k * 0x9E3779B97F4A7C15ull) >> 20) & (f->nbits - 1);
}

static inline void filter_put(filter *f, uint64_t k)
{
    size_t b = bit_of(f, k);
    f->bits[b / 64] |= (uint64_t)1 << (b % 64);
}

static inline bool filter_has(const filter *f, uint64_t k)
{
    size_t b = bit_of(f, k);
    return f->bits[b / 64] >> (b % 64) & 1;
}

/* Whether the folded pattern p may occur in the texts the filter was built
 * from: every window is there (a long one), or it is one of their words
 * (a short one made of word bytes; a short one with other bytes is always
 * searched for: there are few, and they are short). */
static bool may_occur(const filter *f, const unsigned char *p, size_t n)
{
    if (n < RU_SCRUB_SHORT) {
        for (size_t i = 0; i < n; i++)
            if (!word_byte(p[i]))
                return true;
        return filter_has(f, word_key(p, n));
    }
    for (size_t i = 0; i + 4 <= n; i++)
        if (!filter_has(f, window_key(p + i)))
            return false;
    return true;
}

bool ru_scrub_prepare(ru_scrub *s, const char *const *texts, const size_t *lens, size_t n)
{
    ru_buf_clear(&s->cands);
    s->prepared = true;
    s->exhausted = false;
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += lens[i];
    /* A few times what the caller parsed to get here: the texts and the
     * patterns, which come from the same request. */
    s->budget = 8 * (total + s->folded.len) + 65536;
    size_t npat = ru_scrub_count(s);
    if (npat == 0 || s->oom)
        return !s->oom;
    /* At most one window and one word per text byte. */
    filter f = {NULL, 4096};
    while (f.nbits < 16 * (2 * total + 1))
        f.nbits *= 2;
    f.bits = s->alloc(s->ud, NULL, 0, f.nbits / 8);
    if (!f.bits) {
        s->oom = true;
        return false;
    }
    memset(f.bits, 0, f.nbits / 8);
    for (size_t t = 0; t < n; t++) {
        const unsigned char *p = (const unsigned char *)texts[t];
        size_t len = lens[t];
        uint64_t w = 0;
        for (size_t i = 0; i < len; i++) {
            w = (w >> 8) | (uint64_t)fold(p[i]) << 24;
            if (i >= 3)
                filter_put(&f, (uint64_t)1 << 40 | (w & 0xFFFFFFFFu));
        }
        /* Words: runs of word bytes, folded, of short length. */
        for (size_t i = 0; i < len;) {
            if (!word_byte(p[i])) {
                i++;
                continue;
            }
            size_t j = i;
            while (j < len && word_byte(p[j]))
                j++;
            if (j - i < RU_SCRUB_SHORT) {
                unsigned char fw[RU_SCRUB_SHORT];
                for (size_t k = i; k < j; k++)
                    fw[k - i] = fold(p[k]);
                filter_put(&f, word_key(fw, j - i));
            }
            i = j;
        }
    }
    const unsigned char *base = (const unsigned char *)s->folded.data;
    for (size_t i = 0; i < npat; i++) {
        entry e = entry_at(s, i);
        if (may_occur(&f, base + e.off, e.len))
            ru_buf_put(&s->cands, (const char *)&i, sizeof i);
    }
    s->alloc(s->ud, f.bits, f.nbits / 8, 0);
    if (s->cands.oom)
        s->oom = true;
    return !s->oom;
}

static size_t ncands(const ru_scrub *s)
{
    return s->prepared ? s->cands.len / sizeof(size_t) : ru_scrub_count(s);
}

static entry cand_at(const ru_scrub *s, size_t k)
{
    if (!s->prepared)
        return entry_at(s, k);
    size_t i;
    memcpy(&i, s->cands.data + k * sizeof i, sizeof i);
    return entry_at(s, i);
}

static bool charge(ru_scrub *s, size_t cost)
{
    if (cost > s->budget) {
        s->exhausted = true;
        s->budget = 0;
        return false;
    }
    s->budget -= cost;
    return true;
}

static int by_start(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* The occurrences of the candidates in text, sorted by start, in *spans
 * (s's allocator; *nspans of them). false: withheld (budget or memory). */
static bool find_spans(ru_scrub *s, const char *text, size_t n, ru_buf *spans, bool first_only)
{
    size_t nc = ncands(s);
    if (nc == 0)
        return true;
    char *ft = s->alloc(s->ud, NULL, 0, n + 1);
    if (!ft) {
        s->oom = true;
        return false;
    }
    for (size_t i = 0; i < n; i++)
        ft[i] = (char)fold((unsigned char)text[i]);
    const char *pats = s->folded.data;
    bool ok = true;
    for (size_t k = 0; k < nc && ok; k++) {
        entry e = cand_at(s, k);
        if (e.len > n)
            continue;
        ok = charge(s, n + e.len);
        for (size_t from = 0; ok && from + e.len <= n;) {
            const char *hit = memmem(ft + from, n - from, pats + e.off, e.len);
            if (!hit)
                break;
            size_t at = (size_t)(hit - ft);
            from = at + 1;
            ok = charge(s, e.len);
            if (e.len < RU_SCRUB_SHORT) {
                bool before = at > 0 && word_byte((unsigned char)text[at - 1]);
                bool after = at + e.len < n && word_byte((unsigned char)text[at + e.len]);
                if (before || after)
                    continue;
            }
            span sp = {at, at + e.len};
            ru_buf_put(spans, (const char *)&sp, sizeof sp);
            if (first_only)
                break;
        }
    }
    s->alloc(s->ud, ft, n + 1, 0);
    if (spans->oom)
        s->oom = true;
    return ok && !s->oom;
}

bool ru_scrub_found(ru_scrub *s, const char *text, size_t n)
{
    if (s->oom || s->exhausted)
        return true;
    ru_buf spans;
    ru_buf_init(&spans, s->alloc, s->ud);
    bool ok = find_spans(s, text, n, &spans, true);
    bool found = !ok || spans.len > 0;
    ru_buf_free(&spans);
    return found;
}

void ru_scrub_apply(ru_scrub *s, const char *text, size_t n, const char *marker, const char *withheld,
                    ru_buf *out)
{
    if (s->oom || s->exhausted) {
        ru_buf_puts(out, withheld);
        return;
    }
    ru_buf spans;
    ru_buf_init(&spans, s->alloc, s->ud);
    if (!find_spans(s, text, n, &spans, false)) {
        ru_buf_free(&spans);
        ru_buf_puts(out, withheld);
        return;
    }
    size_t nsp = spans.len / sizeof(span);
    span *sp = (span *)(void *)spans.data;
    if (nsp > 1)
        qsort(sp, nsp, sizeof *sp, by_start);
    size_t at = 0;
    for (size_t k = 0; k < nsp;) {
        /* Overlapping and adjacent occurrences: one marker. */
        size_t start = sp[k].start, end = sp[k].end;
        for (k++; k < nsp && sp[k].start <= end; k++)
            if (sp[k].end > end)
                end = sp[k].end;
        ru_buf_put(out, text + at, start - at);
        ru_buf_puts(out, marker);
        at = end;
    }
    ru_buf_put(out, text + at, n - at);
    ru_buf_free(&spans);
}
