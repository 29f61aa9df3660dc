/* codegen.c - linearizes a checked AST into one policy's bytecode.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Expressions compile to stack code; conditions to forward jumps; each
 * quantifier to a BEGIN/NEXT pair whose only backward edge is bounded by
 * the collection. Constants, paths and regexes are pooled per policy, and
 * a pc -> source line table is kept for messages, changes and disasm.
 */
#include "compile.h"
#include "opcodes.h"

#include <string.h>

typedef struct gen {
    ru_arena *arena;
    rc_diags *diags;
    const rc_source *src;
    rv_policy *p;
    size_t cap_code, cap_consts, cap_paths, cap_regex, cap_lines;
    int line;           /* source line of what is being emitted */
    bool failed;
    rc_cover_map *map;  /* NULL unless the caller wants coverage points */
    size_t cap_stmts, cap_conds;
} gen;

/* Grows an arena array to hold one more element (old storage is simply
 * left behind in the arena). */
static void *grow(gen *g, void *data, size_t len, size_t *cap, size_t elem)
{
    if (len < *cap)
        return data;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *nd = ru_arena_alloc(g->arena, ncap * elem);
    if (!nd) {
        g->failed = true;
        return NULL;
    }
    if (len)
        memcpy(nd, data, len * elem);
    *cap = ncap;
    return nd;
}

static void too_big(gen *g, rc_loc loc, const char *what)
{
    if (!g->failed)
        rc_diag(g->diags, RC_ERROR, g->src, loc, "policy too large: too many %s", what);
    g->failed = true;
}

/* ---- pools ---- */

static uint32_t add_const(gen *g, rv_node *v)
{
    rv_policy *p = g->p;
    if (!v) {
        g->failed = true;
        return 0;
    }
    for (uint32_t i = 0; i < p->nconsts; i++)
        if (p->consts[i]->type == v->type && rv_equal(p->consts[i], v))
            return i;
    rv_node **c = grow(g, p->consts, p->nconsts, &g->cap_consts, sizeof *c);
    if (!c)
        return 0;
    p->consts = c;
    c[p->nconsts] = v;
    return p->nconsts++;
}

/* Adds the path made of segs[from..n) and returns its index. */
static uint32_t add_path(gen *g, const rc_seg *segs, size_t from, size_t n)
{
    rv_policy *p = g->p;
    for (uint32_t i = 0; i < p->npaths; i++) {
        const rv_path *q = &p->paths[i];
        if (q->nseg != n - from)
            continue;
        bool same = true;
        for (size_t k = from; k < n && same; k++) {
            const rv_seg *a = &q->segs[k - from];
            const rc_seg *b = &segs[k];
            same = b->is_index ? (!a->key && a->index == b->index)
                               : (a->key && a->klen == b->klen && memcmp(a->key, b->key, b->klen) == 0);
        }
        if (same)
            return i;
    }
    rv_path *paths = grow(g, p->paths, p->npaths, &g->cap_paths, sizeof *paths);
    if (!paths)
        return 0;
    p->paths = paths;
    rv_path *path = &paths[p->npaths];
    path->nseg = (uint32_t)(n - from);
    path->segs = ru_arena_alloc(g->arena, (path->nseg ? path->nseg : 1) * sizeof *path->segs);
    path->text = NULL;
    if (!path->segs) {
        g->failed = true;
        return 0;
    }
    for (size_t k = from; k < n; k++) {
        rv_seg *s = &path->segs[k - from];
        s->key = segs[k].is_index ? NULL : segs[k].key;
        s->klen = (uint32_t)segs[k].klen;
        s->index = (int32_t)segs[k].index;
    }
    return p->npaths++;
}

/* The bundle's regex flags (program.h) from the source's (ast.h). */
static uint32_t regex_flags(uint32_t rc)
{
    return ((rc & RC_RE_I) ? RV_RE_I : 0) | ((rc & RC_RE_M) ? RV_RE_M : 0) |
           ((rc & RC_RE_S) ? RV_RE_S : 0) | ((rc & RC_RE_X) ? RV_RE_X : 0);
}

