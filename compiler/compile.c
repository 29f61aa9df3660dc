/* compile.c - the compiler's entry point: runs parse, check and codegen on
 * SPDX-License-Identifier: Apache-2.0
 * every source and applies the contract's policy-set rules (same name keeps
 * the highest priority; order by priority, then name).
 */
#include "compile.h"
#include "parse.h"

#include <stdlib.h>
#include <string.h>

typedef struct unit {
    rc_checked checked;
    rv_policy *policy;
    rc_cover_map map;
    size_t source;        /* index among the sources */
} unit;

bool rc_compile_set(const rc_source *srcs, size_t nsrcs, const char *default_target,
                    ru_arena *arena, rc_diags *diags, bool want_maps, rc_compiled *out)
{
    rc_schemas schemas;
    rc_schemas_init(&schemas, arena);
    rc_check_env env = {default_target, &schemas};
    memset(out, 0, sizeof *out);
    unit **units = ru_arena_alloc(arena, (nsrcs ? nsrcs : 1) * sizeof *units);
    out->no_rules = ru_arena_alloc(arena, (nsrcs ? nsrcs : 1) * sizeof *out->no_rules);
    if (!units || !out->no_rules)
        return false;
    memset(out->no_rules, 0, (nsrcs ? nsrcs : 1) * sizeof *out->no_rules);
    size_t nunits = 0;
    int errors_before = diags->nerrors;

    for (size_t i = 0; i < nsrcs; i++) {
        int before = diags->nerrors;
        rc_file *file = rc_parse_file(&srcs[i], arena, diags);
        if (!file)
            return false;
        unit *u = ru_arena_alloc(arena, sizeof *u);
        if (!u)
            return false;
        /* Check even after syntax errors: the tree is partial but its
         * remaining problems are still worth reporting in the same run. */
        bool ok = rc_check(file, &env, arena, diags, &u->checked) && diags->nerrors == before;
        if (!ok)
            continue;
        u->policy = rc_codegen_map(&u->checked, arena, diags, want_maps ? &u->map : NULL);
        if (u->policy) {
            out->no_rules[i] = u->policy->ncode <= 1;
            if (srcs[i].has_priority)
                u->policy->priority = srcs[i].priority;
            u->source = i;
            units[nunits++] = u;
        }
    }
    if (diags->nerrors != errors_before)
        return false;

    rv_set_entry *e = ru_arena_alloc(arena, (nunits ? nunits : 1) * sizeof *e);
    if (!e)
        return false;
    for (size_t i = 0; i < nunits; i++)
        e[i] = (rv_set_entry){units[i]->policy, i, false};
    size_t kept, clash[2];
    rv_set_clash why;
    if (!rv_set_rule(e, nunits, &kept, clash, &why)) {
        const unit *first = units[clash[0]], *second = units[clash[1]];
        if (why == RV_CLASH_TARGET) {
            rc_diag(diags, RC_ERROR, second->checked.file->src, second->checked.name_loc,
                    "policy '%s' is defined for target %s here and for target %s: a policy overrides "
                    "one of its name only within its target (else one protocol's requests would lose "
                    "its rules unseen); rename one", second->policy->name, second->policy->target,
                    first->policy->target);
            rc_diag(diags, RC_NOTE, first->checked.file->src, first->checked.name_loc,
                    "the %s definition is here", first->policy->target);
        } else {
            rc_diag(diags, RC_ERROR, second->checked.file->src, second->checked.name_loc,
                    "policy '%s' is defined twice with priority %d", second->policy->name,
                    (int)second->policy->priority);
            rc_diag(diags, RC_NOTE, first->checked.file->src, first->checked.name_loc,
                    "the other definition is here");
        }
        return false;
    }
    out->policies = ru_arena_alloc(arena, (kept ? kept : 1) * sizeof *out->policies);
    out->source = ru_arena_alloc(arena, (kept ? kept : 1) * sizeof *out->source);
    out->maps = want_maps ? ru_arena_alloc(arena, (kept ? kept : 1) * sizeof *out->maps) : NULL;
    if (!out->policies || !out->source || (want_maps && !out->maps))
        return false;
    for (size_t i = 0; i < kept; i++) {
        unit *u = units[e[i].origin];
        out->policies[i] = u->policy;
        out->source[i] = u->source;
        if (want_maps)
            out->maps[i] = &u->map;
    }
    out->n = kept;
    return true;
}
