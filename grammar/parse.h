/* parse.h - entry points of the flex/bison front end (grammar/).
 * SPDX-License-Identifier: Apache-2.0
 *
 * The parser only builds the AST; syntax errors become diagnostics (saying
 * what was expected) and parsing recovers at the next statement, so one run
 * reports several errors.
 */
#ifndef RC_PARSE_H
#define RC_PARSE_H

#include "ast.h"
#include "diag.h"

/* Parses one policy file. Returns the tree (partial when there were syntax
 * errors; check diags->nerrors), NULL only when memory ran out. */
rc_file *rc_parse_file(const rc_source *src, ru_arena *arena, rc_diags *diags);

/* Parses one expression from text that sits inside src at line/col (the
 * expression part of a message template `{...}`): locations in the result
 * and in diagnostics point into src. NULL on a syntax error (reported). */
rc_expr *rc_parse_expr(const rc_source *src, const char *text, size_t len, int line, int col,
                       ru_arena *arena, rc_diags *diags);

/* One token of a file as written: its kind (parser.h's TOK_*; comments
 * are TOK_COMMENT, which the parser never sees), its text and its span. */
typedef struct rc_token {
    int kind;
    const char *text;   /* arena copy, NUL-terminated */
    size_t len;
    rc_loc loc;
} rc_token;

/* Scans a whole file into tokens, comments included (arena memory), with
 * the parser's scanner; what it finds wrong is reported in diags as when
 * parsing. Returns the number of tokens, or -1 when memory ran out. */
long rc_scan_tokens(const rc_source *src, ru_arena *arena, rc_diags *diags, rc_token **out);

#endif
