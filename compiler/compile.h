/* compile.h - the compiler's passes and its one entry point.
 *
 *   source --parse--> AST --check--> checked AST --codegen--> rv_policy
 *   policies --set rules--> bundle bytes (vm/program.h format)
 *
 * All memory comes from one arena per compilation, freed in one step.
 */
#ifndef RC_COMPILE_H
#define RC_COMPILE_H

#include "../vm/program.h"
#include "ast.h"
#include "diag.h"

/* What the checker learns about a file, for code generation. */
typedef struct rc_checked {
    rc_file *file;
    const char *name;        /* header name, or the file's stem */
    int32_t priority;
    rc_loc name_loc;         /* the header, or 1:1 */
    rc_param_decl **params;  /* in declaration order */
    rv_node **param_values;  /* their default values */
    size_t nparams;
    uint32_t nslots;         /* deepest quantifier nesting */
} rc_checked;

/* Resolves names, checks types it can see, splits message templates and
 * warns about statements that can never run. Annotates the AST in place.
 * Returns false when it reported errors. */
bool rc_check(rc_file *file, rv_arena *arena, rc_diags *diags, rc_checked *out);

/* Whether an expression is a literal value (scalars, lists and maps of
 * literals, negated numbers), and that value (in the arena). */
bool rc_is_literal(const rc_expr *e);
rv_node *rc_literal_value(const rc_expr *e, rv_arena *a);

/* Generates one policy from a checked file (NULL on error, reported). */
rv_policy *rc_codegen(const rc_checked *c, rv_arena *arena, rc_diags *diags);

/* Where each statement, and each statement's condition, sits in a policy's
 * code: the side table `rulec test --coverage` needs to turn executed pcs
 * into statements and condition outcomes. Kept beside the bytecode, never
 * in it, so bundles and the verifier are untouched. */
typedef struct rc_cover_point {
    uint32_t pc;     /* statement: its first instruction; condition: its JFALSE */
    rc_loc loc;      /* statement: the whole statement; condition: the expression */
} rc_cover_point;

typedef struct rc_cover_map {
    rc_cover_point *stmts;   /* in code order */
    size_t nstmts;
    rc_cover_point *conds;   /* match, forbid-if and warn-if conditions */
    size_t nconds;
} rc_cover_map;

/* rc_codegen that also fills *map (arena memory) when map is not NULL. */
rv_policy *rc_codegen_map(const rc_checked *c, rv_arena *arena, rc_diags *diags,
                          rc_cover_map *map);

/* Parses, checks and generates every source, then applies the policy-set
 * rules: same name keeps the highest priority (equal priority is an error),
 * order by priority then name. On success fills *policies and *n (arena) and
 * returns true. Diagnostics for every file are reported, not only the
 * first failing one. */
bool rc_compile(const rc_source *srcs, size_t nsrcs, rv_arena *arena, rc_diags *diags,
                rv_policy ***policies, size_t *n);
/* rc_compile that also hands back each policy's coverage map, (*maps)[i]
 * belonging to (*policies)[i], when maps is not NULL. */
bool rc_compile_map(const rc_source *srcs, size_t nsrcs, rv_arena *arena, rc_diags *diags,
                    rv_policy ***policies, rc_cover_map ***maps, size_t *n);

/* Reads a whole file into the arena as an rc_source. false (with a
 * diagnostic naming the file and the OS error) when it cannot be read. */
bool rc_read_source(const char *path, rv_arena *arena, rc_diags *diags, rc_source *out);

#endif
