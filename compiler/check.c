/* check.c - the checker: everything the contract's "Checking" section asks
 * SPDX-License-Identifier: Apache-2.0
 * of a parsed policy, before any code is generated.
 *
 * It resolves `$` names and quantifier variables, checks functions and
 * arities, regexes (with PCRE2, at the column PCRE2 reports), literal type
 * errors, writes to `$` names, duplicate headers and parameters, and warns
 * about statements that can never run. Message templates are split here.
 */
#include "compile.h"
#include "escape.h"
#include "lint.h"
#include "opcodes.h"
#include "parse.h"
#include "schema.h"
#include "secret.h"
#include "suggest.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_KINDS 16   /* kinds of one target */
#define MAX_ENDED 32   /* ended variables remembered for diagnostics */

typedef struct scope {
    const char *vars[RV_SLOTS_MAX];
    const char *keys[RV_SLOTS_MAX];   /* `each KEY, VALUE in MAP`: the key's name; else NULL */
    rc_shape *shapes[RV_SLOTS_MAX];   /* per block kind: what the variable visits */
    bool witness[RV_SLOTS_MAX];       /* a closed quantifier's variable, read in a message */
    uint32_t depth;
} scope;

/* Inside `match PATH == "v" { ... }` (and its else), the object holding
 * PATH's last field is narrowed to the members of its union whose field
 * can (cannot) be "v", the way TypeScript narrows a discriminated union. */
#define MAX_NARROW 16
typedef struct narrowing {
    const rc_expr *path;      /* the compared path; its parent is narrowed */
    const char *value;
    bool negated;             /* the else branch */
    rc_shape shapes[MAX_KINDS];
} narrowing;

typedef struct checker {
    rc_checked *out;
    const rc_source *src;
    ru_arena *arena;
    rc_diags *diags;
    scope sc;
    const rc_check_env *env;
    const rc_target *target;
    /* The kinds the current `on` block applies to, and the shape of each
     * one's whole document (none when the target has no schemas). */
    const rc_target_kind *kinds[MAX_KINDS];
    rc_shape roots[MAX_KINDS];
    /* The target's $request schema (request.any when it has none). */
    rc_shape request;
    size_t nkinds;
    narrowing narrow[MAX_NARROW];
    size_t nnarrow;
    /* The quantifiers closed so far in the current statement: a path
     * named like one of their variables after it ends gets a hint. */
    const rc_expr *closed[RV_SLOTS_MAX];
    size_t nclosed;
    /* Variables whose block or quantifier has ended, in this policy (the
     * latest MAX_ENDED): a path that starts with one's name reads the spec,
     * which is rarely what was meant, so the diagnostics say whose it was. */
    struct ended_var {
        const char *name;
        const char *what;   /* "each block", "quantifier" */
        rc_loc loc;
    } ended[MAX_ENDED];
    size_t nended;
    bool in_template;        /* checking a message template's {...} */
    bool target_named;       /* the header names the target */
    /* The statements of the block being checked (for sibling lookups). */
    const rc_stmt *block;
} checker;

static const char *const ctx_names[RV_CTX__COUNT] = {"user", "project", "kind", "request"};

static void error(checker *c, rc_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void error(checker *c, rc_loc loc, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rc_diag(c->diags, RC_ERROR, c->src, loc, "%s", msg);
}

/* ---- literal values ---- */

bool rc_is_literal(const rc_expr *e)
{
    switch (e->kind) {
    case RC_E_NULL: case RC_E_BOOL: case RC_E_INT: case RC_E_FLOAT: case RC_E_STRING:
        return true;
    case RC_E_LIST:
        for (size_t i = 0; i < e->u.list.n; i++)
            if (!rc_is_literal(e->u.list.items[i]))
                return false;
        return true;
    case RC_E_MAP:
        for (size_t i = 0; i < e->u.map.n; i++)
            if (!rc_is_literal(e->u.map.entries[i].value))
                return false;
        return true;
    case RC_E_UNARY:
        return e->u.op.op == RC_OP_NEG &&
               (e->u.op.lhs->kind == RC_E_INT || e->u.op.lhs->kind == RC_E_FLOAT);
    default:
        return false;
    }
}

rv_node *rc_literal_value(const rc_expr *e, ru_arena *a)
{
    switch (e->kind) {
    case RC_E_NULL: return rv_new_null(a);
    case RC_E_BOOL: return rv_new_bool(a, e->u.b);
    case RC_E_INT: return rv_new_int(a, e->u.i);
    case RC_E_FLOAT: return rv_new_float(a, e->u.f);
    case RC_E_STRING: return rv_new_string(a, e->u.str.value, e->u.str.len);
    case RC_E_UNARY: {
        const rc_expr *x = e->u.op.lhs;
        if (x->kind == RC_E_INT)
            return x->u.i == INT64_MIN ? rv_new_float(a, 9223372036854775808.0)
                                       : rv_new_int(a, -x->u.i);
        return rv_new_float(a, -x->u.f);
    }
    case RC_E_LIST: {
        rv_node *l = rv_new_array(a, (uint32_t)(e->u.list.n ? e->u.list.n : 1));
        for (size_t i = 0; l && i < e->u.list.n; i++) {
            rv_node *v = rc_literal_value(e->u.list.items[i], a);
            if (!v || !rv_array_push(a, l, v))
                return NULL;
        }
        return l;
    }
    case RC_E_MAP: {
        rv_node *m = rv_new_object(a, (uint32_t)(e->u.map.n ? e->u.map.n : 1));
        for (size_t i = 0; m && i < e->u.map.n; i++) {
            const rc_map_entry *en = &e->u.map.entries[i];
            rv_node *v = rc_literal_value(en->value, a);
            if (!v)
                return NULL;
            rv_member *dup = rv_object_find(m, en->key, en->klen);
            if (dup)
                dup->value = v;
            else if (!rv_object_push(a, m, en->key, en->klen, v))
                return NULL;
        }
        return m;
    }
    default:
        return NULL;
    }
}

/* The type name of a literal as users see it; NULL when not a literal. */
static const char *literal_type(const rc_expr *e)
{
    switch (e->kind) {
    case RC_E_NULL: return "null";
    case RC_E_BOOL: return "bool";
    case RC_E_INT: return "number";
    case RC_E_FLOAT: return "number";
    case RC_E_STRING: return "string";
    case RC_E_LIST: return "list";
    case RC_E_MAP: return "map";
    case RC_E_UNARY:
        return rc_is_literal(e) ? "number" : NULL;
    default:
        return NULL;
    }
}

/* Literal type errors the checker can see: an operation on two literals
 * whose types can never work (`"a" < 3`, `"a" - 1`, `1 in 2`). */
static void check_literal_types(checker *c, rc_expr *e)
{
    const char *lt = literal_type(e->u.op.lhs), *rt = literal_type(e->u.op.rhs);
    if (!lt || !rt)
        return;
    bool bad = false;
    switch (e->u.op.op) {
    case RC_OP_LT: case RC_OP_LE: case RC_OP_GT: case RC_OP_GE:
        bad = strcmp(lt, rt) != 0 || (strcmp(lt, "number") != 0 && strcmp(lt, "string") != 0);
        break;
    case RC_OP_ADD: {
        /* As the VM defines +: numbers, strings, lists and maps (merged)
         * with their own kind; null with a list or a map gives that. */
        bool collection_and_null = (strcmp(lt, "null") == 0 && (strcmp(rt, "list") == 0 || strcmp(rt, "map") == 0)) ||
                                   (strcmp(rt, "null") == 0 && (strcmp(lt, "list") == 0 || strcmp(lt, "map") == 0));
        bad = !collection_and_null &&
              (strcmp(lt, rt) != 0 || (strcmp(lt, "number") != 0 && strcmp(lt, "string") != 0 &&
                                       strcmp(lt, "list") != 0 && strcmp(lt, "map") != 0));
        break;
    }
    case RC_OP_SUB: case RC_OP_MUL: case RC_OP_DIV: case RC_OP_MOD:
        bad = strcmp(lt, "number") != 0 || strcmp(rt, "number") != 0;
        break;
    case RC_OP_IN:
        bad = strcmp(rt, "list") != 0 && strcmp(rt, "map") != 0 &&
              !(strcmp(rt, "string") == 0 && strcmp(lt, "string") == 0);
        break;
    default:
        break;
    }
    if (!bad)
        return;
    char msg[160];
    snprintf(msg, sizeof msg, "type error: '%s' cannot be applied to a %s and a %s",
             rc_op_text(e->u.op.op), lt, rt);
    rc_diag(c->diags, RC_ERROR, c->src, e->loc, "%s", msg);
}

/* ---- expressions ---- */

static void check_expr(checker *c, rc_expr *e);

static bool find_param(const rc_checked *out, const char *name, uint32_t *index)
{
    for (size_t i = 0; i < out->nparams; i++)
        if (strcmp(out->params[i]->name, name) == 0) {
            *index = (uint32_t)i;
            return true;
        }
    return false;
}

/* Appends a path's display form up to segment n (not included). */
static void path_text(ru_buf *b, const rc_expr *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const rc_seg *g = &e->u.path.segs[i];
        if (g->expr)
            ru_buf_puts(b, "[...]");   /* a computed key */
        else if (g->is_index)
            ru_buf_printf(b, "[%lld]", (long long)g->index);
        else if (rv_is_ident(g->key, g->klen))
            ru_buf_printf(b, "%s%s", i ? "." : "", g->key);
        else {
            ru_buf_puts(b, "[");
            ru_buf_json_string(b, g->key, g->klen);
            ru_buf_puts(b, "]");
        }
    }
}

/* Whether two paths' first n segments are the same keys and indices
 * (computed keys are never known to be the same). */
static bool same_prefix(const rc_expr *a, const rc_expr *b, size_t n)
{
    if (a->u.path.nseg < n || b->u.path.nseg < n)
        return false;
    for (size_t i = 0; i < n; i++) {
        const rc_seg *x = &a->u.path.segs[i], *y = &b->u.path.segs[i];
        if (x->expr || y->expr)
            return false;
        if (x->is_index != y->is_index || (x->is_index ? x->index != y->index
                                                       : x->klen != y->klen || memcmp(x->key, y->key, x->klen)))
            return false;
    }
    return true;
}

