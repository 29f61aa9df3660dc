/* yaml_edit.c - a changed YAML document printed as its own text, edited.
 * SPDX-License-Identifier: Apache-2.0
 *
 * rv_vm_print with RV_VERBATIM and YAML output: the text the document was
 * read from (its layouts, yaml_layout.h) is copied out, and only what the
 * decision changed is edited in it, so comments, blank lines, quoting,
 * flow or block style and key order of every untouched part survive. The
 * output is built in one pass over the text with a cursor: text up to a
 * change is copied, the change's old text skipped, new text put. Edits:
 *
 * - a value replaced by another: its text is replaced by the printer's
 *   rendering when the old text was on one line and the new one fits on
 *   one (the member's key and comment stay); otherwise the member's or
 *   item's lines are replaced by the printer's lines for it, indented to
 *   its column;
 * - a container changed inside: edited the same way, recursively (a list
 *   a policy appended to is a new list holding the old items: it is
 *   edited against the old one's text, so only the new item is new);
 * - a member or item removed: its lines go, the comment on its last line
 *   with them; comment lines before and after it stay;
 * - a member or item added: the printer's lines for it, at the
 *   container's column, after the member before it (after the last one,
 *   for a key a policy adds);
 * - in a flow collection ({...}, [...]) that changed, the entries are
 *   written on one line, separated by ", ": kept ones as they were
 *   written, new ones by the printer in flow style.
 *
 * Where an edit cannot be made safely (a layout this editor does not
 * know: a key after `? `, a tab or something else before a key, a first
 * member after `- ` that is removed, a collection with an anchor or tag
 * that changed), the smallest enclosing container is printed anew in its
 * place by the printer (its comments are lost, the rest of the text is
 * not), and if even that cannot be done, the whole document. A document
 * that uses aliases, line breaks other than LF and CRLF, or a tab, is
 * copied only when nothing changed, and printed anew otherwise
 * (ry_source).
 */
#include "yaml_layout.h"

#include <stdint.h>
#include <string.h>

typedef struct yedit {
    ru_buf *b;
    const char *t;   /* the text read */
    size_t len;
    size_t pos;      /* the first byte of t neither copied nor skipped yet */
    ru_buf frag;     /* a piece the printer wrote */
} yedit;

typedef struct save {
    size_t blen, pos;
} save;

static save mark(const yedit *e)
{
    return (save){ e->b->len, e->pos };
}

static void back(yedit *e, save s)
{
    e->b->len = s.blen;
    e->pos = s.pos;
}

/* The cursor moves forward only: an edit that would move it back is a
 * layout this editor got wrong, and it gives up on the container. */
static bool copy_to(yedit *e, size_t x)
{
    if (x < e->pos || x > e->len)
        return false;
    ru_buf_put(e->b, e->t + e->pos, x - e->pos);
    e->pos = x;
    return true;
}

static bool skip_to(yedit *e, size_t x)
{
    if (x < e->pos || x > e->len)
        return false;
    e->pos = x;
    return true;
}

static bool is_container(const rv_node *n)
{
    return n->type == RV_ARRAY || n->type == RV_OBJECT;
}

/* Whether neither n nor any container below it changed since it was read. */
static bool untouched(const rv_node *n)
{
    if (!is_container(n))
        return true;
    if (n->flags & RV_NODE_EDITED)
        return false;
    for (uint32_t i = 0; i < n->len; i++)
        if (!untouched(n->type == RV_ARRAY ? n->u.items[i] : n->u.members[i].value))
            return false;
    return true;
}

static size_t line_start(const yedit *e, size_t at)
{
    while (at > 0 && e->t[at - 1] != '\n')
        at--;
    return at;
}

/* Past the end of the line a block value ends on (past its LF, or the end
 * of the text). After a value in block context only blanks and a comment
 * may follow on its line; SIZE_MAX if anything else does. A block scalar
 * ends at the start of a line already. */
