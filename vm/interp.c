/* interp.c - the interpreter: runs verified policies over a spec.
 * SPDX-License-Identifier: Apache-2.0
 *
 * The verifier (verify.c) has already proved operand indices, jump targets
 * and stack depth for every instruction, so the dispatch loop does no
 * per-step checks beyond the instruction budget. Writes go through an undo
 * log: a rejected decision rolls the spec back to exactly its input.
 */
#include "opcodes.h"
#include "vm_impl.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <math.h>
#include <stdlib.h>
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

/* Dispatch written against three macros (as in Lua's lvm.c) so computed
 * goto and a plain switch are one edit apart. With computed goto, a trace
 * costs nothing when there is none: `table` is then the opcodes' own, and
 * with one every entry leads through the call of the trace first. */
#if defined(__GNUC__) && !defined(RV_NO_COMPUTED_GOTO)
#define RV_COMPUTED_GOTO 1
#define vmdispatch(o) goto *table[o];
#define vmcase(l) L_##l:
#define vmbreak   vmfetch(); vmdispatch(RV_GET_OP(ins))
#else
#define vmdispatch(o) switch ((int)(o))
#define vmcase(l) case RV_OP_##l:
#define vmbreak   break
#endif

/* Everything one evaluation needs, kept together so helpers take one
 * pointer. */
typedef struct ev {
    rv_vm *vm;
    const rv_program *prog;
    const rv_policy *pol;
    size_t pol_index;
    uint32_t pc;          /* of the instruction being executed */
    rv_node *spec;
    rv_error *err;
    bool failed;          /* an evaluation error (RV_EEVAL) is in err */
    /* Where the write being done starts: the spec (wslot < 0), or the
     * element of L[wslot] (SET_EL ...), whose display path prefixes
     * the written path's in change records. */
    rv_node *wroot;
    int wslot;
    /* SECRET marks for the instruction after them (the verifier sees to
     * it that one follows): which values of a FORMAT (bit k: part k; a
     * FORMAT has at most RV_STACK_MAX parts), or, for a write, bit 0. */
    bool marked;
    uint64_t secret[RV_STACK_MAX / 64];
    bool secret_change;          /* the write being done is marked */
    /* The last FORMAT's result and its text as it may be logged, for the
     * FORBID or WARN that takes it. */
    const rv_node *fmt_node;
    const char *fmt_redacted;
    /* The request's $user, $project, $kind and $request, each made into a
     * value the first time a policy reads it (NULL until then). */
    const rv_request *req;
    const rv_node *ctx[RV_CTX__COUNT];
} ev;

/* ---- small growable logs ---- */

static void *vec_push(rv_vm *vm, rv_vec *v)
{
    if (v->len == v->cap) {
        size_t ncap = v->cap ? v->cap * 2 : 16;
        void *p = vm->cfg.alloc(vm->cfg.alloc_ud, v->data, v->cap * v->elem, ncap * v->elem);
        if (!p)
            return NULL;
        v->data = p;
        v->cap = ncap;
    }
    return (char *)v->data + v->len++ * v->elem;
}

static rv_status oom(ev *e)
{
    rv_set_error(e->err, RV_ENOMEM, "out of memory while evaluating policy '%s'", e->pol->name);
    return RV_ENOMEM;
}

static uint32_t cur_line(const ev *e)
{
    return rv_program_line(e->prog, e->pol_index, e->pc);
}

/* A value's type as rv_describe names it, without the value. */
static const char *type_only(const rv_node *n)
{
    switch (n->type) {
    case RV_NULL: return "null";
    case RV_BOOL: return "a bool";
    case RV_INT: return "an integer";
    case RV_FLOAT: return "a float";
    case RV_STRING: return "a string";
    case RV_ARRAY: return "a list";
    default: return "a map";
    }
}

/* An operator or function given values it has no meaning for. There is no
 * null to fall back on: a null written into the spec would delete what was
 * there, and a null in a condition would let a forbid-if pass, so the
 * decision stops (fail closed) with a message naming the policy, the line,
 * the operator and the operands. Returns NULL, as the value helpers do on
 * failure; e->failed tells it from running out of memory. b may be NULL
 * (one operand); why adds a reason. */
static const rv_node *cannot_apply(ev *e, const char *op, const rv_node *a, const rv_node *b,
                                   const char *why)
{
    ru_buf *sb = &e->vm->scratch;
    sb->len = 0;
    ru_buf_printf(sb, "%s:%u: cannot apply %s to ", e->pol->name, cur_line(e), op);
    rv_describe(sb, a);
    if (b) {
        ru_buf_puts(sb, " and ");
        rv_describe(sb, b);
    }
    if (why) {
        ru_buf_puts(sb, ": ");
        ru_buf_puts(sb, why);
    }
    if (sb->oom)
        return NULL;
    rv_set_error(e->err, RV_EEVAL, "%.*s", (int)sb->len, sb->data);
    e->failed = true;
    /* The same without the operands' values, for logs (rv_vm_redacted_error):
     * an operand may be a secret, or made from one. */
    char *r = e->vm->error_redacted;
    size_t size = sizeof e->vm->error_redacted;
    int n = snprintf(r, size, "%s:%u: cannot apply %s to %s", e->pol->name, cur_line(e), op,
                     type_only(a));
    if (b && n >= 0 && (size_t)n < size)
        n += snprintf(r + n, size - (size_t)n, " and %s", type_only(b));
    if (why && n >= 0 && (size_t)n < size)
        snprintf(r + n, size - (size_t)n, ": %s", why);
    return NULL;
}

/* ---- the undo log ---- */

static bool undo_slot(ev *e, rv_node *container, uint32_t index, bool member)
{
    rv_undo *u = vec_push(e->vm, &e->vm->undo);
    if (!u)
        return false;
    u->kind = member ? RV_UNDO_MEMBER : RV_UNDO_ITEM;
    u->node = container;
    u->index = index;
    u->old.value = member ? container->u.members[index].value : container->u.items[index];
    /* Every edit of the document passes the undo log: the container's text
     * as read goes stale (value.h) until a rollback restores both. */
    u->flags = container->flags;
    container->flags |= RV_NODE_EDITED;
    e->vm->gen++;  /* the lookup memo's entries no longer hold */
    return true;
}

static bool undo_shape(ev *e, rv_node *container)
{
    rv_undo *u = vec_push(e->vm, &e->vm->undo);
    if (!u)
        return false;
    u->kind = RV_UNDO_SHAPE;
    u->node = container;
    u->len = container->len;
    u->cap = container->cap;
    u->old.storage = container->type == RV_OBJECT ? (void *)container->u.members
                                                  : (void *)container->u.items;
    u->flags = container->flags;
    container->flags |= RV_NODE_EDITED;
    e->vm->gen++;
    return true;
}

static void rollback(rv_vm *vm)
{
    rv_undo *log = vm->undo.data;
    for (size_t k = vm->undo.len; k-- > 0;) {
        rv_undo *u = &log[k];
        u->node->flags = u->flags;  /* the earliest entry's, the input's, wins */
        switch (u->kind) {
        case RV_UNDO_MEMBER:
            u->node->u.members[u->index].value = u->old.value;
            break;
        case RV_UNDO_ITEM:
            u->node->u.items[u->index] = u->old.value;
            break;
        case RV_UNDO_SHAPE:
            u->node->len = u->len;
            u->node->cap = u->cap;
            if (u->node->type == RV_OBJECT)
                u->node->u.members = u->old.storage;
            else
                u->node->u.items = u->old.storage;
            break;
        }
    }
    vm->undo.len = 0;
    vm->gen++;
}

/* ---- records ---- */

static bool record_change(ev *e, const char *path, const rv_node *old, const rv_node *new_value)
{
    rv_change *c = vec_push(e->vm, &e->vm->changes);
    if (!c)
        return false;
    c->path = path;
    c->old_value = old;
    c->new_value = new_value;
    c->policy = e->pol->name;
    c->line = cur_line(e);
    c->secret = e->secret_change;
    return true;
}

static bool record_message(ev *e, rv_vec *v, const rv_node *msg)
{
    rv_message *m = vec_push(e->vm, v);
    if (!m)
        return false;
    m->text = msg->type == RV_STRING ? msg->u.s : "";
    m->redacted = msg == e->fmt_node && e->fmt_redacted ? e->fmt_redacted : m->text;
    m->policy = e->pol->name;
    m->line = cur_line(e);
    e->fmt_node = NULL;
    return true;
}

/* ---- reading ---- */

/* Member lookup through the segment's hint (see rv_memo). */
static inline rv_member *find_member(rv_vm *vm, const rv_node *obj, const rv_seg *s)
{
    if (obj->type != RV_OBJECT)
        return NULL;
    uint32_t *h = &vm->memo[s->slot].hint;
    if (*h < obj->len) {
        rv_member *m = &obj->u.members[*h];
        if (m->klen == s->klen && rv_same_bytes(m->key, s->key, s->klen))
            return m;
    }
    rv_member *m = rv_object_find(obj, s->key, s->klen);
    if (m)
        *h = (uint32_t)(m - obj->u.members);
    return m;
}

