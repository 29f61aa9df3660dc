/* lines.h - the line reader of `rulec apply --ndjson`: one request per
 * SPDX-License-Identifier: Apache-2.0
 * line, read in large blocks and handed out in place, with a bound on how
 * much of one line is ever held.
 */
#ifndef RULEC_LINES_H
#define RULEC_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct cli_lines {
    int fd;
    bool own_fd;          /* opened here: closed by cli_lines_close */
    FILE *flush;          /* flushed before every read that may wait */
    char *buf;
    size_t cap;           /* bytes allocated */
    size_t start, end;    /* the unread bytes are buf[start, end) */
    size_t limit;         /* the longest line kept whole (--max-input-size) */
    size_t room;          /* bytes asked of each read */
    bool eof;
} cli_lines;

/* Opens path ("-": standard input) for reading lines of at most limit
 * bytes. flush (may be NULL) is flushed before each read, so whoever writes
 * the lines through a pipe has every answer to the lines it sent before
 * rulec waits for more. False with errno set when path cannot be opened. */
bool cli_lines_open(cli_lines *r, const char *path, size_t limit, FILE *flush);

/* The next line, without its '\n' (the last line may lack one): *line
 * points into the reader's buffer and stays valid until the next call.
 * A line whose text (its trailing '\r's aside) is longer than limit is
 * skipped without being held: *too_long is set and *line, *len are
 * meaningless. Returns 1 for a line, 0 at the end of the input, -1 on a
 * read error or when memory runs out (errno says which). */
int cli_lines_next(cli_lines *r, const char **line, size_t *len, bool *too_long);

void cli_lines_close(cli_lines *r);

#endif