static size_t line_end(const yedit *e, size_t v)
{
    if (v > 0 && e->t[v - 1] == '\n')
        return v;
    size_t i = v;
    while (i < e->len && (e->t[i] == ' ' || e->t[i] == '\t'))
        i++;
    if (i < e->len && e->t[i] == '#' && (i == v ? v > 0 && (e->t[v - 1] == ' ' || e->t[v - 1] == '\t') : true))
        while (i < e->len && e->t[i] != '\n')
            i++;
    else if (i + 1 < e->len && e->t[i] == '\r' && e->t[i + 1] == '\n')
        i++;
    if (i == e->len)
        return i;
    return e->t[i] == '\n' ? i + 1 : SIZE_MAX;
}

/* Whether [ls, a) may stand before a block node that starts mid-line:
 * only `- ` indicators of enclosing list items, and blanks. */
static bool dash_prefix(const yedit *e, size_t ls, size_t a)
{
    for (size_t k = ls; k < a; k++) {
        if (e->t[k] == ' ')
            continue;
        if (e->t[k] != '-' || k + 1 >= a || e->t[k + 1] != ' ')
            return false;
    }
    return true;
}

static bool all_blank(const yedit *e, size_t ls, size_t a)
{
    for (size_t k = ls; k < a; k++)
        if (e->t[k] != ' ')
            return false;
    return true;
}

/* The lines an entry of a block container takes: from the start of its
 * key's (or dash's) line, or from the key itself when it follows a `- `
 * on its line (midline: the first member of a mapping in a list item),
 * to the end of its value's line. */
typedef struct region {
    size_t rs, re;
    bool midline;
} region;

/* Finds every entry's region of block container L, checking that they
 * lie in order, all at one column (*col), each as this editor expects. */
static bool block_regions(const yedit *e, const ry_layout *L, bool mapping, region *r, size_t *col)
{
    size_t prev = L->start;
    for (uint32_t i = 0; i < L->n; i++) {
        const ry_entry *en = &L->e[i];
        size_t a;
        if (mapping) {
            a = en->kstart;
        } else {
            /* The dash: past blank and comment lines after the last item. */
            a = i == 0 ? L->start : prev;
            for (;;) {
                while (a < e->len && e->t[a] == ' ')
                    a++;
                if (i > 0 && a < e->len && e->t[a] == '#') {
                    while (a < e->len && e->t[a] != '\n')
                        a++;
                    continue;
                }
                if (i > 0 && a < e->len && (e->t[a] == '\n' || e->t[a] == '\r')) {
                    a++;
                    continue;
                }
                break;
            }
            if (a >= e->len || e->t[a] != '-' || a >= en->vstart)
                return false;
        }
        if (a < prev || a > en->vstart || en->vstart > en->vend || en->vend > e->len)
            return false;
        size_t ls = line_start(e, a);
        if (i == 0)
            *col = a - ls;
        else if (a - ls != *col)
            return false;
        if (all_blank(e, ls, a)) {
            r[i].rs = ls;
            r[i].midline = false;
        } else if (i == 0 && dash_prefix(e, ls, a)) {
            r[i].rs = a;
            r[i].midline = true;
        } else {
            return false;
        }
        if (i > 0 && r[i].rs < prev)
            return false;
        r[i].re = line_end(e, en->vend);
        if (r[i].re == SIZE_MAX || r[i].re <= a)
            return false;
        prev = r[i].re;
    }
    return true;
}

/* ---- fresh text from the printer ---- */

/* A value's stand-in containers hold it without copying (the printer
 * only reads). */
static rv_node *unconst(const rv_node *n)
{
    union {
        const rv_node *c;
        rv_node *m;
    } u = { n };
    return u.m;
}

/* Prints n (a one-entry stand-in) into e->frag: the printer's document,
 * without a `...` end marker. */
