/* revision.c - what a bundle revision may be, and their order (sign.h).
 * SPDX-License-Identifier: Apache-2.0
 *
 * Rollback protection needs revisions that order, whatever scheme a team
 * uses: a CI build number (41 < 42), a version (1.9 < 1.10), a UTC time
 * stamp (rulec's default, 20250601T120000Z). So runs of digits compare as
 * numbers and everything else byte by byte; a commit hash alone does not
 * order, which docs/signing.md says.
 */
#include "sign.h"

#include <stdio.h>
#include <string.h>

static bool allowed(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("._+:~-", c) != NULL;
}

bool rs_revision_valid(const char *rev, char *err, size_t errsize)
{
    size_t n = strlen(rev);
    if (n == 0 || n > RS_REVISION_MAX) {
        snprintf(err, errsize, "a revision has 1 to %d characters, not %zu", RS_REVISION_MAX, n);
        return false;
    }
    for (size_t i = 0; i < n; i++)
        if (!allowed(rev[i])) {
            snprintf(err, errsize, "'%s': character %zu ('%c') is not one of A-Z a-z 0-9 . _ + : ~ -",
                     rev, i + 1, rev[i] >= ' ' && rev[i] < 0x7f ? rev[i] : '?');
            return false;
        }
    return true;
}

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

int rs_revision_compare(const char *a, const char *b)
{
    const char *x = a, *y = b;
    while (*x && *y) {
        if (digit(*x) && digit(*y)) {
            while (*x == '0' && digit(x[1]))
                x++;
            while (*y == '0' && digit(y[1]))
                y++;
            size_t nx = 0, ny = 0;
            while (digit(x[nx]))
                nx++;
            while (digit(y[ny]))
                ny++;
            if (nx != ny)
                return nx < ny ? -1 : 1;
            int c = memcmp(x, y, nx);
            if (c)
                return c < 0 ? -1 : 1;
            x += nx;
            y += ny;
        } else {
            if (*x != *y)
                return (unsigned char)*x < (unsigned char)*y ? -1 : 1;
            x++;
            y++;
        }
    }
    if (*x || *y)
        return *x ? 1 : -1;
    int c = strcmp(a, b);
    return c < 0 ? -1 : c > 0;
}
