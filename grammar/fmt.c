/* fmt.c - the canonical layout of a policy file (rulec fmt).
 * SPDX-License-Identifier: Apache-2.0
 *
 * Works on the scanner's token stream with comments kept as tokens
 * (rc_scan_tokens), never on the tree: tokens are printed exactly as
 * written (a `1d` stays `1d`, a string keeps its escapes), so formatting
 * changes only the blanks between them, and a comment stays between the
 * same two tokens it sat between. The caller (compiler/format.c) parses
 * the file first and refuses one with errors, and checks afterwards that
 * the output scans to the same tokens.
 *
 * The layout: one statement per line, blocks indented by four spaces,
 * `} else {` on one line, one space around binary operators and after
 * commas and colons, none inside brackets, two before a comment that ends
 * a line; at most one blank line between
 * statements and none at the start or end of a block. A statement longer
 * than 100 columns is broken: a forbid-if/warn-if message goes to the next
 * line, a long value after `=` to the next line, a condition at its
 * loosest operators (the operator ends the line, the next operand lines up
 * under the first), a quantifier after its ':', and a list, map or call
 * one item per line with a trailing comma. A list, map or call written
 * with a trailing comma stays one item per line (so a hand-made table
 * keeps its shape and formatting is idempotent).
 */
#include "fmt.h"
#include "parser.h"

#include <string.h>

#define WIDTH 100
#define INDENT 4

enum {
    F_EXPR_END = 1u << 0,   /* ends an operand: a following '[' indexes, '-' subtracts */
    F_CALL = 1u << 1,       /* '(' of a call */
    F_INDEX = 1u << 2,      /* '[' of an index */
    F_UNARY = 1u << 3,      /* unary '-' */
    F_BLOCK = 1u << 4,      /* '{' or '}' of a block */
    F_MAP = 1u << 5,        /* '{' or '}' of a map literal */
    F_GROUP = 1u << 6       /* '(' or ')' of a parenthesised expression */
};

typedef struct ftok {
    const rc_token *t;
    unsigned flags;
    long match;             /* the other bracket of a pair, else -1 */
} ftok;

typedef struct fmt {
    ftok *tk;
    long n;
    ru_buf *out;
    int col;                /* column of the next byte, 0-based */
    int line_indent;        /* indentation of the current line */
} fmt;

static int kind(const fmt *f, long i)
{
    return i >= 0 && i < f->n ? f->tk[i].t->kind : -1;
}

static bool is_keyword(int k)
{
    return k >= TOK_KW_POLICY && k <= TOK_KW_FALSE;
}

/* ---- classification ---- */

static bool block_statement(int k)
{
    return k == TOK_KW_ON || k == TOK_KW_MATCH || k == TOK_KW_EACH || k == TOK_KW_ELSE;
}

/* Marks what each token is where the spelling alone does not say: which
 * '{' opens a block (in an on/match/each/else header, outside any bracket,
 * right after an operand, a kind or `else`: a map literal never follows an
 * operand), which '(' is a call, which '[' an index, which '-' unary. */
