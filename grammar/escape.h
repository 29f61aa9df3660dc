/* escape.h - the one decoder of the escapes in the language's strings.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The scanner decodes every string literal with it and reports what it
 * finds wrong, at the escape's own span; the checker decodes the literal
 * text of message templates with it (compiler/check.c), so an escape means
 * the same bytes wherever it is written (`\uD83D\uDE2C` is one 4-byte UTF-8
 * character, never two CESU-8 halves).
 */
#ifndef RC_ESCAPE_H
#define RC_ESCAPE_H

#include <stddef.h>

typedef enum rc_escape_status {
    RC_ESC_OK,
    RC_ESC_BAD_HEX,     /* `\u` not followed by 4 hex digits */
    RC_ESC_SURROGATE,   /* `\u` of a surrogate that is not half of a pair */
    RC_ESC_UNKNOWN      /* `\` followed by a byte that starts no escape */
} rc_escape_status;

typedef struct rc_escape {
    rc_escape_status status;
    char out[4];        /* the decoded bytes (UTF-8); none on an error */
    size_t out_len;
    size_t len;         /* bytes read, from the backslash */
    size_t span;        /* on an error: bytes from the backslash to point at */
} rc_escape;

/* Decodes the escape at raw[i] == '\\' (i + 1 < n): `\" \\ \/ \{ \}`,
 * `\n \t \r`, `\uXXXX` and a `\uXXXX\uXXXX` surrogate pair. On an error
 * nothing is decoded and a bad `\u` reads only its two bytes, so what
 * follows (a brace, a quote) is read as if the escape were not there. */
void rc_escape_decode(const char *raw, size_t n, size_t i, rc_escape *e);

#endif