static const rv_node *seg_get(rv_vm *vm, const rv_node *n, const rv_seg *s)
{
    if (s->key) {
        rv_member *m = find_member(vm, n, s);
        return m ? m->value : NULL;
    }
    if (n->type != RV_ARRAY)
        return NULL;
    int64_t i = s->index < 0 ? (int64_t)n->len + s->index : s->index;
    return i >= 0 && i < (int64_t)n->len ? n->u.items[i] : NULL;
}

/* A computed key (`$limits[$project]`): a string looks up a map's key and
 * an integer a list's index (negative from the end), and either reads null
 * where a literal segment would (missing, out of range, wrong container).
 * Any other key is an evaluation error, not null: a key that is null or a
 * boolean is a policy bug (a key read from a missing field, say), and a
 * null read in its place would make `forbid-if $blocked[x]` pass or
 * `$caps[x] ?? $caps["*"]` fall back silently; failing closed stops the
 * decision instead. Returns NULL only for that error. */
static const rv_node *index_value(ev *e, const rv_node *n, const rv_node *key)
{
    if (key->type == RV_STRING) {
        rv_member *m = n->type == RV_OBJECT ? rv_object_find(n, key->u.s, key->len) : NULL;
        return m ? m->value : &rv_null_node;
    }
    if (key->type == RV_INT) {
        if (n->type != RV_ARRAY)
            return &rv_null_node;
        int64_t len = (int64_t)n->len, i = key->u.i;
        if (i < 0)
            i = i < -len ? -1 : len + i;
        return i >= 0 && i < len ? n->u.items[i] : &rv_null_node;
    }
    return cannot_apply(e, "'[key]'", key, NULL,
                        "a key in brackets is a string (of a map) or an integer (of a list)");
}

/* Segments k..end-1 of p below n (the value of segments ..k-1 from root),
 * remembering each prefix's value: the lookups the memo did not answer. */
static __attribute__((noinline)) const rv_node *walk_from(rv_vm *vm, const rv_node *root,
                                                          const rv_node *n, const rv_path *p,
                                                          uint32_t k, uint32_t end)
{
    for (; k < end && n; k++) {
        const rv_seg *s = &p->segs[k];
        n = seg_get(vm, n, s);
        rv_memo *c = &vm->memo[s->slot];
        c->root = root;
        c->node = n;
        c->gen = vm->gen;
    }
    return n ? n : &rv_null_node;
}

/* The value at the first n segments of path p below root (null if
 * missing). A path's slots name its prefixes (pathslots.c), so the deepest
 * prefix the memo holds for this root in this generation is where the walk
 * resumes: reading a.b.c.max after a.b.c.min looks up one key, and reading
 * it again none. */
static const rv_node *walk_n(rv_vm *vm, const rv_node *root, const rv_path *p, uint32_t n)
{
    const rv_memo *memo = vm->memo;
    uint64_t gen = vm->gen;
    for (uint32_t k = n; k > 0; k--) {
        const rv_memo *c = &memo[p->segs[k - 1].slot];
        if (c->root == root && c->gen == gen) {
            if (k == n || !c->node)
                return c->node ? c->node : &rv_null_node;
            return walk_from(vm, root, c->node, p, k, n);
        }
    }
    return walk_from(vm, root, root, p, 0, n);
}

static const rv_node *walk(rv_vm *vm, const rv_node *root, const rv_path *p)
{
    return walk_n(vm, root, p, p->nseg);
}

/* Values on the stack are read-only views; a few of them (immutable
 * scalars, containers this evaluation just built) are stored into the spec
 * as they are. This is the one place that drops the const. */
static rv_node *shared(const rv_node *n)
{
    union {
        const rv_node *c;
        rv_node *m;
    } u = {n};
    return u.m;
}

/* Values stored into the spec are copied if they are containers, so that
 * a later write through one path can never show up under another (or in a
 * program constant). Scalars are immutable and shared, at any depth, and
 * so are keys: a copy's members keep theirs (with the text they were
 * written as, rv_member.kesc). What is shared lives in the spec's arena or
 * the program's, as a shared scalar at the top does. Recursion is bounded
 * by the nesting limits of documents and constants. */
static rv_node *stored(ev *e, const rv_node *v)
{
    ru_arena *a = &e->vm->arena;
    if (v->type == RV_ARRAY) {
        rv_node *c = rv_new_array(a, v->len);
        if (!c)
            return NULL;
        for (uint32_t i = 0; i < v->len; i++)
            if (!(c->u.items[i] = stored(e, v->u.items[i])))
                return NULL;
        c->len = v->len;
        return c;
    }
    if (v->type == RV_OBJECT) {
        rv_node *c = rv_new_object(a, v->len);
        if (!c)
            return NULL;
        for (uint32_t i = 0; i < v->len; i++) {
            c->u.members[i] = v->u.members[i];
            if (!(c->u.members[i].value = stored(e, v->u.members[i].value)))
                return NULL;
        }
        c->len = v->len;
        return c;
    }
    return shared(v);  /* scalars are never written through */
}

/* ---- writing ---- */

typedef enum { W_SET, W_DEFAULT, W_UNSET, W_APPEND, W_TAG } wmode;

/* A place in a container: member `index` of an object or item `index` of
 * an array. Held by index because object storage can move as it grows. */
typedef struct slot {
    rv_node *container;
    uint32_t index;
    bool found;
} slot;

static slot locate(ev *e, rv_node *n, const rv_seg *s)
{
    slot sl = {n, 0, false};
    if (s->key) {
        rv_member *m = find_member(e->vm, n, s);
        if (m) {
            sl.index = (uint32_t)(m - n->u.members);
            sl.found = true;
        }
        return sl;
    }
    if (n->type != RV_ARRAY)
        return sl;
    int64_t i = s->index < 0 ? (int64_t)n->len + s->index : s->index;
    if (i >= 0 && i < (int64_t)n->len) {
        sl.index = (uint32_t)i;
        sl.found = true;
    }
    return sl;
}

static rv_node *slot_value(slot sl)
{
    return sl.container->type == RV_OBJECT ? sl.container->u.members[sl.index].value
                                           : sl.container->u.items[sl.index];
}

static bool slot_replace(ev *e, slot sl, rv_node *v)
{
    bool member = sl.container->type == RV_OBJECT;
    if (!undo_slot(e, sl.container, sl.index, member))
        return false;
    if (member)
        sl.container->u.members[sl.index].value = v;
    else
        sl.container->u.items[sl.index] = v;
    return true;
}

/* Adds key -> v to obj (the key is known to be missing). */
static bool object_add(ev *e, rv_node *obj, const char *key, uint32_t klen, rv_node *v)
{
    return undo_shape(e, obj) && rv_object_push(&e->vm->arena, obj, key, klen, v);
}

/* Removes a slot by building the container's storage anew without it, so
 * the old storage stays intact for rollback. */
static bool slot_remove(ev *e, slot sl)
{
    rv_node *c = sl.container;
    if (!undo_shape(e, c))
        return false;
    uint32_t n = c->len - 1;
    if (c->type == RV_OBJECT) {
        rv_member *m = ru_arena_alloc(&e->vm->arena, (n ? n : 1) * sizeof *m);
        if (!m)
            return false;
        memcpy(m, c->u.members, sl.index * sizeof *m);
        memcpy(m + sl.index, c->u.members + sl.index + 1, (n - sl.index) * sizeof *m);
        c->u.members = m;
    } else {
        rv_node **items = ru_arena_alloc(&e->vm->arena, (n ? n : 1) * sizeof *items);
        if (!items)
            return false;
        memcpy(items, c->u.items, sl.index * sizeof *items);
        memcpy(items + sl.index, c->u.items + sl.index + 1, (n - sl.index) * sizeof *items);
        c->u.items = items;
    }
    c->len = n;
    c->cap = n;
    return true;
}

/* Walks to the container that holds the last segment of p, creating missing
 * (or null) intermediate objects, and replacing non-object intermediates
 * for set/default only. NULL when the write cannot happen (it is then a
 * no-op): a missing array element, or a non-object in the way. */
static const char *prefix_text(ev *e, const rv_path *p, uint32_t n);

