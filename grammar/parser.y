/* parser.y - the grammar of the rules language: tokens -> AST.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Actions only build the tree (compiler/ast_build.h); names, types and
 * templates are the checker's business. Syntax errors say what was expected
 * (parse.error custom + LAC, as nftables does), with hints for misspelt
 * keywords, other languages' spellings and unclosed delimiters; recovery
 * at statement boundaries lets one run report several of them. Two entry points share the grammar
 * through a start token the scanner emits first (the "multiple start
 * symbols" trick from bison's manual and jq): a whole file, or one
 * expression of a message template.
 */

/* Reentrant: no globals, so several compilations may run at once. */
%define api.pure full
/* Locations are ast.h's rc_loc, which uses bison's field names. */
%locations
%define api.location.type {rc_loc}
/* Each symbol names its C type; no hand-written %union to keep in sync. */
%define api.value.type union
/* Token enum values get a prefix: NULL, IN, ... must not clash with C. */
%define api.token.prefix {TOK_}
/* We phrase syntax errors ourselves (readable token names, no repeats). */
%define parse.error custom
/* LAC: the expected-token list is exact even after default reductions. */
%define parse.lac full
/* Any unresolved conflict is a bug in the grammar. */
%expect 0

/* The flex scanner is passed to yylex; the parser state to the actions. */
%param {yyscan_t scanner}
%parse-param {struct rc_parser *p}

%code requires {
#include "ast.h"
#include "ast_build.h"
#include "diag.h"

#include <setjmp.h>

/* Open delimiters remembered for notes; deeper nesting is only counted. */
#define RC_MAX_OPEN 64

/* flex's opaque scanner type, declared the way flex's header guards it. */
#ifndef YY_TYPEDEF_YY_SCANNER_T
#define YY_TYPEDEF_YY_SCANNER_T
typedef void *yyscan_t;
#endif

/* A name-like token: identifier or $name (without the '$'). Points into
 * the scanner's input buffer (valid until the scanner is destroyed), so
 * actions copy it into the arena. */
typedef struct rc_name {
    const char *s;
    size_t len;
} rc_name;

/* A regex literal token: the pattern as written between the slashes. */
typedef struct rc_regex_tok {
    const char *pattern;  /* arena copy */
    size_t len;
    uint32_t flags;       /* RC_RE_* */
} rc_regex_tok;

/* A path being built: the expression and the capacity of its segments. */
typedef struct rc_path_acc {
    rc_expr *e;
    size_t cap;
} rc_path_acc;

/* The options after a header's name: `priority N`, `target NAME`. */
typedef struct rc_header_opts {
    bool has_priority;
    int64_t priority;
    rc_loc priority_loc;
    const char *target;   /* NULL: none named */
    rc_loc target_loc;
} rc_header_opts;

/* A statement list being built. */
typedef struct rc_stmt_list {
    rc_stmt *head, *tail;
} rc_stmt_list;

/* State shared by the scanner (as yyextra) and the parser actions. */
typedef struct rc_parser {
    rc_build b;                   /* arena + where to jump when it runs dry */
    jmp_buf oom;                  /* recovery point of rc_parse_* */
    const char *fatal;            /* scanner fatal error, if that is why we jumped */
    const rc_source *src;
    rc_diags *diags;
    int start_token;              /* emitted by the first yylex call */
    int line, col;                /* scanner position: the next byte */
    int end_line, end_col;        /* end of the last token that is not blank or a comment */
    int prev_end_line, prev_end_col; /* ... and of the token before it */
    const char *tok_text;         /* last token, for "unexpected identifier 'x'" */
    size_t tok_len;
    int err_line, err_col;        /* last syntax error (never report one token twice) */
    rc_file *file;                /* START_FILE result */
    rc_header **header_tail;
    rc_param_decl **param_tail;
    rc_on **on_tail;
    rc_expr *expr;                /* START_EXPR result */
    bool expr_mode;               /* parsing a template's {...}: its end is a '}' */
    bool keep_comments;           /* rc_scan_tokens: comments are COMMENT tokens */
    /* Open delimiters ('(', '[', '{') not closed yet, innermost last, for
     * "unclosed '(' opened here" notes. The scanner keeps it; the effect
     * of each token is applied when the next one is scanned, so that at a
     * syntax error the stack still shows what the offending token found. */
    struct { char ch; rc_loc loc; } open[RC_MAX_OPEN];
    int nopen;
    int open_lost;                /* openers beyond RC_MAX_OPEN, not recorded */
    char delim_pending;           /* last token, when it was a delimiter or ';' */
    rc_loc delim_pending_loc;
    int open_noted_line, open_noted_col;  /* last opener a note was given for */
    /* The closing quote of the last string that left a template's '{'
     * open ("{a["k"]}" ends at the '"' before k): when the next token is
     * a syntax error, a note points at that quote (line 0: none). */
    rc_loc brace_string_quote;
} rc_parser;
}

