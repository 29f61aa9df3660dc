/* lint.c - warnings about policies that do not mean what they say, each
 * SPDX-License-Identifier: Apache-2.0
 * saying what to write instead (docs/language.md, "Checking"). Runs after
 * a clean check, over the annotated AST; it only reports, never changes the
 * tree. Only what is certain is reported: a lint that may be wrong would
 * teach people to ignore them all.
 */
#include "lint.h"
#include "opcodes.h"
#include "schema.h"

#include <stdio.h>
#include <string.h>

#define MAX_KINDS 16   /* kinds of one target, as in check.c */
#define MAX_SNIPPET 80 /* longer source text is not quoted in a suggestion */

/* The types a value may have, as a set: what the checker knows of an
 * expression without the spec (literals, $ names, operators' results). */
enum {
    T_NULL = 1, T_BOOL = 2, T_NUMBER = 4, T_STRING = 8, T_LIST = 16, T_MAP = 32,
    T_ANY = 63
};

typedef struct linter {
    const rc_checked *out;
    const rc_source *src;
    rc_diags *diags;
    ru_arena *arena;
    bool in_template;   /* spans in a message template are not quotable */
} linter;

/* "a number", "a string or null": what a type set can be, for messages. */
static const char *types_text(unsigned t, char *buf, size_t size)
{
    static const char *const names[] = {"null", "a bool", "a number", "a string", "a list", "a map"};
    size_t n = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < 6; i++)
        if (t & (1u << i))
            n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s", n ? " or " : "", names[i]);
    return buf;
}

/* ---- source text, for suggestions ---- */

/* The byte offset of line:col in the source. */
static bool offset_of(const rc_source *src, int line, int col, size_t *off)
{
    const char *p = src->text, *end = src->text + src->len;
    for (int l = 1; l < line; l++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return false;
        p = nl + 1;
    }
    if (col < 1 || (size_t)(col - 1) > (size_t)(end - p))
        return false;
    *off = (size_t)(p - src->text) + (size_t)(col - 1);
    return true;
}

/* The source text of loc as [*start, *end) offsets, when it is on one
 * line, short enough to quote, and not in a message template. */
static bool span_of(const linter *l, rc_loc loc, size_t *start, size_t *end)
{
    if (l->in_template || !l->src->text || loc.first_line != loc.last_line)
        return false;
    if (!offset_of(l->src, loc.first_line, loc.first_column, start) ||
        !offset_of(l->src, loc.last_line, loc.last_column, end))
        return false;
    return *end > *start && *end - *start <= MAX_SNIPPET &&
           !memchr(l->src->text + *start, '\n', *end - *start);
}

/* The source text of loc with "(" inserted at offset open and ")" at
 * offset close (both inside [start, end]), into buf. */
static bool rewrite(const linter *l, rc_loc loc, size_t open, size_t close, char *buf, size_t size)
{
    size_t s, e;
    if (!span_of(l, loc, &s, &e) || open < s || close > e || open > close)
        return false;
    const char *t = l->src->text;
    snprintf(buf, size, "%.*s(%.*s)%.*s", (int)(open - s), t + s, (int)(close - open), t + open,
             (int)(e - close), t + close);
    return true;
}

/* The source text of an expression, or a placeholder. */
static const char *quote(const linter *l, const rc_expr *e, const char *otherwise, char *buf, size_t size)
{
    size_t s, end;
    if (!span_of(l, e->loc, &s, &end))
        return otherwise;
    snprintf(buf, size, "%.*s", (int)(end - s), l->src->text + s);
    return buf;
}

/* ---- what the checker knows of a value's type ---- */

static unsigned literal_node_type(const rv_node *v)
{
    if (!v)
        return T_ANY;
    switch ((rv_doc_type)v->type) {
    case RV_NULL: return T_NULL;
    case RV_BOOL: return T_BOOL;
    case RV_INT: case RV_FLOAT: return T_NUMBER;
    case RV_STRING: return T_STRING;
    case RV_ARRAY: return T_LIST;
    case RV_OBJECT: return T_MAP;
    }
    return T_ANY;
}