static rv_node *write_parent(ev *e, const rv_path *p, wmode mode, bool *failed)
{
    rv_node *node = e->wroot;
    if (p->nseg > 1) {
        /* Usually every container on the way is there, of the kind the next
         * segment needs: then the parent is what a read finds, and the memo
         * may hold it already. */
        const rv_node *n = walk_n(e->vm, node, p, p->nseg - 1);
        if (n->type == (p->segs[p->nseg - 1].key ? RV_OBJECT : RV_ARRAY))
            return shared(n);
    }
    for (uint32_t k = 0; k + 1 < p->nseg; k++) {
        const rv_seg *s = &p->segs[k];
        uint8_t need = p->segs[k + 1].key ? RV_OBJECT : RV_ARRAY;
        slot sl = locate(e, node, s);
        if (!sl.found) {
            if (mode == W_UNSET || need == RV_ARRAY || !s->key || node->type != RV_OBJECT)
                return NULL;
            rv_node *child = rv_new_object(&e->vm->arena, 4);
            if (!child || !object_add(e, node, s->key, s->klen, child)) {
                *failed = true;
                return NULL;
            }
            node = child;
            continue;
        }
        rv_node *child = slot_value(sl);
        if (child->type == need) {
            node = child;
            continue;
        }
        if (need == RV_ARRAY || mode == W_UNSET)
            return NULL;
        if (child->type != RV_NULL && mode != W_SET && mode != W_DEFAULT)
            return NULL;
        rv_node *obj = rv_new_object(&e->vm->arena, 4);
        if (!obj || !slot_replace(e, sl, obj)) {
            *failed = true;
            return NULL;
        }
        /* A value (not just a null) is thrown away to make room: that is a
         * change of its own, or the change list would hide what was lost. */
        if (child->type != RV_NULL) {
            const char *where = prefix_text(e, p, k + 1);
            if (!where || !record_change(e, where, child, obj)) {
                *failed = true;
                return NULL;
            }
        }
        node = obj;
    }
    return node;
}

/* Whether writing b over a would change nothing that matters: equal at
 * every depth with the same types, so no number changes its printed form
 * (1 vs 1.0). Map key order does not count (maps are unordered; the input's
 * order is then kept). */
static bool same(const rv_node *a, const rv_node *b)
{
    if (a == b)
        return true;
    if (a->type != b->type || a->len != b->len)
        return false;
    switch (a->type) {
    case RV_NULL:
        return true;
    case RV_BOOL:
        return a->u.b == b->u.b;
    case RV_INT:
        return a->u.i == b->u.i;
    case RV_FLOAT:
        return a->u.f == b->u.f && signbit(a->u.f) == signbit(b->u.f);
    case RV_STRING:
        return memcmp(a->u.s, b->u.s, a->len) == 0;
    case RV_ARRAY:
        for (uint32_t k = 0; k < a->len; k++)
            if (!same(a->u.items[k], b->u.items[k]))
                return false;
        return true;
    case RV_OBJECT:
        for (uint32_t k = 0; k < a->len; k++) {
            const rv_member *x = &a->u.members[k];
            const rv_member *y = rv_object_find(b, x->key, x->klen);
            if (!y || !same(x->value, y->value))
                return false;
        }
        return true;
    default:
        return false;
    }
}

/* Display path of the element of L[slot]: its list's path (below its
 * parent's element, if any), then [i]; for a map's member, .key or
 * ["odd key"] as a path would write it. */
static void element_text(ev *e, ru_buf *b, uint32_t s)
{
    const rv_iter *it = &e->vm->iters[s];
    const rv_path *p = it->path;
    if (it->parent) {
        element_text(e, b, it->parent - 1);
        if (p->nseg && p->segs[0].key && rv_is_ident(p->segs[0].key, p->segs[0].klen))
            ru_buf_putc(b, '.');
    }
    rv_path_write(b, p->segs, p->nseg);
    if (it->coll->type == RV_OBJECT) {
        const rv_member *m = &it->coll->u.members[it->i];
        rv_seg key = {.key = m->key, .klen = m->klen};
        /* rv_path_write puts no '.' before a first segment */
        if (rv_is_ident(m->key, m->klen) && (p->nseg || it->parent))
            ru_buf_putc(b, '.');
        rv_path_write(b, &key, 1);
    } else {
        ru_buf_printf(b, "[%u]", it->i);
    }
}

/* Display form of the first n segments of a path written to (below the
 * element being written, if any), in the arena. */
static const char *prefix_text(ev *e, const rv_path *p, uint32_t n)
{
    ru_buf *b = &e->vm->scratch;
    b->len = 0;
    if (e->wslot >= 0) {
        element_text(e, b, (uint32_t)e->wslot);
        if (n && p->segs[0].key && rv_is_ident(p->segs[0].key, p->segs[0].klen))
            ru_buf_putc(b, '.');
    }
    rv_path_write(b, p->segs, n);
    if (b->oom)
        return NULL;
    return ru_arena_strndup(&e->vm->arena, b->data ? b->data : "", b->len);
}

/* The whole written path's display form. */
static const char *write_text(ev *e, const rv_path *p)
{
    return e->wslot < 0 ? p->text : prefix_text(e, p, p->nseg);
}

/* Display path of one tag: configuration.tags.team, or tags["cost-centre"]. */
static const char *tag_path(ev *e, const rv_path *p, const rv_node *key)
{
    ru_buf *b = &e->vm->scratch;
    b->len = 0;
    ru_buf_puts(b, p->text);
    if (rv_is_ident(key->u.s, key->len)) {
        ru_buf_putc(b, '.');
        ru_buf_put(b, key->u.s, key->len);
    } else {
        ru_buf_putc(b, '[');
        rv_json_compact(b, key);
        ru_buf_putc(b, ']');
    }
    if (b->oom)
        return NULL;
    return ru_arena_strndup(&e->vm->arena, b->data, b->len);
}

/* Text of a value as a string node: strings as they are, anything else as
 * its message text. */
static const rv_node *as_string(ev *e, const rv_node *v)
{
    if (v->type == RV_STRING)
        return v;
    ru_buf *b = &e->vm->scratch;
    b->len = 0;
    rv_message_text(b, v);
    if (b->oom)
        return NULL;
    return rv_new_string(&e->vm->arena, b->data, b->len);
}

static rv_status do_tag(ev *e, const rv_path *p, const rv_node *key, const rv_node *value)
{
    bool failed = false;
    rv_node *parent = write_parent(e, p, W_TAG, &failed);
    if (!parent)
        return failed ? oom(e) : RV_OK;
    const rv_seg *last = &p->segs[p->nseg - 1];
    slot sl = locate(e, parent, last);
    rv_node *map;
    if (sl.found && slot_value(sl)->type == RV_OBJECT) {
        map = slot_value(sl);
    } else if (sl.found && slot_value(sl)->type != RV_NULL) {
        return RV_OK;  /* tags live in a map; anything else is left alone */
    } else {
        if (!sl.found && (!last->key || parent->type != RV_OBJECT))
            return RV_OK;  /* array elements are never created */
        map = rv_new_object(&e->vm->arena, 4);
        if (!map)
            return oom(e);
        if (sl.found ? !slot_replace(e, sl, map) : !object_add(e, parent, last->key, last->klen, map))
            return oom(e);
    }
    const rv_node *k = as_string(e, key);
    const rv_node *v = as_string(e, value);
    if (!k || !v)
        return oom(e);
    rv_member *m = rv_object_find(map, k->u.s, k->len);
    const rv_node *old = m ? m->value : NULL;
    if (old && same(old, v))
        return RV_OK;
    const char *path = tag_path(e, p, k);
    if (!path)
        return oom(e);
    bool ok = m ? slot_replace(e, (slot){map, (uint32_t)(m - map->u.members), true}, shared(v))
                : object_add(e, map, k->u.s, k->len, shared(v));
    if (!ok || !record_change(e, path, old, v))
        return oom(e);
    return RV_OK;
}

static rv_status do_write(ev *e, const rv_path *p, wmode mode, const rv_node *value)
{
    bool failed = false;
    rv_node *parent = write_parent(e, p, mode, &failed);
    if (!parent)
        return failed ? oom(e) : RV_OK;
    const rv_seg *last = &p->segs[p->nseg - 1];
    slot sl = locate(e, parent, last);
    rv_node *old = sl.found ? slot_value(sl) : NULL;
    rv_node *nv;

    switch (mode) {
    case W_DEFAULT:
        if (old && old->type != RV_NULL)
            return RV_OK;
        /* fall through */
    case W_SET:
        if (old && same(old, value))
            return RV_OK;
        nv = stored(e, value);
        break;
    case W_UNSET: {
        if (!old)
            return RV_OK;
        const char *text = write_text(e, p);
        if (!text || !slot_remove(e, sl) || !record_change(e, text, old, NULL))
            return oom(e);
        return RV_OK;
    }
    case W_APPEND: {
        if (old && old->type != RV_NULL && old->type != RV_ARRAY)
            return RV_OK;  /* only lists can be appended to */
        uint32_t n = old && old->type == RV_ARRAY ? old->len : 0;
        /* A new list rather than an in-place push, so the old one stays as
         * it was for the change record and for rollback. */
        nv = rv_new_array(&e->vm->arena, n + 1);
        if (!nv)
            return oom(e);
        for (uint32_t k = 0; k < n; k++)
            nv->u.items[k] = old->u.items[k];
        nv->len = n;
        rv_node *item = stored(e, value);
        if (!item || !rv_array_push(&e->vm->arena, nv, item))
            return oom(e);
        break;
    }
    default:
        return RV_OK;
    }
    if (!nv)
        return oom(e);
    if (sl.found) {
        if (!slot_replace(e, sl, nv))
            return oom(e);
    } else {
        if (!last->key || parent->type != RV_OBJECT)
            return RV_OK;  /* array elements are never created */
        if (!object_add(e, parent, last->key, last->klen, nv))
            return oom(e);
    }
    const char *text = write_text(e, p);
    if (!text || !record_change(e, text, old, nv))
        return oom(e);
    return RV_OK;
}

