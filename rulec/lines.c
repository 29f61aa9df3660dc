/* lines.c - the line reader of `rulec apply --ndjson` (lines.h).
 * SPDX-License-Identifier: Apache-2.0
 *
 * A batch is tens of megabytes of lines a few kilobytes long. getline()
 * through stdio read it 4 KiB per system call and copied every line out of
 * the stream's buffer; it also held a line of any length in memory before
 * the caller could compare it with the input limit, and took a read error
 * for the end of the input. Here the input is read a megabyte at a time
 * and each line is handed out where it lies; a line longer than the limit
 * is checked and dropped as it streams past, so at most limit bytes of it
 * are ever held; a read error is an error.
 */
#include "lines.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bytes the buffer starts with, and the most it holds beyond the limit. */
#define LINES_BLOCK ((size_t)1 << 20)
/* A read asks for at least this much (the buffer is compacted or grown to
 * make room), so that a batch is read in large pieces. */
#define LINES_MIN_READ ((size_t)64 << 10)

bool cli_lines_open(cli_lines *r, const char *path, size_t limit, FILE *flush)
{
    memset(r, 0, sizeof *r);
    r->limit = limit;
    r->flush = flush;
    if (strcmp(path, "-") == 0) {
        r->fd = STDIN_FILENO;
    } else {
        r->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0)
            return false;
        r->own_fd = true;
    }
    r->cap = LINES_BLOCK;
    r->buf = malloc(r->cap);
    if (!r->buf) {
        int e = errno;
        cli_lines_close(r);
        errno = e;
        return false;
    }
    return true;
}

void cli_lines_close(cli_lines *r)
{
    if (r->own_fd && r->fd >= 0)
        close(r->fd);
    free(r->buf);
    r->buf = NULL;
    r->own_fd = false;
}

/* Whether buf[from, to), which lies past the limit in its line, holds
 * anything but '\r' (trailing '\r's are not part of a request). */
static bool text_beyond(const cli_lines *r, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (r->buf[i] != '\r')
            return true;
    return false;
}

/* Makes at least LINES_MIN_READ bytes free after end: moves the unread
 * bytes to the front, or grows the buffer (never past limit plus a block:
 * the unread bytes are at most limit, see cli_lines_next). */
static bool make_room(cli_lines *r)
{
    if (r->cap - r->end >= LINES_MIN_READ)
        return true;
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
        if (r->cap - r->end >= LINES_MIN_READ)
            return true;
    }
    size_t most = r->limit > SIZE_MAX - LINES_BLOCK ? SIZE_MAX : r->limit + LINES_BLOCK;
    size_t cap = r->cap > most / 2 ? most : r->cap * 2;
    char *buf = cap > r->cap ? realloc(r->buf, cap) : NULL;
    if (!buf) {
        errno = ENOMEM;
        return false;
    }
    r->buf = buf;
    r->cap = cap;
    return true;
}

int cli_lines_next(cli_lines *r, const char **line, size_t *len, bool *too_long)
{
    bool over = false;        /* text seen past the limit in this line */
    size_t scan = r->start;   /* buf[start, scan) holds no '\n' */
    for (;;) {
        char *nl = memchr(r->buf + scan, '\n', r->end - scan);
        if (nl || r->eof) {
            size_t stop = nl ? (size_t)(nl - r->buf) : r->end;
            if (!nl && r->start == r->end)
                return 0;
            /* Past the limit, only what came after any earlier drop is
             * left to check: the dropped part was checked as it went. */
            if (stop - r->start > r->limit && text_beyond(r, r->start + r->limit, stop))
                over = true;
            *line = r->buf + r->start;
            *len = stop - r->start;
            *too_long = over;
            r->start = nl ? stop + 1 : stop;
            return 1;
        }
        /* No whole line yet. Of a line already past the limit, keep the
         * limit's worth (the caller will not use it, but a line that is
         * only long by trailing '\r's still reads whole) and drop the
         * rest once checked. */
        if (r->end - r->start > r->limit) {
            if (text_beyond(r, r->start + r->limit, r->end))
                over = true;
            r->end = r->start + r->limit;
        }
        size_t searched = r->end - r->start;
        if (!make_room(r))
            return -1;
        scan = r->start + searched;
        /* About to wait for input: whoever sends it gets every answer so
         * far first. */
        if (r->flush)
            fflush(r->flush);
        ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            r->eof = true;
        else
            r->end += (size_t)n;
    }
}
