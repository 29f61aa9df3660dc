/* cover.c - `rulec test --coverage`: statements run and condition
 * SPDX-License-Identifier: Apache-2.0
 * outcomes (true and false) seen, per policy, summed over every test file.
 * The VM's trace hook reports pcs; the compiler's cover map (rulec.h, RC_COVERAGE)
 * says which pcs start statements and which jumps decide conditions. */
#include "ruletest.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Bits per pc. A condition's JFALSE jumps when the condition is false. */
enum { HIT_RUN = 1, HIT_FALSE = 2, HIT_TRUE = 4 };

typedef struct point {
    uint32_t pc, line;
} point;

struct tt_cover_pol {
    char *name, *source;   /* source as first named; identity is key */
    char *key;             /* the source's real path */
    point *stmts, *conds;
    size_t nstmts, nconds;
    uint32_t ncode;
    uint8_t *hits;         /* ncode entries */
};

struct tt_cover {
    tt_cover_pol **pols;   /* sorted by name, then source */
    size_t n, cap;
};

tt_cover *tt_cover_new(void)
{
    return calloc(1, sizeof(tt_cover));
}

static void pol_free(tt_cover_pol *p)
{
    if (!p)
        return;
    free(p->name);
    free(p->source);
    free(p->key);
    free(p->stmts);
    free(p->conds);
    free(p->hits);
    free(p);
}

void tt_cover_free(tt_cover *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        pol_free(c->pols[i]);
    free(c->pols);
    free(c);
}

static point *points(const rc_cover_point *src, size_t n)
{
    point *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; p && i < n; i++)
        p[i] = (point){src[i].pc, (uint32_t)src[i].span.first_line};
    return p;
}

tt_cover_pol *tt_cover_policy(tt_cover *c, const char *name, const char *source,
                              const rc_cover_map *map, uint32_t ncode)
{
    /* The same file reached by two spellings ("rules/x.rules" from one
     * test, "../rules/x.rules" from another) is one policy. */
    char *key = realpath(source, NULL);
    if (!key)
        key = strdup(source);
    if (!key)
        return NULL;
    size_t at = 0;
    for (; at < c->n; at++) {
        tt_cover_pol *p = c->pols[at];
        int cmp = strcmp(p->name, name);
        if (cmp == 0)
            cmp = strcmp(p->key, key);
        if (cmp == 0 && p->ncode == ncode) {
            free(key);
            return p;
        }
        if (cmp > 0)
            break;
    }
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 8;
        tt_cover_pol **np = realloc(c->pols, ncap * sizeof *np);
        if (!np) {
            free(key);
            return NULL;
        }
        c->pols = np;
        c->cap = ncap;
    }
    tt_cover_pol *p = calloc(1, sizeof *p);
    if (!p) {
        free(key);
        return NULL;
    }
    p->key = key;
    p->name = strdup(name);
    p->source = strdup(source);
    p->stmts = points(map->stmts, map->nstmts);
    p->conds = points(map->conds, map->nconds);
    p->nstmts = map->nstmts;
    p->nconds = map->nconds;
    p->ncode = ncode;
    p->hits = calloc(ncode ? ncode : 1, 1);
    if (!p->name || !p->source || !p->stmts || !p->conds || !p->hits) {
        pol_free(p);
        return NULL;
    }
    memmove(&c->pols[at + 1], &c->pols[at], (c->n - at) * sizeof *c->pols);
    c->pols[at] = p;
    c->n++;
    return p;
}

void tt_cover_hit(tt_cover_pol *p, uint32_t pc, int taken)
{
    if (pc >= p->ncode)
        return;
    p->hits[pc] |= taken < 0 ? HIT_RUN : taken ? HIT_FALSE : HIT_TRUE;
}

size_t tt_cover_count(const tt_cover *c)
{
    return c->n;
}

double tt_percent(size_t part, size_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 100.0;
}

static int by_line(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorts and removes repeats. */
static size_t unique_lines(uint32_t *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, by_line);
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (v[i] != v[k - 1])
            v[k++] = v[i];
    return k;
}

void tt_cover_stats_get(const tt_cover *c, size_t i, tt_cover_stats *s)
{
    const tt_cover_pol *p = c->pols[i];
    memset(s, 0, sizeof *s);
    s->name = p->name;
    s->source = p->source;
    s->stmts = p->nstmts;
    s->outcomes = 2 * p->nconds;
    s->lines_not_run = malloc((p->nstmts ? p->nstmts : 1) * sizeof *s->lines_not_run);
    s->never_true = malloc((p->nconds ? p->nconds : 1) * sizeof *s->never_true);
    s->never_false = malloc((p->nconds ? p->nconds : 1) * sizeof *s->never_false);
    if (!s->lines_not_run || !s->never_true || !s->never_false) {
        tt_cover_stats_free(s);
        return;
    }
    for (size_t k = 0; k < p->nstmts; k++) {
        if (p->hits[p->stmts[k].pc] & HIT_RUN)
            s->stmts_run++;
        else
            s->lines_not_run[s->nlines_not_run++] = p->stmts[k].line;
    }
    for (size_t k = 0; k < p->nconds; k++) {
        uint8_t h = p->hits[p->conds[k].pc];
        s->outcomes_seen += !!(h & HIT_TRUE) + !!(h & HIT_FALSE);
        /* A condition never reached is already in "never run". */
        if (!(h & HIT_RUN))
            continue;
        if (!(h & HIT_TRUE))
            s->never_true[s->nnever_true++] = p->conds[k].line;
        if (!(h & HIT_FALSE))
            s->never_false[s->nnever_false++] = p->conds[k].line;
    }
    s->nlines_not_run = unique_lines(s->lines_not_run, s->nlines_not_run);
    s->nnever_true = unique_lines(s->never_true, s->nnever_true);
    s->nnever_false = unique_lines(s->never_false, s->nnever_false);
}

void tt_cover_stats_free(tt_cover_stats *s)
{
    free(s->lines_not_run);
    free(s->never_true);
    free(s->never_false);
    s->lines_not_run = s->never_true = s->never_false = NULL;
    s->nlines_not_run = s->nnever_true = s->nnever_false = 0;
}

void tt_lines_append(ru_buf *b, const uint32_t *lines, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && lines[j + 1] == lines[j] + 1)
            j++;
        if (i)
            ru_buf_puts(b, ", ");
        if (j == i)
            ru_buf_printf(b, "%u", lines[i]);
        else
            ru_buf_printf(b, "%u-%u", lines[i], lines[j]);
        i = j + 1;
    }
}