/* ---- arithmetic and builtins ---- */

static bool is_num(const rv_node *n)
{
    return n->type == RV_INT || n->type == RV_FLOAT;
}

static double num(const rv_node *n)
{
    return n->type == RV_INT ? (double)n->u.i : n->u.f;
}

static const rv_node *new_float(ev *e, double f)
{
    return rv_new_float(&e->vm->arena, f);
}

static const rv_node *new_int(ev *e, int64_t i)
{
    return rv_new_int(&e->vm->arena, i);
}

static const rv_node *boolean(bool b)
{
    return b ? &rv_true_node : &rv_false_node;
}

static const rv_node *concat(ev *e, const rv_node *a, const rv_node *b)
{
    if (a->type == RV_STRING) {
        char *s = ru_arena_alloc(&e->vm->arena, (size_t)a->len + b->len + 1);
        if (!s)
            return NULL;
        memcpy(s, a->u.s, a->len);
        memcpy(s + a->len, b->u.s, b->len);
        s[a->len + b->len] = '\0';
        rv_node *n = ru_arena_alloc(&e->vm->arena, sizeof *n);
        if (!n)
            return NULL;
        *n = (rv_node){ .type = RV_STRING, .len = a->len + b->len, .u.s = s };
        return n;
    }
    rv_node *n = rv_new_array(&e->vm->arena, a->len + b->len);
    if (!n)
        return NULL;
    if (a->len)
        memcpy(n->u.items, a->u.items, a->len * sizeof(rv_node *));
    if (b->len)
        memcpy(n->u.items + a->len, b->u.items, b->len * sizeof(rv_node *));
    n->len = a->len + b->len;
    return n;
}

/* a + b of two maps: a's members in order, a value from b replacing a's
 * under the same key (b wins, as in Python's a | b), then b's other members
 * in order. Neither operand changes. */
static const rv_node *merge(ev *e, const rv_node *a, const rv_node *b)
{
    rv_node *n = rv_new_object(&e->vm->arena, a->len + b->len ? a->len + b->len : 1);
    if (!n)
        return NULL;
    if (a->len)
        memcpy(n->u.members, a->u.members, a->len * sizeof *n->u.members);
    n->len = a->len;
    for (uint32_t k = 0; k < b->len; k++) {
        const rv_member *m = &b->u.members[k];
        rv_member *old = a->len ? rv_object_find(n, m->key, m->klen) : NULL;
        if (old)
            old->value = m->value;
        else if (!rv_object_push(&e->vm->arena, n, m->key, m->klen, m->value))
            return NULL;
    }
    return n;
}

static const char *arith_name(rv_opcode op)
{
    switch (op) {
    case RV_OP_ADD: return "'+'";
    case RV_OP_SUB: return "'-'";
    case RV_OP_MUL: return "'*'";
    case RV_OP_DIV: return "'/'";
    default: return "'%'";
    }
}

static bool is_collection(const rv_node *n)
{
    return n->type == RV_ARRAY || n->type == RV_OBJECT;
}

/* Returns NULL when memory ran out or the operator does not apply (then
 * e->failed is set: see cannot_apply). */
static const rv_node *arith(ev *e, rv_opcode op, const rv_node *a, const rv_node *b)
{
    if (op == RV_OP_ADD) {
        if (a->type == b->type && (a->type == RV_STRING || a->type == RV_ARRAY))
            return concat(e, a, b);
        if (a->type == RV_OBJECT && b->type == RV_OBJECT)
            return merge(e, a, b);
        /* A null list or map is an empty one, as append and append-tags
         * take it: `configuration.env + {K: V}` works on a spec whose env
         * is null or missing. */
        if (a->type == RV_NULL && is_collection(b))
            return b;
        if (b->type == RV_NULL && is_collection(a))
            return a;
    }
    if (!is_num(a) || !is_num(b))
        return cannot_apply(e, arith_name(op), a, b, NULL);
    if (a->type == RV_INT && b->type == RV_INT) {
        int64_t x = a->u.i, y = b->u.i, r;
        switch (op) {
        case RV_OP_ADD:
            if (!__builtin_add_overflow(x, y, &r))
                return new_int(e, r);
            break;
        case RV_OP_SUB:
            if (!__builtin_sub_overflow(x, y, &r))
                return new_int(e, r);
            break;
        case RV_OP_MUL:
            if (!__builtin_mul_overflow(x, y, &r))
                return new_int(e, r);
            break;
        case RV_OP_DIV:
            if (y == 0)
                return cannot_apply(e, arith_name(op), a, b, "division by zero");
            if (!(x == INT64_MIN && y == -1) && x % y == 0)
                return new_int(e, x / y);
            break;
        case RV_OP_MOD:
            if (y == 0)
                return cannot_apply(e, arith_name(op), a, b, "division by zero");
            if (y == -1)
                return new_int(e, 0);
            r = x % y;
            /* The result takes the divisor's sign, as in Python. */
            if (r != 0 && ((r < 0) != (y < 0)))
                r += y;
            return new_int(e, r);
        default:
            break;
        }
    }
    double x = num(a), y = num(b), r;
    switch (op) {
    case RV_OP_ADD: r = x + y; break;
    case RV_OP_SUB: r = x - y; break;
    case RV_OP_MUL: r = x * y; break;
    case RV_OP_DIV:
        if (y == 0)
            return cannot_apply(e, arith_name(op), a, b, "division by zero");
        r = x / y;
        break;
    case RV_OP_MOD:
        if (y == 0)
            return cannot_apply(e, arith_name(op), a, b, "division by zero");
        r = fmod(x, y);
        if (r != 0 && ((r < 0) != (y < 0)))
            r += y;
        else if (r == 0)
            r = copysign(0.0, y);  /* Python: a zero result takes the divisor's sign */
        break;
    default:
        return cannot_apply(e, arith_name(op), a, b, NULL);
    }
    /* JSON cannot hold an infinity or NaN: it would print as null. */
    if (!isfinite(r))
        return cannot_apply(e, arith_name(op), a, b, "the result is not a finite number");
    return new_float(e, r);
}

static bool contains(const rv_node *x, const rv_node *coll)
{
    switch (coll->type) {
    case RV_ARRAY:
        if (x->type == RV_STRING) {
            /* `$kind in ["run", "fleet"]` and the like: a string equals
             * strings only (rv_equal), byte for byte. */
            for (uint32_t k = 0; k < coll->len; k++) {
                const rv_node *y = coll->u.items[k];
                if (y->type == RV_STRING && y->len == x->len && rv_same_bytes(y->u.s, x->u.s, x->len))
                    return true;
            }
            return false;
        }
        for (uint32_t k = 0; k < coll->len; k++)
            if (rv_equal(x, coll->u.items[k]))
                return true;
        return false;
    case RV_OBJECT:
        return x->type == RV_STRING && rv_object_find(coll, x->u.s, x->len) != NULL;
    case RV_STRING:
        return x->type == RV_STRING && memmem(coll->u.s, coll->len, x->u.s, x->len) != NULL;
    default:
        return false;
    }
}

static size_t utf8_length(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t k = 0; k < n; k++)
        if (((unsigned char)s[k] & 0xC0) != 0x80)
            count++;
    return count;
}

