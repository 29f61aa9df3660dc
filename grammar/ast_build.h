/* ast_build.h - constructors the parser uses to build the AST (ast.h).
 * SPDX-License-Identifier: Apache-2.0
 *
 * Every node comes zeroed from the compilation's arena. When the arena runs
 * dry the builder longjmps to the parser's recovery point instead of
 * returning NULL, so grammar actions stay one line each and never test for
 * failure (the parser then reports "out of memory" and returns NULL).
 */
#ifndef RC_AST_BUILD_H
#define RC_AST_BUILD_H

#include "ast.h"

#include <setjmp.h>

typedef struct rc_build {
    ru_arena *arena;
    jmp_buf *oom;        /* longjmp(*oom, 1) when an allocation fails */
} rc_build;

/* A growable array in the arena; growing abandons the old block (the arena
 * frees everything at once). */
typedef struct rc_vec {
    void *data;
    size_t n, cap;
} rc_vec;

/* Zeroed; never NULL. */
void *rc_build_alloc(rc_build *b, size_t size);
/* NUL-terminated copy; never NULL. */
char *rc_build_strndup(rc_build *b, const char *s, size_t n);
/* Returns the new (zeroed) last slot of a vector of elem-byte items. */
void *rc_vec_push(rc_build *b, rc_vec *v, size_t elem);

rc_expr *rc_expr_new(rc_build *b, rc_expr_kind kind, rc_loc loc);
rc_expr *rc_expr_unary(rc_build *b, rc_op op, rc_expr *operand, rc_loc loc);
rc_expr *rc_expr_binary(rc_build *b, rc_op op, rc_expr *lhs, rc_expr *rhs, rc_loc loc);
/* A path rooted at a plain name (segs[0]) or at $name (no segments yet). */
rc_expr *rc_path_root(rc_build *b, const char *name, size_t len, rc_loc loc);
rc_expr *rc_path_dollar(rc_build *b, const char *name, size_t len, rc_loc loc);
/* Appends a segment; path->loc is widened to end at seg's end. *cap is the
 * capacity of path->u.path.segs (0 for a fresh path). */
void rc_path_push(rc_build *b, rc_expr *path, size_t *cap, rc_seg seg);

rc_stmt *rc_stmt_new(rc_build *b, rc_stmt_kind kind, rc_loc loc);

#endif