static bool classify(fmt *f, ru_arena *arena)
{
    long *stack = ru_arena_alloc(arena, (size_t)(f->n ? f->n : 1) * sizeof *stack);
    if (!stack)
        return false;
    long depth = 0, prev = -1, prev2 = -1, stmt = 0;
    while (stmt < f->n && kind(f, stmt) == TOK_COMMENT)
        stmt++;
    int inner = 0;   /* brackets open inside the current statement */
    for (long i = 0; i < f->n; i++) {
        ftok *t = &f->tk[i];
        int k = t->t->kind;
        t->match = -1;
        if (k == TOK_COMMENT)
            continue;
        int pk = kind(f, prev);
        bool after_operand = prev >= 0 && (f->tk[prev].flags & F_EXPR_END);
        switch (k) {
        case TOK_IDENT: case TOK_DOLLAR: case TOK_STRING: case TOK_INT: case TOK_FLOAT:
        case TOK_REGEX: case TOK_KW_NULL: case TOK_KW_TRUE: case TOK_KW_FALSE:
            t->flags |= F_EXPR_END;
            break;
        case '-':
            if (!after_operand)
                t->flags |= F_UNARY;
            break;
        case '(': case '[': case '{':
            /* A name right after `append` or '.' is (part of) a path:
             * `append x.list ([1])` appends a parenthesised list. */
            if (k == '(')
                t->flags |= pk == TOK_IDENT && kind(f, prev2) != '.' &&
                                    kind(f, prev2) != TOK_KW_APPEND
                                ? F_CALL
                                : F_GROUP;
            else if (k == '[')
                t->flags |= after_operand ? F_INDEX : 0;
            else if (inner == 0 && block_statement(kind(f, stmt)) &&
                     (after_operand || pk == TOK_KW_ELSE || (pk == '*' && kind(f, prev2) == TOK_KW_ON)))
                t->flags |= F_BLOCK;
            else
                t->flags |= F_MAP;
            stack[depth++] = i;
            if (!(t->flags & F_BLOCK))
                inner++;
            break;
        case ')': case ']': case '}':
            if (depth > 0) {
                long o = stack[--depth];
                t->match = o;
                f->tk[o].match = i;
                t->flags |= f->tk[o].flags & (F_BLOCK | F_MAP | F_GROUP | F_CALL | F_INDEX);
                if (!(t->flags & F_BLOCK)) {
                    inner--;
                    t->flags |= F_EXPR_END;
                }
            }
            break;
        default:
            /* A keyword after '.' is a name (`x.default`). */
            if (is_keyword(k) && pk == '.')
                t->flags |= F_EXPR_END;
            break;
        }
        prev2 = prev;
        prev = i;
        /* Where the next statement starts. */
        if ((k == ';' && inner == 0) || (t->flags & F_BLOCK))
            stmt = i + 1;
        if (stmt == i + 1) {
            /* skip comments to the statement's first real token */
            while (stmt < f->n && kind(f, stmt) == TOK_COMMENT)
                stmt++;
        }
    }
    return true;
}

/* ---- printing ---- */

static void put(fmt *f, const char *s, size_t n)
{
    ru_buf_put(f->out, s, n);
    f->col += (int)n;
}

static void put_tok(fmt *f, long i)
{
    put(f, f->tk[i].t->text, f->tk[i].t->len);
}

static void newline(fmt *f, int indent)
{
    ru_buf_putc(f->out, '\n');
    for (int i = 0; i < indent; i++)
        ru_buf_putc(f->out, ' ');
    f->col = indent;
    f->line_indent = indent;
}

/* Whether one space separates tokens p and c on a line. */
static bool space_between(const fmt *f, long p, long c)
{
    int pk = kind(f, p), ck = kind(f, c);
    unsigned pf = f->tk[p].flags, cf = f->tk[c].flags;
    if (ck == ',' || ck == ';' || ck == ')' || ck == ']' || ck == ':' || ck == '.')
        return false;
    if (pk == '.' || pk == '(' || pk == '[' || (pf & F_UNARY))
        return false;
    if ((pk == '{' && (pf & F_MAP)) || (ck == '}' && (cf & F_MAP)))
        return false;
    if ((ck == '(' && (cf & F_CALL)) || (ck == '[' && (cf & F_INDEX)))
        return false;
    return true;
}

/* The width of tokens [a, b) on one line. */
static int flat_len(const fmt *f, long a, long b)
{
    long w = 0;
    for (long i = a; i < b; i++) {
        if (i > a && space_between(f, i - 1, i))
            w++;
        w += (long)f->tk[i].t->len;
        if (w > 100000)
            break;
    }
    return (int)w;
}

static void put_flat(fmt *f, long a, long b)
{
    for (long i = a; i < b; i++) {
        if (i > a && space_between(f, i - 1, i))
            put(f, " ", 1);
        put_tok(f, i);
    }
}

/* A list, map or call (not an index or a parenthesised expression). */
static bool comma_group(const fmt *f, long open)
{
    int k = kind(f, open);
    unsigned fl = f->tk[open].flags;
    return (k == '(' && (fl & F_CALL)) || (k == '[' && !(fl & F_INDEX)) || (k == '{' && (fl & F_MAP));
}