static const rv_node *case_map(ev *e, const rv_node *s, bool upper)
{
    if (s->type != RV_STRING)
        return cannot_apply(e, upper ? "upper()" : "lower()", s, NULL, NULL);
    char *p = ru_arena_strndup(&e->vm->arena, s->u.s, s->len);
    rv_node *n = rv_new_string(&e->vm->arena, "", 0);
    if (!p || !n)
        return NULL;
    n->u.s = p;
    n->len = s->len;
    for (uint32_t k = 0; k < n->len; k++) {
        if (upper && p[k] >= 'a' && p[k] <= 'z')
            p[k] = (char)(p[k] - 'a' + 'A');
        else if (!upper && p[k] >= 'A' && p[k] <= 'Z')
            p[k] = (char)(p[k] - 'A' + 'a');
    }
    return n;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The integer part (truncated toward zero, as int(4.9) is 4) of plain
 * decimal text -- sign? digits ('.' digits*)? ([eE] sign? digits)? --
 * computed exactly from the digits. A detour through a double would round
 * first: "-9223372036854775809" would become -2^63 and be taken, and
 * "9.2233720368547758e18" (in range) would become 2^63 and be refused.
 * false for other text (blanks, hexadecimal, inf, nan) and for a value
 * outside the int range. */
static bool decimal_int(const char *t, int64_t *out)
{
    size_t i = 0;
    bool neg = t[i] == '-';
    if (t[i] == '-' || t[i] == '+')
        i++;
    size_t int_at = i;
    while (is_digit(t[i]))
        i++;
    size_t nint = i - int_at, frac_at = i, nfrac = 0;
    if (nint == 0)
        return false;
    if (t[i] == '.') {
        frac_at = ++i;
        while (is_digit(t[i]))
            i++;
        nfrac = i - frac_at;
    }
    int64_t exp = 0;
    if (t[i] == 'e' || t[i] == 'E') {
        i++;
        bool eneg = t[i] == '-';
        if (t[i] == '-' || t[i] == '+')
            i++;
        if (!is_digit(t[i]))
            return false;
        /* Past a billion the answer no longer depends on the exponent. */
        for (; is_digit(t[i]); i++)
            if (exp < 1000000000)
                exp = exp * 10 + (t[i] - '0');
        if (eneg)
            exp = -exp;
    }
    if (t[i] != '\0')
        return false;
    /* The digits D (integer then fraction part) with the decimal point
     * after `point` of them: the integer part is D's first `point` digits,
     * padded with zeros past its end. */
    size_t nd = nint + nfrac;
    int64_t point = (int64_t)nint + exp;
#define DIGIT(k) ((k) < nint ? t[int_at + (k)] - '0' : (k) < nd ? t[frac_at + (k) - nint] - '0' : 0)
    size_t first = 0;  /* the first nonzero digit: leading zeros cannot overflow */
    while (first < nd && DIGIT(first) == 0)
        first++;
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, mag = 0;
    if (first < nd && point > (int64_t)first) {
        if (point - (int64_t)first > 19)
            return false;  /* 20 digits or more: at least 10^19 */
        for (size_t k = first; (int64_t)k < point; k++) {
            unsigned d = (unsigned)DIGIT(k);
            if (mag > (limit - d) / 10)
                return false;
            mag = mag * 10 + d;
        }
    }
#undef DIGIT
    *out = !neg ? (int64_t)mag : mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
    return true;
}

static const rv_node *to_int(ev *e, const rv_node *v)
{
    switch (v->type) {
    case RV_INT:
        return v;
    case RV_BOOL:
        return new_int(e, v->u.b ? 1 : 0);
    case RV_FLOAT:
        if (isnan(v->u.f) || v->u.f >= 9223372036854775808.0 || v->u.f < -9223372036854775808.0)
            return cannot_apply(e, "int()", v, NULL, "out of the integer range");
        return new_int(e, (int64_t)v->u.f);
    case RV_STRING: {
        int64_t i;
        if (v->len == strlen(v->u.s) && decimal_int(v->u.s, &i))
            return new_int(e, i);
        return cannot_apply(e, "int()", v, NULL, "not a decimal number in the integer range");
    }
    default:
        return cannot_apply(e, "int()", v, NULL, NULL);
    }
}

static const rv_node *min_max(ev *e, const rv_node *a, const rv_node *b, bool want_max)
{
    if (a->type == RV_NULL)
        return b;
    if (b->type == RV_NULL)
        return a;
    int c;
    if (!rv_compare(a, b, &c))
        return cannot_apply(e, want_max ? "max()" : "min()", a, b, NULL);
    return (want_max ? c >= 0 : c <= 0) ? a : b;
}

/* keys(m) / values(m): a map's keys or values as a list, in the map's
 * order; null is an empty map. */
static const rv_node *map_parts(ev *e, const rv_node *m, bool want_keys)
{
    if (m->type == RV_NULL)
        return rv_new_array(&e->vm->arena, 0);
    if (m->type != RV_OBJECT)
        return cannot_apply(e, want_keys ? "keys()" : "values()", m, NULL, "not a map");
    rv_node *l = rv_new_array(&e->vm->arena, m->len ? m->len : 1);
    if (!l)
        return NULL;
    for (uint32_t k = 0; k < m->len; k++) {
        const rv_member *mb = &m->u.members[k];
        l->u.items[k] = want_keys ? rv_new_string(&e->vm->arena, mb->key, mb->klen) : mb->value;
        if (!l->u.items[k])
            return NULL;
    }
    l->len = m->len;
    return l;
}

static const rv_node *type_name(ev *e, const rv_node *v)
{
    static const char *const names[] = {"null", "bool", "int", "float", "string", "list", "map"};
    const char *t = names[v->type < 7 ? v->type : 0];
    return rv_new_string(&e->vm->arena, t, strlen(t));
}

/* contains(s, sub): a substring test that, unlike `sub in s`, does not
 * read a non-string as "no": a number or list where text was meant is an
 * error (fail closed), and only a null s (a field not given) is false. */
static const rv_node *contains_fn(ev *e, const rv_node *s, const rv_node *sub)
{
    if (sub->type != RV_STRING || (s->type != RV_STRING && s->type != RV_NULL))
        return cannot_apply(e, "contains()", s, sub, "it takes a string and a substring");
    return boolean(s->type == RV_STRING && contains(sub, s));
}

/* A decimal number at t[*k] (digits, at most one '.', at least one digit):
 * its value in *out, and whether it had a '.', in *frac. false if none. */
static bool decimal(const char *t, uint32_t n, uint32_t *k, double *out, bool *frac)
{
    uint32_t start = *k, digits = 0;
    *frac = false;
    for (; *k < n; (*k)++) {
        if (t[*k] >= '0' && t[*k] <= '9')
            digits++;
        else if (t[*k] == '.' && !*frac)
            *frac = true;
        else
            break;
    }
    if (!digits || *k - start > 40)
        return false;
    char buf[48];
    memcpy(buf, t + start, *k - start);
    buf[*k - start] = '\0';
    *out = strtod(buf, NULL);
    return isfinite(*out);
}

/* A number as an int when it is whole and written without a '.', else a
 * float. */
static const rv_node *count_node(ev *e, double d, bool as_float)
{
    if (!as_float && d < 9007199254740992.0)
        return new_int(e, (int64_t)d);
    return new_float(e, d);
}

/* at_least(x): the minimum in SkyPilot's resource counts (`cpus: 4`,
 * `cpus: "4+"`, `memory: "32+"`, `memory: "32GB+"`): a number as it is; a
 * string of a decimal number, with an optional size unit (KB, MB, GB, TB,
 * PB, or just K, M, G, T, P; the result is then a float in gigabytes, as
 * the language's size literals are) and an optional final '+' ("or more"),
 * as that number; null as null (nothing asked for). */
static const rv_node *at_least(ev *e, const rv_node *v)
{
    static const char why[] = "not a count such as 4, \"4\", \"4+\" or \"32GB+\"";
    if (v->type == RV_NULL || is_num(v))
        return v;
    if (v->type != RV_STRING)
        return cannot_apply(e, "at_least()", v, NULL, why);
    const char *t = v->u.s;
    uint32_t n = v->len, k = 0;
    double d;
    bool frac;
    if (n && t[n - 1] == '+')
        n--;
    if (!decimal(t, n, &k, &d, &frac))
        return cannot_apply(e, "at_least()", v, NULL, why);
    if (k == n)
        return count_node(e, d, frac);
    static const char units[] = "KMGTP";
    const char *u = t[k] ? strchr(units, t[k] >= 'a' ? t[k] - 'a' + 'A' : t[k]) : NULL;
    if (!u || !(k + 1 == n || (k + 2 == n && (t[k + 1] == 'B' || t[k + 1] == 'b'))))
        return cannot_apply(e, "at_least()", v, NULL, why);
    return new_float(e, d * pow(1024.0, (double)(u - units) - 2));
}

/* One accelerator request, "NAME" or "NAME:COUNT", added to map m; on a
 * name already there the larger count stays (the alternatives of a list
 * are capped by the largest). */
static bool add_accelerator(ev *e, rv_node *m, const rv_node *whole, const char *t, uint32_t n,
                            const rv_node *count)
{
    static const char why[] = "not an accelerator such as \"A100\", \"A100:8\" or {\"A100\": 8}";
    uint32_t colon = n;
    for (uint32_t k = 0; k < n; k++)
        if (t[k] == ':')
            colon = k;
    if (colon == 0 || (count && colon != n)) {
        cannot_apply(e, "accelerators()", whole, NULL, why);
        return false;
    }
    if (!count && colon == n)
        count = new_int(e, 1);
    else if (!count) {
        uint32_t k = colon + 1;
        double d;
        bool frac;
        if (!decimal(t, n, &k, &d, &frac) || k != n) {
            cannot_apply(e, "accelerators()", whole, NULL, why);
            return false;
        }
        count = count_node(e, d, frac);
    }
    if (!count)
        return false;
    rv_member *old = rv_object_find(m, t, colon);
    if (old) {
        int c;
        if (rv_compare(count, old->value, &c) && c > 0)
            old->value = shared(count);
        return true;
    }
    char *key = ru_arena_strndup(&e->vm->arena, t, colon);
    return key && rv_object_push(&e->vm->arena, m, key, colon, shared(count));
}

/* accelerators(x): SkyPilot's accelerator forms as one map from name to
 * count: "A100" -> {"A100": 1}, "A100:8" -> {"A100": 8}, {"A100": 8} as it
 * is, YAML's set form {A100:8, H100:8} (keys with null values) and a list
 * of alternatives merged; null -> {}. */
static bool add_accelerators(ev *e, rv_node *m, const rv_node *v, bool in_list)
{
    static const char why[] = "not an accelerator such as \"A100\", \"A100:8\" or {\"A100\": 8}";
    switch (v->type) {
    case RV_NULL:
        return true;
    case RV_STRING:
        return add_accelerator(e, m, v, v->u.s, v->len, NULL);
    case RV_OBJECT:
        for (uint32_t k = 0; k < v->len; k++) {
            const rv_member *mb = &v->u.members[k];
            const rv_node *c = mb->value;
            if (c->type != RV_NULL && !(is_num(c) && num(c) >= 0)) {
                cannot_apply(e, "accelerators()", v, NULL, why);
                return false;
            }
            if (!add_accelerator(e, m, v, mb->key, mb->klen, c->type == RV_NULL ? NULL : c))
                return false;
        }
        return true;
    case RV_ARRAY:
        /* A list in a list is no accelerator. */
        for (uint32_t k = 0; k < v->len && !in_list; k++)
            if (!add_accelerators(e, m, v->u.items[k], true))
                return false;
        if (!in_list)
            return true;
        cannot_apply(e, "accelerators()", v, NULL, why);
        return false;
    default:
        cannot_apply(e, "accelerators()", v, NULL, why);
        return false;
    }
}

static const rv_node *accelerators(ev *e, const rv_node *v)
{
    rv_node *m = rv_new_object(&e->vm->arena, 1);
    if (!m || !add_accelerators(e, m, v, false))
        return NULL;
    return m;
}

static const rv_node *call_builtin(ev *e, rv_builtin fn, const rv_node **args)
{
    const rv_node *a = args[0];
    switch (fn) {
    case RV_BI_len:
        switch (a->type) {
        case RV_STRING: return new_int(e, (int64_t)utf8_length(a->u.s, a->len));
        case RV_ARRAY:
        case RV_OBJECT: return new_int(e, a->len);
        case RV_NULL: return new_int(e, 0);
        default: return cannot_apply(e, "len()", a, NULL, NULL);
        }
    case RV_BI_lower:
        return case_map(e, a, false);
    case RV_BI_upper:
        return case_map(e, a, true);
    case RV_BI_starts_with:
        return boolean(a->type == RV_STRING && args[1]->type == RV_STRING && args[1]->len <= a->len &&
                       memcmp(a->u.s, args[1]->u.s, args[1]->len) == 0);
    case RV_BI_ends_with:
        return boolean(a->type == RV_STRING && args[1]->type == RV_STRING && args[1]->len <= a->len &&
                       memcmp(a->u.s + a->len - args[1]->len, args[1]->u.s, args[1]->len) == 0);
    case RV_BI_min:
        return min_max(e, a, args[1], false);
    case RV_BI_max:
        return min_max(e, a, args[1], true);
    case RV_BI_int:
        return to_int(e, a);
    case RV_BI_str:
        return as_string(e, a);
    case RV_BI_exists:
        return boolean(a->type != RV_NULL);
    case RV_BI_keys:
        return map_parts(e, a, true);
    case RV_BI_values:
        return map_parts(e, a, false);
    case RV_BI_type:
        return type_name(e, a);
    case RV_BI_contains:
        return contains_fn(e, a, args[1]);
    case RV_BI_at_least:
        return at_least(e, a);
    case RV_BI_accelerators:
        return accelerators(e, a);
    default:
        return &rv_null_node;
    }
}

static const rv_node *format(ev *e, const rv_node **parts, uint32_t n)
{
    ru_buf *b = &e->vm->scratch;
    b->len = 0;
    for (uint32_t k = 0; k < n; k++)
        rv_message_text(b, parts[k]);
    if (b->oom)
        return NULL;
    const rv_node *text = rv_new_string(&e->vm->arena, b->data ? b->data : "", b->len);
    if (!text || !e->marked)
        return text;
    /* The form a log may hold: each marked part as RV_REDACTED. */
    b->len = 0;
    for (uint32_t k = 0; k < n; k++) {
        if (e->secret[k / 64] >> (k % 64) & 1)
            ru_buf_puts(b, RV_REDACTED);
        else
            rv_message_text(b, parts[k]);
    }
    if (b->oom)
        return NULL;
    char *redacted = ru_arena_strndup(&e->vm->arena, b->data ? b->data : "", b->len);
    if (!redacted)
        return NULL;
    e->fmt_node = text;
    e->fmt_redacted = redacted;
    return text;
}

/* Marks are for one instruction: the one after the SECRETs. */
static void clear_marks(ev *e)
{
    e->marked = false;
    memset(e->secret, 0, sizeof e->secret);
}

/* A write's change records (there may be two: a value thrown away on the
 * way, and the write itself) are secret when it was marked. */
static inline void begin_write(ev *e)
{
    e->secret_change = e->marked;
}

static inline void end_write(ev *e)
{
    if (e->marked)
        clear_marks(e);
    e->secret_change = false;
}

static const rv_node *make_map(ev *e, const rv_node **kv, uint32_t n)
{
    rv_node *m = rv_new_object(&e->vm->arena, n ? n : 1);
    if (!m)
        return NULL;
    for (uint32_t k = 0; k < n; k++) {
        const rv_node *key = as_string(e, kv[2 * k]);
        if (!key)
            return NULL;
        rv_member *dup = rv_object_find(m, key->u.s, key->len);
        if (dup)
            dup->value = shared(kv[2 * k + 1]);
        else if (!rv_object_push(&e->vm->arena, m, key->u.s, key->len, shared(kv[2 * k + 1])))
            return NULL;
    }
    return m;
}

static const rv_node *make_list(ev *e, const rv_node **items, uint32_t n)
{
    rv_node *l = rv_new_array(&e->vm->arena, n ? n : 1);
    if (!l)
        return NULL;
    memcpy(l->u.items, items, n * sizeof *items);
    l->len = n;
    return l;
}

/* -1: limit hit (err filled); 0/1: no match / match. */
static int regex_match(ev *e, uint32_t index, const rv_node *subject)
{
    if (subject->type != RV_STRING)
        return 0;
    const rv_regex *re = &e->pol->regex[index];
    int rc = pcre2_match(re->code, (PCRE2_SPTR)subject->u.s, subject->len, 0, 0,
                         e->vm->match_data, e->vm->match_ctx);
    if (rc >= 0)
        return 1;
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
        rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT) {
        rv_set_error(e->err, RV_ELIMIT,
                     "regex /%s/ (policy '%s', %s:%u) gave up: too much backtracking on a "
                     "%u-byte string",
                     re->pattern, e->pol->name, e->pol->source, re->line, subject->len);
        return -1;
    }
    /* Anything else (say, a subject that is not valid UTF-8) is no match:
     * reading never fails. */
    return 0;
}

