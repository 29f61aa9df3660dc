/* textdiff.c - a unified diff of two texts (textdiff.h).
 * SPDX-License-Identifier: Apache-2.0
 *
 * A longest common subsequence of lines by dynamic programming: policy
 * files are small, and the table is bounded (past CELLS cells the whole of
 * a is shown replaced by the whole of b, still a correct diff).
 */
#include "textdiff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CONTEXT 3
#define CELLS ((size_t)16 << 20)

typedef struct lines {
    const char **at;
    size_t *len;        /* with the newline, when there is one */
    size_t n;
} lines;

static bool split(const char *s, size_t n, lines *l)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += s[i] == '\n';
    count += n > 0 && s[n - 1] != '\n';
    l->at = malloc((count ? count : 1) * sizeof *l->at);
    l->len = malloc((count ? count : 1) * sizeof *l->len);
    l->n = 0;
    if (!l->at || !l->len)
        return false;
    size_t start = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\n' || i == n - 1) {
            l->at[l->n] = s + start;
            l->len[l->n++] = i + 1 - start;
            start = i + 1;
        }
    return true;
}

static bool same(const lines *a, size_t i, const lines *b, size_t j)
{
    return a->len[i] == b->len[j] && memcmp(a->at[i], b->at[j], a->len[i]) == 0;
}

/* One line of the edit script: ' ' kept, '-' from a, '+' from b. */
typedef struct edit {
    char op;
    size_t ai, bi;   /* line numbers (0-based) in a and b before this line */
} edit;

static void put_line(ru_buf *out, char op, const lines *l, size_t i)
{
    ru_buf_putc(out, op);
    ru_buf_put(out, l->at[i], l->len[i]);
    if (l->len[i] == 0 || l->at[i][l->len[i] - 1] != '\n')
        ru_buf_puts(out, "\n\\ No newline at end of file\n");
}

void cli_text_diff(ru_buf *out, const char *name, const char *a, size_t alen, const char *b,
                   size_t blen)
{
    if (alen == blen && memcmp(a, b, alen) == 0)
        return;
    lines la = {0}, lb = {0};
    edit *ed = NULL;
    uint32_t *t = NULL;
    if (!split(a, alen, &la) || !split(b, blen, &lb))
        goto oom;
    size_t n = la.n, m = lb.n, ne = 0;
    ed = malloc((n + m + 1) * sizeof *ed);
    if (!ed)
        goto oom;
    /* The common prefix and suffix need no table. */
    size_t pre = 0, suf = 0;
    while (pre < n && pre < m && same(&la, pre, &lb, pre))
        pre++;
    while (suf < n - pre && suf < m - pre && same(&la, n - 1 - suf, &lb, m - 1 - suf))
        suf++;
    size_t rn = n - pre - suf, rm = m - pre - suf;
    for (size_t i = 0; i < pre; i++)
        ed[ne++] = (edit){' ', i, i};
    if (rn && rm && (rn + 1) * (rm + 1) <= CELLS)
        t = malloc((rn + 1) * (rm + 1) * sizeof *t);
    if (t) {
        /* t[i][j]: the LCS length of a's lines i.. and b's lines j.. (of the middle). */
#define T(i, j) t[(i) * (rm + 1) + (j)]
        for (size_t i = rn + 1; i-- > 0;)
            for (size_t j = rm + 1; j-- > 0;) {
                if (i == rn || j == rm)
                    T(i, j) = 0;
                else if (same(&la, pre + i, &lb, pre + j))
                    T(i, j) = T(i + 1, j + 1) + 1;
                else
                    T(i, j) = T(i + 1, j) >= T(i, j + 1) ? T(i + 1, j) : T(i, j + 1);
            }
        size_t i = 0, j = 0;
        while (i < rn || j < rm) {
            if (i < rn && j < rm && same(&la, pre + i, &lb, pre + j)) {
                ed[ne++] = (edit){' ', pre + i, pre + j};
                i++, j++;
            } else if (i < rn && (j == rm || T(i + 1, j) >= T(i, j + 1))) {
                ed[ne++] = (edit){'-', pre + i, pre + j};   /* removals first, as diff -u */
                i++;
            } else {
                ed[ne++] = (edit){'+', pre + i, pre + j};
                j++;
            }
        }
#undef T
    } else {
        for (size_t i = 0; i < rn; i++)
            ed[ne++] = (edit){'-', pre + i, pre};
        for (size_t j = 0; j < rm; j++)
            ed[ne++] = (edit){'+', pre + rn, pre + j};
    }
    for (size_t i = 0; i < suf; i++)
        ed[ne++] = (edit){' ', pre + rn + i, pre + rm + i};

    ru_buf_printf(out, "--- a/%s\n+++ b/%s\n", name, name);
    for (size_t k = 0; k < ne;) {
        if (ed[k].op == ' ') {
            k++;
            continue;
        }
        /* A hunk: from CONTEXT lines before this change to CONTEXT lines
         * after the last change that lies within 2*CONTEXT of the next. */
        size_t start = k >= CONTEXT ? k - CONTEXT : 0, end = k;
        for (size_t q = k; q < ne; q++)
            if (ed[q].op != ' ') {
                if (q > end + 2 * CONTEXT)
                    break;
                end = q;
            }
        size_t stop = end + CONTEXT + 1 < ne ? end + CONTEXT + 1 : ne;
        size_t acount = 0, bcount = 0;
        for (size_t q = start; q < stop; q++) {
            acount += ed[q].op != '+';
            bcount += ed[q].op != '-';
        }
        size_t astart = ed[start].ai + (acount ? 1 : 0), bstart = ed[start].bi + (bcount ? 1 : 0);
        ru_buf_printf(out, "@@ -%zu,%zu +%zu,%zu @@\n", astart, acount, bstart, bcount);
        for (size_t q = start; q < stop; q++) {
            if (ed[q].op == '+')
                put_line(out, '+', &lb, ed[q].bi);
            else
                put_line(out, ed[q].op, &la, ed[q].ai);
        }
        k = stop;
    }
    goto done;
oom:
    out->oom = true;
done:
    free(t);
    free(ed);
    free(la.at);
    free(la.len);
    free(lb.at);
    free(lb.len);
}
