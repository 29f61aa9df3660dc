/* diff.c - expected against actual, field by field, for `rulec
 * SPDX-License-Identifier: Apache-2.0
 * test`. A failing case must say which fields differ and how ("configuration.
 * max_price: expected 2.0, got 3.5"), never just "specs differ": that is the
 * complaint this runner exists to answer. */
#include "ruletest.h"

#include <string.h>

typedef struct dctx {
    ru_buf *out;
    rv_vm *vm;                 /* prints the values */
    ru_buf path;               /* the path being compared, canonical form */
    const tt_change *changes;
    size_t nchanges;
    bool label;
    size_t count;
} dctx;

/* Whether a and b name the same field or one lies under the other. */
static bool related(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    const char *longer = n >= m ? a : b;
    size_t k = n < m ? n : m;
    if (strncmp(a, b, k) != 0)
        return false;
    return n == m || longer[k] == '.' || longer[k] == '[';
}

static void line(dctx *d, const char *what, const rv_doc *x, const char *mid, const rv_doc *y)
{
    const char *path = d->path.len ? d->path.data : "spec";
    ru_buf_puts(d->out, path);
    ru_buf_puts(d->out, ": ");
    ru_buf_puts(d->out, what);
    if (x)
        tt_doc_json(d->out, d->vm, x);
    if (mid)
        ru_buf_puts(d->out, mid);
    if (y)
        tt_doc_json(d->out, d->vm, y);
    if (d->label) {
        bool expected_change = false;
        for (size_t i = 0; i < d->nchanges && !expected_change; i++)
            expected_change = related(path, d->changes[i].path);
        if (!expected_change)
            ru_buf_puts(d->out, " (should be unchanged)");
    }
    ru_buf_putc(d->out, '\n');
    d->count++;
}

static void diff(dctx *d, const rv_doc *exp, const rv_doc *act)
{
    size_t mark = d->path.len;
    if (rv_doc_kind(exp) == RV_OBJECT && rv_doc_kind(act) == RV_OBJECT) {
        for (size_t i = 0; i < rv_doc_len(exp); i++) {
            const char *key = rv_doc_key(exp, i);
            const rv_doc *a = rv_doc_get(act, key);
            tt_path_append_key(&d->path, key, strlen(key), mark == 0);
            ru_buf_terminate(&d->path);
            if (!a)
                line(d, "missing (expected ", rv_doc_value(exp, i), ")", NULL);
            else
                diff(d, rv_doc_value(exp, i), a);
            d->path.len = mark;
        }
        for (size_t i = 0; i < rv_doc_len(act); i++) {
            const char *key = rv_doc_key(act, i);
            if (rv_doc_get(exp, key))
                continue;
            tt_path_append_key(&d->path, key, strlen(key), mark == 0);
            ru_buf_terminate(&d->path);
            line(d, "not expected, got ", rv_doc_value(act, i), NULL, NULL);
            d->path.len = mark;
        }
        ru_buf_terminate(&d->path);
        return;
    }
    /* Lists of the same length compare item by item; otherwise an item
     * went in or out, and the whole lists say more than shifted items. */
    if (rv_doc_kind(exp) == RV_ARRAY && rv_doc_kind(act) == RV_ARRAY &&
        rv_doc_len(exp) == rv_doc_len(act)) {
        for (size_t i = 0; i < rv_doc_len(exp); i++) {
            ru_buf_printf(&d->path, "[%zu]", i);
            ru_buf_terminate(&d->path);
            diff(d, rv_doc_item(exp, i), rv_doc_item(act, i));
            d->path.len = mark;
        }
        ru_buf_terminate(&d->path);
        return;
    }
    if (!rv_doc_equal(exp, act))
        line(d, "expected ", exp, ", got ", act);
}