/* A `$` path: the request's context is always a string (the VM passes ""
 * for a user, project or kind the request does not name); a parameter has
 * its default's type (an override must keep it), unless the default is
 * null. A step into a scalar reads null. Spec paths are anything. */
static unsigned dollar_base(const linter *l, const rc_expr *e)
{
    if (e->root == RC_ROOT_CTX)  /* $request is a map (or null), typed by the checker */
        return e->index == RV_CTX_REQUEST ? T_ANY : T_STRING;
    if (e->root == RC_ROOT_PARAM && e->index < l->out->nparams) {
        unsigned t = literal_node_type(l->out->param_values[e->index]);
        return t == T_NULL ? T_ANY : t;  /* a null default declares no type */
    }
    return T_ANY;
}

static unsigned dollar_type(const linter *l, const rc_expr *e)
{
    unsigned base = dollar_base(l, e);
    if (base == T_ANY)
        return T_ANY;
    if (e->u.path.nseg == 0 || base == T_NULL)
        return base;
    return base & (T_LIST | T_MAP) ? T_ANY : T_NULL;  /* contents unchecked */
}

static unsigned type_of(const linter *l, const rc_expr *e)
{
    switch (e->kind) {
    case RC_E_NULL: return T_NULL;
    case RC_E_BOOL: return T_BOOL;
    case RC_E_INT: case RC_E_FLOAT: return T_NUMBER;
    case RC_E_STRING: return T_STRING;
    case RC_E_LIST: return T_LIST;
    case RC_E_MAP: return T_MAP;
    case RC_E_PATH: return e->u.path.dollar ? dollar_type(l, e) : T_ANY;
    case RC_E_UNARY: return e->u.op.op == RC_OP_NOT ? T_BOOL : T_NUMBER;
    case RC_E_MATCH: return T_BOOL;
    case RC_E_QUANT: return e->u.quant.q == RC_Q_SUM ? T_NUMBER : T_BOOL;
    case RC_E_BINARY:
        switch (e->u.op.op) {
        case RC_OP_COALESCE: {
            unsigned lt = type_of(l, e->u.op.lhs);
            return lt & T_NULL ? (lt & ~(unsigned)T_NULL) | type_of(l, e->u.op.rhs) : lt;
        }
        case RC_OP_ADD: {
            /* Never null or a bool: a sum, a join, a merge, or an error. */
            unsigned t = (type_of(l, e->u.op.lhs) | type_of(l, e->u.op.rhs)) &
                         (T_NUMBER | T_STRING | T_LIST | T_MAP);
            return t ? t : T_ANY;
        }
        case RC_OP_SUB: case RC_OP_MUL: case RC_OP_DIV: case RC_OP_MOD:
            return T_NUMBER;
        default:   /* or and, comparisons, in */
            return T_BOOL;
        }
    case RC_E_CALL: {
        const char *n = e->u.call.name;
        if (!strcmp(n, "exists") || !strcmp(n, "starts_with") || !strcmp(n, "ends_with"))
            return T_BOOL;
        if (!strcmp(n, "len") || !strcmp(n, "int"))
            return T_NUMBER;
        if (!strcmp(n, "lower") || !strcmp(n, "upper") || !strcmp(n, "str"))
            return T_STRING;
        if (!strcmp(n, "min") || !strcmp(n, "max"))
            return T_NUMBER | T_STRING | T_NULL;
        if (!strcmp(n, "contains"))
            return T_BOOL;
        if (!strcmp(n, "type"))
            return T_STRING;
        if (!strcmp(n, "keys") || !strcmp(n, "values"))
            return T_LIST;
        if (!strcmp(n, "accelerators"))
            return T_MAP;
        if (!strcmp(n, "at_least"))
            return T_NUMBER | T_NULL;
        return T_ANY;
    }
    }
    return T_ANY;
}

/* ---- lints on expressions ---- */

