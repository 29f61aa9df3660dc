/* buf.h - a growable byte buffer for the server, with the JSON string
 * escaping that decision-log lines and hand-built responses need. The
 * library's own buffer is internal to it, and the server is a client of
 * the library like any other, so it keeps its own.
 */
#ifndef RD_BUF_H
#define RD_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct rd_buf {
    char *data;     /* NUL-terminated after every append (not counted in len) */
    size_t len, cap;
    bool oom;       /* sticky: an append failed; the contents are incomplete */
} rd_buf;

void rd_buf_put(rd_buf *b, const void *s, size_t n);
void rd_buf_puts(rd_buf *b, const char *s);
void rd_buf_putc(rd_buf *b, char c);
void rd_buf_printf(rd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s (n bytes) as a quoted JSON string. */
void rd_buf_json_string(rd_buf *b, const char *s, size_t n);
/* Empties the buffer but keeps its memory, so a steady stream of requests
 * reuses one allocation. */
void rd_buf_clear(rd_buf *b);
void rd_buf_free(rd_buf *b);

#endif