/* The innermost narrowing of the object e reaches after i segments. */
static const narrowing *narrowed(const checker *c, const rc_expr *e, size_t i)
{
    for (size_t n = c->nnarrow; n-- > 0;) {
        const narrowing *nw = &c->narrow[n];
        if (nw->path->u.path.nseg == i + 1 && same_prefix(nw->path, e, i))
            return nw;
    }
    return NULL;
}

static void narrowing_text(checker *c, const narrowing *nw, char *out, size_t size)
{
    ru_buf b;
    ru_buf_init(&b, c->arena->alloc, c->arena->ud);
    path_text(&b, nw->path, nw->path->u.path.nseg);
    ru_buf_terminate(&b);
    snprintf(out, size, " where %s %s \"%s\"", b.data ? b.data : "", nw->negated ? "!=" : "==", nw->value);
    ru_buf_free(&b);
}

/* Remembers that the variable name (of the each block or quantifier at
 * loc) has gone out of scope. */
static void var_ended(checker *c, const char *name, const char *what, rc_loc loc)
{
    if (c->nended == MAX_ENDED) {
        memmove(c->ended, c->ended + 1, (MAX_ENDED - 1) * sizeof c->ended[0]);
        c->nended--;
    }
    c->ended[c->nended++] = (struct ended_var){name, what, loc};
}

/* The latest ended variable called name, or NULL. */
static const struct ended_var *ended_var(const checker *c, const char *name)
{
    for (size_t i = c->nended; i-- > 0;)
        if (strcmp(c->ended[i].name, name) == 0)
            return &c->ended[i];
    return NULL;
}

/* A quantifier of the current statement, closed already, whose variable
 * is NAME. */
static const rc_expr *closed_quantifier(const checker *c, const char *name)
{
    for (size_t i = c->nclosed; i-- > 0;)
        if (strcmp(c->closed[i]->u.quant.var, name) == 0)
            return c->closed[i];
    return NULL;
}

/* Walks e's segments through the shapes of each block kind; out[k] gets
 * the shape at the end. With report, an impossible step is an error at the
 * segment, once per path (at the first kind it fails in). Returns false
 * when a step failed. */
static bool path_shapes(checker *c, const rc_expr *e, rc_shape *out, bool report)
{
    size_t first;
    for (size_t k = 0; k < c->nkinds; k++) {
        if (e->root == RC_ROOT_SPEC) {
            out[k] = c->roots[k];
            first = 0;
        } else if ((e->root == RC_ROOT_LOCAL || e->root == RC_ROOT_WITNESS) &&
                   c->sc.shapes[e->index]) {
            out[k] = c->sc.shapes[e->index][k];
            first = 1;
        } else if (e->root == RC_ROOT_CTX && e->index == RV_CTX_REQUEST) {
            out[k] = c->request;  /* the same for every kind of the target */
            first = 0;
        } else {
            out[k] = rc_shape_any();
            continue;
        }
        const narrowing *by = NULL;
        for (size_t i = first; i < e->u.path.nseg && !out[k].any; i++) {
            const rc_seg *g = &e->u.path.segs[i];
            if (e->root == RC_ROOT_SPEC) {
                const narrowing *nw = narrowed(c, e, i);
                if (nw) {
                    out[k] = nw->shapes[k];
                    by = nw;
                }
            }
            /* A computed key may name any item of a list or any field of
             * an object: what a quantifier would visit there. */
            rc_shape next = g->expr ? rc_shape_elements(&out[k], c->arena)
                                    : rc_shape_step(&out[k], g->is_index ? NULL : g->key, g->klen, c->arena);
            if (next.any || next.n) {
                out[k] = next;
                continue;
            }
            const rc_expr *q = i == 0 && e->root == RC_ROOT_SPEC && !g->is_index && !g->expr
                                   ? closed_quantifier(c, g->key)
                                   : NULL;
            if (report && e->root == RC_ROOT_CTX) {
                /* $request.FIELD: the same schema for every kind. */
                ru_buf where;
                ru_buf_init(&where, c->arena->alloc, c->arena->ud);
                path_text(&where, e, i);
                ru_buf_terminate(&where);
                const char *names[64];
                size_t nn = g->is_index || g->expr ? 0 : rc_shape_fields(&out[k], names, 64);
                const char *hint = nn ? rc_suggest(g->key, names, nn) : NULL;
                error(c, g->loc, "unknown field '%s' in $request%s%s (what target %s passes of a "
                      "request)%s%s%s", g->key && !g->is_index ? g->key : "[...]",
                      where.len ? "." : "", where.len ? where.data : "", c->target->name,
                      hint ? "; did you mean '" : "", hint ? hint : "", hint ? "'?" : "");
                ru_buf_free(&where);
                return false;
            } else if (report && q && q->u.quant.q == RC_Q_SUM) {
                error(c, g->loc, "'%s' is the variable of the sum at %d:%d, which ends with its "
                      "term: it names nothing after it", g->key, q->loc.first_line, q->loc.first_column);
            } else if (report && q && !c->in_template) {
                error(c, g->loc, "'%s' is the variable of the quantifier at %d:%d, which ends with "
                      "its condition: it names nothing after it", g->key, q->loc.first_line,
                      q->loc.first_column);
            } else if (report && q) {
                error(c, g->loc, "'%s' is the variable of the quantifier at %d:%d, which ends with "
                      "its condition; a message names the element it stopped at only when the "
                      "whole condition is 'any %s in ...' or 'not (all %s in ...)' (not a "
                      "quantifier inside one); use an each block to name every element", g->key,
                      q->loc.first_line, q->loc.first_column, g->key, g->key);
            } else if (report) {
                ru_buf where;
                ru_buf_init(&where, c->arena->alloc, c->arena->ud);
                path_text(&where, e, i);
                ru_buf_terminate(&where);
                const char *at = where.len ? where.data : NULL;
                const char *kind = c->kinds[k]->name;
                if (!g->is_index && !g->expr && rc_shape_has_fields(&out[k])) {
                    const char *names[256];
                    size_t nn = rc_shape_fields(&out[k], names, 256);
                    const char *hint = rc_suggest(g->key, names, nn);
                    /* A field of another form of a narrowed union: say so,
                     * rather than suggest a look-alike of this form. */
                    if (by) {
                        rc_shape whole = c->roots[k];
                        for (size_t j = 0; j < i && (whole.any || whole.n); j++) {
                            const rc_seg *h = &e->u.path.segs[j];
                            whole = h->expr ? rc_shape_elements(&whole, c->arena)
                                            : rc_shape_step(&whole, h->is_index ? NULL : h->key, h->klen, c->arena);
                        }
                        rc_shape there = rc_shape_step(&whole, g->key, g->klen, c->arena);
                        if (there.any || there.n)
                            hint = NULL;
                    }
                    bool vowel = strchr("aeiou", kind[0]) != NULL;
                    char where_narrowed[300] = "", out_of_scope[300] = "";
                    if (by)
                        narrowing_text(c, by, where_narrowed, sizeof where_narrowed);
                    const struct ended_var *ev = i == 0 && e->root == RC_ROOT_SPEC ? ended_var(c, g->key) : NULL;
                    if (ev) {
                        snprintf(out_of_scope, sizeof out_of_scope, "; '%s' was the variable of the %s at "
                                 "%d:%d, which is in scope only inside it", g->key, ev->what,
                                 ev->loc.first_line, ev->loc.first_column);
                        hint = NULL;
                    }
                    error(c, g->loc, "unknown field '%s' in %s%s%s %s spec%s%s%s%s%s%s", g->key, at ? at : "",
                          at ? " of " : "", vowel ? "an" : "a", kind, where_narrowed,
                          hint ? "; did you mean '" : "", hint ? hint : "", hint ? "'?" : "",
                          by && !hint && !ev ? "; it is not there in that form" : "", out_of_scope);
                } else {
                    ru_buf what;
                    ru_buf_init(&what, c->arena->alloc, c->arena->ud);
                    rc_shape_describe(&out[k], &what);
                    ru_buf_terminate(&what);
                    if (g->expr)
                        error(c, g->loc, "cannot index %s with a computed key: in a %s spec it is %s, "
                              "not a list or an object", at ? at : "the spec", kind, what.data);
                    else if (g->is_index)
                        error(c, g->loc, "cannot index %s with [%lld]: in a %s spec it is %s, not a list",
                              at ? at : "the spec", (long long)g->index, kind, what.data);
                    else
                        error(c, g->loc, "'%s' cannot be a field of %s: in a %s spec it is %s", g->key,
                              at ? at : "the spec", kind, what.data);
                    ru_buf_free(&what);
                }
                ru_buf_free(&where);
            }
            return false;
        }
    }
    return true;
}

/* An unknown `$name`: the closest of $user, $project, $kind and the
 * policy's parameters, when one is close (`$usr`, `$max_gpu`). */
static void unknown_dollar(checker *c, const rc_expr *e)
{
    const char *names[RV_CTX__COUNT + 64];
    size_t n = 0;
    for (uint32_t i = 0; i < RV_CTX__COUNT; i++)
        names[n++] = ctx_names[i];
    for (size_t i = 0; i < c->out->nparams && n < sizeof names / sizeof *names; i++)
        names[n++] = c->out->params[i]->name;
    const char *hint = rc_suggest(e->u.path.dollar, names, n);
    if (hint)
        error(c, e->u.path.dollar_loc, "unknown name '$%s'; did you mean '$%s'?", e->u.path.dollar, hint);
    else
        error(c, e->u.path.dollar_loc,
              "unknown name '$%s' (known: $user, $project, $kind, $request and this policy's "
              "parameters)",
              e->u.path.dollar);
}

static unsigned expr_types(checker *c, const rc_expr *e);

/* Whether a path has a computed key ([expr]) anywhere. */
static bool has_computed(const rc_expr *e)
{
    for (size_t i = 0; i < e->u.path.nseg; i++)
        if (e->u.path.segs[i].expr)
            return true;
    return false;
}

/* The expressions of computed keys: checked like any other, and their
 * type must allow a string (a map's key) or an integer (a list's index);
 * any other key stops the decision at run time. */