/* `a ?? b > c` reads `a ?? (b > c)` (?? binds loosest). Warned when the
 * right operand of `??` is an unparenthesised binary operation (or, and, a
 * comparison, =~, arithmetic): the reader's eye groups it the other way. */
static void lint_coalesce_rhs(linter *l, const rc_expr *e)
{
    const rc_expr *r = e->u.op.rhs, *rl;
    const char *op;
    if (r->parens)
        return;
    if (r->kind == RC_E_BINARY) {
        rl = r->u.op.lhs;
        op = rc_op_text(r->u.op.op);
    } else if (r->kind == RC_E_MATCH) {
        rl = r->u.match.lhs;
        op = r->u.match.negated ? "!~" : "=~";
    } else {
        return;
    }
    char meant[2 * MAX_SNIPPET], as_is[2 * MAX_SNIPPET];
    size_t s, end, rs, rle;
    if (!(span_of(l, e->loc, &s, &end) &&
          offset_of(l->src, r->loc.first_line, r->loc.first_column, &rs) &&
          offset_of(l->src, rl->loc.last_line, rl->loc.last_column, &rle) &&
          rewrite(l, e->loc, s, rle, meant, sizeof meant) &&
          rewrite(l, e->loc, rs, end, as_is, sizeof as_is))) {
        snprintf(meant, sizeof meant, "(a ?? b) %s c", op);
        snprintf(as_is, sizeof as_is, "a ?? (b %s c)", op);
    }
    rc_diag(l->diags, RC_WARNING, l->src, e->loc,
            "'?\?' binds more loosely than '%s': this reads as '%s'; write '%s' to apply '%s' to the "
            "result of '?\?'",
            op, as_is, meant, op);
    rc_diag(l->diags, RC_NOTE, l->src, r->loc, "if '%s' is what you mean, write the parentheses", as_is);
}

/* `a ?? b` where a is never null: b never runs. */
static void lint_coalesce_lhs(linter *l, const rc_expr *e)
{
    const rc_expr *lhs = e->u.op.lhs;
    unsigned t = type_of(l, lhs);
    if (t & T_NULL)
        return;
    char what[64], rw[2 * MAX_SNIPPET], fix[3 * MAX_SNIPPET], q[MAX_SNIPPET + 1];
    const rc_expr *inner = NULL;
    /* `a > b ?? c` reads `(a > b) ?? c`; `a > (b ?? c)` was likely meant,
     * when b can be null at all. */
    if (!lhs->parens && lhs->kind == RC_E_BINARY && lhs->u.op.op != RC_OP_COALESCE &&
        (type_of(l, lhs->u.op.rhs) & T_NULL))
        inner = lhs->u.op.rhs;
    size_t s, e_end, is;
    if (inner && span_of(l, e->loc, &s, &e_end) &&
        offset_of(l->src, inner->loc.first_line, inner->loc.first_column, &is) &&
        rewrite(l, e->loc, is, e_end, rw, sizeof rw))
        snprintf(fix, sizeof fix, "write '%s' to apply '?\?' to the right operand of '%s'", rw,
                 rc_op_text(lhs->u.op.op));
    else
        snprintf(fix, sizeof fix, "remove '?\? %s'", quote(l, e->u.op.rhs, "...", q, sizeof q));
    rc_diag(l->diags, RC_WARNING, l->src, e->u.op.rhs->loc,
            "the right side of '?\?' is never used: its left side is never null (it is %s); %s",
            types_text(t, what, sizeof what), fix);
}

/* Comparisons, `in` and regex matches whose operands' types fix the
 * answer. Two literals of types an ordering or `in` cannot take are
 * already type errors (check.c), so they are left out here. */