size_t tt_diff(ru_buf *out, rv_vm *vm, const rv_doc *expected, const rv_doc *actual,
               const tt_change *changes, size_t nchanges, bool label_unchanged)
{
    dctx d = {out, vm, {0}, changes, nchanges, label_unchanged, 0};
    ru_buf_init(&d.path, NULL, NULL);
    ru_buf_terminate(&d.path);
    diff(&d, expected, actual);
    ru_buf_free(&d.path);
    return d.count;
}

/* ---- the expected spec of `changes:` ---- */

typedef struct actx {
    rv_vm *vm;
    const tt_change *c;
    char *why;
    size_t whysize;
} actx;

static void describe(char *why, size_t size, const tt_change *c, const char *what)
{
    snprintf(why, size, "changes: %s: %s", c->path, what);
}

static rv_doc *oom(actx *a)
{
    snprintf(a->why, a->whysize, "out of memory");
    return NULL;
}

/* Applies change a->c from segment k on to cur: returns what takes cur's
 * place (cur itself when nothing changes there), or NULL with a reason in
 * a->why. Nothing is changed in place: the containers on the path are
 * rebuilt (doc.c), everything else is shared. A change writes through
 * missing fields and non-objects as `set` does, making objects; a removal
 * of something absent changes nothing below the point where it stops (the
 * objects it made on the way stay, as they always have). */
static rv_doc *apply_at(actx *a, rv_doc *cur, size_t k)
{
    const tt_change *c = a->c;
    const tt_seg *g = &c->segs[k];
    bool last = k + 1 == c->nseg;
    rv_doc *out;
    if (last && !c->value) {
        if (g->key && rv_doc_kind(cur) == RV_OBJECT)
            out = tt_doc_without_key(a->vm, cur, g->key);
        else if (!g->key && rv_doc_kind(cur) == RV_ARRAY)
            out = tt_doc_without_item(a->vm, cur, (size_t)g->index);
        else
            out = cur;
        return out ? out : oom(a);
    }
    if (g->key) {
        rv_doc *base = cur;
        if (rv_doc_kind(cur) != RV_OBJECT) {
            if (!c->value)
                return cur;
            base = NULL;   /* writing through a non-object makes one */
        }
        rv_doc *child;
        if (last) {
            child = c->value;
        } else {
            rv_doc *old = base ? rv_doc_get(base, g->key) : NULL;
            if (!old && !(old = rv_vm_new_object(a->vm)))
                return oom(a);
            if (!(child = apply_at(a, old, k + 1)))
                return NULL;
        }
        out = tt_doc_with_key(a->vm, base, g->key, child);
        return out ? out : oom(a);
    }
    if (rv_doc_kind(cur) != RV_ARRAY) {
        if (!c->value)
            return cur;
        describe(a->why, a->whysize, c, "the input holds no list there");
        return NULL;
    }
    size_t len = rv_doc_len(cur), index = (size_t)g->index;
    if (index == len && last) {
        out = tt_doc_with_item(a->vm, cur, len, c->value);
        return out ? out : oom(a);
    }
    if (index >= len) {
        if (!c->value)
            return cur;
        char what[100];
        snprintf(what, sizeof what, "index %ld is past the end of the list (%u items)", g->index,
                 (unsigned)len);
        describe(a->why, a->whysize, c, what);
        return NULL;
    }
    rv_doc *child = last ? c->value : apply_at(a, rv_doc_item(cur, index), k + 1);
    if (!child)
        return NULL;
    out = tt_doc_with_item(a->vm, cur, index, child);
    return out ? out : oom(a);
}

const rv_doc *tt_apply_changes(rv_vm *vm, rv_doc *input, const tt_change *changes,
                               size_t nchanges, char *why, size_t whysize)
{
    rv_doc *root = input;   /* never changed: apply_at rebuilds */
    for (size_t i = 0; i < nchanges; i++) {
        actx a = {vm, &changes[i], why, whysize};
        if (changes[i].nseg && !(root = apply_at(&a, root, 0)))
            return NULL;
    }
    return root;
}