static void check_keys(checker *c, rc_expr *e)
{
    for (size_t i = 0; i < e->u.path.nseg; i++) {
        rc_expr *k = e->u.path.segs[i].expr;
        if (!k)
            continue;
        int before = c->diags->nerrors;
        check_expr(c, k);
        unsigned t = expr_types(c, k);
        if (c->diags->nerrors != before || (t & (RC_T_STRING | RC_T_INT)))
            continue;   /* reported already (an unknown name has no type) */
        ru_buf what;
        ru_buf_init(&what, c->arena->alloc, c->arena->ud);
        rc_types_describe(t, &what);
        ru_buf_terminate(&what);
        error(c, k->loc, "a key in brackets must be a string (a key of a map) or an integer (an index "
              "of a list), and this one is %s", what.data ? what.data : "neither");
        ru_buf_free(&what);
    }
}

/* $request.FIELD: typed by the target's $request schema; a target whose
 * hosts pass nothing more has no $request (it would read null). */
static void check_request_path(checker *c, const rc_expr *e)
{
    if (c->target && c->target->nkinds && !c->target->request_schema) {
        error(c, e->u.path.dollar_loc, "target %s has no $request: its hosts pass $user, $project "
              "and $kind only", c->target->name);
        return;
    }
    rc_shape shapes[MAX_KINDS];
    path_shapes(c, e, shapes, true);
}

static void check_path(checker *c, rc_expr *e)
{
    check_keys(c, e);
    if (e->u.path.dollar) {
        const char *name = e->u.path.dollar;
        for (uint32_t i = 0; i < RV_CTX__COUNT; i++)
            if (strcmp(name, ctx_names[i]) == 0) {
                e->root = RC_ROOT_CTX;
                e->index = i;
                if (i == RV_CTX_REQUEST)
                    check_request_path(c, e);
                return;
            }
        if (find_param(c->out, name, &e->index)) {
            e->root = RC_ROOT_PARAM;
            return;
        }
        unknown_dollar(c, e);
        return;
    }
    const rc_seg *root = &e->u.path.segs[0];
    e->root = RC_ROOT_SPEC;
    for (uint32_t d = c->sc.depth; d-- > 0;) {
        if (root->is_index || !root->key)
            break;
        if (strcmp(c->sc.vars[d], root->key) == 0) {
            e->root = c->sc.witness[d] ? RC_ROOT_WITNESS : RC_ROOT_LOCAL;
            e->index = d;
            break;
        }
        if (c->sc.keys[d] && strcmp(c->sc.keys[d], root->key) == 0) {
            e->root = RC_ROOT_KEY;
            e->index = d;
            break;
        }
    }
    if (e->root == RC_ROOT_KEY) {
        /* A key is a string: there is nothing below it to read. */
        if (e->u.path.nseg > 1)
            error(c, e->u.path.segs[1].loc, "'%s' is a map key, a string: it has no fields or "
                  "items (the value is '%s')", root->key, c->sc.vars[e->index]);
        return;
    }
    /* With no schema to refuse it, a path named like a variable whose
     * scope ended reads a spec field of that name: say so. */
    const struct ended_var *ev;
    if (e->root == RC_ROOT_SPEC && !c->nkinds && root->key && !root->is_index && (ev = ended_var(c, root->key)))
        rc_diag(c->diags, RC_WARNING, c->src, root->loc, "'%s' here is a field of the spec: the variable "
                "'%s' of the %s at %d:%d is in scope only inside it", root->key, root->key, ev->what,
                ev->loc.first_line, ev->loc.first_column);
    rc_shape shapes[MAX_KINDS];
    path_shapes(c, e, shapes, true);
}

/* ---- values against the schema ---- */

/* The type of e when the checker knows it for sure: literals, and
 * parameters (an override must have its default's type); 0 otherwise. */
static unsigned known_type(const checker *c, const rc_expr *e)
{
    switch (e->kind) {
    case RC_E_NULL: return RC_T_NULL;
    case RC_E_BOOL: return RC_T_BOOL;
    case RC_E_INT: return RC_T_INT;
    case RC_E_FLOAT: return RC_T_FLOAT;
    case RC_E_STRING: return RC_T_STRING;
    case RC_E_LIST: return RC_T_LIST;
    case RC_E_MAP: return RC_T_MAP;
    case RC_E_UNARY:
        return rc_is_literal(e) ? known_type(c, e->u.op.lhs) : 0;
    case RC_E_PATH:
        if (e->root == RC_ROOT_KEY)
            return RC_T_STRING;
        if (e->root == RC_ROOT_PARAM && e->u.path.nseg == 0 && e->index < c->out->nparams) {
            const rv_node *v = c->out->param_values[e->index];
            static const unsigned bits[] = {RC_T_NULL, RC_T_BOOL, RC_T_INT, RC_T_FLOAT,
                                            RC_T_STRING, RC_T_LIST, RC_T_MAP};
            /* A null default takes any override. */
            return v && v->type != RV_NULL && v->type < 7 ? bits[v->type] : 0;
        }
        return 0;
    default:
        return 0;
    }
}

static void path_display(checker *c, const rc_expr *path, ru_buf *b)
{
    ru_buf_init(b, c->arena->alloc, c->arena->ud);
    path_text(b, path, path->u.path.nseg);
    ru_buf_terminate(b);
}

/* A string literal compared with, or written to, a path whose strings are
 * enumerated must be one of them: `spot_policy == "spott"` would never be
 * true. Returns false when it reported. */
static bool check_enum(checker *c, const rc_expr *path, const rc_shape *shapes, const rc_expr *lit,
                       bool write)
{
    for (size_t k = 0; k < c->nkinds; k++) {
        bool enumerated;
        const char *names[64];
        size_t nn;
        if (rc_shape_admits_string(&shapes[k], lit->u.str.value, lit->u.str.len, &enumerated, names, 64,
                                   &nn) || !enumerated)
            continue;
        ru_buf where, list;
        path_display(c, path, &where);
        ru_buf_init(&list, c->arena->alloc, c->arena->ud);
        for (size_t i = 0; i < nn; i++) {
            ru_buf_puts(&list, i ? ", " : "");
            ru_buf_json_string(&list, names[i], strlen(names[i]));
        }
        ru_buf_terminate(&list);
        const char *hint = rc_suggest(lit->u.str.value, names, nn);
        error(c, lit->loc, "%s of a %s spec %s one of %s, not \"%s\"%s%s%s", where.data,
              c->kinds[k]->name, write ? "takes" : "is", list.data, lit->u.str.value,
              hint ? "; did you mean \"" : "", hint ? hint : "", hint ? "\"?" : "");
        ru_buf_free(&where);
        ru_buf_free(&list);
        return false;
    }
    return true;
}

/* Reports a value that cannot go where shapes (one per block kind) say:
 * its type, an enumerated string, and for list and map literals every item
 * and member, recursively (a map literal's key must be a field there).
 * what names the place ("configuration.max_price"). Returns false when it
 * reported. */
static bool check_value_fits(checker *c, const char *what, const rc_shape *shapes, const rc_expr *value)
{
    unsigned vt = expr_types(c, value);
    if (vt == RC_T_ANY || (vt & RC_T_NULL && value->kind != RC_E_NULL))
        return true;  /* not known for sure (a path may be missing: null) */
    for (size_t k = 0; k < c->nkinds; k++) {
        unsigned ok = rc_shape_types(&shapes[k]);
        if (ok == RC_T_ANY)
            continue;
        if (!(vt & ok)) {
            ru_buf want, got;
            ru_buf_init(&want, c->arena->alloc, c->arena->ud);
            ru_buf_init(&got, c->arena->alloc, c->arena->ud);
            rc_types_describe(ok, &want);
            rc_types_describe(vt, &got);
            ru_buf_terminate(&want);
            ru_buf_terminate(&got);
            error(c, value->loc, "%s of a %s spec takes %s, not %s", what, c->kinds[k]->name, want.data,
                  got.data);
            ru_buf_free(&want);
            ru_buf_free(&got);
            return false;
        }
        if (value->kind == RC_E_STRING) {
            bool enumerated;
            const char *names[64];
            size_t nn;
            if (!rc_shape_admits_string(&shapes[k], value->u.str.value, value->u.str.len, &enumerated, names,
                                        64, &nn) && enumerated) {
                ru_buf list;
                ru_buf_init(&list, c->arena->alloc, c->arena->ud);
                for (size_t i = 0; i < nn; i++) {
                    ru_buf_puts(&list, i ? ", " : "");
                    ru_buf_json_string(&list, names[i], strlen(names[i]));
                }
                ru_buf_terminate(&list);
                const char *hint = rc_suggest(value->u.str.value, names, nn);
                error(c, value->loc, "%s of a %s spec takes one of %s, not \"%s\"%s%s%s", what,
                      c->kinds[k]->name, list.data, value->u.str.value, hint ? "; did you mean \"" : "",
                      hint ? hint : "", hint ? "\"?" : "");
                ru_buf_free(&list);
                return false;
            }
        }
    }
    char inner[512];
    if (value->kind == RC_E_LIST) {
        rc_shape items[MAX_KINDS];
        for (size_t k = 0; k < c->nkinds; k++)
            items[k] = rc_shape_step(&shapes[k], NULL, 0, c->arena);
        for (size_t i = 0; i < value->u.list.n; i++) {
            snprintf(inner, sizeof inner, "an item of %s", what);
            if (!check_value_fits(c, inner, items, value->u.list.items[i]))
                return false;
        }
    } else if (value->kind == RC_E_MAP) {
        for (size_t i = 0; i < value->u.map.n; i++) {
            const rc_map_entry *m = &value->u.map.entries[i];
            rc_shape member[MAX_KINDS];
            for (size_t k = 0; k < c->nkinds; k++) {
                member[k] = rc_shape_step(&shapes[k], m->key, m->klen, c->arena);
                if (member[k].any || member[k].n || !rc_shape_has_fields(&shapes[k]))
                    continue;
                const char *names[256];
                size_t nn = rc_shape_fields(&shapes[k], names, 256);
                const char *hint = rc_suggest(m->key, names, nn);
                error(c, m->key_loc, "unknown field '%s' in %s of a %s spec%s%s%s", m->key, what,
                      c->kinds[k]->name, hint ? "; did you mean '" : "", hint ? hint : "", hint ? "'?" : "");
                return false;
            }
            snprintf(inner, sizeof inner, "%s.%s", what, m->key);
            if (!check_value_fits(c, inner, member, m->value))
                return false;
        }
    }
    return true;
}