static bool render(yedit *e, const rv_node *n, bool flow)
{
    rv_error err;
    e->frag.len = 0;
    if (!rv_yaml_write_style(&e->frag, n, flow, &err) || e->frag.oom || e->frag.len == 0)
        return false;
    const char *f = e->frag.data;
    if (e->frag.len >= 3 && (memcmp(f, "---", 3) == 0 || f[0] == '%'))
        return false;
    if (e->frag.len >= 5 && memcmp(f + e->frag.len - 5, "\n...\n", 5) == 0)
        e->frag.len -= 4;
    return f[e->frag.len - 1] == '\n';
}

/* One entry as a stand-in container: member m of a mapping, or item v. */
typedef struct standin {
    rv_node node;
    rv_member m;
    rv_node *item;
} standin;

static const rv_node *standin_of(standin *s, const rv_member *m, const rv_node *v)
{
    memset(s, 0, sizeof *s);
    s->node.len = s->node.cap = 1;
    if (m) {
        s->m = *m;
        s->m.kesc = 0;
        s->node.type = RV_OBJECT;
        s->node.u.members = &s->m;
    } else {
        s->item = unconst(v);
        s->node.type = RV_ARRAY;
        s->node.u.items = &s->item;
    }
    return &s->node;
}

/* Puts e->frag's lines, each but an empty one indented by col spaces; the
 * first not when it continues a line already begun; without its last
 * line break when nl is false. */
static void put_indented(yedit *e, size_t col, bool first_indented, bool nl)
{
    const char *f = e->frag.data, *end = f + e->frag.len;
    if (!nl)
        end--;
    bool first = true;
    while (f < end) {
        const char *eol = memchr(f, '\n', (size_t)(end - f));
        const char *next = eol ? eol + 1 : end;
        if ((!first || first_indented) && *f != '\n')
            for (size_t k = 0; k < col; k++)
                ru_buf_putc(e->b, ' ');
        ru_buf_put(e->b, f, (size_t)(next - f));
        f = next;
        first = false;
    }
}

/* An entry written anew as block lines ("key: value\n", "- value\n"). */
static bool put_lines(yedit *e, const rv_member *m, const rv_node *v, size_t col, bool midline)
{
    standin s;
    if (!render(e, standin_of(&s, m, v), false))
        return false;
    /* New lines start a line (the text may end without a line break). */
    if (!midline && e->b->len && e->b->data[e->b->len - 1] != '\n')
        ru_buf_putc(e->b, '\n');
    put_indented(e, col, !midline, true);
    return true;
}

/* An entry written anew as a piece of a flow collection ("key: value" or
 * "value"), on one line. */
static bool put_piece(yedit *e, const rv_member *m, const rv_node *v)
{
    standin s;
    if (!render(e, standin_of(&s, m, v), true))
        return false;
    const char *f = e->frag.data;
    size_t n = e->frag.len;
    /* "{key: value}\n" or "[value]\n" */
    if (n < 3 || memchr(f, '\n', n - 1) || f[n - 2] != (m ? '}' : ']'))
        return false;
    ru_buf_put(e->b, f + 1, n - 3);
    return true;
}

/* A value on one line, as it would follow "key: " or "- " in block
 * context; false when the printer needs more than one line for it. */
static bool put_inline(yedit *e, const rv_node *v)
{
    /* "- a: 1" is one line, but a block mapping cannot follow "key: ". */
    if (is_container(v) && v->len)
        return false;
    standin s;
    if (!render(e, standin_of(&s, NULL, v), false))
        return false;
    const char *f = e->frag.data;
    size_t n = e->frag.len;
    if (n < 4 || f[0] != '-' || f[1] != ' ' || memchr(f, '\n', n - 1))
        return false;
    ru_buf_put(e->b, f + 2, n - 3);
    return true;
}

/* ---- editing ---- */

static bool edit_container(yedit *e, const rv_node *cur, const ry_layout *L);

/* Container n printed anew where L's text stood: a flow one in flow style
 * in place of its text; a block one at its column, its first line where
 * its text began (after the `- ` or indentation before it). */
