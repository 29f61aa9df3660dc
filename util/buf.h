/* buf.h - a growable byte buffer, and the one JSON string escaper (util:
 * SPDX-License-Identifier: Apache-2.0
 * the support code the VM, the compiler and the programs share).
 *
 * Appends never fail loudly: when memory runs out the buffer sets its
 * sticky `oom` flag and drops the rest, so a writer checks once at the end.
 * There is always room for the NUL that ru_buf_terminate adds; data is a C
 * string only after it. A zero-initialized ru_buf is a valid empty buffer
 * on malloc (ru_buf_init chooses another allocator).
 */
#ifndef RU_BUF_H
#define RU_BUF_H

#include "arena.h"   /* ru_alloc_fn */

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef struct ru_buf {
    char *data;
    size_t len, cap;
    ru_alloc_fn alloc;
    void *ud;
    bool oom;          /* sticky: set when any append failed */
} ru_buf;

void ru_buf_init(ru_buf *b, ru_alloc_fn alloc, void *ud);
void ru_buf_put_slow(ru_buf *b, const char *s, size_t n);  /* grows, then appends */
void ru_buf_puts(ru_buf *b, const char *s);

/* Appends are inline: printers call them per token. There is always room
 * for the NUL that ru_buf_terminate adds (hence the strict < below). */
static inline void ru_buf_put(ru_buf *b, const char *s, size_t n)
{
    if (b->len + n < b->cap && !b->oom) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
    } else {
        ru_buf_put_slow(b, s, n);
    }
}

static inline void ru_buf_putc(ru_buf *b, char c)
{
    if (b->len + 1 < b->cap && !b->oom)
        b->data[b->len++] = c;
    else
        ru_buf_put_slow(b, &c, 1);
}
void ru_buf_printf(ru_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ru_buf_free(ru_buf *b);
/* Ensures data is NUL-terminated (not counted in len). */
void ru_buf_terminate(ru_buf *b);

/* Empties the buffer and clears oom, keeping its memory for reuse. */
static inline void ru_buf_clear(ru_buf *b)
{
    b->len = 0;
    b->oom = false;
}

/* Appends s (n bytes) as a quoted JSON string: '"', '\\' and control
 * characters escaped (\n \r \t \b \f, else \u00XX), everything else,
 * UTF-8 included, as it is (RFC 8259, section 7). */
void ru_buf_json_string(ru_buf *b, const char *s, size_t n);

#endif
