/* SPDX-License-Identifier: Apache-2.0 */
/* buf.c - the growable byte buffer and the JSON string escaper (util). */
#include "buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ru_buf_init(ru_buf *b, ru_alloc_fn alloc, void *ud)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->alloc = alloc ? alloc : ru_default_alloc;
    b->ud = ud;
    b->oom = false;
}

/* Makes room for `extra` more bytes plus a terminating NUL, so that
 * ru_buf_terminate never has to allocate once anything was written. */
static bool buf_reserve(ru_buf *b, size_t extra)
{
    if (b->oom)
        return false;
    if (b->cap > b->len && extra < b->cap - b->len)
        return true;
    if (extra > SIZE_MAX - b->len - 1) {
        b->oom = true;
        return false;
    }
    size_t need = b->len + extra + 1;
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    if (!b->alloc)  /* a zero-initialized buffer uses malloc */
        b->alloc = ru_default_alloc;
    char *p = b->alloc(b->ud, b->data, b->cap, ncap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->data = p;
    b->cap = ncap;
    return true;
}

void ru_buf_put_slow(ru_buf *b, const char *s, size_t n)
{
    if (!buf_reserve(b, n))
        return;
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
}

void ru_buf_puts(ru_buf *b, const char *s)
{
    ru_buf_put(b, s, strlen(s));
}



void ru_buf_printf(ru_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[128];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        ru_buf_put(b, small, (size_t)n);
        return;
    }
    if (!buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void ru_buf_free(ru_buf *b)
{
    if (b->data)
        b->alloc(b->ud, b->data, b->cap, 0);  /* set by the first growth */
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = false;
}

void ru_buf_terminate(ru_buf *b)
{
    /* buf_reserve always leaves one spare byte, so this only allocates for
     * a buffer nothing was ever written to. */
    if (b->data && b->len < b->cap) {
        b->data[b->len] = '\0';
        return;
    }
    bool was_oom = b->oom;
    b->oom = false;
    if (buf_reserve(b, 0))
        b->data[b->len] = '\0';
    b->oom = b->oom || was_oom;
}

/* Bytes a JSON string cannot hold as they are. */
static const unsigned char json_escape[256] = {
    [0] = 1, [1] = 1, [2] = 1, [3] = 1, [4] = 1, [5] = 1, [6] = 1, [7] = 1, [8] = 1, [9] =
    1, [10] = 1, [11] = 1, [12] = 1, [13] = 1, [14] = 1, [15] = 1, [16] = 1, [17] = 1,
    [18] = 1, [19] = 1, [20] = 1, [21] = 1, [22] = 1, [23] = 1, [24] = 1, [25] = 1, [26] =
    1, [27] = 1, [28] = 1, [29] = 1, [30] = 1, [31] = 1, ['"'] = 1, ['\\'] = 1,
};

void ru_buf_json_string(ru_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    ru_buf_putc(b, '"');
    size_t i = 0;
    while (i < n) {
        /* Copy the longest run that needs no escaping in one go. The run is
         * found 8 bytes at a step while no byte of the word is below 0x20,
         * '"' or '\\' (the has-less/has-zero bit tests, which never miss
         * one; a word they flag goes to the table byte by byte). */
        size_t run = i;
        const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
        while (n - i >= 8) {
            uint64_t x, q, bs;
            memcpy(&x, s + i, 8);
            q = x ^ (ones * '"');
            bs = x ^ (ones * '\\');
            if (((x - ones * 0x20) | (q - ones) | (bs - ones)) & ~x & high)
                break;
            i += 8;
        }
        while (i < n && !json_escape[(unsigned char)s[i]])
            i++;
        ru_buf_put(b, s + run, i - run);
        if (i >= n)
            break;
        unsigned char c = (unsigned char)s[i++];
        char esc[6] = {'\\', 0};
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
            esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
            ru_buf_put(b, esc, 6);
            continue;
        }
        ru_buf_put(b, esc, 2);
    }
    ru_buf_putc(b, '"');
}