/* Whether [a, b) holds a list, map or call written with a trailing comma,
 * which stays one item per line. */
static bool forced(const fmt *f, long a, long b)
{
    for (long i = a; i + 1 < b; i++)
        if (kind(f, i) == ',' && f->tk[i + 1].match >= 0 && f->tk[i + 1].match < i &&
            comma_group(f, f->tk[i + 1].match))
            return true;
    return false;
}

static bool fits(const fmt *f, long a, long b)
{
    return !forced(f, a, b) && f->col + flat_len(f, a, b) <= WIDTH;
}

/* How loosely a binary operator binds (1 loosest), 0 for anything else. */
static int op_class(const fmt *f, long i)
{
    switch (kind(f, i)) {
    case TOK_OP_COALESCE: return 1;
    case TOK_KW_OR: return 2;
    case TOK_KW_AND: return 3;
    case TOK_OP_EQ: case TOK_OP_NE: case '<': case TOK_OP_LE: case '>': case TOK_OP_GE:
    case TOK_KW_IN: case TOK_OP_MATCH: case TOK_OP_NMATCH:
        return 4;
    case '+': return 5;
    case '-': return (f->tk[i].flags & F_UNARY) ? 0 : 5;
    case '*': case '/': case '%': return 6;
    default: return 0;
    }
}

/* The next token of [i, b) at bracket depth 0 relative to i (skipping
 * whole bracket pairs). */
static long skip_group(const fmt *f, long i)
{
    long m = f->tk[i].match;
    int k = kind(f, i);
    if ((k == '(' || k == '[' || k == '{') && m > i)
        return m + 1;
    return i + 1;
}

static bool is_quantifier(const fmt *f, long a, long b)
{
    int k = kind(f, a);
    return (k == TOK_KW_ANY || k == TOK_KW_ALL || k == TOK_KW_SUM) && a + 2 < b &&
           kind(f, a + 1) == TOK_IDENT && kind(f, a + 2) == TOK_KW_IN;
}

static void render(fmt *f, long a, long b, int cont);

/* A list, map or call that does not fit: one item per line, each followed
 * by a comma, the closer back at the line's indentation. */
static void explode(fmt *f, long open, long close)
{
    int base = f->line_indent;
    put_tok(f, open);
    long s = open + 1;
    while (s < close) {
        long e = s;
        while (e < close && kind(f, e) != ',')
            e = skip_group(f, e);
        newline(f, base + INDENT);
        render(f, s, e, base + 2 * INDENT);
        put(f, ",", 1);
        s = e < close ? e + 1 : e;
    }
    newline(f, base);
    put_tok(f, close);
}

/* Prints the expression-like tokens [a, b) from the current column; lines
 * it breaks continue at column cont. */
static void render(fmt *f, long a, long b, int cont)
{
    if (b <= a)
        return;
    if (fits(f, a, b)) {
        put_flat(f, a, b);
        return;
    }
    if (is_quantifier(f, a, b)) {
        long c = a;
        while (c < b && kind(f, c) != ':')
            c = skip_group(f, c);
        if (c < b) {
            int body = f->col + INDENT;
            put_flat(f, a, c + 1);
            newline(f, body);
            render(f, c + 1, b, body);
            return;
        }
    }
    int loosest = 0;
    for (long i = a; i < b; i = skip_group(f, i)) {
        int c = i > a ? op_class(f, i) : 0;
        if (c && (!loosest || c < loosest))
            loosest = c;
    }
    if (loosest) {
        long s = a;
        bool first = true, broken = false;
        while (s < b) {
            long e = s;
            while (e < b && !(e > s && op_class(f, e) == loosest))
                e = skip_group(f, e);
            /* After an operand that took several lines, a short last one
             * stays on the line: `(sum ...\n ...) > 16`. */
            if (!first && broken && e == b && f->col + 1 + flat_len(f, s, e) <= WIDTH && !forced(f, s, e))
                put(f, " ", 1);
            else if (!first)
                newline(f, cont);
            size_t at = f->out->len;
            render(f, s, e, cont + INDENT);
            broken = memchr(f->out->data + at, '\n', f->out->len - at) != NULL;
            if (e < b) {
                put(f, " ", 1);
                put_tok(f, e);
                e++;
            }
            s = e;
            first = false;
        }
        return;
    }
    long close = b - 1, open = f->tk[close].match;
    int ck = kind(f, close);
    if ((ck == ')' || ck == ']' || ck == '}') && open >= a && open < close) {
        if (comma_group(f, open)) {
            put_flat(f, a, open);
            if (open > a && space_between(f, open - 1, open))
                put(f, " ", 1);
            explode(f, open, close);
            return;
        }
        if (kind(f, open) == '(') {
            put_flat(f, a, open);
            if (open > a && space_between(f, open - 1, open))
                put(f, " ", 1);
            put_tok(f, open);
            render(f, open + 1, close, f->col);
            put_tok(f, close);
            return;
        }
    }
    put_flat(f, a, b);
}