%code {
#include "lexer.h"
#include "parse.h"

#include "suggest.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void yyerror(const rc_loc *loc, yyscan_t scanner, rc_parser *p, const char *msg);
static void missing_semicolon(rc_parser *p, rc_loc before, int lookahead, const rc_loc *la);
static void report(rc_parser *p, rc_loc at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void chained(rc_parser *p, rc_loc at, const rc_expr *first, const char *op);

/* The parser stack never grows past its initial arrays: no hidden malloc
 * (nothing to leak when an out-of-memory longjmp leaves yyparse), and a
 * bound on nesting that keeps the checker's recursion shallow. */
#define YYINITDEPTH 1000
#define YYMAXDEPTH 1000

#define B (&p->b)

static rc_name kw(const char *s)
{
    rc_name n = { s, strlen(s) };
    return n;
}

/* A header option that is neither `priority` nor `target`, with the
 * closer of the two when it is a likely slip. */
static void unknown_header_option(rc_parser *p, rc_name word, rc_loc loc)
{
    static const char *const options[] = {"priority", "target"};
    char w[64];
    snprintf(w, sizeof w, "%.*s", (int)(word.len < 63 ? word.len : 63), word.s);
    const char *hint = rc_suggest(w, options, 2);
    rc_diag(p->diags, RC_ERROR, p->src, loc,
            "unknown header option '%s' (a header takes: priority N, target NAME)%s%s%s", w,
            hint ? "; did you mean '" : "", hint ? hint : "", hint ? "'?" : "");
}

static rc_seg seg_key(rc_parser *p, const char *s, size_t len, rc_loc loc)
{
    rc_seg g;
    memset(&g, 0, sizeof g);
    g.key = rc_build_strndup(B, s, len);
    g.klen = len;
    g.loc = loc;
    return g;
}

static rc_seg seg_index(int64_t i, rc_loc loc)
{
    rc_seg g;
    memset(&g, 0, sizeof g);
    g.is_index = true;
    g.index = i;
    g.loc = loc;
    return g;
}

/* A bracketed segment: a string literal is a key, an integer literal
 * (negative ones too: `[-1]`) an index, as they always were; anything else
 * is a computed key the checker and code generator handle. */
static rc_seg seg_bracket(rc_parser *p, rc_expr *e, rc_loc loc)
{
    if (e->kind == RC_E_STRING)
        return seg_key(p, e->u.str.value, e->u.str.len, loc);
    if (e->kind == RC_E_INT)
        return seg_index(e->u.i, loc);
    if (e->kind == RC_E_UNARY && e->u.op.op == RC_OP_NEG && e->u.op.lhs->kind == RC_E_INT &&
        e->u.op.lhs->u.i != INT64_MIN)
        return seg_index(-e->u.op.lhs->u.i, loc);
    rc_seg g;
    memset(&g, 0, sizeof g);
    g.expr = e;
    g.loc = loc;
    return g;
}

/* The span of a bracketed segment: from '[' to ']'. */
static rc_loc seg_loc(rc_loc open, rc_loc close)
{
    rc_loc l = { open.first_line, open.first_column, close.last_line, close.last_column };
    return l;
}

static void stmts_add(rc_stmt_list *l, rc_stmt *s)
{
    if (!s)
        return;   /* a statement lost to error recovery */
    if (l->tail)
        l->tail->next = s;
    else
        l->head = s;
    l->tail = s;
}

static rc_map_entry *entry_add(rc_parser *p, rc_vec *v, rc_name key, rc_loc key_loc, rc_expr *value)
{
    rc_map_entry *e = rc_vec_push(B, v, sizeof *e);
    e->key = rc_build_strndup(B, key.s, key.len);
    e->klen = key.len;
    e->key_loc = key_loc;
    e->value = value;
    return e;
}

static rc_expr *match_expr(rc_parser *p, rc_expr *lhs, bool negated, rc_regex_tok re,
                           rc_loc re_loc, rc_loc loc)
{
    rc_expr *e = rc_expr_new(B, RC_E_MATCH, loc);
    e->u.match.lhs = lhs;
    e->u.match.negated = negated;
    e->u.match.pattern = re.pattern;
    e->u.match.plen = re.len;
    e->u.match.flags = re.flags;
    e->u.match.regex_loc = re_loc;
    return e;
}

static rc_expr *quant_expr(rc_parser *p, rc_quant_kind q, rc_name var, rc_loc var_loc, rc_expr *over,
                           rc_expr *cond, rc_loc loc)
{
    rc_expr *e = rc_expr_new(B, RC_E_QUANT, loc);
    e->u.quant.q = q;
    e->u.quant.var = rc_build_strndup(B, var.s, var.len);
    e->u.quant.var_loc = var_loc;
    e->u.quant.over = over;
    e->u.quant.cond = cond;
    return e;
}

static rc_stmt *msg_stmt(rc_parser *p, rc_stmt_kind kind, rc_expr *cond, rc_string msg, rc_loc loc)
{
    rc_stmt *s = rc_stmt_new(B, kind, loc);
    s->cond = cond;
    s->message = msg;
    return s;
}

static rc_stmt *write_stmt(rc_parser *p, rc_stmt_kind kind, rc_expr *path, rc_expr *value, rc_loc loc)
{
    rc_stmt *s = rc_stmt_new(B, kind, loc);
    s->path = path;
    s->value = value;
    return s;
}
}

/* Start tokens: never in the source, emitted first by the scanner. */
%token START_FILE "start of file" START_EXPR "start of expression"
/* Only rc_scan_tokens (the formatter) sees comments as tokens; the parser
 * never does. */
%token COMMENT "comment"

%token <rc_name> IDENT "identifier"
%token <rc_name> DOLLAR "$name"
%token <rc_string> STRING "string"
%token <int64_t> INT "integer"
%token <double> FLOAT "number"
%token <rc_regex_tok> REGEX "regex literal"

/* Keywords: the reporter shows an alphabetic alias as keyword 'policy'. */
%token KW_POLICY "policy" KW_PRIORITY "priority" KW_PARAM "param" KW_ON "on"
%token KW_SET "set" KW_DEFAULT "default" KW_UNSET "unset" KW_APPEND "append"
%token KW_APPEND_TAGS "append-tags" KW_FORBID "forbid" KW_FORBID_IF "forbid-if"
%token KW_WARN "warn" KW_WARN_IF "warn-if" KW_MATCH "match" KW_ELSE "else" KW_EACH "each"
%token KW_ANY "any" KW_ALL "all" KW_SUM "sum" KW_IN "in" KW_AND "and" KW_OR "or" KW_NOT "not"
%token KW_NULL "null" KW_TRUE "true" KW_FALSE "false"

%token OP_COALESCE "??" OP_EQ "==" OP_NE "!=" OP_LE "<=" OP_GE ">="
%token OP_MATCH "=~" OP_NMATCH "!~"

/* `append PATH EXPR;`: after `append a`, a `[` could start an index
 * segment of the path or a list literal value. `append a [1];`,
 * `append a ["k"];` and `append a [x];` are read as index segments (the
 * shift of ']' wins over reducing the one item of a list), so a list
 * literal value there must be parenthesised: `append a ([1]);`. These two
 * declarations exist only for that choice. */
%precedence LIST_ITEM
%precedence ']'

%type <rc_expr *> expr quant coalesce or and not cmp cmp_chain compare sum prod unary primary literal call
%type <rc_path_acc> path
%type <rc_vec> kinds kind_list entries entries_opt exprs exprs_opt
%type <rc_stmt_list> stmts
%type <rc_stmt *> block stmt match
%type <rc_name> name keyword key kind_name
%type <int64_t> signed_int
%type <const char *> cmp_op
%type <rc_header_opts> header_opts

%%

start:
  START_FILE items
| START_EXPR expr                 { p->expr = $2; }
;

items:
  %empty
| items item
;

item:
  KW_POLICY STRING header_opts end
    {
      rc_header *h = rc_build_alloc(B, sizeof *h);
      h->name = $2;
      h->has_priority = $3.has_priority;
      h->priority = $3.priority;
      h->priority_loc = $3.priority_loc;
      h->target = $3.target;
      h->target_loc = $3.target_loc;
      h->loc = @$;
      *p->header_tail = h;
      p->header_tail = &h->next;
    }
| KW_PARAM IDENT '=' expr end
    {
      rc_param_decl *d = rc_build_alloc(B, sizeof *d);
      d->name = rc_build_strndup(B, $2.s, $2.len);
      d->name_loc = @2;
      d->value = $4;
      d->loc = @$;
      *p->param_tail = d;
      p->param_tail = &d->next;
    }
| KW_ON kinds block
    {
      rc_on *o = rc_build_alloc(B, sizeof *o);
      o->kinds = $2.data;
      o->nkinds = $2.n;
      o->body = $3;
      o->loc = @$;
      *p->on_tail = o;
      p->on_tail = &o->next;
    }
| error ';'
| error '}'
| error
;

/* The ';' that ends a header, a parameter or a statement. When it is
 * missing but the next token starts something new (a statement, '}', an
 * item: in the grammar's follow set), the error is reported and parsing
 * goes on as if it were there, so the statement is kept (and checked) and
 * every missing ';' of a file is reported. */
end:
  ';'
| %empty                          { missing_semicolon(p, @$, yychar, &yylloc); }
;

signed_int:
  INT                             { $$ = $1; }
| '-' INT                         { $$ = -$2; }
;

kinds:
  '*'
    {
      $$ = (rc_vec){ 0 };
      rc_kind_name *k = rc_vec_push(B, &$$, sizeof *k);
      k->name = "*";
      k->loc = @1;
    }
| kind_list
;

kind_list:
  kind_name
    {
      $$ = (rc_vec){ 0 };
      rc_kind_name *k = rc_vec_push(B, &$$, sizeof *k);
      k->name = rc_build_strndup(B, $1.s, $1.len);
      k->loc = @1;
    }
| kind_list ',' kind_name
    {
      $$ = $1;
      rc_kind_name *k = rc_vec_push(B, &$$, sizeof *k);
      k->name = rc_build_strndup(B, $3.s, $3.len);
      k->loc = @3;
    }
;

/* A kind: a name, or names joined by dots as SkyPilot's request names
 * are (`jobs.launch`, `serve.up`). */
kind_name:
  IDENT
| kind_name '.' name
    {
      char *joined = rc_build_alloc(B, $1.len + 1 + $3.len + 1);
      memcpy(joined, $1.s, $1.len);
      joined[$1.len] = '.';
      memcpy(joined + $1.len + 1, $3.s, $3.len);
      joined[$1.len + 1 + $3.len] = '\0';
      $$.s = joined;
      $$.len = $1.len + 1 + $3.len;
    }
;

block:
  '{' stmts '}'                   { $$ = $2.head; }
;

stmts:
  %empty                          { $$ = (rc_stmt_list){ NULL, NULL }; }
| stmts stmt                      { $$ = $1; stmts_add(&$$, $2); }
;

stmt:
  KW_SET path '=' expr end        { $$ = write_stmt(p, RC_S_SET, $2.e, $4, @$); }
| KW_DEFAULT path '=' expr end    { $$ = write_stmt(p, RC_S_DEFAULT, $2.e, $4, @$); }
| KW_UNSET path end               { $$ = write_stmt(p, RC_S_UNSET, $2.e, NULL, @$); }
| KW_APPEND path expr end         { $$ = write_stmt(p, RC_S_APPEND, $2.e, $3, @$); }
| KW_APPEND_TAGS '{' entries_opt '}' end
    {
      $$ = rc_stmt_new(B, RC_S_TAGS, @$);
      $$->tags = $3.data;
      $$->ntags = $3.n;
    }
| KW_APPEND_TAGS path '{' entries_opt '}' end
    {
      $$ = rc_stmt_new(B, RC_S_TAGS, @$);
      $$->path = $2.e;
      $$->tags = $4.data;
      $$->ntags = $4.n;
    }
| KW_FORBID_IF expr ':' STRING end { $$ = msg_stmt(p, RC_S_FORBID, $2, $4, @$); }
| KW_FORBID STRING end            { $$ = msg_stmt(p, RC_S_FORBID, NULL, $2, @$); }
| KW_WARN_IF expr ':' STRING end  { $$ = msg_stmt(p, RC_S_WARN, $2, $4, @$); }
| KW_WARN STRING end              { $$ = msg_stmt(p, RC_S_WARN, NULL, $2, @$); }
| match                           { $$ = $1; }
| KW_EACH IDENT KW_IN sum block
    {
      $$ = rc_stmt_new(B, RC_S_EACH, @$);
      $$->var = rc_build_strndup(B, $2.s, $2.len);
      $$->var_loc = @2;
      $$->value = $4;
      $$->body = $5;
    }
| KW_EACH IDENT ',' IDENT KW_IN sum block
    {
      $$ = rc_stmt_new(B, RC_S_EACH, @$);
      $$->key_var = rc_build_strndup(B, $2.s, $2.len);
      $$->key_loc = @2;
      $$->var = rc_build_strndup(B, $4.s, $4.len);
      $$->var_loc = @4;
      $$->value = $6;
      $$->body = $7;
    }
| error ';'                       { $$ = NULL; yyerrok; }
/* After a ';' the next statement's errors are its own: report them even
 * within bison's three tokens of quiet after an error (yyerrok).
 * Without a ';': recovery stops before the next statement or a '}' (LAC
 * only reduces this when what follows can start one), so an error costs
 * one statement, not everything up to the next ';'. Not yyerrok here: the
 * '}' may close a map literal rather than the block, and what follows
 * would be noise. */
| error                           { $$ = NULL; }
/* A bad statement that owns a block (`if x { ... }`, `} esle { ... }`):
 * the block is skipped whole, so its '}' does not close the enclosing one. */
| error block                     { $$ = NULL; }
;

/* `else match` chains: the else-body is the nested match statement. */
match:
  KW_MATCH expr block
    {
      $$ = rc_stmt_new(B, RC_S_MATCH, @$);
      $$->cond = $2;
      $$->body = $3;
    }
| KW_MATCH expr block KW_ELSE block
    {
      $$ = rc_stmt_new(B, RC_S_MATCH, @$);
      $$->cond = $2;
      $$->body = $3;
      $$->has_else = true;
      $$->else_loc = @4;
      $$->else_body = $5;
    }
| KW_MATCH expr block KW_ELSE match
    {
      $$ = rc_stmt_new(B, RC_S_MATCH, @$);
      $$->cond = $2;
      $$->body = $3;
      $$->has_else = true;
      $$->else_loc = @4;
      $$->else_body = $5;
    }
;

/* ---- expressions, loosest first ----
 * A quantifier's condition extends as far right as possible, so a
 * quantifier stands only where an expression is complete: at the top of a
 * condition or value, an argument, a list item, a map value, or inside
 * parentheses (`not (any v in xs: v)`, `a and (all v in xs: v)`). Its
 * collection is additive-level, so the `in` after it cannot be read as
 * membership. */
expr:
  coalesce
| quant
;

quant:
  KW_ANY IDENT KW_IN sum ':' expr { $$ = quant_expr(p, RC_Q_ANY, $2, @2, $4, $6, @$); }
| KW_ALL IDENT KW_IN sum ':' expr { $$ = quant_expr(p, RC_Q_ALL, $2, @2, $4, $6, @$); }
| KW_SUM IDENT KW_IN sum ':' expr { $$ = quant_expr(p, RC_Q_SUM, $2, @2, $4, $6, @$); }
;

coalesce:
  coalesce "??" or                { $$ = rc_expr_binary(B, RC_OP_COALESCE, $1, $3, @$); }
| or
;

or:
  or KW_OR and                    { $$ = rc_expr_binary(B, RC_OP_OR, $1, $3, @$); }
| and
;

and:
  and KW_AND not                  { $$ = rc_expr_binary(B, RC_OP_AND, $1, $3, @$); }
| not
;

not:
  KW_NOT not                      { $$ = rc_expr_unary(B, RC_OP_NOT, $2, @$); }
| cmp
;

/* Comparisons do not chain: `a == b == c` is an error, reported with
 * what to write instead. So are what other languages spell differently:
 * `a = b` and `a not in b`. These rules only report; the tree they build
 * means what the user most likely meant, so checking goes on. */
cmp:
  sum
| compare
| cmp_chain
| sum '=' sum
    {
      report(p, @2, "'=' is not a comparison: write '==' to compare");
      $$ = rc_expr_binary(B, RC_OP_EQ, $1, $3, @$);
    }
| sum KW_NOT KW_IN sum
    {
      rc_loc at = { @2.first_line, @2.first_column, @3.last_line, @3.last_column };
      report(p, at, "there is no 'not in' operator: write 'not (x in y)'");
      $$ = rc_expr_unary(B, RC_OP_NOT, rc_expr_binary(B, RC_OP_IN, $1, $4, @$), @$);
    }
;

/* The first link of a chain is reported; further links only extend it. */
cmp_chain:
  compare cmp_op sum
    {
      chained(p, @2, $1, $2);
      $$ = rc_expr_binary(B, RC_OP_AND, $1, $3, @$);
    }
| cmp_chain cmp_op sum            { $$ = rc_expr_binary(B, RC_OP_AND, $1, $3, @$); }
;

cmp_op:
  "=="                            { $$ = "=="; }
| "!="                            { $$ = "!="; }
| '<'                             { $$ = "<"; }
| "<="                            { $$ = "<="; }
| '>'                             { $$ = ">"; }
| ">="                            { $$ = ">="; }
| KW_IN                           { $$ = "in"; }
;

compare:
  sum "==" sum                    { $$ = rc_expr_binary(B, RC_OP_EQ, $1, $3, @$); }
| sum "!=" sum                    { $$ = rc_expr_binary(B, RC_OP_NE, $1, $3, @$); }
| sum '<' sum                     { $$ = rc_expr_binary(B, RC_OP_LT, $1, $3, @$); }
| sum "<=" sum                    { $$ = rc_expr_binary(B, RC_OP_LE, $1, $3, @$); }
| sum '>' sum                     { $$ = rc_expr_binary(B, RC_OP_GT, $1, $3, @$); }
| sum ">=" sum                    { $$ = rc_expr_binary(B, RC_OP_GE, $1, $3, @$); }
| sum KW_IN sum                   { $$ = rc_expr_binary(B, RC_OP_IN, $1, $3, @$); }
| sum "=~" REGEX                  { $$ = match_expr(p, $1, false, $3, @3, @$); }
| sum "!~" REGEX                  { $$ = match_expr(p, $1, true, $3, @3, @$); }
;

sum:
  sum '+' prod                    { $$ = rc_expr_binary(B, RC_OP_ADD, $1, $3, @$); }
| sum '-' prod                    { $$ = rc_expr_binary(B, RC_OP_SUB, $1, $3, @$); }
| prod
;

prod:
  prod '*' unary                  { $$ = rc_expr_binary(B, RC_OP_MUL, $1, $3, @$); }
| prod '/' unary                  { $$ = rc_expr_binary(B, RC_OP_DIV, $1, $3, @$); }
| prod '%' unary                  { $$ = rc_expr_binary(B, RC_OP_MOD, $1, $3, @$); }
| unary
;

unary:
  '-' unary                       { $$ = rc_expr_unary(B, RC_OP_NEG, $2, @$); }
| primary
;

primary:
  literal
| path                            { $$ = $1.e; }
| call
| '(' expr ')'                    { $$ = $2; $$->parens = true; }
| '[' exprs_opt ']'
    {
      $$ = rc_expr_new(B, RC_E_LIST, @$);
      $$->u.list.items = $2.data;
      $$->u.list.n = $2.n;
    }
| '{' entries_opt '}'
    {
      $$ = rc_expr_new(B, RC_E_MAP, @$);
      $$->u.map.entries = $2.data;
      $$->u.map.n = $2.n;
    }
;

literal:
  KW_NULL                         { $$ = rc_expr_new(B, RC_E_NULL, @$); }
| KW_TRUE                         { $$ = rc_expr_new(B, RC_E_BOOL, @$); $$->u.b = true; }
| KW_FALSE                        { $$ = rc_expr_new(B, RC_E_BOOL, @$); $$->u.b = false; }
| INT                             { $$ = rc_expr_new(B, RC_E_INT, @$); $$->u.i = $1; }
| FLOAT                           { $$ = rc_expr_new(B, RC_E_FLOAT, @$); $$->u.f = $1; }
| STRING                          { $$ = rc_expr_new(B, RC_E_STRING, @$); $$->u.str = $1; }
;

call:
  IDENT '(' exprs_opt ')'
    {
      $$ = rc_expr_new(B, RC_E_CALL, @$);
      $$->u.call.name = rc_build_strndup(B, $1.s, $1.len);
      $$->u.call.name_loc = @1;
      $$->u.call.args = $3.data;
      $$->u.call.nargs = $3.n;
    }
;

/* Comma lists, a trailing comma allowed. */
exprs_opt:
  %empty                          { $$ = (rc_vec){ 0 }; }
| exprs
| exprs ','
;

exprs:
  expr %prec LIST_ITEM            { $$ = (rc_vec){ 0 }; *(rc_expr **)rc_vec_push(B, &$$, sizeof $1) = $1; }
| exprs ',' expr                  { $$ = $1; *(rc_expr **)rc_vec_push(B, &$$, sizeof $3) = $3; }
;

entries_opt:
  %empty                          { $$ = (rc_vec){ 0 }; }
| entries
| entries ','
;

entries:
  key ':' expr                    { $$ = (rc_vec){ 0 }; entry_add(p, &$$, $1, @1, $3); }
| entries ',' key ':' expr        { $$ = $1; entry_add(p, &$$, $3, @3, $5); }
;

key:
  name
| STRING                          { $$.s = $1.value; $$.len = $1.len; }
;

path:
  IDENT
    {
      $$.e = rc_path_root(B, $1.s, $1.len, @1);
      $$.cap = 4;
    }
| DOLLAR
    {
      $$.e = rc_path_dollar(B, $1.s, $1.len, @1);
      $$.cap = 0;
    }
| path '.' name                   { $$ = $1; rc_path_push(B, $$.e, &$$.cap, seg_key(p, $3.s, $3.len, @3)); }
| path '[' expr ']'               { $$ = $1; rc_path_push(B, $$.e, &$$.cap, seg_bracket(p, $3, seg_loc(@2, @4))); }
;

/* `priority N` and `target NAME`, in either order. `target` is no keyword
 * (a spec may well have a field called target): it is an identifier that
 * the action recognises. */
header_opts:
  %empty { memset(&$$, 0, sizeof $$); }
| header_opts KW_PRIORITY signed_int
    {
      $$ = $1;
      if ($$.has_priority)
          rc_diag(p->diags, RC_ERROR, p->src, @2, "the header names a priority twice");
      $$.has_priority = true;
      $$.priority = $3;
      $$.priority_loc = @3;
    }
| header_opts IDENT signed_int
    {
      $$ = $1;
      unknown_header_option(p, $2, @2);   /* a misspelt `priority N` */
    }
| header_opts IDENT name
    {
      $$ = $1;
      if ($2.len != 6 || memcmp($2.s, "target", 6) != 0) {
          unknown_header_option(p, $2, @2);
      } else {
          if ($$.target)
              rc_diag(p->diags, RC_ERROR, p->src, @2, "the header names a target twice");
          $$.target = rc_build_strndup(B, $3.s, $3.len);
          $$.target_loc = @3;
      }
    }
;

/* A name after '.' or as a map key: any keyword reads as a plain name
 * (`.default`, `.match`, `{in: 1}`). */
name:
  IDENT
| keyword
;

keyword:
  KW_POLICY { $$ = kw("policy"); }     | KW_PRIORITY { $$ = kw("priority"); }
| KW_PARAM { $$ = kw("param"); }       | KW_ON { $$ = kw("on"); }
| KW_SET { $$ = kw("set"); }           | KW_DEFAULT { $$ = kw("default"); }
| KW_UNSET { $$ = kw("unset"); }       | KW_APPEND { $$ = kw("append"); }
| KW_APPEND_TAGS { $$ = kw("append-tags"); }
| KW_FORBID { $$ = kw("forbid"); }     | KW_FORBID_IF { $$ = kw("forbid-if"); }
| KW_WARN { $$ = kw("warn"); }         | KW_WARN_IF { $$ = kw("warn-if"); }
| KW_MATCH { $$ = kw("match"); }       | KW_ELSE { $$ = kw("else"); }
| KW_EACH { $$ = kw("each"); }
| KW_ANY { $$ = kw("any"); }           | KW_ALL { $$ = kw("all"); }
| KW_SUM { $$ = kw("sum"); }
| KW_IN { $$ = kw("in"); }             | KW_AND { $$ = kw("and"); }
| KW_OR { $$ = kw("or"); }             | KW_NOT { $$ = kw("not"); }
| KW_NULL { $$ = kw("null"); }         | KW_TRUE { $$ = kw("true"); }
| KW_FALSE { $$ = kw("false"); }
;

%%

/* ---- syntax error messages ---- */

/* Readable name of a token: "identifier", "keyword 'else'", "';'". */
static const char *token_name(yysymbol_kind_t k, char *buf, size_t size)
{
    switch (k) {
    case YYSYMBOL_YYEOF: return "end of file";
    case YYSYMBOL_IDENT: return "identifier";
    case YYSYMBOL_DOLLAR: return "$name";
    case YYSYMBOL_STRING: return "string";
    case YYSYMBOL_INT: return "integer";
    case YYSYMBOL_FLOAT: return "number";
    case YYSYMBOL_REGEX: return "regex literal";
    default: break;
    }
    const char *n = yysymbol_name(k);
    size_t len = strlen(n);
    if (len >= 2 && n[0] == '"' && n[len - 1] == '"') {
        n++;
        len -= 2;
    }
    if (len >= 2 && n[0] == '\'' && n[len - 1] == '\'') {   /* '(' */
        n++;
        len -= 2;
    }
    int alpha = len > 0 && ((n[0] >= 'a' && n[0] <= 'z') || (n[0] >= 'A' && n[0] <= 'Z'));
    snprintf(buf, size, alpha ? "keyword '%.*s'" : "'%.*s'", (int)len, n);
    return buf;
}

/* A keyword's spelling, without bison's quotes ("forbid-if"). */
static const char *keyword_text(yysymbol_kind_t k, char *buf, size_t size)
{
    const char *n = yysymbol_name(k);
    size_t len = strlen(n);
    if (len >= 2 && n[0] == '"' && n[len - 1] == '"') {
        n++;
        len -= 2;
    }
    snprintf(buf, size, "%.*s", (int)len, n);
    return buf;
}

/* The offending token as a message shows it: "identifier 'x'", "number
 * '3'", "'$x'", "keyword 'set'"; the end of a template's {...} is its '}'. */
static void describe_token(const rc_parser *p, yysymbol_kind_t tok, char *buf, size_t size)
{
    char nbuf[64];
    int tl = (int)(p->tok_len < 32 ? p->tok_len : 32);
    switch (tok) {
    case YYSYMBOL_IDENT:
        snprintf(buf, size, "identifier '%.*s'", tl, p->tok_text);
        break;
    case YYSYMBOL_INT:
    case YYSYMBOL_FLOAT:
        snprintf(buf, size, "number '%.*s'", tl, p->tok_text);
        break;
    case YYSYMBOL_DOLLAR:
        snprintf(buf, size, "'%.*s'", tl, p->tok_text);
        break;
    case YYSYMBOL_YYEOF:
        snprintf(buf, size, "%s", p->expr_mode ? "'}'" : "end of file");
        break;
    default:
        snprintf(buf, size, "%s", token_name(tok, nbuf, sizeof nbuf));
        break;
    }
}

static void report(rc_parser *p, rc_loc at, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rc_diag(p->diags, RC_ERROR, p->src, at, "%s", msg);
}

/* The operator of a comparison node, for the "do not chain" hint. */
static const char *compare_text(const rc_expr *e)
{
    if (e->kind == RC_E_MATCH)
        return e->u.match.negated ? "!~" : "=~";
    switch (e->u.op.op) {
    case RC_OP_EQ: return "==";
    case RC_OP_NE: return "!=";
    case RC_OP_LT: return "<";
    case RC_OP_LE: return "<=";
    case RC_OP_GT: return ">";
    case RC_OP_GE: return ">=";
    default: return "in";
    }
}

static void chained(rc_parser *p, rc_loc at, const rc_expr *first, const char *op)
{
    report(p, at, "comparisons do not chain: write 'a %s b and b %s c'", compare_text(first), op);
}

/* `end: %empty`: the ';' is missing, and what follows (the lookahead, at
 * la) starts a new statement or item. Reported where the ';' belongs: at
 * the end of what came before it, as gcc does, naming what was found. */
static void missing_semicolon(rc_parser *p, rc_loc before, int lookahead, const rc_loc *la)
{
    rc_loc at = { before.last_line, before.last_column, before.last_line, before.last_column + 1 };
    char found[96];
    if (lookahead == TOK_YYEMPTY) {
        report(p, at, "syntax error: expected ';'");
        return;
    }
    describe_token(p, YYTRANSLATE(lookahead), found, sizeof found);
    if (la->first_line > at.first_line)
        report(p, at, "syntax error: expected ';' (found %s on line %d)", found, la->first_line);
    else
        report(p, at, "syntax error: expected ';' before %s", found);
}

/* "unclosed '(' opened here": when the innermost open delimiter's closer
 * is what the parser wanted, and the error is far from it (end of file,
 * a ';' or another closer; a later line for '(' and '[', the next item
 * for a '{'), point at where it opened. */
static void unclosed_note(rc_parser *p, yysymbol_kind_t tok, const rc_loc *loc, const unsigned char *in)
{
    if (p->nopen == 0 || p->open_lost)
        return;
    char open = p->open[p->nopen - 1].ch;
    const rc_loc *at = &p->open[p->nopen - 1].loc;
    yysymbol_kind_t closer = YYTRANSLATE(open == '(' ? ')' : open == '[' ? ']' : '}');
    if (!in[closer])
        return;
    int item = tok == YYSYMBOL_KW_ON || tok == YYSYMBOL_KW_PARAM || tok == YYSYMBOL_KW_POLICY;
    int far = tok == YYSYMBOL_YYEOF || tok == YYTRANSLATE(';') || tok == YYTRANSLATE(')') ||
              tok == YYTRANSLATE(']') || tok == YYTRANSLATE('}') ||
              (loc->first_line > at->first_line && (open != '{' || item));
    if (!far || (p->open_noted_line == at->first_line && p->open_noted_col == at->first_column))
        return;
    p->open_noted_line = at->first_line;
    p->open_noted_col = at->first_column;
    rc_diag(p->diags, RC_NOTE, p->src, *at, "unclosed '%c' opened here", open);
}

/* Whether a word is one of the language's units (lexer.l's lex_unit). */
static bool is_unit(const char *s, size_t n)
{
    return (n == 1 && strchr("smhdw", s[0])) || (n == 2 && s[1] == 'B' && strchr("MGT", s[0]));
}

static int yyreport_syntax_error(const yypcontext_t *ctx, yyscan_t scanner, rc_parser *p)
{
    (void)scanner;
    yysymbol_kind_t tok = yypcontext_token(ctx);
    const rc_loc *loc = yypcontext_location(ctx);

    /* The scanner reported that token already ("unexpected character"). */
    if (tok == YYSYMBOL_YYUNDEF)
        return 0;
    /* Recovery may stop at the token that caused the last error: saying
     * so twice helps nobody. */
    if (loc->first_line == p->err_line && loc->first_column == p->err_col)
        return 0;
    p->err_line = loc->first_line;
    p->err_col = loc->first_column;

    char msg[512], found[96];
    size_t n = 0;
    describe_token(p, tok, found, sizeof found);
    n += (size_t)snprintf(msg, sizeof msg, "syntax error: unexpected %s", found);

    /* What was expected, in words. Raw LAC sets are long (after `set a =
     * 1` every binary operator may follow), so they are folded first:
     * tokens that start an expression become "expression", statement
     * keywords "statement", keywords accepted as names go with
     * "identifier", and operators that would merely continue the
     * expression are dropped when something else may come (so a missing
     * ';' reads "expected ';'"). Up to four names are listed. */
    yysymbol_kind_t all[YYNTOKENS];
    int na = yypcontext_expected_tokens(ctx, all, YYNTOKENS);
    if (na < 0)
        return na;
    unsigned char in[YYNTOKENS];
    memset(in, 0, sizeof in);
    for (int i = 0; i < na; i++)
        in[all[i]] = 1;

    /* An identifier where a keyword may stand is most likely a misspelt
     * keyword (`sett`, `forbidif`, `defualt`, `esle`): the closest keyword
     * that may come here, if one is close. Read before the folding below. */
    const char *kw_hint = NULL;
    char kw_buf[YYNTOKENS][24];
    if (tok == YYSYMBOL_IDENT && p->tok_len < 24) {
        const char *cands[YYNTOKENS];
        size_t nc = 0;
        for (int k = YYSYMBOL_KW_POLICY; k <= YYSYMBOL_KW_FALSE; k++)
            if (in[k]) {
                cands[nc] = keyword_text((yysymbol_kind_t)k, kw_buf[nc], sizeof kw_buf[nc]);
                nc++;
            }
        char word[24];
        snprintf(word, sizeof word, "%.*s", (int)p->tok_len, p->tok_text);
        kw_hint = rc_suggest(word, cands, nc);
    }
    int is_if = tok == YYSYMBOL_IDENT && p->tok_len == 2 && memcmp(p->tok_text, "if", 2) == 0;

    /* Character tokens have no stable symbol names; map them. */
#define SYM(c) YYTRANSLATE(c)
    const yysymbol_kind_t expr_start[] = {
        YYSYMBOL_IDENT, YYSYMBOL_DOLLAR, YYSYMBOL_STRING, YYSYMBOL_INT, YYSYMBOL_FLOAT,
        YYSYMBOL_KW_NULL, YYSYMBOL_KW_TRUE, YYSYMBOL_KW_FALSE, YYSYMBOL_KW_NOT,
        YYSYMBOL_KW_ANY, YYSYMBOL_KW_ALL, YYSYMBOL_KW_SUM, SYM('('), SYM('['), SYM('{'), SYM('-'),
    };
    const yysymbol_kind_t stmt_start[] = {
        YYSYMBOL_KW_SET, YYSYMBOL_KW_DEFAULT, YYSYMBOL_KW_UNSET, YYSYMBOL_KW_APPEND,
        YYSYMBOL_KW_APPEND_TAGS, YYSYMBOL_KW_FORBID, YYSYMBOL_KW_FORBID_IF, YYSYMBOL_KW_WARN,
        YYSYMBOL_KW_WARN_IF, YYSYMBOL_KW_MATCH, YYSYMBOL_KW_EACH,
    };
    const yysymbol_kind_t continuation[] = {
        YYSYMBOL_OP_COALESCE, YYSYMBOL_KW_OR, YYSYMBOL_KW_AND, YYSYMBOL_OP_EQ, YYSYMBOL_OP_NE,
        YYSYMBOL_OP_LE, YYSYMBOL_OP_GE, YYSYMBOL_OP_MATCH, YYSYMBOL_OP_NMATCH, YYSYMBOL_KW_IN,
        SYM('<'), SYM('>'), SYM('+'), SYM('-'), SYM('*'), SYM('/'), SYM('%'), SYM('.'),
        SYM('['), SYM('('),
    };
    unsigned char raw_in[YYNTOKENS];
    memcpy(raw_in, in, sizeof in);
    const char *words[YYNTOKENS + 3];
    char wbuf[YYNTOKENS][64];
    int nw = 0;
    int has_expr = in[YYSYMBOL_IDENT] && in[YYSYMBOL_INT] && in[YYSYMBOL_STRING] && in[SYM('(')];
    int names_kw = in[YYSYMBOL_IDENT] && in[YYSYMBOL_KW_POLICY] && in[YYSYMBOL_KW_ELSE];
    /* After '.', statement keywords are names: that is "identifier". */
    int has_stmt = in[YYSYMBOL_KW_SET] && in[YYSYMBOL_KW_FORBID] && !names_kw;
    if (has_expr) {
        for (size_t i = 0; i < sizeof expr_start / sizeof *expr_start; i++)
            in[expr_start[i]] = 0;
        words[nw++] = "expression";
    }
    if (has_stmt) {
        for (size_t i = 0; i < sizeof stmt_start / sizeof *stmt_start; i++)
            in[stmt_start[i]] = 0;
        words[nw++] = "statement";
    }
    if (names_kw)
        for (int k = YYSYMBOL_KW_POLICY; k <= YYSYMBOL_KW_FALSE; k++)
            in[k] = 0;
    /* After an expression, '=' and 'not' are only there for the rules that
     * explain `a = b` and `a not in b`: not worth listing. */
    if (in[YYSYMBOL_OP_EQ]) {
        in[SYM('=')] = 0;
        in[YYSYMBOL_KW_NOT] = 0;
    }
    int others = nw;
    for (int k = 0; k < YYNTOKENS; k++) {
        int cont = 0;
        for (size_t i = 0; i < sizeof continuation / sizeof *continuation; i++)
            cont |= continuation[i] == k;
        others += in[k] && !cont;
    }
    if (others > 0)
        for (size_t i = 0; i < sizeof continuation / sizeof *continuation; i++)
            in[continuation[i]] = 0;
    for (int k = 0; k < YYNTOKENS; k++)
        if (in[k]) {
            if (k == YYSYMBOL_YYEOF && p->expr_mode)
                words[nw++] = "'}'";
            else
                words[nw++] = token_name((yysymbol_kind_t)k, wbuf[k], sizeof wbuf[k]);
        }
    for (int i = 0; nw <= 4 && i < nw && n < sizeof msg; i++) {
        const char *sep = i == 0 ? ", expected " : i == nw - 1 ? " or " : ", ";
        n += (size_t)snprintf(msg + n, sizeof msg - n, "%s%s", sep, words[i]);
    }
    if (has_expr && (tok == YYSYMBOL_KW_ANY || tok == YYSYMBOL_KW_ALL || tok == YYSYMBOL_KW_SUM) && n < sizeof msg)
        n += (size_t)snprintf(msg + n, sizeof msg - n, " (a quantifier here needs parentheses)");
    /* What users of other languages write. */
    if (is_if && raw_in[YYSYMBOL_KW_MATCH] && !has_stmt && n < sizeof msg)
        n += (size_t)snprintf(msg + n, sizeof msg - n, "; write 'else match COND { ... }'");
    else if (is_if && has_stmt && n < sizeof msg)
        n += (size_t)snprintf(msg + n, sizeof msg - n,
                              "; there is no 'if': write 'match COND { ... }' or 'forbid-if COND: \"...\";'");
    else if (kw_hint && n < sizeof msg)
        n += (size_t)snprintf(msg + n, sizeof msg - n, "; did you mean '%s'?", kw_hint);
    else if (tok == YYSYMBOL_IDENT && is_unit(p->tok_text, p->tok_len) && loc->first_column >= 3 &&
             p->tok_text[-1] == ' ' && p->tok_text[-2] >= '0' && p->tok_text[-2] <= '9' && n < sizeof msg) {
        /* `24 GB`: a unit is written against its number. The number's
         * digits are on this line, before the space. */
        int digits = 1;
        while (digits < loc->first_column - 2 && digits < 24 &&
               ((p->tok_text[-2 - digits] >= '0' && p->tok_text[-2 - digits] <= '9') ||
                p->tok_text[-2 - digits] == '.'))
            digits++;
        n += (size_t)snprintf(msg + n, sizeof msg - n, "; write the unit against its number: %.*s%.*s",
                              digits, p->tok_text - 1 - digits, (int)p->tok_len, p->tok_text);
    }

    /* A ';' forgotten at the end of a line: point where it belongs, not at
     * the next line's first token, as gcc does. */
    if (raw_in[SYM(';')] && !kw_hint && !is_if && p->prev_end_line > 0 &&
        loc->first_line > p->prev_end_line) {
        rc_loc at = {p->prev_end_line, p->prev_end_col, p->prev_end_line, p->prev_end_col + 1};
        report(p, at, "syntax error: expected ';' (found %s on line %d)", found, loc->first_line);
        return 0;
    }
    rc_diag(p->diags, RC_ERROR, p->src, *loc, "%s", msg);
    unclosed_note(p, tok, loc, raw_in);
    const rc_loc *q = &p->brace_string_quote;
    if (q->first_line && q->last_line == loc->first_line && q->last_column == loc->first_column)
        rc_diag(p->diags, RC_NOTE, p->src, *q, "this '\"' ends the string, after a '{' it left open; "
                "to put a quote in a string, write \\\" (\"{a[\\\"key\\\"]}\")");
    return 0;
}

/* Only "memory exhausted" arrives here: the parser stack is full. */
static void yyerror(const rc_loc *loc, yyscan_t scanner, rc_parser *p, const char *msg)
{
    (void)scanner;
    if (strcmp(msg, "memory exhausted") == 0)
        rc_diag(p->diags, RC_ERROR, p->src, *loc, "nested too deeply");
    else
        rc_diag(p->diags, RC_ERROR, p->src, *loc, "%s", msg);
}

/* ---- entry points ---- */

/* Runs one parse; the setjmp lives here, and everything it needs after a
 * longjmp is reached through p (not locals of this function), so nothing
 * is indeterminate afterwards. Returns yyparse's result, -1 on OOM. */
static int run(rc_parser *p, const char *text, size_t len, yyscan_t *sc)
{
    if (setjmp(p->oom)) {
        if (*sc) {
            yylex_destroy(*sc);
            *sc = NULL;
        }
        rc_loc none = { p->line, p->col, p->line, p->col };
        if (p->fatal)
            rc_diag(p->diags, RC_ERROR, p->src, none, "internal error in the scanner: %s", p->fatal);
        else
            rc_diag(p->diags, RC_ERROR, NULL, none, "out of memory");
        return -1;
    }
    if (len > (size_t)INT32_MAX) {
        rc_loc none = { 1, 1, 1, 1 };
        rc_diag(p->diags, RC_ERROR, p->src, none, "source too large");
        return 1;
    }
    if (yylex_init_extra(p, sc) != 0) {
        *sc = NULL;
        longjmp(p->oom, 1);
    }
    yy_scan_bytes(text, (int)len, *sc);
    int r = yyparse(*sc, p);
    yylex_destroy(*sc);
    *sc = NULL;
    return r;
}

static void init(rc_parser *p, const rc_source *src, ru_arena *arena, rc_diags *diags,
                 int start, int line, int col)
{
    memset(p, 0, sizeof *p);
    p->b.arena = arena;
    p->b.oom = &p->oom;
    p->src = src;
    p->diags = diags;
    p->start_token = start;
    p->line = p->end_line = line;
    p->col = p->end_col = col;
    p->prev_end_line = p->prev_end_col = 0;
}

rc_file *rc_parse_file(const rc_source *src, ru_arena *arena, rc_diags *diags)
{
    rc_parser p;
    yyscan_t sc = NULL;
    init(&p, src, arena, diags, TOK_START_FILE, 1, 1);
    p.file = ru_arena_alloc(arena, sizeof *p.file);
    if (!p.file) {
        rc_loc none = { 0, 0, 0, 0 };
        rc_diag(diags, RC_ERROR, NULL, none, "out of memory");
        return NULL;
    }
    memset(p.file, 0, sizeof *p.file);
    p.file->src = src;
    p.header_tail = &p.file->headers;
    p.param_tail = &p.file->params;
    p.on_tail = &p.file->ons;
    /* A UTF-8 byte-order mark (some Windows editors write one) is no part
     * of the policy; columns count from after it, as diag.c prints line 1
     * without it. */
    size_t skip = src->len >= 3 && memcmp(src->text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    if (run(&p, src->text + skip, src->len - skip, &sc) < 0)
        return NULL;
    return p.file;
}

rc_expr *rc_parse_expr(const rc_source *src, const char *text, size_t len, int line, int col,
                       ru_arena *arena, rc_diags *diags)
{
    rc_parser p;
    yyscan_t sc = NULL;
    init(&p, src, arena, diags, TOK_START_EXPR, line, col);
    p.expr_mode = true;
    int nerr = diags->nerrors;
    if (run(&p, text, len, &sc) != 0 || diags->nerrors != nerr)
        return NULL;
    return p.expr;
}

/* The token stream of a file, comments included, for the formatter: the
 * same scanner as the parser, so a token means one thing everywhere. As in
 * run, everything needed after a longjmp is reached through p, sc and v. */
static int scan(rc_parser *p, const char *text, size_t len, yyscan_t *sc, rc_vec *v)
{
    if (setjmp(p->oom)) {
        if (*sc) {
            yylex_destroy(*sc);
            *sc = NULL;
        }
        rc_loc none = { p->line, p->col, p->line, p->col };
        if (p->fatal)
            rc_diag(p->diags, RC_ERROR, p->src, none, "internal error in the scanner: %s", p->fatal);
        else
            rc_diag(p->diags, RC_ERROR, NULL, none, "out of memory");
        return -1;
    }
    if (len > (size_t)INT32_MAX) {
        rc_loc none = { 1, 1, 1, 1 };
        rc_diag(p->diags, RC_ERROR, p->src, none, "source too large");
        return -1;
    }
    if (yylex_init_extra(p, sc) != 0) {
        *sc = NULL;
        longjmp(p->oom, 1);
    }
    yy_scan_bytes(text, (int)len, *sc);
    for (;;) {
        YYSTYPE lval;
        rc_loc loc;
        int kind = yylex(&lval, &loc, *sc);
        if (kind == TOK_YYEOF)
            break;
        rc_token *t = rc_vec_push(&p->b, v, sizeof *t);
        t->kind = kind;
        t->text = rc_build_strndup(&p->b, p->tok_text, p->tok_len);
        t->len = p->tok_len;
        t->loc = loc;
    }
    yylex_destroy(*sc);
    *sc = NULL;
    return 0;
}

long rc_scan_tokens(const rc_source *src, ru_arena *arena, rc_diags *diags, rc_token **out)
{
    rc_parser p;
    rc_vec v = { 0 };
    yyscan_t sc = NULL;
    *out = NULL;
    init(&p, src, arena, diags, 0, 1, 1);
    p.keep_comments = true;
    size_t skip = src->len >= 3 && memcmp(src->text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    if (scan(&p, src->text + skip, src->len - skip, &sc, &v) < 0)
        return -1;
    *out = v.data;
    return (long)v.n;
}
