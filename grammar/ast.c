/* ast.c - AST constructors for the parser (see ast_build.h).
 * SPDX-License-Identifier: Apache-2.0
 *
 * Kept out of grammar/parser.y so the node-building code is compiled with
 * the project's full warning set, not the relaxed flags of generated files.
 */
#include "ast_build.h"

#include <string.h>

void *rc_build_alloc(rc_build *b, size_t size)
{
    void *p = ru_arena_alloc(b->arena, size);
    if (!p)
        longjmp(*b->oom, 1);
    memset(p, 0, size);
    return p;
}

char *rc_build_strndup(rc_build *b, const char *s, size_t n)
{
    char *p = ru_arena_strndup(b->arena, s, n);
    if (!p)
        longjmp(*b->oom, 1);
    return p;
}

void *rc_vec_push(rc_build *b, rc_vec *v, size_t elem)
{
    if (v->n == v->cap) {
        size_t ncap = v->cap ? v->cap * 2 : 4;
        void *nd = rc_build_alloc(b, ncap * elem);
        if (v->n)
            memcpy(nd, v->data, v->n * elem);
        v->data = nd;
        v->cap = ncap;
    }
    char *slot = (char *)v->data + v->n++ * elem;
    memset(slot, 0, elem);
    return slot;
}

rc_expr *rc_expr_new(rc_build *b, rc_expr_kind kind, rc_loc loc)
{
    rc_expr *e = rc_build_alloc(b, sizeof *e);
    e->kind = kind;
    e->loc = loc;
    return e;
}

rc_expr *rc_expr_unary(rc_build *b, rc_op op, rc_expr *operand, rc_loc loc)
{
    rc_expr *e = rc_expr_new(b, RC_E_UNARY, loc);
    e->u.op.op = op;
    e->u.op.lhs = operand;
    return e;
}

rc_expr *rc_expr_binary(rc_build *b, rc_op op, rc_expr *lhs, rc_expr *rhs, rc_loc loc)
{
    rc_expr *e = rc_expr_new(b, RC_E_BINARY, loc);
    e->u.op.op = op;
    e->u.op.lhs = lhs;
    e->u.op.rhs = rhs;
    return e;
}

rc_expr *rc_path_root(rc_build *b, const char *name, size_t len, rc_loc loc)
{
    rc_expr *e = rc_expr_new(b, RC_E_PATH, loc);
    rc_seg *s = rc_build_alloc(b, 4 * sizeof *s);
    s->key = rc_build_strndup(b, name, len);
    s->klen = len;
    s->loc = loc;
    e->u.path.segs = s;
    e->u.path.nseg = 1;
    return e;
}

rc_expr *rc_path_dollar(rc_build *b, const char *name, size_t len, rc_loc loc)
{
    rc_expr *e = rc_expr_new(b, RC_E_PATH, loc);
    e->u.path.dollar = rc_build_strndup(b, name, len);
    e->u.path.dollar_loc = loc;
    return e;
}

void rc_path_push(rc_build *b, rc_expr *path, size_t *cap, rc_seg seg)
{
    rc_vec v = { path->u.path.segs, path->u.path.nseg, *cap };
    /* rc_path_root preallocates 4 slots; a $name path starts empty. */
    if (v.cap < v.n)
        v.cap = v.n;
    *(rc_seg *)rc_vec_push(b, &v, sizeof seg) = seg;
    path->u.path.segs = v.data;
    path->u.path.nseg = v.n;
    *cap = v.cap;
    path->loc.last_line = seg.loc.last_line;
    path->loc.last_column = seg.loc.last_column;
}

rc_stmt *rc_stmt_new(rc_build *b, rc_stmt_kind kind, rc_loc loc)
{
    rc_stmt *s = rc_build_alloc(b, sizeof *s);
    s->kind = kind;
    s->loc = loc;
    return s;
}

const char *rc_op_text(rc_op op)
{
    static const char *const names[] = {
        [RC_OP_COALESCE] = "??", [RC_OP_OR] = "or", [RC_OP_AND] = "and", [RC_OP_NOT] = "not",
        [RC_OP_EQ] = "==", [RC_OP_NE] = "!=", [RC_OP_LT] = "<", [RC_OP_LE] = "<=",
        [RC_OP_GT] = ">", [RC_OP_GE] = ">=", [RC_OP_IN] = "in", [RC_OP_ADD] = "+",
        [RC_OP_SUB] = "-", [RC_OP_MUL] = "*", [RC_OP_DIV] = "/", [RC_OP_MOD] = "%",
        [RC_OP_NEG] = "-",
    };
    return names[op];
}