static void lint_compare(linter *l, const rc_expr *e)
{
    const rc_expr *a = e->u.op.lhs, *b = e->u.op.rhs;
    unsigned at = type_of(l, a), bt = type_of(l, b);
    char ta[64], tb[64];
    bool literals = rc_is_literal(a) && rc_is_literal(b);
    switch (e->u.op.op) {
    case RC_OP_EQ:
    case RC_OP_NE:
        if (at & bt)
            return;
        rc_diag(l->diags, RC_WARNING, l->src, e->loc,
                "this comparison is always %s: %s is never equal to %s; %s",
                e->u.op.op == RC_OP_EQ ? "false" : "true", types_text(at, ta, sizeof ta),
                types_text(bt, tb, sizeof tb),
                at == T_NULL || bt == T_NULL ? "the other side is never null, so drop the test"
                                             : "compare values of one type (convert with int() or "
                                               "str() if needed)");
        return;
    case RC_OP_LT: case RC_OP_LE: case RC_OP_GT: case RC_OP_GE: {
        if (literals || (at & bt & (T_NUMBER | T_STRING)))
            return;
        unsigned odd = !(at & (T_NUMBER | T_STRING)) ? at : !(bt & (T_NUMBER | T_STRING)) ? bt : 0;
        if (odd)
            rc_diag(l->diags, RC_WARNING, l->src, e->loc,
                    "this comparison is always false: '%s' orders two numbers or two strings, and "
                    "%s is neither; %s",
                    rc_op_text(e->u.op.op), types_text(odd, ta, sizeof ta),
                    odd == T_NULL ? "to test for null write '== null', or give a default with '?\?'"
                                  : "compare two numbers or two strings");
        else
            rc_diag(l->diags, RC_WARNING, l->src, e->loc,
                    "this comparison is always false: '%s' orders two numbers or two strings, not "
                    "%s and %s; convert one side with int() or str()",
                    rc_op_text(e->u.op.op), types_text(at, ta, sizeof ta), types_text(bt, tb, sizeof tb));
        return;
    }
    case RC_OP_IN:
        if (literals || (bt & (T_LIST | T_MAP)) || ((bt & T_STRING) && (at & T_STRING)))
            return;
        if (bt & T_STRING)
            rc_diag(l->diags, RC_WARNING, l->src, e->loc,
                    "this test is always false: a string holds only strings, not %s; convert it "
                    "with str()",
                    types_text(at, ta, sizeof ta));
        else
            rc_diag(l->diags, RC_WARNING, l->src, e->loc,
                    "this test is always false: 'in' looks in a list, a map's keys or a string, not "
                    "in %s; write a list, e.g. 'x in [...]'",
                    types_text(bt, tb, sizeof tb));
        return;
    default:
        return;
    }
}

static void lint_regex(linter *l, const rc_expr *e)
{
    const rc_expr *a = e->u.match.lhs;
    unsigned t = type_of(l, a);
    char what[64], q[MAX_SNIPPET + 1];
    if ((t & T_STRING) || rc_is_literal(a))  /* a literal is a type error already */
        return;
    rc_diag(l->diags, RC_WARNING, l->src, e->loc,
            "this match is always %s: %s never matches a regex; match its text with 'str(%s) %s'",
            e->u.match.negated ? "true" : "false", types_text(t, what, sizeof what),
            quote(l, a, "...", q, sizeof q), e->u.match.negated ? "!~" : "=~");
}

/* A sum over what is never a list (a literal map, a number) is always 0. */
static void lint_sum(linter *l, const rc_expr *e)
{
    const rc_expr *over = e->u.quant.over;
    unsigned t = type_of(l, over);
    char what[64];
    bool empty = over->kind == RC_E_LIST && over->u.list.n == 0;
    if ((t & T_LIST) && !empty)
        return;
    rc_diag(l->diags, RC_WARNING, l->src, e->loc,
            "this sum is always 0: 'sum' adds over the items of a list, and %s has none; sum "
            "over a list (values(m) for a map's values)",
            empty ? "an empty list" : types_text(t, what, sizeof what));
}

