/* compile.h - the compiler's passes and its one entry point.
 * SPDX-License-Identifier: Apache-2.0
 *
 *   source --parse--> AST --check--> checked AST --codegen--> rv_policy
 *   policies --set rules--> bundle bytes (vm/program.h format)
 *
 * All memory comes from one arena per compilation, freed in one step.
 */
#ifndef RC_COMPILE_H
#define RC_COMPILE_H

#include "program.h"   /* the bytecode format: what code generation writes */
#include "ast.h"
#include "diag.h"
#include "target.h"

/* What the checker learns about a file, for code generation. */
typedef struct rc_checked {
    rc_file *file;
    const char *name;        /* header name, or the file's stem */
    const char *target;      /* the target's name ("dstack"); NULL if unknown */
    int32_t priority;
    rc_loc name_loc;         /* the header, or 1:1 */
    rc_param_decl **params;  /* in declaration order */
    rv_node **param_values;  /* their default values */
    size_t nparams;
    uint32_t nslots;         /* deepest quantifier nesting */
} rc_checked;

/* What the checker needs beyond the file: the target of policies that name
 * none, and the compilation's parsed schemas (target.h). */
typedef struct rc_check_env {
    const char *default_target;   /* NULL: RC_DEFAULT_TARGET */
    rc_schemas *schemas;
} rc_check_env;

/* Resolves names, checks types it can see, resolves kinds and paths
 * against the policy's target, splits message templates and warns about
 * statements that can never run. Annotates the AST in place. Returns false
 * when it reported errors. */
bool rc_check(rc_file *file, const rc_check_env *env, ru_arena *arena, rc_diags *diags,
              rc_checked *out);

/* Whether an expression is a literal value (scalars, lists and maps of
 * literals, negated numbers), and that value (in the arena). */
bool rc_is_literal(const rc_expr *e);
rv_node *rc_literal_value(const rc_expr *e, ru_arena *a);

/* Generates one policy from a checked file (NULL on error, reported). */
rv_policy *rc_codegen(const rc_checked *c, ru_arena *arena, rc_diags *diags);

/* rc_codegen that also fills *map (arena memory) when map is not NULL. */
rv_policy *rc_codegen_map(const rc_checked *c, ru_arena *arena, rc_diags *diags,
                          rc_cover_map *map);

/* What rc_compile_set makes: the policies that run, in run order, and for
 * each the index of the source it came from and (when asked) its coverage
 * map. Arena memory. */
typedef struct rc_compiled {
    rv_policy **policies;
    size_t *source;
    rc_cover_map **maps;     /* NULL unless asked */
    size_t n;
    /* Per source (even one the set rule dropped), whether it compiled to a
     * policy that holds no rules: its code is HALT alone, so it allows
     * everything and changes nothing (an empty, comment-only or header-only
     * file). NULL when memory ran out before it was made. */
    bool *no_rules;
} rc_compiled;

/* Parses, checks and generates every source (a source's has_priority
 * overrides its header's priority), then applies the policy-set rule
 * (rv_set_rule): a clash is reported at both headers. Diagnostics for
 * every file are reported, not only the first failing one. */
bool rc_compile_set(const rc_source *srcs, size_t nsrcs, const char *default_target,
                    ru_arena *arena, rc_diags *diags, bool want_maps, rc_compiled *out);

/* The report's arena and diagnostics (loader.c owns struct rc_report), for
 * the library's entry points that live in other files (format.c, eval.c):
 * what they record is printed and counted with everything else. */
struct rc_report;
ru_arena *rc_report_arena(struct rc_report *r);
rc_diags *rc_report_diags(struct rc_report *r);
#endif