static bool rerender(yedit *e, const rv_node *cur, const ry_layout *L)
{
    if (L->flow) {
        if (!copy_to(e, L->start))
            return false;
        /* The container as the only item of a flow list: "[{...}]\n". */
        standin s;
        if (!render(e, standin_of(&s, NULL, cur), true))
            return false;
        const char *f = e->frag.data;
        size_t n = e->frag.len;
        if (n < 3 || memchr(f, '\n', n - 1))
            return false;
        ru_buf_put(e->b, f + 1, n - 3);
        return skip_to(e, L->end);
    }
    /* Its lines go, the comment on its last line with them (that is the
     * comment of its last entry). */
    size_t ls = line_start(e, L->start), re = line_end(e, L->end);
    if (!dash_prefix(e, ls, L->start) || re == SIZE_MAX)
        return false;
    /* A block list may stand at its key's column ("key:\n- a"); `[]`
     * there would not be the key's value: the parent writes "key: []". */
    if (cur->type == RV_ARRAY && cur->len == 0 && ry_layout_of(L->src->root) != L)
        return false;
    if (!copy_to(e, L->start))
        return false;
    if (!render(e, cur, false))
        return false;
    put_indented(e, L->start - ls, false, true);
    return skip_to(e, re);
}

/* A kept entry's container: edited against its text, else printed anew in
 * its place. */
static bool redo_container(yedit *e, const rv_node *v, const ry_layout *CL)
{
    save s = mark(e);
    if (edit_container(e, v, CL))
        return true;
    back(e, s);
    if (rerender(e, v, CL))
        return true;
    back(e, s);
    return false;
}

/* Whether [a, b) of the text is on one line. */
static bool one_line(const yedit *e, size_t a, size_t b)
{
    return !memchr(e->t + a, '\n', b - a);
}

/* Entry k of block container L holds v now (m: its member, for a mapping);
 * r is where its lines are. */
static bool block_entry(yedit *e, const ry_layout *L, uint32_t k, const rv_member *m, const rv_node *v,
                        const region *r, size_t col)
{
    const ry_entry *en = &L->e[k];
    if (v == en->value && untouched(v))
        return true;
    const ry_layout *CL = ry_layout_of(en->value);
    if (is_container(v) && CL && v->type == en->value->type && redo_container(e, v, CL))
        return true;
    /* A value on one line that fits on one again: in place. */
    if (!en->props && en->vstart < en->vend && one_line(e, en->vstart, en->vend)) {
        save s = mark(e);
        if (copy_to(e, en->vstart) && put_inline(e, v) && skip_to(e, en->vend))
            return true;
        back(e, s);
    }
    return copy_to(e, r->rs) && put_lines(e, m, v, col, r->midline) && skip_to(e, r->re);
}

/* The first entry of L at or after j that the current entry is (by its
 * key's pointer in a mapping, by the item itself in a list), or L->n. */
static uint32_t find_entry(const ry_layout *L, uint32_t j, const rv_member *m, const rv_node *v)
{
    for (uint32_t k = j; k < L->n; k++)
        if (m ? L->e[k].key == m->key : L->e[k].value == v)
            return k;
    return L->n;
}