/* A statement (or block header, or `} else ...`) holding a comment: the
 * tokens as one line each between comments, a comment kept where it was
 * (at the end of a line or on its own). */
static void emit_with_comments(fmt *f, long a, long b, int cont)
{
    long prev = -1;
    for (long i = a; i < b; i++) {
        if (kind(f, i) == TOK_COMMENT) {
            if (prev >= 0 && f->tk[prev].t->loc.last_line == f->tk[i].t->loc.first_line)
                put(f, "  ", 2);
            else if (prev >= 0)
                newline(f, cont);
            put_tok(f, i);
            if (i + 1 < b)
                newline(f, cont);
            prev = -1;
            continue;
        }
        if (prev >= 0 && space_between(f, prev, i))
            put(f, " ", 1);
        put_tok(f, i);
        prev = i;
    }
}

static long find(const fmt *f, long a, long b, int k)
{
    for (long i = a; i < b; i = skip_group(f, i))
        if (kind(f, i) == k)
            return i;
    return -1;
}

/* One statement, block header or block closer: tokens [a, b] (b is its
 * ';', its block's '{', or the '}' itself), from the line's indentation. */
static void emit_unit(fmt *f, long a, long b, int indent)
{
    for (long i = a; i <= b; i++)
        if (kind(f, i) == TOK_COMMENT) {
            emit_with_comments(f, a, b + 1, kind(f, a) == '}' ? indent : indent + INDENT);
            return;
        }
    if (fits(f, a, b + 1)) {
        put_flat(f, a, b + 1);
        return;
    }
    int k = kind(f, a);
    if ((k == TOK_KW_FORBID_IF || k == TOK_KW_WARN_IF) && kind(f, b) == ';' &&
        kind(f, b - 1) == TOK_STRING && kind(f, b - 2) == ':') {
        put_tok(f, a);
        put(f, " ", 1);
        render(f, a + 1, b - 2, f->col);
        put_tok(f, b - 2);
        newline(f, indent + INDENT);
        put_flat(f, b - 1, b + 1);
        return;
    }
    if ((k == TOK_KW_SET || k == TOK_KW_DEFAULT || k == TOK_KW_PARAM) && kind(f, b) == ';') {
        long eq = find(f, a, b, '=');
        if (eq > a) {
            put_flat(f, a, eq + 1);
            long close = b - 1, open = f->tk[close].match;
            bool group = open == eq + 1 && comma_group(f, open);
            int next_line = indent + INDENT;
            if (!forced(f, eq + 1, b) && next_line + flat_len(f, eq + 1, b + 1) <= WIDTH) {
                newline(f, next_line);
                put_flat(f, eq + 1, b + 1);
            } else if (group) {
                put(f, " ", 1);
                render(f, eq + 1, b, indent + INDENT);
                put_tok(f, b);
            } else {
                newline(f, next_line);
                render(f, eq + 1, b, next_line);
                put_tok(f, b);
            }
            return;
        }
    }
    if (kind(f, b) == '{' && (f->tk[b].flags & F_BLOCK)) {
        /* The condition or collection of a header starts after its
         * keywords: `match`, `} else match`, `each x in`, `each k, v in`. */
        long s = a;
        if (k == '}')
            s++;
        if (kind(f, s) == TOK_KW_ELSE)
            s++;
        if (kind(f, s) == TOK_KW_MATCH)
            s++;
        else if (kind(f, s) == TOK_KW_EACH) {
            long in = find(f, s, b, TOK_KW_IN);
            s = in > s ? in + 1 : b;
        } else {
            s = b;   /* `on` kinds, `else {`: one line */
        }
        put_flat(f, a, s);
        if (s > a && s < b)
            put(f, " ", 1);
        render(f, s, b, f->col);
        if (s < b || s > a)
            put(f, " ", 1);
        put_tok(f, b);
        return;
    }
    if (kind(f, b) == ';') {
        render(f, a, b, indent + INDENT);
        put_tok(f, b);
        return;
    }
    put_flat(f, a, b + 1);
}

