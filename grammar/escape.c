/* escape.c - decodes one string escape (escape.h): the scanner's string
 * SPDX-License-Identifier: Apache-2.0
 * literals and the checker's message templates share it.
 */
#include "escape.h"

#include <string.h>

static int hex4(const char *s, size_t avail, unsigned *out)
{
    unsigned v = 0;
    if (avail < 4)
        return 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return 0;
    }
    *out = v;
    return 1;
}

static size_t utf8_put(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

void rc_escape_decode(const char *raw, size_t n, size_t i, rc_escape *e)
{
    memset(e, 0, sizeof *e);
    e->len = 2;
    char c = raw[i + 1];
    switch (c) {
    case '"': case '\\': case '/': case '{': case '}':
        e->out[0] = c;
        e->out_len = 1;
        return;
    case 'n': e->out[0] = '\n'; e->out_len = 1; return;
    case 't': e->out[0] = '\t'; e->out_len = 1; return;
    case 'r': e->out[0] = '\r'; e->out_len = 1; return;
    case 'u':
        break;
    default:
        e->status = RC_ESC_UNKNOWN;
        e->span = 2;
        return;
    }
    unsigned cp, lo;
    if (!hex4(raw + i + 2, n - i - 2, &cp)) {
        /* Point at the backslash, the u and where the 4 digits should be,
         * stopping before a quote or the next escape. */
        size_t end = i + 2;
        while (end < n && end < i + 6 && raw[end] != '"' && raw[end] != '\\')
            end++;
        e->status = RC_ESC_BAD_HEX;
        e->span = end - i;
        return;
    }
    e->len = 6;
    if (cp >= 0xD800 && cp <= 0xDBFF && i + 7 < n && raw[i + 6] == '\\' && raw[i + 7] == 'u' &&
        hex4(raw + i + 8, n - i - 8, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        e->len = 12;
    } else if (cp >= 0xD800 && cp <= 0xDFFF) {
        e->status = RC_ESC_SURROGATE;
        e->span = 6;
        return;
    }
    e->out_len = utf8_put(e->out, cp);
}