static uint32_t add_regex(gen *g, const rc_expr *e)
{
    rv_policy *p = g->p;
    uint32_t flags = regex_flags(e->u.match.flags);
    for (uint32_t i = 0; i < p->nregex; i++)
        if (p->regex[i].flags == flags &&
            strlen(p->regex[i].pattern) == e->u.match.plen &&
            memcmp(p->regex[i].pattern, e->u.match.pattern, e->u.match.plen) == 0)
            return i;
    rv_regex *r = grow(g, p->regex, p->nregex, &g->cap_regex, sizeof *r);
    if (!r)
        return 0;
    p->regex = r;
    memset(&r[p->nregex], 0, sizeof *r);
    r[p->nregex].pattern = ru_arena_strndup(g->arena, e->u.match.pattern, e->u.match.plen);
    r[p->nregex].flags = flags;
    r[p->nregex].line = (uint32_t)e->u.match.regex_loc.first_line;
    r[p->nregex].column = (uint32_t)e->u.match.regex_loc.first_column;
    return p->nregex++;
}

/* ---- code ---- */

static uint32_t emit(gen *g, uint32_t ins)
{
    rv_policy *p = g->p;
    uint32_t *code = grow(g, p->code, p->ncode, &g->cap_code, sizeof *code);
    if (!code)
        return 0;
    p->code = code;
    if (p->nlines == 0 || p->lines[p->nlines - 1].line != (uint32_t)g->line) {
        rv_line *l = grow(g, p->lines, p->nlines, &g->cap_lines, sizeof *l);
        if (!l)
            return 0;
        p->lines = l;
        l[p->nlines].pc = p->ncode;
        l[p->nlines].line = (uint32_t)g->line;
        p->nlines++;
    }
    code[p->ncode] = ins;
    return p->ncode++;
}

static uint32_t emit_ax(gen *g, rv_opcode op, uint32_t ax, rc_loc loc)
{
    if (ax > RV_MAX_AX)
        too_big(g, loc, "constants or paths");
    return emit(g, RV_MAKE_AX(op, ax));
}

/* Points the forward jump at `at` to the next instruction to be emitted. */
static void patch_here(gen *g, uint32_t at, rc_loc loc)
{
    uint32_t off = g->p->ncode - at - 1;
    if (off > RV_MAX_AX)
        too_big(g, loc, "instructions");
    uint32_t op = g->p->code[at] & 0xFFu;
    g->p->code[at] = RV_MAKE_AX(op, off);
}

static void gen_expr(gen *g, const rc_expr *e);

static void gen_const(gen *g, rv_node *v, rc_loc loc)
{
    emit_ax(g, RV_OP_CONST, add_const(g, v), loc);
}

/* The first computed key of segs[from..n), or n. */
static size_t next_computed(const rc_seg *segs, size_t from, size_t n)
{
    while (from < n && !segs[from].expr)
        from++;
    return from;
}

/* With the value at segs[from]'s parent on the stack: a WALK for each run
 * of literal segments, and for each computed key its expression and an
 * INDEX, so `$t[$k].a` is PARAM t; CTX k; INDEX; WALK a. */
static void gen_segs(gen *g, const rc_expr *e, size_t from)
{
    const rc_seg *segs = e->u.path.segs;
    size_t n = e->u.path.nseg;
    while (from < n) {
        if (segs[from].expr) {
            gen_expr(g, segs[from].expr);
            emit(g, RV_OP_INDEX);
            from++;
            continue;
        }
        size_t to = next_computed(segs, from, n);
        emit_ax(g, RV_OP_WALK, add_path(g, segs, from, to), e->loc);
        from = to;
    }
}

static void gen_path(gen *g, const rc_expr *e)
{
    const rc_seg *segs = e->u.path.segs;
    size_t n = e->u.path.nseg;
    switch (e->root) {
    case RC_ROOT_SPEC: {
        size_t to = next_computed(segs, 0, n);
        emit_ax(g, RV_OP_GET, add_path(g, segs, 0, to), e->loc);
        gen_segs(g, e, to);
        return;
    }
    case RC_ROOT_LOCAL:
    case RC_ROOT_WITNESS:
        emit_ax(g, e->root == RC_ROOT_LOCAL ? RV_OP_LOCAL : RV_OP_WITNESS, e->index, e->loc);
        gen_segs(g, e, 1);
        return;
    case RC_ROOT_KEY:
        /* A string: the checker refused any segment below it. */
        emit_ax(g, RV_OP_KEY, e->index, e->loc);
        return;
    case RC_ROOT_CTX:
    case RC_ROOT_PARAM:
        emit_ax(g, e->root == RC_ROOT_CTX ? RV_OP_CTX : RV_OP_PARAM, e->index, e->loc);
        gen_segs(g, e, 0);
        return;
    }
}