static const rv_node *iter_current(const rv_iter *it)
{
    return it->coll->type == RV_ARRAY ? it->coll->u.items[it->i] : it->coll->u.members[it->i].value;
}

/* Where a closed quantifier stopped: the element that made `any` true or
 * `all` false, or null when it ran to the end, never ran, or (the slots
 * are cleared when each policy starts) belongs to no quantifier yet. */
static const rv_node *iter_witness(const rv_iter *it)
{
    if (!it->coll || (it->coll->type != RV_ARRAY && it->coll->type != RV_OBJECT) ||
        it->i >= it->coll->len)
        return &rv_null_node;
    return iter_current(it);
}

static bool iter_start(rv_iter *it, const rv_node *coll)
{
    it->coll = coll;
    it->i = 0;
    return (coll->type == RV_ARRAY || coll->type == RV_OBJECT) && coll->len > 0;
}

/* rv_truthy, without a call for the booleans conditions mostly are. */
static inline bool truthy(const rv_node *n)
{
    if (n == &rv_true_node)
        return true;
    if (n == &rv_false_node)
        return false;
    return rv_truthy(n);
}

/* $user, $project and $kind as string values, $request as given; NULL when
 * memory ran out. */
static const rv_node *ctx_value(ev *e, uint32_t i)
{
    const rv_request *req = e->req;
    const char *s = "";
    switch (i) {
    case RV_CTX_USER:
        s = req && req->user ? req->user : "";
        break;
    case RV_CTX_PROJECT:
        s = req && req->project ? req->project : "";
        break;
    case RV_CTX_KIND:
        s = req && req->kind ? req->kind : "";
        break;
    default:
        return e->ctx[i] = req && req->request ? req->request : &rv_null_node;
    }
    return e->ctx[i] = rv_new_string(&e->vm->arena, s, strlen(s));
}

/* ---- the dispatch loop ---- */


/* GCC's global common subexpression elimination works against a
 * computed-goto dispatch (its manual says so): without it the loop keeps
 * more of its state in registers, for about a tenth fewer instructions. */
#if defined(__GNUC__) && !defined(__clang__)
#define RV_DISPATCH_LOOP __attribute__((optimize("no-gcse")))
#else
#define RV_DISPATCH_LOOP
#endif