static void lint_quant(linter *l, const rc_expr *e)
{
    if (e->u.quant.q == RC_Q_SUM) {
        lint_sum(l, e);
        return;
    }
    const rc_expr *over = e->u.quant.over;
    unsigned t = type_of(l, over);
    bool all = e->u.quant.q == RC_Q_ALL;
    char what[64];
    if (t & (T_LIST | T_MAP)) {
        bool empty = (over->kind == RC_E_LIST && over->u.list.n == 0) ||
                     (over->kind == RC_E_MAP && over->u.map.n == 0);
        if (!empty)
            return;
        rc_diag(l->diags, RC_WARNING, l->src, e->loc,
                "this quantifier is always %s: it ranges over an empty %s; list what it should "
                "range over",
                all ? "true" : "false", over->kind == RC_E_LIST ? "list" : "map");
        return;
    }
    rc_diag(l->diags, RC_WARNING, l->src, e->loc,
            "this quantifier is always %s: '%s' ranges over the items of a list or the values of "
            "a map, and %s has none; range over a list or a map, or test the value without '%s'",
            all ? "true" : "false", all ? "all" : "any", types_text(t, what, sizeof what),
            all ? "all" : "any");
}

static void lint_exists(linter *l, const rc_expr *e)
{
    if (strcmp(e->u.call.name, "exists") != 0 || e->u.call.nargs != 1)
        return;
    const rc_expr *p = e->u.call.args[0];
    if (p->kind != RC_E_PATH || !p->u.path.dollar)
        return;
    unsigned t = dollar_type(l, p);
    char what[64];
    if (t == T_NULL) {
        rc_diag(l->diags, RC_WARNING, l->src, e->loc,
                "exists() is always false here: $%s is %s, which has no fields; test $%s itself",
                p->u.path.dollar, types_text(dollar_base(l, p) & ~(unsigned)T_NULL, what, sizeof what), p->u.path.dollar);
        return;
    }
    if (t & T_NULL || t == T_ANY)
        return;
    rc_diag(l->diags, RC_WARNING, l->src, e->loc,
            "exists() is always true here: $%s is always %s (%s); test its value instead "
            "(e.g. '$%s != %s'), or drop the test",
            p->u.path.dollar, types_text(t, what, sizeof what),
            p->root == RC_ROOT_CTX ? "an empty one when the request names none"
                                   : "an override must keep the default's type",
            p->u.path.dollar, t == T_STRING ? "\"\"" : t == T_NUMBER ? "0" : t == T_BOOL ? "false"
                              : t == T_LIST ? "[]" : "{}");
}

static void lint_expr(linter *l, const rc_expr *e)
{
    if (!e)
        return;
    switch (e->kind) {
    case RC_E_NULL: case RC_E_BOOL: case RC_E_INT: case RC_E_FLOAT: case RC_E_STRING:
        return;
    case RC_E_PATH:
        for (size_t i = 0; i < e->u.path.nseg; i++)
            lint_expr(l, e->u.path.segs[i].expr);   /* computed keys; NULL for the rest */
        return;
    case RC_E_LIST:
        for (size_t i = 0; i < e->u.list.n; i++)
            lint_expr(l, e->u.list.items[i]);
        return;
    case RC_E_MAP:
        for (size_t i = 0; i < e->u.map.n; i++)
            lint_expr(l, e->u.map.entries[i].value);
        return;
    case RC_E_UNARY:
        lint_expr(l, e->u.op.lhs);
        return;
    case RC_E_BINARY:
        lint_expr(l, e->u.op.lhs);
        lint_expr(l, e->u.op.rhs);
        if (e->u.op.op == RC_OP_COALESCE) {
            lint_coalesce_rhs(l, e);
            lint_coalesce_lhs(l, e);
        } else {
            lint_compare(l, e);
        }
        return;
    case RC_E_MATCH:
        lint_expr(l, e->u.match.lhs);
        lint_regex(l, e);
        return;
    case RC_E_CALL:
        for (size_t i = 0; i < e->u.call.nargs; i++)
            lint_expr(l, e->u.call.args[i]);
        lint_exists(l, e);
        return;
    case RC_E_QUANT:
        lint_expr(l, e->u.quant.over);
        lint_expr(l, e->u.quant.cond);
        lint_quant(l, e);
        return;
    }
}