static rv_opcode binary_opcode(rc_op op)
{
    switch (op) {
    case RC_OP_EQ: return RV_OP_EQ;
    case RC_OP_NE: return RV_OP_NE;
    case RC_OP_LT: return RV_OP_LT;
    case RC_OP_LE: return RV_OP_LE;
    case RC_OP_GT: return RV_OP_GT;
    case RC_OP_GE: return RV_OP_GE;
    case RC_OP_IN: return RV_OP_IN;
    case RC_OP_ADD: return RV_OP_ADD;
    case RC_OP_SUB: return RV_OP_SUB;
    case RC_OP_MUL: return RV_OP_MUL;
    case RC_OP_DIV: return RV_OP_DIV;
    default: return RV_OP_MOD;
    }
}

/* a and b  =>  a; JFALSE F; b; TRUTH; JMP E; F: CONST false; E:
 * (or is the mirror image). Both give a boolean. */
static void gen_logic(gen *g, const rc_expr *e, bool is_and)
{
    gen_expr(g, e->u.op.lhs);
    uint32_t short_jump = emit_ax(g, is_and ? RV_OP_JFALSE : RV_OP_JTRUE, 0, e->loc);
    gen_expr(g, e->u.op.rhs);
    emit(g, RV_OP_TRUTH);
    uint32_t end_jump = emit_ax(g, RV_OP_JMP, 0, e->loc);
    patch_here(g, short_jump, e->loc);
    gen_const(g, rv_new_bool(g->arena, !is_and), e->loc);
    patch_here(g, end_jump, e->loc);
}

/* any/all/sum X in C: BODY  =>  C; X_BEGIN L[slot] -> E; BODY; X_NEXT L[slot]; E: */
static void gen_quant(gen *g, const rc_expr *e)
{
    rv_opcode begin_op = e->u.quant.q == RC_Q_ALL   ? RV_OP_ALL_BEGIN
                         : e->u.quant.q == RC_Q_SUM ? RV_OP_SUM_BEGIN
                                                    : RV_OP_ANY_BEGIN;
    rv_opcode next_op = e->u.quant.q == RC_Q_ALL   ? RV_OP_ALL_NEXT
                        : e->u.quant.q == RC_Q_SUM ? RV_OP_SUM_NEXT
                                                   : RV_OP_ANY_NEXT;
    gen_expr(g, e->u.quant.over);
    uint32_t begin = emit(g, RV_MAKE_ABX(begin_op, e->index, 0));
    gen_expr(g, e->u.quant.cond);
    uint32_t next = g->p->ncode;
    uint32_t back = next - (begin + 1);   /* to the body's first instruction */
    uint32_t exit = next - begin;         /* from begin+1 to past NEXT */
    if (back > RV_MAX_BX || exit > RV_MAX_BX)
        too_big(g, e->loc, "instructions in one quantifier");
    emit(g, RV_MAKE_ABX(next_op, e->index, back & RV_MAX_BX));
    g->p->code[begin] = RV_MAKE_ABX(begin_op, e->index, exit & RV_MAX_BX);
}

