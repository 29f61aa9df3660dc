/* diag.c - diagnostics as data, and their one printed form.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Records are appended to a list in the compilation's arena; printing shows
 * file:line:col, the source line verbatim and a ^~~~ underline, the way
 * nftables' erec.c and gcc do. Nothing here exits or prints unless asked.
 */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void rc_diags_init(rc_diags *d, ru_arena *arena)
{
    d->arena = arena;
    d->head = d->tail = NULL;
    d->nerrors = d->nwarnings = 0;
}

void rc_diag(rc_diags *d, rc_severity sev, const rc_source *src, rc_loc loc,
             const char *fmt, ...)
{
    /* Count first: even when the arena is exhausted and the record cannot
     * be kept, callers must still see that the compilation failed. */
    if (sev == RC_ERROR)
        d->nerrors++;
    else if (sev == RC_WARNING)
        d->nwarnings++;

    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;

    rc_diag_rec *r = ru_arena_alloc(d->arena, sizeof *r);
    char *msg = ru_arena_alloc(d->arena, (size_t)n + 1);
    if (!r || !msg)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
    va_end(ap);

    r->severity = sev;
    r->src = src;
    r->loc = loc;
    r->message = msg;
    r->next = NULL;
    if (d->tail)
        d->tail->next = r;
    else
        d->head = r;
    d->tail = r;
}

static const char *severity_word(rc_severity sev)
{
    switch (sev) {
    case RC_ERROR: return "error";
    case RC_WARNING: return "warning";
    case RC_NOTE: return "note";
    }
    return "error";
}

/* UTF-8 continuation bytes take no column on screen: skipping them keeps
 * the caret under the right character when the line holds non-ASCII text
 * (columns themselves count bytes, so they match PCRE2 offsets). */
static int is_continuation(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

/* Finds line `line` (1-based) of src; false when the file has fewer lines. */
static int find_line(const rc_source *src, int line, const char **start, size_t *len)
{
    const char *p = src->text, *end = src->text + src->len;
    for (int l = 1; l < line; l++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return 0;
        p = nl + 1;
    }
    if (p == end && line > 1)
        return 0;   /* the empty "line" after a final newline */
    if (line == 1 && end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;     /* a byte-order mark: the parser skips it, columns start after it */
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    if (n && p[n - 1] == '\r')
        n--;        /* CRLF files: keep the terminal's cursor in place */
    *start = p;
    *len = n;
    return 1;
}

void rc_diag_print(const rc_diag_rec *diag, FILE *out)
{
    if (!diag->src) {
        fprintf(out, "rulec: %s: %s\n", severity_word(diag->severity), diag->message);
        return;
    }
    const rc_source *src = diag->src;
    const rc_loc *loc = &diag->loc;
    if (loc->first_line == 0) {  /* the whole file */
        fprintf(out, "%s: %s: %s\n", src->name ? src->name : "<input>",
                severity_word(diag->severity), diag->message);
        return;
    }
    fprintf(out, "%s:%d:%d: %s: %s\n", src->name ? src->name : "<input>", loc->first_line,
            loc->first_column, severity_word(diag->severity), diag->message);

    const char *line;
    size_t len;
    if (!src->text || loc->first_line < 1 || !find_line(src, loc->first_line, &line, &len))
        return;
    fwrite(line, 1, len, out);
    fputc('\n', out);

    /* Pad up to the column, keeping tabs so the caret lines up however the
     * terminal expands them; a column past the end points just after it. */
    size_t col = loc->first_column > 0 ? (size_t)loc->first_column - 1 : 0;
    if (col > len)
        col = len;
    for (size_t i = 0; i < col; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c == '\t')
            fputc('\t', out);
        else if (!is_continuation(c))
            fputc(' ', out);
    }
    /* Underline the span on this line: to last_column, or to the end of
     * the line when the span continues on later lines. */
    size_t end;
    if (loc->last_line > loc->first_line)
        end = len;
    else
        end = loc->last_column > 0 ? (size_t)loc->last_column - 1 : 0;
    if (end > len)
        end = len;
    fputc('^', out);
    for (size_t i = col + 1; i < end; i++)
        if (!is_continuation((unsigned char)line[i]))
            fputc('~', out);
    fputc('\n', out);
}

/* An error or warning with the notes that follow it. */
typedef struct group {
    const rc_diag_rec *first;
    size_t src_rank;     /* order in which its file first appeared */
    size_t seq;          /* order in which it was reported */
} group;

static int by_position(const void *a, const void *b)
{
    const group *x = a, *y = b;
    if (x->src_rank != y->src_rank)
        return x->src_rank < y->src_rank ? -1 : 1;
    const rc_loc *p = &x->first->loc, *q = &y->first->loc;
    if (p->first_line != q->first_line)
        return p->first_line < q->first_line ? -1 : 1;
    if (p->first_column != q->first_column)
        return p->first_column < q->first_column ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Passes run one after another (syntax, then names, then types), but a
 * reader wants a file's problems top to bottom: sort them by file and
 * position, each note staying right after its record. */
const rc_diag_rec **rc_diags_sorted(const rc_diags *d, size_t *count)
{
    size_t n = 0, total = 0;
    for (const rc_diag_rec *r = d->head; r; r = r->next, total++)
        if (r->severity != RC_NOTE || r == d->head)
            n++;
    *count = total;
    if (!total)
        return NULL;
    group *groups = malloc(n * sizeof *groups);
    const rc_source **srcs = malloc(n * sizeof *srcs);
    const rc_diag_rec **out = malloc(total * sizeof *out);
    if (!groups || !srcs || !out) {
        free(groups);
        free(srcs);
        free(out);
        return NULL;
    }
    size_t ng = 0, nsrcs = 0;
    for (const rc_diag_rec *r = d->head; r; r = r->next) {
        if (r->severity == RC_NOTE && r != d->head)
            continue;
        size_t rank = 0;
        if (r->src) {
            while (rank < nsrcs && srcs[rank] != r->src)
                rank++;
            if (rank == nsrcs)
                srcs[nsrcs++] = r->src;
            rank++;  /* diagnostics tied to no file come first */
        }
        groups[ng] = (group){r, rank, ng};
        ng++;
    }
    qsort(groups, ng, sizeof *groups, by_position);
    size_t k = 0;
    for (size_t i = 0; i < ng; i++) {
        const rc_diag_rec *r = groups[i].first;
        out[k++] = r;
        for (r = r->next; r && r->severity == RC_NOTE; r = r->next)
            out[k++] = r;
    }
    free(groups);
    free(srcs);
    return out;
}

void rc_diags_print(const rc_diags *d, FILE *out)
{
    size_t n;
    const rc_diag_rec **sorted = rc_diags_sorted(d, &n);
    if (!sorted) {  /* none, or no memory to sort: print as reported */
        for (const rc_diag_rec *r = d->head; r; r = r->next)
            rc_diag_print(r, out);
        return;
    }
    for (size_t i = 0; i < n; i++)
        rc_diag_print(sorted[i], out);
    free(sorted);
}
