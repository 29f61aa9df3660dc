/* diff.c - expected against actual, field by field, for `rulec
 * test`. A failing case must say which fields differ and how ("configuration.
 * max_price: expected 2.0, got 3.5"), never just "specs differ": that is the
 * complaint this runner exists to answer. */
#include "ruletest.h"

#include <string.h>

typedef struct dctx {
    ru_buf *out;
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

static void line(dctx *d, const char *what, const rv_node *x, const char *mid, const rv_node *y)
{
    const char *path = d->path.len ? d->path.data : "spec";
    ru_buf_puts(d->out, path);
    ru_buf_puts(d->out, ": ");
    ru_buf_puts(d->out, what);
    if (x)
        rv_json_compact(d->out, x);
    if (mid)
        ru_buf_puts(d->out, mid);
    if (y)
        rv_json_compact(d->out, y);
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

static void diff(dctx *d, const rv_node *exp, const rv_node *act)
{
    size_t mark = d->path.len;
    if (exp->type == RV_OBJECT && act->type == RV_OBJECT) {
        for (uint32_t i = 0; i < exp->len; i++) {
            const rv_member *m = &exp->u.members[i];
            const rv_member *a = rv_object_find(act, m->key, m->klen);
            tt_path_append_key(&d->path, m->key, m->klen, mark == 0);
            ru_buf_terminate(&d->path);
            if (!a)
                line(d, "missing (expected ", m->value, ")", NULL);
            else
                diff(d, m->value, a->value);
            d->path.len = mark;
        }
        for (uint32_t i = 0; i < act->len; i++) {
            const rv_member *a = &act->u.members[i];
            if (rv_object_find(exp, a->key, a->klen))
                continue;
            tt_path_append_key(&d->path, a->key, a->klen, mark == 0);
            ru_buf_terminate(&d->path);
            line(d, "not expected, got ", a->value, NULL, NULL);
            d->path.len = mark;
        }
        ru_buf_terminate(&d->path);
        return;
    }
    /* Lists of the same length compare item by item; otherwise an item
     * went in or out, and the whole lists say more than shifted items. */
    if (exp->type == RV_ARRAY && act->type == RV_ARRAY && exp->len == act->len) {
        for (uint32_t i = 0; i < exp->len; i++) {
            ru_buf_printf(&d->path, "[%u]", i);
            ru_buf_terminate(&d->path);
            diff(d, exp->u.items[i], act->u.items[i]);
            d->path.len = mark;
        }
        ru_buf_terminate(&d->path);
        return;
    }
    if (!rv_equal(exp, act))
        line(d, "expected ", exp, ", got ", act);
}

size_t tt_diff(ru_buf *out, const rv_doc *expected, const rv_doc *actual,
               const tt_change *changes, size_t nchanges, bool label_unchanged)
{
    dctx d = {out, {0}, changes, nchanges, label_unchanged, 0};
    ru_buf_init(&d.path, NULL, NULL);
    ru_buf_terminate(&d.path);
    diff(&d, expected, actual);
    ru_buf_free(&d.path);
    return d.count;
}

/* ---- the expected spec of `changes:` ---- */

static void describe(char *why, size_t size, const tt_change *c, const char *what)
{
    snprintf(why, size, "changes: %s: %s", c->path, what);
}

/* Removes the field or item at the end of c (no-op when absent). */
static void remove_at(rv_node *parent, const tt_seg *g)
{
    if (g->key && parent->type == RV_OBJECT) {
        for (uint32_t i = 0; i < parent->len; i++)
            if (parent->u.members[i].klen == g->klen &&
                memcmp(parent->u.members[i].key, g->key, g->klen) == 0) {
                memmove(&parent->u.members[i], &parent->u.members[i + 1],
                        (parent->len - i - 1) * sizeof *parent->u.members);
                parent->len--;
                return;
            }
    } else if (!g->key && parent->type == RV_ARRAY && (uint32_t)g->index < parent->len) {
        memmove(&parent->u.items[g->index], &parent->u.items[g->index + 1],
                (parent->len - (uint32_t)g->index - 1) * sizeof *parent->u.items);
        parent->len--;
    }
}

rv_doc *tt_apply_changes(ru_arena *a, const rv_doc *input, const tt_change *changes,
                         size_t nchanges, char *why, size_t whysize)
{
    rv_node *root = rv_copy(a, input);
    if (!root) {
        snprintf(why, whysize, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < nchanges; i++) {
        const tt_change *c = &changes[i];
        rv_node **slot = &root;
        for (size_t k = 0; k < c->nseg; k++) {
            const tt_seg *g = &c->segs[k];
            rv_node *cur = *slot;
            bool last = k + 1 == c->nseg;
            if (last && !c->value) {
                remove_at(cur, g);
                break;
            }
            if (g->key) {
                /* As `set` does, writing through a non-object makes one. */
                if (cur->type != RV_OBJECT) {
                    if (!c->value)
                        break;
                    cur = *slot = rv_new_object(a, 4);
                    if (!cur)
                        goto oom;
                }
                rv_member *m = rv_object_find(cur, g->key, g->klen);
                if (!m) {
                    rv_node *fresh = last ? rv_new_null(a) : rv_new_object(a, 4);
                    if (!fresh || !rv_object_push(a, cur, g->key, g->klen, fresh))
                        goto oom;
                    m = rv_object_find(cur, g->key, g->klen);
                }
                slot = &m->value;
            } else {
                if (cur->type != RV_ARRAY) {
                    if (!c->value)
                        break;
                    describe(why, whysize, c, "the input holds no list there");
                    return NULL;
                }
                if ((uint32_t)g->index == cur->len && last) {
                    if (!rv_array_push(a, cur, rv_new_null(a)))
                        goto oom;
                } else if ((uint32_t)g->index >= cur->len) {
                    if (!c->value)
                        break;
                    char what[100];
                    snprintf(what, sizeof what, "index %ld is past the end of the list (%u items)",
                             g->index, cur->len);
                    describe(why, whysize, c, what);
                    return NULL;
                }
                slot = &cur->u.items[g->index];
            }
            if (last) {
                *slot = rv_copy(a, c->value);
                if (!*slot)
                    goto oom;
            }
        }
    }
    return root;
oom:
    snprintf(why, whysize, "out of memory");
    return NULL;
}