static void gen_expr(gen *g, const rc_expr *e)
{
    int saved = g->line;
    g->line = e->loc.first_line;
    switch (e->kind) {
    case RC_E_NULL: case RC_E_BOOL: case RC_E_INT: case RC_E_FLOAT: case RC_E_STRING:
        gen_const(g, rc_literal_value(e, g->arena), e->loc);
        break;
    case RC_E_LIST:
        if (rc_is_literal(e)) {
            gen_const(g, rc_literal_value(e, g->arena), e->loc);
            break;
        }
        for (size_t i = 0; i < e->u.list.n; i++)
            gen_expr(g, e->u.list.items[i]);
        emit_ax(g, RV_OP_MKLIST, (uint32_t)e->u.list.n, e->loc);
        break;
    case RC_E_MAP:
        if (rc_is_literal(e)) {
            gen_const(g, rc_literal_value(e, g->arena), e->loc);
            break;
        }
        for (size_t i = 0; i < e->u.map.n; i++) {
            const rc_map_entry *en = &e->u.map.entries[i];
            gen_const(g, rv_new_string(g->arena, en->key, en->klen), en->key_loc);
            gen_expr(g, en->value);
        }
        emit_ax(g, RV_OP_MKMAP, (uint32_t)e->u.map.n, e->loc);
        break;
    case RC_E_PATH:
        gen_path(g, e);
        break;
    case RC_E_UNARY:
        if (rc_is_literal(e)) {
            gen_const(g, rc_literal_value(e, g->arena), e->loc);
            break;
        }
        gen_expr(g, e->u.op.lhs);
        emit(g, e->u.op.op == RC_OP_NOT ? RV_OP_NOT : RV_OP_NEG);
        break;
    case RC_E_BINARY:
        switch (e->u.op.op) {
        case RC_OP_AND:
        case RC_OP_OR:
            gen_logic(g, e, e->u.op.op == RC_OP_AND);
            break;
        case RC_OP_COALESCE: {
            gen_expr(g, e->u.op.lhs);
            uint32_t j = emit_ax(g, RV_OP_JNOTNULL, 0, e->loc);
            gen_expr(g, e->u.op.rhs);
            patch_here(g, j, e->loc);
            break;
        }
        default:
            gen_expr(g, e->u.op.lhs);
            gen_expr(g, e->u.op.rhs);
            emit(g, binary_opcode(e->u.op.op));
            break;
        }
        break;
    case RC_E_MATCH:
        gen_expr(g, e->u.match.lhs);
        emit_ax(g, e->u.match.negated ? RV_OP_NMATCH : RV_OP_MATCH, add_regex(g, e), e->loc);
        break;
    case RC_E_CALL:
        for (size_t i = 0; i < e->u.call.nargs; i++)
            gen_expr(g, e->u.call.args[i]);
        emit_ax(g, RV_OP_CALL, e->index, e->loc);
        break;
    case RC_E_QUANT:
        gen_quant(g, e);
        break;
    }
    g->line = saved;
}

/* ---- statements ---- */

static uint32_t target(gen *g, const rc_expr *path)
{
    return add_path(g, path->u.path.segs, 0, path->u.path.nseg);
}

static void gen_message(gen *g, const rc_stmt *s)
{
    if (s->nparts == 1 && s->parts[0]->kind == RC_E_STRING) {
        gen_expr(g, s->parts[0]);
        return;
    }
    for (size_t i = 0; i < s->nparts; i++)
        gen_expr(g, s->parts[i]);
    /* The parts that derive from a secret (secret.c), for the logs. */
    for (size_t i = 0; s->secret_parts && i < s->nparts; i++)
        if (s->secret_parts[i])
            emit_ax(g, RV_OP_SECRET, (uint32_t)i, s->loc);
    emit_ax(g, RV_OP_FORMAT, (uint32_t)s->nparts, s->loc);
}

static void gen_block(gen *g, const rc_stmt *s);
static void gen_each(gen *g, const rc_stmt *s);

/* Records a coverage point at pc (statements and conditions alike). */
static void cover_point(gen *g, bool cond, uint32_t pc, rc_loc loc)
{
    if (!g->map)
        return;
    rc_cover_point **v = cond ? &g->map->conds : &g->map->stmts;
    size_t *n = cond ? &g->map->nconds : &g->map->nstmts;
    rc_cover_point *nv = grow(g, *v, *n, cond ? &g->cap_conds : &g->cap_stmts, sizeof *nv);
    if (!nv)
        return;
    *v = nv;
    nv[(*n)++] = (rc_cover_point){pc, loc};
}