/* A write of a value the schema cannot accept. */
static void check_write_value(checker *c, const rc_expr *path, const rc_expr *value, bool append)
{
    if (!c->nkinds || path->kind != RC_E_PATH || path->u.path.dollar ||
        (path->root != RC_ROOT_SPEC && path->root != RC_ROOT_LOCAL))
        return;  /* a write to a $ name was reported; other roots have no schema */
    rc_shape shapes[MAX_KINDS];
    if (!path_shapes(c, path, shapes, false))
        return;  /* the path itself was reported */
    ru_buf where;
    path_display(c, path, &where);
    if (append) {
        /* append adds one item: the path must be able to be a list. */
        for (size_t k = 0; k < c->nkinds; k++) {
            unsigned ok = rc_shape_types(&shapes[k]);
            if (ok == RC_T_ANY || (ok & RC_T_LIST))
                continue;
            ru_buf want;
            ru_buf_init(&want, c->arena->alloc, c->arena->ud);
            rc_types_describe(ok, &want);
            ru_buf_terminate(&want);
            error(c, path->loc, "cannot append to %s: in a %s spec it is %s, not a list", where.data,
                  c->kinds[k]->name, want.data);
            ru_buf_free(&want);
            ru_buf_free(&where);
            return;
        }
        rc_shape items[MAX_KINDS];
        for (size_t k = 0; k < c->nkinds; k++)
            items[k] = rc_shape_step(&shapes[k], NULL, 0, c->arena);
        char what[512];
        snprintf(what, sizeof what, "an item of %s", where.data);
        check_value_fits(c, what, items, value);
    } else {
        check_value_fits(c, where.data, shapes, value);
    }
    ru_buf_free(&where);
}

/* The types e can have, as far as the checker can tell (RC_T_ANY when it
 * cannot): literals, parameters, $ names, paths from the target's schemas
 * (plus null: a missing path reads as null), and what operators and
 * functions return. */
static unsigned expr_types(checker *c, const rc_expr *e)
{
    unsigned t = known_type(c, e);
    if (t)
        return t;
    switch (e->kind) {
    case RC_E_UNARY:
        return e->u.op.op == RC_OP_NOT ? RC_T_BOOL : RC_T_INT | RC_T_FLOAT;
    case RC_E_MATCH:
        return RC_T_BOOL;
    case RC_E_QUANT:
        return e->u.quant.q == RC_Q_SUM ? RC_T_INT | RC_T_FLOAT : RC_T_BOOL;
    case RC_E_BINARY:
        switch (e->u.op.op) {
        case RC_OP_SUB: case RC_OP_MUL: case RC_OP_DIV: case RC_OP_MOD:
            return RC_T_INT | RC_T_FLOAT;
        case RC_OP_ADD:
            return RC_T_ANY;
        case RC_OP_COALESCE: {
            unsigned l = expr_types(c, e->u.op.lhs), r = expr_types(c, e->u.op.rhs);
            return l == RC_T_ANY || r == RC_T_ANY ? RC_T_ANY : (l & ~RC_T_NULL) | r;
        }
        default:
            return RC_T_BOOL;  /* comparisons, in, and, or */
        }
    case RC_E_CALL:
        switch (e->index) {
        case RV_BI_len: case RV_BI_int: return RC_T_INT;
        case RV_BI_lower: case RV_BI_upper: case RV_BI_str: return RC_T_STRING;
        case RV_BI_starts_with: case RV_BI_ends_with: case RV_BI_exists: return RC_T_BOOL;
        case RV_BI_keys: case RV_BI_values: return RC_T_LIST;
        case RV_BI_type: return RC_T_STRING;
        case RV_BI_contains: return RC_T_BOOL;
        case RV_BI_at_least: return RC_T_INT | RC_T_FLOAT | RC_T_NULL;
        case RV_BI_accelerators: return RC_T_MAP;
        default: return RC_T_ANY;
        }
    case RC_E_PATH: {
        if (e->root == RC_ROOT_CTX && e->index == RV_CTX_REQUEST) {
            rc_shape shapes[MAX_KINDS];
            if (c->request.any || !c->nkinds || !path_shapes(c, e, shapes, false))
                return RC_T_ANY;
            return rc_shape_types(&shapes[0]) | RC_T_NULL;
        }
        if (e->root == RC_ROOT_CTX)
            return e->u.path.nseg ? RC_T_ANY : RC_T_STRING;
        if (e->root == RC_ROOT_KEY)
            return RC_T_STRING;
        if ((e->root != RC_ROOT_SPEC && e->root != RC_ROOT_LOCAL && e->root != RC_ROOT_WITNESS) ||
            !c->nkinds)
            return RC_T_ANY;
        rc_shape shapes[MAX_KINDS];
        if (!path_shapes(c, e, shapes, false))
            return RC_T_ANY;
        unsigned u = RC_T_NULL;
        for (size_t k = 0; k < c->nkinds; k++)
            u |= rc_shape_types(&shapes[k]);
        return u;
    }
    default:
        return RC_T_ANY;
    }
}

/* An arithmetic operator whose operands' types can never combine (as the
 * VM defines them: docs/language.md, "Operators and types") is an error at
 * check time; at run time it would stop every decision it is reached in. */
static void check_operand_types(checker *c, const rc_expr *e)
{
    rc_op op = e->u.op.op;
    if (op != RC_OP_ADD && op != RC_OP_SUB && op != RC_OP_MUL && op != RC_OP_DIV && op != RC_OP_MOD)
        return;
    if (rc_is_literal(e->u.op.lhs) && rc_is_literal(e->u.op.rhs))
        return;  /* check_literal_types said it */
    unsigned l = expr_types(c, e->u.op.lhs), r = expr_types(c, e->u.op.rhs);
    if (l == RC_T_ANY || r == RC_T_ANY)
        return;
    const unsigned num = RC_T_INT | RC_T_FLOAT;
    bool possible = ((l & num) && (r & num));
    if (op == RC_OP_ADD)
        possible = possible || ((l & RC_T_STRING) && (r & RC_T_STRING)) || ((l & RC_T_LIST) && (r & RC_T_LIST)) ||
                   ((l & RC_T_MAP) && (r & RC_T_MAP)) || ((l & RC_T_NULL) && (r & (RC_T_LIST | RC_T_MAP))) ||
                   ((r & RC_T_NULL) && (l & (RC_T_LIST | RC_T_MAP)));
    if (possible)
        return;
    ru_buf lt, rt;
    ru_buf_init(&lt, c->arena->alloc, c->arena->ud);
    ru_buf_init(&rt, c->arena->alloc, c->arena->ud);
    rc_types_describe(l, &lt);
    rc_types_describe(r, &rt);
    ru_buf_terminate(&lt);
    ru_buf_terminate(&rt);
    error(c, e->loc, "type error: '%s' can never apply here: the left side is %s, the right side %s",
          rc_op_text(op), lt.data, rt.data);
    ru_buf_free(&lt);
    ru_buf_free(&rt);
}

/* A comparison of a spec field with a literal of a type the field never
 * has (nor null) is decided before it runs: `configuration.privileged ==
 * "true"` is always false. A warning, with the fix. */
static void check_compared_types(checker *c, const rc_expr *e)
{
    rc_op op = e->u.op.op;
    if (!c->nkinds || (op != RC_OP_EQ && op != RC_OP_NE && op != RC_OP_LT && op != RC_OP_LE &&
                       op != RC_OP_GT && op != RC_OP_GE))
        return;
    const rc_expr *path = e->u.op.lhs, *lit = e->u.op.rhs;
    if (path->kind != RC_E_PATH) {
        path = e->u.op.rhs;
        lit = e->u.op.lhs;
    }
    if (path->kind != RC_E_PATH || path->u.path.dollar ||
        (path->root != RC_ROOT_SPEC && path->root != RC_ROOT_LOCAL) || !rc_is_literal(lit) ||
        lit->kind == RC_E_NULL)
        return;
    unsigned pt = expr_types(c, path), lt = known_type(c, lit);
    if (pt == RC_T_ANY || !lt || (pt & lt))
        return;
    if ((lt & (RC_T_INT | RC_T_FLOAT)) && (pt & (RC_T_INT | RC_T_FLOAT)))
        return;
    ru_buf what, has;
    path_display(c, path, &what);
    ru_buf_init(&has, c->arena->alloc, c->arena->ud);
    rc_types_describe(pt, &has);
    ru_buf_terminate(&has);
    const char *always = op == RC_OP_NE ? "true" : "false";
    const char *fix = "";
    if ((pt & RC_T_BOOL) && lit->kind == RC_E_STRING &&
        (strcmp(lit->u.str.value, "true") == 0 || strcmp(lit->u.str.value, "false") == 0))
        fix = lit->u.str.value[0] == 't' ? "; compare with true, not \"true\"" : "; compare with false, not \"false\"";
    else if ((pt & (RC_T_INT | RC_T_FLOAT)) && lit->kind == RC_E_STRING)
        fix = "; compare with a number, without quotes";
    rc_diag(c->diags, RC_WARNING, c->src, e->loc,
            "this comparison is always %s: %s is %s, never a %s%s", always, what.data, has.data,
            lit->kind == RC_E_STRING ? "string" : lit->kind == RC_E_BOOL ? "boolean"
            : lit->kind == RC_E_LIST ? "list" : lit->kind == RC_E_MAP ? "map" : "number", fix);
    ru_buf_free(&what);
    ru_buf_free(&has);
}

/* `PATH == "s"`, `PATH != "s"` and `PATH in ["s", ...]` against an
 * enumerated field. */
/* A field the orchestrator reads ignoring case (SkyPilot's `cloud: AWS` is
 * `aws`) may hold either spelling, and `==` compares exactly: a policy
 * comparing it with one spelling misses the other, which for a forbid-if
 * is a bypass. */