static bool edit_block(yedit *e, const rv_node *cur, const ry_layout *L)
{
    bool mapping = cur->type == RV_OBJECT;
    if (L->n == 0 || cur->len == 0)
        return false;  /* an empty collection is written `{}` or `[]`: anew */
    region *r = e->b->alloc(e->b->ud, NULL, 0, L->n * sizeof *r);
    if (!r)
        return false;
    size_t col = 0;
    bool ok = block_regions(e, L, mapping, r, &col);
    uint32_t j = 0;       /* the next entry of L not yet handled */
    size_t after = 0;     /* where a new entry goes: past the last handled */
    for (uint32_t i = 0; ok && i < cur->len; i++) {
        const rv_member *m = mapping ? &cur->u.members[i] : NULL;
        const rv_node *v = mapping ? m->value : cur->u.items[i];
        uint32_t k = find_entry(L, j, m, v);
        if (k == L->n) {
            /* New: after the entry before it, or before the first. */
            ok = j > 0 ? copy_to(e, after) : !r[0].midline && copy_to(e, r[0].rs);
            ok = ok && put_lines(e, m, v, col, false);
            continue;
        }
        for (; ok && j < k; j++) {  /* removed */
            ok = !r[j].midline && copy_to(e, r[j].rs) && skip_to(e, r[j].re);
            after = r[j].re;
        }
        ok = ok && block_entry(e, L, k, m, v, &r[k], col);
        after = r[k].re;
        j = k + 1;
    }
    for (; ok && j < L->n; j++)
        ok = !r[j].midline && copy_to(e, r[j].rs) && skip_to(e, r[j].re);
    e->b->alloc(e->b->ud, r, L->n * sizeof *r, 0);
    return ok;
}

static bool edit_flow(yedit *e, const rv_node *cur, const ry_layout *L)
{
    bool mapping = cur->type == RV_OBJECT;
    if (L->end < L->start + 2 || e->t[L->start] != (mapping ? '{' : '[') ||
        e->t[L->end - 1] != (mapping ? '}' : ']'))
        return false;
    if (!copy_to(e, L->start + 1))
        return false;
    uint32_t j = 0;
    for (uint32_t i = 0; i < cur->len; i++) {
        const rv_member *m = mapping ? &cur->u.members[i] : NULL;
        const rv_node *v = mapping ? m->value : cur->u.items[i];
        uint32_t k = find_entry(L, j, m, v);
        if (k < L->n) {
            const ry_entry *en = &L->e[k];
            j = k + 1;
            if (en->kstart < e->pos || en->kstart > en->vstart || en->vstart > en->vend || en->vend >= L->end ||
                !skip_to(e, en->kstart))
                return false;
            if (i)
                ru_buf_put(e->b, ", ", 2);
            if (v == en->value && untouched(v) && en->vstart < en->vend) {
                if (!copy_to(e, en->vend))
                    return false;
                continue;
            }
            const ry_layout *CL = ry_layout_of(en->value);
            if (is_container(v) && CL && v->type == en->value->type) {
                save s = mark(e);
                if (copy_to(e, en->vstart) && redo_container(e, v, CL) && copy_to(e, en->vend))
                    continue;
                back(e, s);
            }
            if (!skip_to(e, en->vend) || !put_piece(e, m, v))
                return false;
            continue;
        }
        if (i)
            ru_buf_put(e->b, ", ", 2);
        if (!put_piece(e, m, v))
            return false;
    }
    return skip_to(e, L->end - 1) && copy_to(e, L->end);
}

static bool edit_container(yedit *e, const rv_node *cur, const ry_layout *L)
{
    if (L->merged || !is_container(cur))
        return false;
    return L->flow ? edit_flow(e, cur, L) : edit_block(e, cur, L);
}

bool rv_yaml_write_verbatim(ru_buf *b, const rv_node *n, rv_error *err)
{
    const ry_layout *L = ry_layout_of(n);
    if (!L || L->src->root != n)
        return rv_yaml_write(b, n, err);
    const ry_source *src = L->src;
    if (untouched(n)) {
        ru_buf_put(b, src->text, src->len);
        return !b->oom;
    }
    if (!src->editable)
        return rv_yaml_write(b, n, err);
    yedit e = { .b = b, .t = src->text, .len = src->len };
    ru_buf_init(&e.frag, b->alloc, b->ud);
    size_t base = b->len;
    bool ok = edit_container(&e, n, L) && copy_to(&e, e.len);
    if (!ok) {
        back(&e, (save){ base, 0 });
        ok = rerender(&e, n, L) && copy_to(&e, e.len);
    }
    ru_buf_free(&e.frag);
    if (b->oom)
        return false;
    if (!ok) {
        b->len = base;
        return rv_yaml_write(b, n, err);
    }
    return true;
}