static void gen_stmt(gen *g, const rc_stmt *s)
{
    g->line = s->loc.first_line;
    cover_point(g, false, g->p->ncode, s->loc);
    switch (s->kind) {
    case RC_S_SET:
    case RC_S_DEFAULT:
    case RC_S_APPEND:
    case RC_S_UNSET: {
        if (s->kind != RC_S_UNSET)
            gen_expr(g, s->value);
        g->line = s->loc.first_line;
        if (s->secret_write)
            emit_ax(g, RV_OP_SECRET, 0, s->loc);   /* its change, for the logs */
        if (s->path->root == RC_ROOT_LOCAL) {
            /* Below an each block's element (the checker allows only the
             * innermost one). */
            rv_opcode op = s->kind == RC_S_SET       ? RV_OP_SET_EL
                           : s->kind == RC_S_DEFAULT ? RV_OP_DEFAULT_EL
                           : s->kind == RC_S_APPEND  ? RV_OP_APPEND_EL
                                                     : RV_OP_UNSET_EL;
            uint32_t path = add_path(g, s->path->u.path.segs, 1, s->path->u.path.nseg);
            if (path > RV_MAX_BX)
                too_big(g, s->loc, "paths");
            emit(g, RV_MAKE_ABX(op, s->path->index, path & RV_MAX_BX));
            break;
        }
        rv_opcode op = s->kind == RC_S_SET       ? RV_OP_SET
                       : s->kind == RC_S_DEFAULT ? RV_OP_DEFAULT
                       : s->kind == RC_S_APPEND  ? RV_OP_APPEND
                                                 : RV_OP_UNSET;
        emit_ax(g, op, target(g, s->path), s->loc);
        break;
    }
    case RC_S_TAGS: {
        uint32_t path;
        if (s->path) {
            path = target(g, s->path);
        } else {
            static const rc_seg tags[2] = {
                {false, "configuration", 13, 0, {0, 0, 0, 0}, NULL},
                {false, "tags", 4, 0, {0, 0, 0, 0}, NULL},
            };
            path = add_path(g, tags, 0, 2);
        }
        for (size_t i = 0; i < s->ntags; i++) {
            const rc_map_entry *t = &s->tags[i];
            gen_const(g, rv_new_string(g->arena, t->key, t->klen), t->key_loc);
            gen_expr(g, t->value);
            g->line = t->key_loc.first_line;
            if (s->secret_parts && s->secret_parts[i])
                emit_ax(g, RV_OP_SECRET, 0, s->loc);
            emit_ax(g, RV_OP_TAG, path, s->loc);
        }
        break;
    }
    case RC_S_FORBID:
    case RC_S_WARN: {
        uint32_t skip = 0;
        if (s->cond) {
            gen_expr(g, s->cond);
            skip = emit_ax(g, RV_OP_JFALSE, 0, s->loc);
            cover_point(g, true, skip, s->cond->loc);
        }
        gen_message(g, s);
        g->line = s->loc.first_line;
        emit(g, s->kind == RC_S_FORBID ? RV_OP_FORBID : RV_OP_WARN);
        if (s->cond)
            patch_here(g, skip, s->loc);
        break;
    }
    case RC_S_EACH:
        gen_each(g, s);
        break;
    case RC_S_MATCH: {
        gen_expr(g, s->cond);
        uint32_t to_else = emit_ax(g, RV_OP_JFALSE, 0, s->loc);
        cover_point(g, true, to_else, s->cond->loc);
        gen_block(g, s->body);
        if (s->else_body) {
            g->line = s->else_loc.first_line ? s->else_loc.first_line : s->loc.first_line;
            uint32_t to_end = emit_ax(g, RV_OP_JMP, 0, s->loc);
            patch_here(g, to_else, s->loc);
            gen_block(g, s->else_body);
            patch_here(g, to_end, s->loc);
        } else {
            patch_here(g, to_else, s->loc);
        }
        break;
    }
    }
}

/* each v in LIST { body }  =>  EACH_IN root,P; EACH_BEGIN slot,exit; body;
 * EACH_NEXT slot,back. The list's path is from the spec, or from the
 * element of the enclosing block whose variable starts it. each k, v in
 * MAP { body } is the same with EACH_PAIRS, and k reads as KEY slot. */
static void gen_each(gen *g, const rc_stmt *s)
{
    const rc_expr *over = s->value;
    bool local = over->root == RC_ROOT_LOCAL;
    uint32_t root = local ? over->index + 1 : 0;
    uint32_t path = add_path(g, over->u.path.segs, local ? 1 : 0, over->u.path.nseg);
    if (path > RV_MAX_BX)
        too_big(g, s->loc, "paths");
    emit(g, RV_MAKE_ABX(RV_OP_EACH_IN, root, path & RV_MAX_BX));
    rv_opcode op = s->key_var ? RV_OP_EACH_PAIRS : RV_OP_EACH_BEGIN;
    uint32_t begin = emit(g, RV_MAKE_ABX(op, s->slot, 0));
    gen_block(g, s->body);
    g->line = s->loc.first_line;
    uint32_t next = g->p->ncode;
    uint32_t back = next - (begin + 1);
    uint32_t exit = next - begin;
    if (back > RV_MAX_BX || exit > RV_MAX_BX)
        too_big(g, s->loc, "instructions in one each block");
    emit(g, RV_MAKE_ABX(RV_OP_EACH_NEXT, s->slot, back & RV_MAX_BX));
    g->p->code[begin] = RV_MAKE_ABX(op, s->slot, exit & RV_MAX_BX);
}

static void gen_block(gen *g, const rc_stmt *s)
{
    for (; s; s = s->next)
        gen_stmt(g, s);
}