RV_DISPATCH_LOOP static rv_status run_policy(ev *e, uint64_t *budget)
{
    rv_vm *vm = e->vm;
    const rv_policy *p = e->pol;
    const uint32_t *code = p->code;
    const rv_node **base = vm->stack;
    const rv_node **sp = base;
    uint32_t pc = 0, ins;
    uint64_t left = *budget;
    rv_status st = RV_OK;
    const rv_node *r;

#ifdef RV_COMPUTED_GOTO
    static const void *const dispatch_table[RV_OP__COUNT] = {
#define RV_OP_LABEL(name, opnd, pops, pushes, doc) &&L_##name,
        RV_OPCODES(RV_OP_LABEL)
#undef RV_OP_LABEL
    };
    static const void *const traced_table[RV_OP__COUNT] = {
#define RV_OP_LABEL(name, opnd, pops, pushes, doc) &&L_traced,
        RV_OPCODES(RV_OP_LABEL)
#undef RV_OP_LABEL
    };
    const void *const *table = vm->trace ? traced_table : dispatch_table;
#define vmtrace() ((void)0)
#else
#define vmtrace()                                                      \
    do {                                                               \
        if (vm->trace)                                                 \
            vm->trace(vm->trace_ud, e->pol_index, e->pc, -1);          \
    } while (0)
#endif

#define TRACE_TAKEN(t) \
    do { if (vm->trace) vm->trace(vm->trace_ud, e->pol_index, e->pc, (t)); } while (0)
#define vmfetch()                                                      \
    do {                                                               \
        if (left-- == 0)                                               \
            goto out_of_budget;                                        \
        e->pc = pc;                                                    \
        ins = code[pc++];                                              \
        vmtrace();                                                     \
    } while (0)
#define CHECK(x) do { if (!(r = (x))) goto out_of_memory; } while (0)

    /* WITNESS reads a closed quantifier's slot: clear the slots so that
     * nothing left by an earlier policy or decision is ever read. */
    for (uint32_t i = 0; i < p->nslots; i++)
        vm->iters[i].coll = NULL;

    for (;;) {
        vmfetch();
        vmdispatch(RV_GET_OP(ins)) {
#ifdef RV_COMPUTED_GOTO
        L_traced:
            vm->trace(vm->trace_ud, e->pol_index, e->pc, -1);
            goto *dispatch_table[RV_GET_OP(ins)];
#endif
        vmcase(HALT) {
            *budget = left;
            return RV_OK;
        }
        vmcase(POP) {
            sp--;
            vmbreak;
        }
        vmcase(CONST) {
            *sp++ = p->consts[RV_GET_AX(ins)];
            vmbreak;
        }
        vmcase(CTX) {
            r = e->ctx[RV_GET_AX(ins)];
            if (!r)
                CHECK(ctx_value(e, RV_GET_AX(ins)));
            *sp++ = r;
            vmbreak;
        }
        vmcase(PARAM) {
            *sp++ = p->params[RV_GET_AX(ins)].value;
            vmbreak;
        }
        vmcase(GET) {
            *sp++ = walk(vm, e->spec, &p->paths[RV_GET_AX(ins)]);
            vmbreak;
        }
        vmcase(LOCAL) {
            *sp++ = iter_current(&vm->iters[RV_GET_AX(ins)]);
            vmbreak;
        }
        vmcase(WALK) {
            sp[-1] = walk(vm, sp[-1], &p->paths[RV_GET_AX(ins)]);
            vmbreak;
        }
        vmcase(NOT) {
            sp[-1] = boolean(!truthy(sp[-1]));
            vmbreak;
        }
        vmcase(TRUTH) {
            sp[-1] = boolean(truthy(sp[-1]));
            vmbreak;
        }
        vmcase(NEG) {
            const rv_node *a = sp[-1];
            if (a->type == RV_INT && a->u.i != INT64_MIN)
                CHECK(new_int(e, -a->u.i));
            else if (is_num(a) && isfinite(num(a)))
                CHECK(new_float(e, -num(a)));
            else
                CHECK(cannot_apply(e, "unary '-'", a, NULL,
                                   is_num(a) ? "the result is not a finite number" : NULL));
            sp[-1] = r;
            vmbreak;
        }
        vmcase(ADD) vmcase(SUB) vmcase(MUL) vmcase(DIV) vmcase(MOD) {
            CHECK(arith(e, RV_GET_OP(ins), sp[-2], sp[-1]));
            sp[-2] = r;
            sp--;
            vmbreak;
        }
        vmcase(EQ) {
            sp[-2] = boolean(rv_equal(sp[-2], sp[-1]));
            sp--;
            vmbreak;
        }
        vmcase(NE) {
            sp[-2] = boolean(!rv_equal(sp[-2], sp[-1]));
            sp--;
            vmbreak;
        }
        vmcase(LT) vmcase(LE) vmcase(GT) vmcase(GE) {
            int c;
            bool b = false;
            if (rv_compare(sp[-2], sp[-1], &c)) {
                switch (RV_GET_OP(ins)) {
                case RV_OP_LT: b = c < 0; break;
                case RV_OP_LE: b = c <= 0; break;
                case RV_OP_GT: b = c > 0; break;
                default: b = c >= 0; break;
                }
            }
            sp[-2] = boolean(b);
            sp--;
            vmbreak;
        }
        vmcase(IN) {
            sp[-2] = boolean(contains(sp[-2], sp[-1]));
            sp--;
            vmbreak;
        }
        vmcase(MATCH) vmcase(NMATCH) {
            int m = regex_match(e, RV_GET_AX(ins), sp[-1]);
            if (m < 0) {
                st = RV_ELIMIT;
                goto fail;
            }
            sp[-1] = boolean(RV_GET_OP(ins) == RV_OP_MATCH ? m == 1 : m == 0);
            vmbreak;
        }
        vmcase(CALL) {
            rv_builtin fn = (rv_builtin)RV_GET_AX(ins);
            uint32_t n = rv_builtin_arity[fn];
            CHECK(call_builtin(e, fn, sp - n));
            sp -= n;
            *sp++ = r;
            vmbreak;
        }
        vmcase(MKLIST) {
            uint32_t n = RV_GET_AX(ins);
            CHECK(make_list(e, sp - n, n));
            sp -= n;
            *sp++ = r;
            vmbreak;
        }
        vmcase(MKMAP) {
            uint32_t n = RV_GET_AX(ins);
            CHECK(make_map(e, sp - 2 * n, n));
            sp -= 2 * n;
            *sp++ = r;
            vmbreak;
        }
        vmcase(FORMAT) {
            uint32_t n = RV_GET_AX(ins);
            r = format(e, sp - n, n);
            if (e->marked)
                clear_marks(e);
            CHECK(r);
            sp -= n;
            *sp++ = r;
            vmbreak;
        }
        vmcase(JMP) {
            pc += RV_GET_AX(ins);
            vmbreak;
        }
        vmcase(JFALSE) {
            bool t = !truthy(*--sp);
            TRACE_TAKEN(t);
            if (t)
                pc += RV_GET_AX(ins);
            vmbreak;
        }
        vmcase(JTRUE) {
            bool t = truthy(*--sp);
            TRACE_TAKEN(t);
            if (t)
                pc += RV_GET_AX(ins);
            vmbreak;
        }
        vmcase(JNOTNULL) {
            bool t = sp[-1]->type != RV_NULL;
            TRACE_TAKEN(t);
            if (t)
                pc += RV_GET_AX(ins);
            else
                sp--;
            vmbreak;
        }
        vmcase(ANY_BEGIN) vmcase(ALL_BEGIN) {
            rv_iter *it = &vm->iters[RV_GET_A(ins)];
            if (!iter_start(it, *--sp)) {
                /* Over nothing, any is false and all is true. */
                *sp++ = boolean(RV_GET_OP(ins) == RV_OP_ALL_BEGIN);
                pc += RV_GET_BX(ins);
            }
            vmbreak;
        }
        vmcase(SUM_BEGIN) {
            rv_iter *it = &vm->iters[RV_GET_A(ins)];
            const rv_node *coll = *--sp;
            it->coll = coll;
            it->i = 0;
            CHECK(new_int(e, 0));
            it->total = r;
            /* A sum visits a list's elements only, as an each block does:
             * a map here is a dstack range ({min, max}) or the like, not
             * a collection of terms. Anything else sums to 0. */
            if (coll->type != RV_ARRAY || coll->len == 0) {
                *sp++ = r;
                pc += RV_GET_BX(ins);
            }
            vmbreak;
        }
        vmcase(SUM_NEXT) {
            rv_iter *it = &vm->iters[RV_GET_A(ins)];
            const rv_node *n = *--sp;
            if (!is_num(n))
                CHECK(cannot_apply(e, "sum", n, NULL, "each term must be a number (give a "
                                   "missing one a default with '?\?')"));
            CHECK(arith(e, RV_OP_ADD, it->total, n));
            it->total = r;
            if (++it->i >= it->coll->len)
                *sp++ = it->total;
            else
                pc = e->pc - RV_GET_BX(ins);  /* bounded: no writes in the body */
            vmbreak;
        }
        vmcase(WITNESS) {
            *sp++ = iter_witness(&vm->iters[RV_GET_AX(ins)]);
            vmbreak;
        }
        vmcase(ANY_NEXT) vmcase(ALL_NEXT) {
            rv_iter *it = &vm->iters[RV_GET_A(ins)];
            bool want = RV_GET_OP(ins) == RV_OP_ANY_NEXT;
            bool c = truthy(*--sp);
            if (c == want || ++it->i >= it->coll->len) {
                *sp++ = boolean(c);
            } else {
                /* Back to the body: bounded, the collection cannot grow
                 * (no writes inside quantifiers, checked by the verifier). */
                pc = e->pc - RV_GET_BX(ins);
            }
            vmbreak;
        }
        vmcase(SET) vmcase(DEFAULT) vmcase(APPEND) {
            rv_opcode op = RV_GET_OP(ins);
            wmode m = op == RV_OP_SET ? W_SET : op == RV_OP_DEFAULT ? W_DEFAULT : W_APPEND;
            begin_write(e);
            st = do_write(e, &p->paths[RV_GET_AX(ins)], m, *--sp);
            end_write(e);
            if (st != RV_OK)
                goto fail;
            vmbreak;
        }
        vmcase(UNSET) {
            begin_write(e);
            st = do_write(e, &p->paths[RV_GET_AX(ins)], W_UNSET, NULL);
            end_write(e);
            if (st != RV_OK)
                goto fail;
            vmbreak;
        }
        vmcase(TAG) {
            begin_write(e);
            st = do_tag(e, &p->paths[RV_GET_AX(ins)], sp[-2], sp[-1]);
            end_write(e);
            sp -= 2;
            if (st != RV_OK)
                goto fail;
            vmbreak;
        }
        vmcase(EACH_IN) {
            /* Operands for the EACH_BEGIN that always follows (verified). */
            vmbreak;
        }
        vmcase(EACH_BEGIN) vmcase(EACH_PAIRS) {
            uint32_t in = code[e->pc - 1];
            uint32_t parent = RV_GET_A(in);
            rv_iter *it = &vm->iters[RV_GET_A(ins)];
            const rv_node *root = parent ? iter_current(&vm->iters[parent - 1]) : e->spec;
            const rv_path *path = &p->paths[RV_GET_BX(in)];
            const rv_node *coll = walk(vm, root, path);
            /* EACH_BEGIN takes lists only, EACH_PAIRS maps only: anything
             * else (missing, null, the other container, a scalar) runs the
             * body no times. */
            rv_doc_type want = RV_GET_OP(ins) == RV_OP_EACH_PAIRS ? RV_OBJECT : RV_ARRAY;
            if (coll->type == want && coll->len > 0) {
                /* A view of the collection as it starts: its storage and
                 * length. A write below an inner element can reach an outer
                 * list or map (each g in ys[0].zs { each h in ys { unset
                 * h.zs[0]; } }), and unset gives a list or map new, shorter
                 * storage, set a map maybe new, longer storage; the old
                 * stays intact (for rollback), so the loop still visits
                 * exactly the elements (members) it started with. */
                rv_node *view = ru_arena_alloc(&vm->arena, sizeof *view);
                if (!view)
                    goto out_of_memory;
                *view = *coll;
                iter_start(it, view);
                it->parent = parent;
                it->path = path;
            } else {
                pc += RV_GET_BX(ins);
            }
            vmbreak;
        }
        vmcase(EACH_NEXT) {
            rv_iter *it = &vm->iters[RV_GET_A(ins)];
            /* Back to the body: bounded, nothing in it can change the
             * list's length (writes only below the element, verified). */
            if (++it->i < it->coll->len)
                pc = e->pc - RV_GET_BX(ins);
            vmbreak;
        }
        vmcase(SET_EL) vmcase(DEFAULT_EL) vmcase(APPEND_EL) vmcase(UNSET_EL) {
            rv_opcode op = RV_GET_OP(ins);
            wmode m = op == RV_OP_SET_EL ? W_SET : op == RV_OP_DEFAULT_EL ? W_DEFAULT
                      : op == RV_OP_APPEND_EL ? W_APPEND : W_UNSET;
            uint32_t el = RV_GET_A(ins);
            e->wroot = shared(iter_current(&vm->iters[el]));
            e->wslot = (int)el;
            begin_write(e);
            st = do_write(e, &p->paths[RV_GET_BX(ins)], m, m == W_UNSET ? NULL : *--sp);
            end_write(e);
            e->wroot = e->spec;
            e->wslot = -1;
            if (st != RV_OK)
                goto fail;
            vmbreak;
        }
        vmcase(FORBID) {
            if (!record_message(e, &vm->errors, *--sp))
                goto out_of_memory;
            vmbreak;
        }
        vmcase(WARN) {
            if (!record_message(e, &vm->warnings, *--sp))
                goto out_of_memory;
            vmbreak;
        }
        vmcase(KEY) {
            /* The slot is an EACH_PAIRS loop's (verified): a map member. */
            const rv_iter *it = &vm->iters[RV_GET_AX(ins)];
            const rv_member *m = &it->coll->u.members[it->i];
            CHECK(rv_new_string(&vm->arena, m->key, m->klen));
            *sp++ = r;
            vmbreak;
        }
        vmcase(SECRET) {
            /* Ax < RV_STACK_MAX: a part of the FORMAT after it (verified). */
            uint32_t k = RV_GET_AX(ins);
            e->secret[k / 64] |= (uint64_t)1 << (k % 64);
            e->marked = true;
            vmbreak;
        }
        vmcase(INDEX) {
            CHECK(index_value(e, sp[-2], sp[-1]));
            sp[-2] = r;
            sp--;
            vmbreak;
        }
        }
    }

out_of_budget:
    rv_set_error(e->err, RV_ELIMIT,
                 "instruction budget of %llu exhausted in policy '%s' (%s:%u)",
                 (unsigned long long)vm->cfg.instruction_budget, p->name, p->source, cur_line(e));
    return RV_ELIMIT;
out_of_memory:
    /* or an evaluation error: the helpers return NULL for both */
    return e->failed ? RV_EEVAL : oom(e);
fail:
    return st;
#undef CHECK
#undef vmfetch
#undef vmtrace
#undef TRACE_TAKEN
}

