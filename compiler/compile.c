/* compile.c - the compiler's entry point: runs parse, check and codegen on
 * every source and applies the contract's policy-set rules (same name keeps
 * the highest priority; order by priority, then name).
 */
#include "compile.h"
#include "parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool rc_read_source(const char *path, rv_arena *arena, rc_diags *diags, rc_source *out)
{
    rc_loc none = {0, 0, 0, 0};
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        rc_diag(diags, RC_ERROR, NULL, none, "cannot read '%s': %s", path, strerror(errno));
        return false;
    }
    rv_buf b;
    rv_buf_init(&b, arena->alloc, arena->ud);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rv_buf_put(&b, chunk, n);
    bool failed = ferror(f) != 0;
    int saved = errno;
    if (f != stdin)
        fclose(f);
    if (failed || b.oom) {
        rc_diag(diags, RC_ERROR, NULL, none, "cannot read '%s': %s", path,
                b.oom ? "out of memory" : strerror(saved));
        rv_buf_free(&b);
        return false;
    }
    size_t len = b.len;
    char *text = rv_arena_strndup(arena, b.data ? b.data : "", len);
    rv_buf_free(&b);
    if (!text)
        return false;
    if (memchr(text, '\0', len)) {
        rc_diag(diags, RC_ERROR, NULL, none, "'%s' is not a text file (it holds a NUL byte)", path);
        return false;
    }
    out->name = rv_arena_strndup(arena, path, strlen(path));
    out->text = text;
    out->len = len;
    return out->name != NULL;
}

typedef struct unit {
    rc_checked checked;
    rv_policy *policy;
    rc_cover_map map;
    size_t order;         /* position among the sources */
} unit;

/* Groups same-named policies, highest priority first, then in source
 * order, so the set rules are one pass over neighbours (10,000 policies
 * must not mean 50 million name comparisons). */
static int by_name_then_priority(const void *a, const void *b)
{
    const unit *x = *(const unit *const *)a, *y = *(const unit *const *)b;
    int c = strcmp(x->policy->name, y->policy->name);
    if (c)
        return c;
    if (x->policy->priority != y->policy->priority)
        return x->policy->priority > y->policy->priority ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int by_priority_then_name(const void *a, const void *b)
{
    const unit *x = *(const unit *const *)a, *y = *(const unit *const *)b;
    if (x->policy->priority != y->policy->priority)
        return x->policy->priority < y->policy->priority ? -1 : 1;
    return strcmp(x->policy->name, y->policy->name);
}

bool rc_compile(const rc_source *srcs, size_t nsrcs, rv_arena *arena, rc_diags *diags,
                rv_policy ***policies, size_t *n)
{
    return rc_compile_map(srcs, nsrcs, arena, diags, policies, NULL, n);
}

bool rc_compile_map(const rc_source *srcs, size_t nsrcs, rv_arena *arena, rc_diags *diags,
                    rv_policy ***policies, rc_cover_map ***maps, size_t *n)
{
    if (maps)
        *maps = NULL;
    *policies = NULL;
    *n = 0;
    unit **units = rv_arena_alloc(arena, (nsrcs ? nsrcs : 1) * sizeof *units);
    if (!units)
        return false;
    size_t nunits = 0;
    int errors_before = diags->nerrors;

    for (size_t i = 0; i < nsrcs; i++) {
        int before = diags->nerrors;
        rc_file *file = rc_parse_file(&srcs[i], arena, diags);
        if (!file)
            return false;
        unit *u = rv_arena_alloc(arena, sizeof *u);
        if (!u)
            return false;
        /* Check even after syntax errors: the tree is partial but its
         * remaining problems are still worth reporting in the same run. */
        bool ok = rc_check(file, arena, diags, &u->checked) && diags->nerrors == before;
        if (!ok)
            continue;
        u->policy = rc_codegen_map(&u->checked, arena, diags, maps ? &u->map : NULL);
        if (u->policy) {
            u->order = nunits;
            units[nunits++] = u;
        }
    }
    if (diags->nerrors != errors_before)
        return false;

    /* Same name: the highest priority wins; equal priority is ambiguous. */
    if (nunits > 1)
        qsort(units, nunits, sizeof *units, by_name_then_priority);
    bool failed = false;
    size_t kept = 0;
    for (size_t i = 0; i < nunits; i++) {
        unit *u = units[i];
        unit *first = kept ? units[kept - 1] : NULL;
        if (!first || strcmp(first->policy->name, u->policy->name) != 0) {
            units[kept++] = u;  /* the highest priority of its name */
            continue;
        }
        if (first->policy->priority == u->policy->priority) {
            rc_diag(diags, RC_ERROR, u->checked.file->src, u->checked.name_loc,
                    "policy '%s' is defined twice with priority %d", u->policy->name,
                    (int)u->policy->priority);
            rc_diag(diags, RC_NOTE, first->checked.file->src, first->checked.name_loc,
                    "the other definition is here");
            failed = true;
        }
    }
    if (failed)
        return false;
    qsort(units, kept, sizeof *units, by_priority_then_name);

    rv_policy **out = rv_arena_alloc(arena, (kept ? kept : 1) * sizeof *out);
    if (!out)
        return false;
    for (size_t i = 0; i < kept; i++)
        out[i] = units[i]->policy;
    if (maps) {
        rc_cover_map **m = rv_arena_alloc(arena, (kept ? kept : 1) * sizeof *m);
        if (!m)
            return false;
        for (size_t i = 0; i < kept; i++)
            m[i] = &units[i]->map;
        *maps = m;
    }
    *policies = out;
    *n = kept;
    return true;
}