/* ---- kinds ---- */

static bool has_kind(const rv_policy *p, const char *k)
{
    for (uint32_t i = 0; i < p->nkinds; i++)
        if (strcmp(p->kinds[i], k) == 0)
            return true;
    return false;
}

/* The policy's kinds are the union of its `on` blocks' kinds; an `on *`
 * anywhere means every kind (nkinds = 0). */
static bool collect_kinds(gen *g, const rc_file *f, bool *every)
{
    *every = false;
    size_t total = 0;
    for (const rc_on *on = f->ons; on; on = on->next)
        for (size_t i = 0; i < on->nkinds; i++) {
            total++;
            if (strcmp(on->kinds[i].name, "*") == 0)
                *every = true;
        }
    if (*every)
        return true;
    g->p->kinds = ru_arena_alloc(g->arena, (total ? total : 1) * sizeof(char *));
    if (!g->p->kinds)
        return false;
    for (const rc_on *on = f->ons; on; on = on->next)
        for (size_t i = 0; i < on->nkinds; i++)
            if (!has_kind(g->p, on->kinds[i].name))
                g->p->kinds[g->p->nkinds++] = on->kinds[i].name;
    return true;
}

/* Whether an `on` block covers every kind the policy runs for, so that it
 * needs no test of $kind at run time. */
static bool block_covers_policy(const rc_on *on, const rv_policy *p, bool every)
{
    for (size_t i = 0; i < on->nkinds; i++)
        if (strcmp(on->kinds[i].name, "*") == 0)
            return true;
    if (every)
        return false;
    for (uint32_t k = 0; k < p->nkinds; k++) {
        bool found = false;
        for (size_t i = 0; i < on->nkinds && !found; i++)
            found = strcmp(on->kinds[i].name, p->kinds[k]) == 0;
        if (!found)
            return false;
    }
    return true;
}

rv_policy *rc_codegen(const rc_checked *c, ru_arena *arena, rc_diags *diags)
{
    return rc_codegen_map(c, arena, diags, NULL);
}

rv_policy *rc_codegen_map(const rc_checked *c, ru_arena *arena, rc_diags *diags,
                          rc_cover_map *map)
{
    const rc_file *f = c->file;
    rv_policy *p = ru_arena_alloc(arena, sizeof *p);
    if (!p)
        return NULL;
    memset(p, 0, sizeof *p);
    gen g = {arena, diags, f->src, p, 0, 0, 0, 0, 0, 1, false, map, 0, 0};
    if (map)
        memset(map, 0, sizeof *map);

    p->name = c->name;
    p->target = c->target;
    p->source = f->src->name;
    p->priority = c->priority;
    p->nslots = c->nslots;
    p->nparams = (uint32_t)c->nparams;
    p->params = ru_arena_alloc(arena, (c->nparams ? c->nparams : 1) * sizeof *p->params);
    if (!p->params)
        return NULL;
    for (size_t i = 0; i < c->nparams; i++) {
        p->params[i].name = c->params[i]->name;
        p->params[i].value = c->param_values[i];
        p->params[i].json = NULL;
    }

    bool every;
    if (!collect_kinds(&g, f, &every))
        return NULL;

    for (const rc_on *on = f->ons; on; on = on->next) {
        g.line = on->loc.first_line;
        uint32_t skip = 0;
        bool guarded = !block_covers_policy(on, p, every);
        if (guarded) {
            /* $kind in [the block's kinds] */
            rv_node *kinds = rv_new_array(arena, (uint32_t)on->nkinds);
            for (size_t i = 0; kinds && i < on->nkinds; i++)
                rv_array_push(arena, kinds, rv_new_string(arena, on->kinds[i].name, strlen(on->kinds[i].name)));
            emit_ax(&g, RV_OP_CTX, RV_CTX_KIND, on->loc);
            gen_const(&g, kinds, on->loc);
            emit(&g, RV_OP_IN);
            skip = emit_ax(&g, RV_OP_JFALSE, 0, on->loc);
        }
        gen_block(&g, on->body);
        if (guarded)
            patch_here(&g, skip, on->loc);
    }
    g.line = 0;
    emit(&g, RV_OP_HALT);
    if (g.failed) {
        if (diags->nerrors == 0)
            rc_diag(diags, RC_ERROR, NULL, (rc_loc){0, 0, 0, 0}, "out of memory while generating code");
        return NULL;
    }
    return p;
}
