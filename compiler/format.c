/* format.c - rc_format (rulec.h): refuse a source that does not parse,
 * SPDX-License-Identifier: Apache-2.0
 * lay it out (grammar/fmt.c), and check that the result is the same tokens
 * before handing it back, so a bug in the layout can never change a policy.
 */
#include "compile.h"
#include "fmt.h"
#include "parse.h"
#include "rulec.h"

#include <stdlib.h>
#include <string.h>

static const rc_loc no_loc = {0, 0, 0, 0};

/* Whether token i is a trailing comma (right before a closing bracket):
 * the layout adds one to a list, map or call it puts one item per line,
 * and it means nothing. */
static bool trailing_comma(const rc_token *t, long n, long i)
{
    return t[i].kind == ',' && i + 1 < n &&
           (t[i + 1].kind == ')' || t[i + 1].kind == ']' || t[i + 1].kind == '}');
}

/* The first token of a where a and b differ (comments included, trailing
 * commas not), or -1. */
static long first_difference(const rc_token *a, long na, const rc_token *b, long nb)
{
    long i = 0, j = 0;
    for (;;) {
        while (i < na && trailing_comma(a, na, i))
            i++;
        while (j < nb && trailing_comma(b, nb, j))
            j++;
        if (i == na || j == nb)
            return i == na && j == nb ? -1 : (i < na ? i : na - 1);
        if (a[i].kind != b[j].kind || a[i].len != b[j].len || memcmp(a[i].text, b[j].text, a[i].len) != 0)
            return i;
        i++, j++;
    }
}

rc_result rc_format(rc_report *report, const char *name, const char *text, size_t len, char **out,
                    size_t *outlen)
{
    *out = NULL;
    if (outlen)
        *outlen = 0;
    ru_arena *arena = rc_report_arena(report);
    rc_diags *diags = rc_report_diags(report);
    /* The source lives as long as the report: its diagnostics quote it. */
    rc_source *src = ru_arena_alloc(arena, sizeof *src);
    char *copy = ru_arena_alloc(arena, len + 1);
    if (!src || !copy) {
        rc_diag(diags, RC_ERROR, NULL, no_loc, "out of memory");
        return RC_FAILED;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    *src = (rc_source){name ? name : "<input>", copy, len, false, 0};
    if (memchr(copy, '\0', len)) {
        rc_diag(diags, RC_ERROR, src, (rc_loc){1, 1, 1, 1},
                "not a .rules source (it holds a NUL byte)");
        return RC_INVALID;
    }

    int before = diags->nerrors;
    if (!rc_parse_file(src, arena, diags))
        return RC_FAILED;
    if (diags->nerrors != before)
        return RC_INVALID;

    rc_token *tokens;
    long n = rc_scan_tokens(src, arena, diags, &tokens);
    if (n < 0)
        return RC_FAILED;
    ru_buf buf = {0};
    /* A byte-order mark is no token: it stays as it was. */
    if (len >= 3 && memcmp(copy, "\xEF\xBB\xBF", 3) == 0)
        ru_buf_put(&buf, copy, 3);
    if (!rc_fmt_tokens(tokens, n, arena, &buf)) {
        ru_buf_free(&buf);
        rc_diag(diags, RC_ERROR, NULL, no_loc, "out of memory");
        return RC_FAILED;
    }
    ru_buf_terminate(&buf);
    if (buf.oom) {
        ru_buf_free(&buf);
        rc_diag(diags, RC_ERROR, NULL, no_loc, "out of memory");
        return RC_FAILED;
    }

    /* The layout moves blanks only: the output must scan to the same
     * tokens, with no new scanner complaint. */
    rc_diags check;
    rc_diags_init(&check, arena);
    rc_source again = {src->name, buf.data ? buf.data : "", buf.len, false, 0};
    rc_token *tokens2;
    long n2 = rc_scan_tokens(&again, arena, &check, &tokens2);
    long at = n2 < 0 ? 0 : first_difference(tokens, n, tokens2, n2);
    if (n2 < 0 || check.nerrors || at >= 0) {
        rc_loc loc = at >= 0 && at < n ? tokens[at].loc : no_loc;
        rc_diag(diags, RC_ERROR, at >= 0 && at < n ? src : NULL, loc,
                "internal error: the layout would change the tokens here; the file is left as it is");
        ru_buf_free(&buf);
        return RC_FAILED;
    }
    *out = buf.data ? buf.data : calloc(1, 1);
    if (!*out) {
        rc_diag(diags, RC_ERROR, NULL, no_loc, "out of memory");
        return RC_FAILED;
    }
    if (outlen)
        *outlen = buf.len;
    return RC_OK;
}