/* ---- lints on statements ---- */

/* A condition written as a list or a map (`forbid-if [x == 1]: ...`) is
 * true unless empty. Literal ones check.c judges already where that makes
 * code dead (an empty one; a non-empty one before `else`). */
static void lint_condition(linter *l, const rc_stmt *s)
{
    const rc_expr *c = s->cond;
    if (!c || (c->kind != RC_E_LIST && c->kind != RC_E_MAP))
        return;
    bool list = c->kind == RC_E_LIST;
    size_t n = list ? c->u.list.n : c->u.map.n;
    if (rc_is_literal(c) && (n == 0 || (s->kind == RC_S_MATCH && s->has_else)))
        return;
    char q[MAX_SNIPPET + 1], fix[MAX_SNIPPET + 64];
    if (list && n == 1)
        snprintf(fix, sizeof fix, "write the test without the brackets: '%s'",
                 quote(l, c->u.list.items[0], "...", q, sizeof q));
    else if (list)
        snprintf(fix, sizeof fix, "join the tests with 'and' or 'or'");
    else
        snprintf(fix, sizeof fix, "write a test");
    rc_diag(l->diags, RC_WARNING, l->src, c->loc,
            "this condition is always true: it is a non-empty %s, and only an empty one is false%s; %s",
            list ? "list" : "map",
            s->kind == RC_S_MATCH && s->has_else ? " (the else block never runs)" : "", fix);
}

/* Whether a condition's truth is fixed by the literals in it: `not`,
 * `and`, `or` and quantifiers whose condition is fixed (`any v in xs:
 * false`). Literals alone are check.c's (*plain is set for them). */