rv_status rv_interp_eval(rv_vm *vm, const rv_program *prog, const rv_request *req,
                         rv_node *spec, rv_decision *out, rv_error *err)
{
    memset(out, 0, sizeof *out);
    vm->undo.len = vm->changes.len = vm->errors.len = vm->warnings.len = 0;
    if (!spec || spec->type != RV_OBJECT) {
        rv_set_error(err, RV_EINPUT, "the spec must be an object");
        return RV_EINPUT;
    }
    const char *kind = req && req->kind ? req->kind : "";

    if (vm->nmemo < prog->nsegs) {
        rv_memo *c = vm->cfg.alloc(vm->cfg.alloc_ud, vm->memo, vm->nmemo * sizeof *c,
                                   prog->nsegs * sizeof *c);
        if (!c) {
            rv_set_error(err, RV_ENOMEM, "out of memory");
            return RV_ENOMEM;
        }
        memset(c + vm->nmemo, 0, (prog->nsegs - vm->nmemo) * sizeof *c);
        vm->memo = c;
        vm->nmemo = prog->nsegs;
    }
    /* Nothing remembered from before holds: the spec is another tree, or
     * the host may have changed it. */
    vm->gen++;

    ev e = {vm, prog, NULL, 0, 0, spec, err, false, spec, -1, false, {0}, false, NULL, NULL,
            req, {NULL}};
    uint64_t budget = vm->cfg.instruction_budget;
    const rv_kind_list *run = rv_program_kind_list(prog, kind);
    /* Another protocol's policy does not judge this request, even `on *`. */
    bool by_target = req && req->target;
    const char *target = by_target ? rv_program_target(prog, req->target) : NULL;
    for (uint32_t r = 0; r < run->n; r++) {
        uint32_t k = run->policies[r];
        const rv_policy *p = prog->policies[k];
        if (by_target && !p->judges_all && p->target != target)
            continue;
        e.pol = p;
        e.pol_index = k;
        rv_status st = run_policy(&e, &budget);
        if (st != RV_OK) {
            rollback(vm);
            return st;
        }
    }

    out->instructions = vm->cfg.instruction_budget - budget;
    out->allowed = vm->errors.len == 0;
    /* No partial rewrite leaks out of a rejection. */
    if (!out->allowed)
        rollback(vm);
    vm->undo.len = 0;
    out->spec = spec;
    out->errors = vm->errors.data;
    out->nerrors = vm->errors.len;
    out->warnings = vm->warnings.data;
    out->nwarnings = vm->warnings.len;
    out->changes = vm->changes.data;
    out->nchanges = vm->changes.len;
    return RV_OK;
}