/* The last token of the statement, header or closer starting at a. */
static long unit_end(const fmt *f, long a)
{
    if (kind(f, a) == '}' && (f->tk[a].flags & F_BLOCK)) {
        long j = a + 1;
        while (j < f->n && kind(f, j) == TOK_COMMENT)
            j++;
        if (kind(f, j) != TOK_KW_ELSE)
            return a;
    }
    for (long i = a + (kind(f, a) == '}' ? 1 : 0); i < f->n; i++) {
        int k = kind(f, i);
        if (k == '{' && (f->tk[i].flags & F_BLOCK))
            return i;
        if (k == '(' || k == '[' || k == '{') {
            if (f->tk[i].match > i)
                i = f->tk[i].match;
            continue;
        }
        if (k == ';' || (k == '}' && (f->tk[i].flags & F_BLOCK)))
            return k == ';' ? i : i - 1;
    }
    return f->n - 1;
}

bool rc_fmt_tokens(const rc_token *tokens, long n, ru_arena *arena, ru_buf *out)
{
    fmt f = {0};
    f.n = n;
    f.out = out;
    f.tk = ru_arena_alloc(arena, (size_t)(n ? n : 1) * sizeof *f.tk);
    if (!f.tk)
        return false;
    memset(f.tk, 0, (size_t)(n ? n : 1) * sizeof *f.tk);
    for (long i = 0; i < n; i++)
        f.tk[i].t = &tokens[i];
    if (!classify(&f, arena))
        return false;

    int depth = 0;
    long last = -1;          /* the last token printed */
    bool opened = true;      /* at the start of the file or of a block */
    for (long i = 0; i < n;) {
        int k = kind(&f, i);
        bool closer = k == '}' && (f.tk[i].flags & F_BLOCK);
        if (closer && depth > 0)
            depth--;
        if (last >= 0 && !opened && !closer &&
            f.tk[i].t->loc.first_line - f.tk[last].t->loc.last_line >= 2)
            ru_buf_putc(out, '\n');
        f.col = f.line_indent = depth * INDENT;
        for (int s = 0; s < f.col; s++)
            ru_buf_putc(out, ' ');
        long end = k == TOK_COMMENT ? i : unit_end(&f, i);
        if (k == TOK_COMMENT)
            put_tok(&f, i);
        else
            emit_unit(&f, i, end, depth * INDENT);
        opened = false;
        if (kind(&f, end) == '{' && (f.tk[end].flags & F_BLOCK)) {
            depth++;
            opened = true;
        }
        last = end;
        i = end + 1;
        /* A comment on the same line stays at the end of that line. */
        if (i < n && kind(&f, i) == TOK_COMMENT &&
            f.tk[i].t->loc.first_line == f.tk[end].t->loc.last_line && k != TOK_COMMENT) {
            put(&f, "  ", 2);
            put_tok(&f, i);
            last = i;
            i++;
        }
        ru_buf_putc(out, '\n');
    }
    return !out->oom;
}