static void check_case(checker *c, const rc_expr *e, const rc_expr *path, const rc_shape *shapes,
                       const rc_expr *lit)
{
    for (size_t k = 0; k < c->nkinds; k++) {
        if (!rc_shape_ignores_case(&shapes[k]))
            continue;
        ru_buf where;
        path_display(c, path, &where);
        rc_diag(c->diags, RC_WARNING, c->src, e->loc,
                "%s is read ignoring case (\"%s\" may be written in any case), but '%s' "
                "compares exactly: compare lower(%s) with a lower-case string",
                where.data, lit->u.str.value, rc_op_text(e->u.op.op), where.data);
        ru_buf_free(&where);
        return;
    }
}

static void check_compared_strings(checker *c, const rc_expr *e)
{
    if (!c->nkinds)
        return;
    rc_op op = e->u.op.op;
    const rc_expr *path = e->u.op.lhs, *other = e->u.op.rhs;
    if ((op == RC_OP_EQ || op == RC_OP_NE) && path->kind != RC_E_PATH) {
        path = e->u.op.rhs;
        other = e->u.op.lhs;
    }
    if (path->kind != RC_E_PATH || (path->root != RC_ROOT_SPEC && path->root != RC_ROOT_LOCAL) ||
        path->u.path.dollar)
        return;
    rc_shape shapes[MAX_KINDS];
    if ((op == RC_OP_EQ || op == RC_OP_NE) && other->kind == RC_E_STRING) {
        if (path_shapes(c, path, shapes, false) && check_enum(c, path, shapes, other, false))
            check_case(c, e, path, shapes, other);
    } else if (op == RC_OP_IN && other->kind == RC_E_LIST && path == e->u.op.lhs) {
        if (!path_shapes(c, path, shapes, false))
            return;
        for (size_t i = 0; i < other->u.list.n; i++)
            if (other->u.list.items[i]->kind == RC_E_STRING &&
                !check_enum(c, path, shapes, other->u.list.items[i], false))
                return;
        if (other->u.list.n && other->u.list.items[0]->kind == RC_E_STRING)
            check_case(c, e, path, shapes, other->u.list.items[0]);
    }
}

/* `type(x) == "str"` is always false: type() names are fixed
 * (docs/language.md, "Functions"). */
static void check_type_name(checker *c, const rc_expr *e)
{
    static const char *const names[] = {"null", "bool", "int", "float", "string", "list", "map"};
    if (e->u.op.op != RC_OP_EQ && e->u.op.op != RC_OP_NE)
        return;
    const rc_expr *call = e->u.op.lhs, *lit = e->u.op.rhs;
    if (call->kind != RC_E_CALL) {
        call = e->u.op.rhs;
        lit = e->u.op.lhs;
    }
    if (call->kind != RC_E_CALL || strcmp(call->u.call.name, "type") != 0 || lit->kind != RC_E_STRING)
        return;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcmp(lit->u.str.value, names[i]) == 0)
            return;
    /* Other languages' names for the same types. */
    static const char *const alias[][2] = {
        {"str", "string"}, {"dict", "map"}, {"object", "map"}, {"array", "list"},
        {"boolean", "bool"}, {"integer", "int"}, {"number", "int"}, {"none", "null"},
        {"double", "float"},
    };
    const char *hint = NULL;
    for (size_t i = 0; i < sizeof alias / sizeof *alias && !hint; i++)
        if (strcasecmp(lit->u.str.value, alias[i][0]) == 0)
            hint = alias[i][1];
    if (!hint)
        hint = rc_suggest(lit->u.str.value, names, sizeof names / sizeof *names);
    error(c, lit->loc, "type() gives one of \"null\", \"bool\", \"int\", \"float\", \"string\", "
          "\"list\", \"map\", never \"%s\"%s%s%s", lit->u.str.value, hint ? "; did you mean \"" : "",
          hint ? hint : "", hint ? "\"?" : "");
}

static bool builtin_index(const char *name, uint32_t *index)
{
    for (uint32_t i = 0; i < RV_BI__COUNT; i++)
        if (strcmp(rv_builtin_names[i], name) == 0) {
            *index = i;
            return true;
        }
    return false;
}

/* The argument types a builtin has a meaning for (0: any value), where a
 * call whose argument can never be one would stop every decision it is
 * reached in (docs/language.md, "Functions"). For the functions added with
 * keys(); the older ones are checked at run time only. */
static unsigned builtin_arg_types(uint32_t fn, size_t arg)
{
    switch (fn) {
    case RV_BI_keys: case RV_BI_values: return RC_T_MAP | RC_T_NULL;
    case RV_BI_contains: return arg == 0 ? RC_T_STRING | RC_T_NULL : RC_T_STRING;
    case RV_BI_at_least: return RC_T_INT | RC_T_FLOAT | RC_T_STRING | RC_T_NULL;
    case RV_BI_accelerators: return RC_T_STRING | RC_T_MAP | RC_T_LIST | RC_T_NULL;
    default: return 0;
    }
}

static void check_call_args(checker *c, const rc_expr *e)
{
    static const char *const nth[] = {"its first argument", "its second argument"};
    for (size_t i = 0; i < e->u.call.nargs && i < 2; i++) {
        unsigned want = builtin_arg_types(e->index, i);
        unsigned got = want ? expr_types(c, e->u.call.args[i]) : RC_T_ANY;
        /* Null counts when it is all the argument can be: a field that has
         * a value only of a type the function refuses is an error even
         * though it reads as null when missing (keys(configuration.name)). */
        unsigned some = got & ~(unsigned)RC_T_NULL ? got & ~(unsigned)RC_T_NULL : got;
        if (got == RC_T_ANY || (some & want))
            continue;
        ru_buf gt, wt;
        ru_buf_init(&gt, c->arena->alloc, c->arena->ud);
        ru_buf_init(&wt, c->arena->alloc, c->arena->ud);
        rc_types_describe(got, &gt);
        rc_types_describe(want, &wt);
        ru_buf_terminate(&gt);
        ru_buf_terminate(&wt);
        error(c, e->u.call.args[i]->loc, "type error: %s() can never apply here: %s is %s; it takes %s",
              e->u.call.name, e->u.call.nargs == 1 ? "its argument" : nth[i], gt.data, wt.data);
        ru_buf_free(&gt);
        ru_buf_free(&wt);
    }
}

/* An unknown function: the closest builtin, also through the names other
 * languages use for it (`length`, `lenght` -> len; `startswith` ->
 * starts_with; `tostring` -> str). */
static void unknown_function(checker *c, const rc_expr *e)
{
    static const char *const aliases[][2] = {
        {"length", "len"}, {"size", "len"}, {"count", "len"},
        {"lowercase", "lower"}, {"tolower", "lower"}, {"uppercase", "upper"}, {"toupper", "upper"},
        {"startswith", "starts_with"}, {"startsWith", "starts_with"}, {"hasprefix", "starts_with"},
        {"endswith", "ends_with"}, {"endsWith", "ends_with"}, {"hassuffix", "ends_with"},
        {"string", "str"}, {"tostring", "str"}, {"toString", "str"},
        {"integer", "int"}, {"toint", "int"}, {"exist", "exists"}, {"defined", "exists"},
        {"has", "contains"}, {"includes", "contains"},
        {"typeof", "type"}, {"type_of", "type"}, {"kind", "type"},
        {"keySet", "keys"}, {"vals", "values"},
        {"gpus", "accelerators"}, {"minimum", "at_least"}, {"atleast", "at_least"},
    };
    const size_t nal = sizeof aliases / sizeof *aliases;
    const char *names[RV_BI__COUNT + sizeof aliases / sizeof *aliases];
    size_t n = 0;
    for (uint32_t i = 0; i < RV_BI__COUNT; i++)
        names[n++] = rv_builtin_names[i];
    for (size_t i = 0; i < nal; i++)
        names[n++] = aliases[i][0];
    const char *hint = rc_suggest(e->u.call.name, names, n);
    for (size_t i = 0; hint && i < nal; i++)
        if (hint == aliases[i][0])
            hint = aliases[i][1];
    for (size_t i = 0; !hint && i < nal; i++)
        if (strcmp(e->u.call.name, aliases[i][0]) == 0)
            hint = aliases[i][1];
    /* The list in the message is the builtin table's, exists first (the
     * order the reference gives). */
    ru_buf list;
    ru_buf_init(&list, c->arena->alloc, c->arena->ud);
    ru_buf_puts(&list, rv_builtin_names[RV_BI_exists]);
    for (uint32_t i = 0; i < RV_BI__COUNT; i++)
        if (i != RV_BI_exists) {
            ru_buf_puts(&list, ", ");
            ru_buf_puts(&list, rv_builtin_names[i]);
        }
    ru_buf_terminate(&list);
    error(c, e->u.call.name_loc, "unknown function '%s' (functions: %s)%s%s%s", e->u.call.name,
          list.data ? list.data : "", hint ? "; did you mean '" : "", hint ? hint : "", hint ? "'?" : "");
    ru_buf_free(&list);
}

static void check_regex(checker *c, rc_expr *e)
{
    /* The options vm/load.c compiles with (`$` is the end of the text). */
    uint32_t opts = PCRE2_UTF | PCRE2_DOLLAR_ENDONLY;
    uint32_t f = e->u.match.flags;
    if (f & RC_RE_I) opts |= PCRE2_CASELESS;
    if (f & RC_RE_M) opts |= PCRE2_MULTILINE;
    if (f & RC_RE_S) opts |= PCRE2_DOTALL;
    if (f & RC_RE_X) opts |= PCRE2_EXTENDED;
    int code;
    PCRE2_SIZE offset;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)e->u.match.pattern, e->u.match.plen, opts, &code,
                                   &offset, NULL);
    if (re) {
        pcre2_code_free(re);
        return;
    }
    PCRE2_UCHAR text[256];
    pcre2_get_error_message(code, text, sizeof text);
    /* Point at the character PCRE2 blames: one past the opening slash. */
    rc_loc at = e->u.match.regex_loc;
    at.first_column += 1 + (int)offset;
    at.last_line = at.first_line;
    at.last_column = at.first_column + 1;
    error(c, at, "invalid regex: %s", (const char *)text);
}