static bool fixed_truth(const rc_expr *e, bool *value, bool *plain)
{
    bool a, b, p;
    *plain = false;
    if (rc_is_literal(e) && e->kind != RC_E_UNARY) {
        *plain = true;
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
    if (e->kind == RC_E_UNARY && e->u.op.op == RC_OP_NOT && fixed_truth(e->u.op.lhs, &a, &p)) {
        *value = !a;
        return true;
    }
    if (e->kind == RC_E_BINARY && (e->u.op.op == RC_OP_AND || e->u.op.op == RC_OP_OR)) {
        bool is_and = e->u.op.op == RC_OP_AND;
        bool la = fixed_truth(e->u.op.lhs, &a, &p), lb = fixed_truth(e->u.op.rhs, &b, &p);
        if ((la && a != is_and) || (lb && b != is_and)) {  /* false and _, _ or true */
            *value = !is_and;
            return true;
        }
        if (la && lb) {
            *value = is_and;
            return true;
        }
        return false;
    }
    if (e->kind == RC_E_QUANT && e->u.quant.q != RC_Q_SUM && fixed_truth(e->u.quant.cond, &a, &p) &&
        a == (e->u.quant.q == RC_Q_ALL)) {
        *value = a;  /* any: false; all: true; whatever the collection */
        return true;
    }
    return false;
}

/* check.c's "can never run" warnings, for conditions fixed by more than a
 * lone literal (`false and x`, `not true`). */
static void lint_fixed(linter *l, const rc_stmt *s)
{
    bool v, plain;
    if (!s->cond || !fixed_truth(s->cond, &v, &plain) || plain)
        return;
    if (s->kind != RC_S_MATCH) {
        if (!v)
            rc_diag(l->diags, RC_WARNING, l->src, s->loc,
                    "this statement can never run: its condition is always false; remove it");
        return;
    }
    if (!v && s->body)
        rc_diag(l->diags, RC_WARNING, l->src, s->body->loc,
                "this block can never run: the match condition is always false; remove it, or "
                "fix the condition");
    if (v && s->else_body)
        rc_diag(l->diags, RC_WARNING, l->src, s->else_body->loc,
                "this else block can never run: the match condition is always true; remove it, "
                "or fix the condition");
}

/* The kinds an `on` block applies to and their documents' shapes (the
 * names were checked: unknown ones are skipped). */
static size_t block_shapes(const rc_on *on, const rc_target *t, const rc_check_env *env,
                           ru_arena *a, const rc_target_kind **kinds, rc_shape *roots)
{
    if (!t || !t->nkinds || !env || !env->schemas)
        return 0;
    const char *names[MAX_KINDS * 4];
    size_t nn = 0;
    for (size_t i = 0; i < on->nkinds && nn < sizeof names / sizeof *names; i++)
        names[nn++] = on->kinds[i].name;
    size_t n = rc_target_block_kinds(t, names, nn, kinds, MAX_KINDS);
    for (size_t k = 0; k < n; k++) {
        const rv_node *schema = rc_schema_of(env->schemas, kinds[k]);
        if (!schema)
            return 0;
        roots[k] = rc_shape_root(schema, a);
    }
    return n;
}

/* `default P = ...` where every kind's schema says P is always present and
 * never null: every object on the way requires the next field and no form
 * of it is null (rc_shape_always_has); index steps are never certain. */
static void lint_default(linter *l, const rc_stmt *s, const rc_target_kind *const *kinds,
                         const rc_shape *roots, size_t nkinds)
{
    const rc_expr *p = s->path;
    if (!nkinds || p->kind != RC_E_PATH || p->u.path.dollar || p->root != RC_ROOT_SPEC)
        return;
    for (size_t k = 0; k < nkinds; k++) {
        rc_shape sh = roots[k];
        for (size_t i = 0; i < p->u.path.nseg; i++) {
            const rc_seg *g = &p->u.path.segs[i];
            if (g->is_index || g->expr || !rc_shape_always_has(&sh, g->key, g->klen))
                return;
            sh = rc_shape_step(&sh, g->key, g->klen, l->arena);
        }
    }
    char q[MAX_SNIPPET + 1], where[128];
    size_t n = 0;
    for (size_t k = 0; k < nkinds; k++)
        n += (size_t)snprintf(where + n, n < sizeof where ? sizeof where - n : 0, "%s%s",
                              k == 0 ? "" : k + 1 == nkinds ? " and " : ", ", kinds[k]->name);
    rc_diag(l->diags, RC_WARNING, l->src, s->loc,
            "this default never writes: %s is always present and never null in %s %s spec (the "
            "schema requires it); write 'set' to replace it, or remove the statement",
            quote(l, p, "this path", q, sizeof q), nkinds > 1 ? "every" : "a", where);
}

static void lint_block(linter *l, const rc_stmt *s, const rc_target_kind *const *kinds,
                       const rc_shape *roots, size_t nkinds)
{
    for (; s; s = s->next) {
        if (s->kind == RC_S_DEFAULT)
            lint_default(l, s, kinds, roots, nkinds);
        lint_expr(l, s->value);
        lint_expr(l, s->cond);
        lint_condition(l, s);
        lint_fixed(l, s);
        for (size_t i = 0; i < s->ntags; i++)
            lint_expr(l, s->tags[i].value);
        l->in_template = true;
        for (size_t i = 0; i < s->nparts; i++)
            lint_expr(l, s->parts[i]);
        l->in_template = false;
        if (s->kind == RC_S_MATCH) {
            lint_block(l, s->body, kinds, roots, nkinds);
            lint_block(l, s->else_body, kinds, roots, nkinds);
        }
        if (s->kind == RC_S_EACH)
            lint_block(l, s->body, kinds, roots, nkinds);
    }
}

void rc_lint(const rc_checked *checked, const rc_target *target, const rc_check_env *env,
             ru_arena *arena, rc_diags *diags)
{
    linter l = {checked, checked->file->src, diags, arena, false};
    for (const rc_on *on = checked->file->ons; on; on = on->next) {
        const rc_target_kind *kinds[MAX_KINDS];
        rc_shape roots[MAX_KINDS];
        size_t n = block_shapes(on, target, env, arena, kinds, roots);
        lint_block(&l, on->body, kinds, roots, n);
    }
}