/* `each X in` and `sum X in` visit a list's items only: over a field that
 * may also be a map of data (dstack's env: a list of "K=V" or a map, and a
 * map in every real request) the map form silently runs nothing, which in
 * a forbid-if is a bypass. */
static void warn_map_skipped(checker *c, const rc_expr *over, const rc_shape *shapes, bool sum)
{
    for (size_t k = 0; k < c->nkinds; k++) {
        if (!rc_shape_may_be_open_map(&shapes[k]))
            continue;
        ru_buf where;
        path_display(c, over, &where);
        /* An `each KEY, VALUE` over the same path beside it covers the map. */
        bool covered = false;
        for (const rc_stmt *t = sum ? NULL : c->block; t && !covered; t = t->next) {
            if (t->kind != RC_S_EACH || !t->key_var || t->value->kind != RC_E_PATH)
                continue;
            ru_buf other;
            path_display(c, t->value, &other);
            covered = other.data && where.data && strcmp(other.data, where.data) == 0;
            ru_buf_free(&other);
        }
        if (covered) {
            ru_buf_free(&where);
            return;
        }
        if (sum)
            rc_diag(c->diags, RC_WARNING, c->src, over->loc,
                    "in a %s spec %s can be a map, and 'sum X in' adds a list's items only: over "
                    "the map it is 0; sum over values(%s) for the map form", c->kinds[k]->name,
                    where.data, where.data);
        else
            rc_diag(c->diags, RC_WARNING, c->src, over->loc,
                    "in a %s spec %s can be a map, and 'each X in' visits a list's items only: "
                    "over the map it runs nothing; write 'each KEY, VALUE in %s { ... }' for its "
                    "members (and keep this block for the list form)", c->kinds[k]->name,
                    where.data, where.data);
        ru_buf_free(&where);
        return;
    }
}

/* A sum adds numbers over a list's items: a term whose every possible
 * type is something else would stop every decision that reaches it, and a
 * collection that can never be a list makes the sum always 0. (lint.c says
 * the same of literals; here the schema tells.) */
static void check_sum(checker *c, const rc_expr *e)
{
    const rc_expr *term = e->u.quant.cond, *over = e->u.quant.over;
    unsigned t = expr_types(c, term);
    ru_buf tb;
    ru_buf_init(&tb, c->arena->alloc, c->arena->ud);
    if (t != RC_T_ANY && !(t & (RC_T_INT | RC_T_FLOAT))) {
        rc_types_describe(t, &tb);
        ru_buf_terminate(&tb);
        error(c, term->loc, "type error: sum adds numbers, but this term is %s", tb.data);
    }
    unsigned o = expr_types(c, over);
    rc_shape shapes[MAX_KINDS];
    if (over->kind == RC_E_PATH && (o & RC_T_LIST) && c->nkinds && path_shapes(c, over, shapes, false))
        warn_map_skipped(c, over, shapes, true);
    if (over->kind == RC_E_PATH && o != RC_T_ANY && !(o & RC_T_LIST)) {
        tb.len = 0;
        rc_types_describe(o, &tb);
        ru_buf_terminate(&tb);
        rc_diag(c->diags, RC_WARNING, c->src, e->loc,
                "this sum is always 0: 'sum' adds over the items of a list, and this is %s; sum "
                "over a list (values(m) for a map's values)", tb.data);
    }
    ru_buf_free(&tb);
}

/* Opens the scope of a quantifier's or each block's variable, which visits
 * the elements of `over` (typed from the schema when over is a path).
 * Returns its slot. The caller checked the nesting limit. */
static uint32_t push_var(checker *c, const char *var, const rc_expr *over)
{
    uint32_t slot = c->sc.depth;
    c->sc.shapes[slot] = NULL;
    c->sc.keys[slot] = NULL;
    if (c->nkinds && over->kind == RC_E_PATH && !over->u.path.dollar) {
        rc_shape shapes[MAX_KINDS];
        rc_shape *elems = ru_arena_alloc(c->arena, c->nkinds * sizeof *elems);
        if (elems && path_shapes(c, over, shapes, false)) {
            for (size_t k = 0; k < c->nkinds; k++)
                elems[k] = rc_shape_elements(&shapes[k], c->arena);
            c->sc.shapes[slot] = elems;
        }
    }
    c->sc.vars[c->sc.depth++] = var;
    if (c->sc.depth > c->out->nslots)
        c->out->nslots = c->sc.depth;
    return slot;
}

static void check_expr(checker *c, rc_expr *e)
{
    switch (e->kind) {
    case RC_E_NULL: case RC_E_BOOL: case RC_E_INT: case RC_E_FLOAT: case RC_E_STRING:
        return;
    case RC_E_LIST:
        for (size_t i = 0; i < e->u.list.n; i++)
            check_expr(c, e->u.list.items[i]);
        return;
    case RC_E_MAP:
        for (size_t i = 0; i < e->u.map.n; i++)
            check_expr(c, e->u.map.entries[i].value);
        return;
    case RC_E_PATH:
        check_path(c, e);
        return;
    case RC_E_UNARY:
        check_expr(c, e->u.op.lhs);
        if (e->u.op.op == RC_OP_NEG) {
            const char *t = literal_type(e->u.op.lhs);
            if (t && strcmp(t, "number") != 0)
                error(c, e->loc, "type error: '-' cannot be applied to a %s", t);
        }
        return;
    case RC_E_BINARY:
        check_expr(c, e->u.op.lhs);
        check_expr(c, e->u.op.rhs);
        check_literal_types(c, e);
        check_compared_strings(c, e);
        check_compared_types(c, e);
        check_operand_types(c, e);
        check_type_name(c, e);
        return;
    case RC_E_MATCH: {
        check_expr(c, e->u.match.lhs);
        const char *t = literal_type(e->u.match.lhs);
        if (t && strcmp(t, "string") != 0)
            error(c, e->u.match.lhs->loc, "type error: a %s never matches a regex", t);
        check_regex(c, e);
        return;
    }
    case RC_E_CALL: {
        for (size_t i = 0; i < e->u.call.nargs; i++)
            check_expr(c, e->u.call.args[i]);
        if (!builtin_index(e->u.call.name, &e->index)) {
            unknown_function(c, e);
            return;
        }
        unsigned arity = rv_builtin_arity[e->index];
        if (e->u.call.nargs != arity) {
            char msg[128];
            snprintf(msg, sizeof msg, "%s() takes %u argument%s, got %zu", e->u.call.name, arity,
                     arity == 1 ? "" : "s", e->u.call.nargs);
            rc_diag(c->diags, RC_ERROR, c->src, e->loc, "%s", msg);
            return;
        }
        if (e->index == RV_BI_exists && e->u.call.args[0]->kind != RC_E_PATH)
            error(c, e->u.call.args[0]->loc, "exists() takes a path");
        check_call_args(c, e);
        return;
    }
    case RC_E_QUANT:
        check_expr(c, e->u.quant.over);
        if (c->sc.depth >= RV_SLOTS_MAX) {
            error(c, e->loc, "quantifiers nested more than %d deep", RV_SLOTS_MAX);
            return;
        }
        e->index = push_var(c, e->u.quant.var, e->u.quant.over);
        check_expr(c, e->u.quant.cond);
        if (e->u.quant.q == RC_Q_SUM)
            check_sum(c, e);
        c->sc.depth--;
        if (c->nclosed < RV_SLOTS_MAX)
            c->closed[c->nclosed++] = e;
        var_ended(c, e->u.quant.var, e->u.quant.q == RC_Q_SUM ? "sum" : "quantifier", e->loc);
        return;
    }
}

/* The quantifier whose variable a forbid-if or warn-if message may name:
 * the condition's own `any X in ...: ...` (X is the element that made it
 * true) or `not all X in ...: ...` (X is the element that made the `all`
 * false). Any other condition binds nothing: when it is true there is no
 * one element that made it so. */
static const rc_expr *witness_quantifier(const rc_expr *cond)
{
    if (cond && cond->kind == RC_E_UNARY && cond->u.op.op == RC_OP_NOT &&
        cond->u.op.lhs->kind == RC_E_QUANT && cond->u.op.lhs->u.quant.q == RC_Q_ALL)
        return cond->u.op.lhs;
    if (cond && cond->kind == RC_E_QUANT && cond->u.quant.q == RC_Q_ANY)
        return cond;
    return NULL;
}

/* ---- message templates ---- */

static rc_expr *string_part(checker *c, const char *s, size_t n, rc_loc loc)
{
    rc_expr *e = ru_arena_alloc(c->arena, sizeof *e);
    if (!e)
        return NULL;
    memset(e, 0, sizeof *e);
    e->kind = RC_E_STRING;
    e->loc = loc;
    e->u.str.value = ru_arena_strndup(c->arena, s, n);
    e->u.str.len = n;
    e->u.str.raw = e->u.str.value;
    e->u.str.raw_len = n;
    return e->u.str.value ? e : NULL;
}

/* Decodes the escape at raw[*i] == '\\' with the scanner's own decoder
 * (grammar/escape.h) into b, advancing *i past it. The scanner decoded the
 * whole message as a string literal first and reported any bad escape at
 * its span, so a bad one is only skipped here, as the scanner skipped it. */
static void decode_escape(ru_buf *b, const char *raw, size_t n, size_t *i)
{
    if (*i + 1 >= n) {
        *i = n;
        return;
    }
    rc_escape e;
    rc_escape_decode(raw, n, *i, &e);
    if (e.status == RC_ESC_OK)
        ru_buf_put(b, e.out, e.out_len);
    *i += e.len;
}

/* Splits `"text {expr} more"` into parts. `{{` and `}}` are literal braces;
 * inside `{...}` the text is an expression in which `\"` stands for `"`. */
static void split_template(checker *c, rc_stmt *s)
{
    const rc_string *m = &s->message;
    const char *raw = m->raw;
    size_t n = m->raw_len;
    rc_expr *parts[256];
    size_t np = 0;
    ru_buf lit;
    ru_buf_init(&lit, c->arena->alloc, c->arena->ud);
    int line = m->loc.first_line, col = m->loc.first_column + 1;  /* after the quote */
    rc_loc lit_loc = m->loc;
    bool failed = false;

    size_t i = 0;
    while (i < n) {
        char ch = raw[i];
        if (ch == '{' && i + 1 < n && raw[i + 1] == '{') {
            ru_buf_putc(&lit, '{');
            i += 2;
            col += 2;
            continue;
        }
        if (ch == '}' && i + 1 < n && raw[i + 1] == '}') {
            ru_buf_putc(&lit, '}');
            i += 2;
            col += 2;
            continue;
        }
        if (ch == '}') {
            rc_loc at = {line, col, line, col + 1};
            error(c, at, "unmatched '}' in message (write '}}' for a literal brace)");
            failed = true;
            i++;
            col++;
            continue;
        }
        if (ch == '\\') {
            size_t before = i;
            decode_escape(&lit, raw, n, &i);
            col += (int)(i - before);
            continue;
        }
        if (ch != '{') {
            if (ch == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
            ru_buf_putc(&lit, ch);
            i++;
            continue;
        }
        /* An expression: find its closing brace, skipping strings in it. */
        size_t start = i + 1, j = start;
        int depth = 1;
        bool in_str = false;
        while (j < n && depth > 0) {
            char d = raw[j];
            if (in_str) {
                if (d == '\\' && j + 2 < n && raw[j + 1] == '\\' && raw[j + 2] == '"')
                    j += 2;  /* \\\" : an escaped quote inside an inner string */
                else if (d == '\\' && j + 1 < n && raw[j + 1] == '"')
                    in_str = false, j++;
            } else if (d == '\\' && j + 1 < n && raw[j + 1] == '"') {
                in_str = true;
                j++;
            } else if (d == '{') {
                depth++;
            } else if (d == '}') {
                depth--;
            }
            j++;
        }
        if (depth > 0) {
            rc_loc at = {line, col, line, col + 1};
            error(c, at, "unterminated '{' in message (write '{{' for a literal brace)");
            failed = true;
            break;
        }
        size_t end = j - 1;  /* the closing brace */
        if (lit.len) {
            if (np < 256)
                parts[np++] = string_part(c, lit.data, lit.len, lit_loc);
            lit.len = 0;
        }
        /* Unescape \" and \\ inside the expression text. */
        ru_buf ex;
        ru_buf_init(&ex, c->arena->alloc, c->arena->ud);
        for (size_t k = start; k < end; k++) {
            if (raw[k] == '\\' && k + 1 < end && (raw[k + 1] == '"' || raw[k + 1] == '\\'))
                k++;
            ru_buf_putc(&ex, raw[k]);
        }
        ru_buf_terminate(&ex);
        rc_expr *x = NULL;
        size_t blank = start;
        while (blank < end && strchr(" \t", raw[blank]))
            blank++;
        if (blank == end) {  /* `{}` or `{ }` */
            rc_loc at = {line, col, line, col + (int)(end - start) + 2};
            error(c, at, "empty '{}' in message (write '{{' for a literal brace)");
            failed = true;
        } else {
            x = rc_parse_expr(c->src, ex.data, ex.len, line, col + 1, c->arena, c->diags);
        }
        ru_buf_free(&ex);
        if (x) {
            c->in_template = true;
            check_expr(c, x);
            c->in_template = false;
            if (np < 256)
                parts[np++] = x;
        } else {
            failed = true;
        }
        col += (int)(j - i);
        i = j;
    }
    if (lit.len && np < 256)
        parts[np++] = string_part(c, lit.data, lit.len, lit_loc);
    ru_buf_free(&lit);
    if (failed)
        return;
    if (np >= 256) {
        error(c, m->loc, "message has too many parts");
        return;
    }
    if (np == 0)
        parts[np++] = string_part(c, "", 0, m->loc);
    s->parts = ru_arena_alloc(c->arena, np * sizeof *parts);
    if (!s->parts)
        return;
    memcpy(s->parts, parts, np * sizeof *parts);
    s->nparts = np;
}

/* ---- statements ---- */

static void check_target(checker *c, rc_expr *path)
{
    if (path->kind != RC_E_PATH) {
        error(c, path->loc, "expected a path to write to");
        return;
    }
    if (path->u.path.dollar) {
        error(c, path->loc, "cannot write to '$%s': $ names are read-only", path->u.path.dollar);
        return;
    }
    check_path(c, path);
    if (path->root == RC_ROOT_KEY) {
        error(c, path->loc, "cannot write to '%s': the key of a map member is read-only (write "
              "below its value, %s.FIELD)", path->u.path.segs[0].key, c->sc.vars[path->index]);
        return;
    }
    /* A write's path is a constant of the bundle the verifier checks
     * (docs/language.md, "Paths"); a key known only at run time is not. */
    for (size_t i = 0; i < path->u.path.nseg; i++)
        if (path->u.path.segs[i].expr) {
            error(c, path->u.path.segs[i].loc,
                  "cannot write through a computed key: a path written to takes literal keys and "
                  "indices only (a computed key reads; to write, name the key, e.g. in a match)");
            break;
        }
    if (!c->sc.depth)
        return;
    /* Inside each blocks (the only variables open at a statement), writes
     * go below the innermost element, so no loop's list changes while it
     * runs (the verifier checks the same of the bytecode). */
    const char *var = c->sc.vars[c->sc.depth - 1];
    bool map = c->sc.keys[c->sc.depth - 1] != NULL;
    if (path->root == RC_ROOT_SPEC)
        error(c, path->loc, "inside 'each %s', writes go below %s (set %s.FIELD = ...): a write to "
              "the spec could change the %s being iterated; write it after the block",
              var, var, var, map ? "map" : "list");
    else if (path->root == RC_ROOT_LOCAL && path->index != c->sc.depth - 1)
        error(c, path->loc, "inside 'each %s', only %s can be written, not the outer '%s': its "
              "%s is iterated", var, var, path->u.path.segs[0].key,
              c->sc.keys[path->index] ? "map" : "list");
    else if (path->root == RC_ROOT_LOCAL && path->u.path.nseg < 2)
        error(c, path->loc, "cannot replace '%s' itself: write a field below it (%s.FIELD), so "
              "the %s keeps its %s", var, var, map ? "map" : "list", map ? "keys" : "length");
}

/* `each VAR in LIST { ... }`: LIST is a path in the spec or below an
 * enclosing block's variable, and (by the schema) can be a list; for
 * `each KEY, VALUE in MAP { ... }` the same of a map. */
static bool check_each_list(checker *c, const rc_expr *over, bool map)
{
    if (over->kind != RC_E_PATH || over->u.path.dollar || over->root == RC_ROOT_KEY) {
        if (map)
            error(c, over->loc, "'each KEY, VALUE' goes over a map in the spec: write its path "
                  "(configuration.env), or a path below an enclosing block's variable");
        else
            error(c, over->loc, "'each' goes over a list in the spec: write its path "
                  "(configuration.replicas), or a path below an enclosing block's variable");
        return false;
    }
    rc_shape shapes[MAX_KINDS];
    if (!c->nkinds || !path_shapes(c, over, shapes, false))
        return true;
    for (size_t k = 0; k < c->nkinds; k++) {
        unsigned t = rc_shape_types(&shapes[k]);
        if (t == RC_T_ANY || (t & (map ? RC_T_MAP : RC_T_LIST)))
            continue;
        ru_buf where, want;
        path_display(c, over, &where);
        ru_buf_init(&want, c->arena->alloc, c->arena->ud);
        rc_types_describe(t, &want);
        ru_buf_terminate(&want);
        error(c, over->loc, "'each%s' goes over a %s, but in a %s spec %s is %s",
              map ? " KEY, VALUE" : "", map ? "map" : "list", c->kinds[k]->name, where.data,
              want.data);
        ru_buf_free(&want);
        ru_buf_free(&where);
        return false;
    }
    if (!map)
        warn_map_skipped(c, over, shapes, false);
    return true;
}


static bool truthy_literal(const rc_expr *e, bool *value)
{
    if (!rc_is_literal(e))
        return false;
    switch (e->kind) {
    case RC_E_NULL: *value = false; return true;
    case RC_E_BOOL: *value = e->u.b; return true;
    case RC_E_INT: *value = e->u.i != 0; return true;
    case RC_E_FLOAT: *value = e->u.f != 0; return true;
    case RC_E_STRING: *value = e->u.str.len != 0; return true;
    case RC_E_LIST: *value = e->u.list.n != 0; return true;
    case RC_E_MAP: *value = e->u.map.n != 0; return true;
    default: return false;
    }
}

static void check_block(checker *c, rc_stmt *s);
static void check_each(checker *c, rc_stmt *s);

/* For `match PATH == "v"` (either order): narrows PATH's parent object for
 * the body (negated: for the else). Returns whether it pushed one. */
static bool push_narrowing(checker *c, const rc_expr *cond, bool negated)
{
    if (!c->nkinds || c->nnarrow == MAX_NARROW || cond->kind != RC_E_BINARY || cond->u.op.op != RC_OP_EQ)
        return false;
    const rc_expr *path = cond->u.op.lhs, *lit = cond->u.op.rhs;
    if (path->kind != RC_E_PATH) {
        path = cond->u.op.rhs;
        lit = cond->u.op.lhs;
    }
    if (path->kind != RC_E_PATH || path->root != RC_ROOT_SPEC || lit->kind != RC_E_STRING ||
        path->u.path.nseg == 0 || path->u.path.segs[path->u.path.nseg - 1].is_index || has_computed(path))
        return false;
    /* The parent: the same path without its last field. */
    rc_expr parent = *path;
    parent.u.path.nseg--;
    rc_shape shapes[MAX_KINDS];
    if (!path_shapes(c, &parent, shapes, false))
        return false;
    narrowing *nw = &c->narrow[c->nnarrow];
    const rc_seg *last = &path->u.path.segs[path->u.path.nseg - 1];
    for (size_t k = 0; k < c->nkinds; k++)
        nw->shapes[k] = rc_shape_narrow(&shapes[k], last->key, last->klen, lit->u.str.value, lit->u.str.len,
                                        !negated, c->arena);
    nw->path = path;
    nw->value = lit->u.str.value;
    nw->negated = negated;
    c->nnarrow++;
    return true;
}

static void check_stmt(checker *c, rc_stmt *s)
{
    bool v;
    c->nclosed = 0;
    switch (s->kind) {
    case RC_S_SET:
    case RC_S_DEFAULT:
        check_target(c, s->path);
        check_expr(c, s->value);
        check_write_value(c, s->path, s->value, false);
        return;
    case RC_S_APPEND:
        check_target(c, s->path);
        check_expr(c, s->value);
        check_write_value(c, s->path, s->value, true);
        return;
    case RC_S_UNSET:
        check_target(c, s->path);
        return;
    case RC_S_TAGS:
        if (c->sc.depth)
            error(c, s->loc, "append-tags cannot be used inside 'each %s': it writes the spec's "
                  "tags; write set %s.FIELD = ... for the element, or append-tags after the block",
                  c->sc.vars[c->sc.depth - 1], c->sc.vars[c->sc.depth - 1]);
        else if (s->path)
            check_target(c, s->path);

        for (size_t i = 0; i < s->ntags; i++)
            check_expr(c, s->tags[i].value);
        return;
    case RC_S_FORBID:
    case RC_S_WARN: {
        if (s->cond) {
            check_expr(c, s->cond);
            if (truthy_literal(s->cond, &v) && !v)
                rc_diag(c->diags, RC_WARNING, c->src, s->loc,
                        "this statement can never run: its condition is always false");
        }
        /* The message may name the element the condition's quantifier
         * stopped at: it reopens that variable, in the same slot, as a
         * witness (read with WITNESS, after the loop). */
        const rc_expr *q = witness_quantifier(s->cond);
        if (q && q->index == c->sc.depth && c->sc.depth < RV_SLOTS_MAX) {
            push_var(c, q->u.quant.var, q->u.quant.over);
            c->sc.witness[q->index] = true;
            split_template(c, s);
            c->sc.witness[q->index] = false;
            c->sc.depth--;
        } else {
            split_template(c, s);
        }
        return;
    }
    case RC_S_MATCH:
        check_expr(c, s->cond);
        if (truthy_literal(s->cond, &v)) {
            if (!v && s->body)
                rc_diag(c->diags, RC_WARNING, c->src, s->body->loc,
                        "this block can never run: the match condition is always false");
            if (v && s->else_body)
                rc_diag(c->diags, RC_WARNING, c->src, s->else_body->loc,
                        "this else block can never run: the match condition is always true");
        }
        if (push_narrowing(c, s->cond, false)) {
            check_block(c, s->body);
            c->nnarrow--;
        } else {
            check_block(c, s->body);
        }
        if (push_narrowing(c, s->cond, true)) {
            check_block(c, s->else_body);
            c->nnarrow--;
        } else {
            check_block(c, s->else_body);
        }
        return;
    case RC_S_EACH:
        check_each(c, s);
        return;
    }
}

static void check_each(checker *c, rc_stmt *s)
{
    check_expr(c, s->value);
    if (!check_each_list(c, s->value, s->key_var != NULL))
        return;
    if (s->key_var && strcmp(s->key_var, s->var) == 0) {
        error(c, s->var_loc, "'each %s, %s' names the key and the value alike: give them two names",
              s->key_var, s->var);
        return;
    }
    if (c->sc.depth >= RV_SLOTS_MAX) {
        error(c, s->loc, "each blocks and quantifiers nested more than %d deep", RV_SLOTS_MAX);
        return;
    }
    s->slot = push_var(c, s->var, s->value);
    c->sc.keys[s->slot] = s->key_var;
    check_block(c, s->body);
    c->sc.depth--;
    var_ended(c, s->var, "each block", s->loc);
    if (s->key_var)
        var_ended(c, s->key_var, "each block", s->loc);
}

static void check_block(checker *c, rc_stmt *s)
{
    const rc_stmt *outer = c->block;
    c->block = s;
    for (; s; s = s->next)
        check_stmt(c, s);
    c->block = outer;
}

/* The policy name when there is no header: the file name without folders
 * and without its extension. */
static const char *file_stem(ru_arena *a, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    return ru_arena_strndup(a, base, n);
}

/* Resolves the policy's target: the header's, else the environment's. */
static void resolve_target(checker *c, const rc_header *h)
{
    const char *name = h && h->target ? h->target
                       : c->env && c->env->default_target ? c->env->default_target
                       : RC_DEFAULT_TARGET;
    c->target = rc_target_find(name);
    c->target_named = h && h->target;
    c->request = rc_shape_any();
    const rv_node *req = c->target && c->env && c->env->schemas
                             ? rc_request_schema_of(c->env->schemas, c->target)
                             : NULL;
    if (req)
        c->request = rc_shape_root(req, c->arena);
    if (c->target)
        return;
    char why[400];
    rc_target_has_kind(name, NULL, why, sizeof why);  /* names the targets and the closest */
    if (h && h->target)
        error(c, h->target_loc, "%s", why);
    else
        rc_diag(c->diags, RC_ERROR, NULL, (rc_loc){0, 0, 0, 0}, "default %s", why);
}

/* The kinds an `on` block names, checked against the target; sets up the
 * block's kinds and their documents' shapes. */
static void enter_block(checker *c, const rc_on *on)
{
    c->nkinds = 0;
    c->nnarrow = 0;
    c->sc.depth = 0;
    if (!c->target || !c->target->nkinds)
        return;  /* "any", or an unknown target (reported) */
    const char *wanted[MAX_KINDS * 4];
    size_t nwanted = 0;
    for (size_t i = 0; i < on->nkinds; i++) {
        const rc_kind_name *kn = &on->kinds[i];
        if (nwanted < sizeof wanted / sizeof *wanted)
            wanted[nwanted++] = kn->name;
        char why[400];
        if (strcmp(kn->name, "*") != 0 && !rc_target_has_kind(c->target->name, kn->name, why, sizeof why)) {
            /* A kind of another target, in a block of that target's kinds
             * only, and no target in the header: most likely it lacks one. */
            const char *other = rc_request_target("any", kn->name);
            bool mixed = false;
            for (size_t j = 0; j < on->nkinds; j++)
                mixed |= strcmp(on->kinds[j].name, "*") != 0 &&
                         rc_target_has_kind(c->target->name, on->kinds[j].name, NULL, 0);
            if (other && strcmp(other, c->target->name) != 0 && !c->target_named && !mixed)
                error(c, kn->loc, "%s; '%s' is a kind of target %s: add 'target %s' to the policy's "
                      "header", why, kn->name, other, other);
            else
                error(c, kn->loc, "%s", why);  /* names the target's kinds and the closest */
        }
    }
    c->nkinds = rc_target_block_kinds(c->target, wanted, nwanted, c->kinds, MAX_KINDS);
    for (size_t k = 0; k < c->nkinds; k++) {
        const rv_node *schema = rc_schema_of(c->env->schemas, c->kinds[k]);
        c->roots[k] = schema ? rc_shape_root(schema, c->arena) : rc_shape_any();
    }
}

bool rc_check(rc_file *file, const rc_check_env *env, ru_arena *arena, rc_diags *diags,
              rc_checked *out)
{
    int errors_before = diags->nerrors;
    memset(out, 0, sizeof *out);
    out->file = file;
    checker c;
    memset(&c, 0, sizeof c);
    c.out = out;
    c.src = file->src;
    c.arena = arena;
    c.diags = diags;
    c.env = env;
    resolve_target(&c, file->headers);
    out->target = c.target ? c.target->name : NULL;

    /* Header: at most one. */
    out->name = file_stem(arena, file->src->name);
    out->name_loc = (rc_loc){1, 1, 1, 2};
    for (rc_header *h = file->headers; h; h = h->next) {
        if (h != file->headers) {
            rc_diag(diags, RC_ERROR, c.src, h->loc, "duplicate policy header");
            rc_diag(diags, RC_NOTE, c.src, file->headers->loc, "the first header is here");
            continue;
        }
        if (h->name.len == 0 || memchr(h->name.value, '\0', h->name.len))
            rc_diag(diags, RC_ERROR, c.src, h->name.loc, "a policy name must be a non-empty string");
        out->name = h->name.value;
        out->name_loc = h->loc;
        if (h->has_priority) {
            if (h->priority < INT32_MIN || h->priority > INT32_MAX)
                rc_diag(diags, RC_ERROR, c.src, h->priority_loc,
                        "priority must be between -2147483648 and 2147483647");
            else
                out->priority = (int32_t)h->priority;
        }
    }

    /* Parameters: unique names, literal defaults. */
    size_t np = 0;
    for (rc_param_decl *p = file->params; p; p = p->next)
        np++;
    out->params = ru_arena_alloc(arena, (np ? np : 1) * sizeof *out->params);
    out->param_values = ru_arena_alloc(arena, (np ? np : 1) * sizeof *out->param_values);
    if (!out->params || !out->param_values)
        return false;
    for (rc_param_decl *p = file->params; p; p = p->next) {
        uint32_t prev;
        if (find_param(out, p->name, &prev)) {
            error(&c, p->name_loc, "duplicate parameter '%s'", p->name);
            rc_diag(diags, RC_NOTE, c.src, out->params[prev]->name_loc,
                    "'%s' was first declared here", p->name);
            continue;
        }
        for (uint32_t i = 0; i < RV_CTX__COUNT; i++)
            if (strcmp(p->name, ctx_names[i]) == 0)
                error(&c, p->name_loc, "parameter '%s' would hide the request's $%s", p->name,
                      p->name);
        if (!rc_is_literal(p->value)) {
            error(&c, p->value->loc, "the default of parameter '%s' must be a literal value",
                  p->name);
            continue;
        }
        out->params[out->nparams] = p;
        out->param_values[out->nparams] = rc_literal_value(p->value, arena);
        out->nparams++;
    }

    for (rc_on *on = file->ons; on; on = on->next) {
        enter_block(&c, on);
        check_block(&c, on->body);
    }
    if (diags->nerrors == errors_before)
        rc_lint(out, c.target, env, arena, diags);
    /* What code generation marks SECRET (secret.h). */
    if (diags->nerrors == errors_before && !rc_secret_mark(out, c.target, arena))
        rc_diag(diags, RC_ERROR, NULL, (rc_loc){0, 0, 0, 0}, "out of memory while marking secrets");
    return diags->nerrors == errors_before;
}
