/* setrule.c - the contract's policy-set rule, written once: the loader
 * SPDX-License-Identifier: Apache-2.0
 * applies it to every program, and the compiler to a set of sources first
 * so that a clash between two sources is reported at both headers.
 */
#include "program.h"

#include <stdlib.h>
#include <string.h>

/* Same name together, highest priority first, then by origin, so the rule
 * is one pass over neighbours (10,000 policies must not mean 50 million
 * name comparisons). */
static int by_name_then_priority(const void *a, const void *b)
{
    const rv_set_entry *x = a, *y = b;
    int c = strcmp(x->policy->name, y->policy->name);
    if (c)
        return c;
    if (x->policy->priority != y->policy->priority)
        return x->policy->priority > y->policy->priority ? -1 : 1;
    return x->origin < y->origin ? -1 : x->origin > y->origin;
}

/* Kept policies first, in run order: priority, then name. */
static int by_run_order(const void *a, const void *b)
{
    const rv_set_entry *x = a, *y = b;
    if (x->dropped != y->dropped)
        return x->dropped ? 1 : -1;
    if (x->policy->priority != y->policy->priority)
        return x->policy->priority < y->policy->priority ? -1 : 1;
    int c = strcmp(x->policy->name, y->policy->name);
    if (c)
        return c;
    return x->origin < y->origin ? -1 : x->origin > y->origin;
}

bool rv_set_rule(rv_set_entry *e, size_t n, size_t *kept, size_t clash[2], rv_set_clash *why)
{
    if (n > 1)
        qsort(e, n, sizeof *e, by_name_then_priority);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        /* The first of each name has its highest priority. */
        e[i].dropped = i > 0 && strcmp(e[i - 1].policy->name, e[i].policy->name) == 0;
        if (e[i].dropped && e[i - 1].policy->priority == e[i].policy->priority) {
            clash[0] = e[i - 1].origin;
            clash[1] = e[i].origin;
            *why = RV_CLASH_PRIORITY;
            return false;
        }
        /* A SkyPilot policy named like a dstack one would drop the dstack
         * rules while judging only SkyPilot's requests: refused, not
         * resolved by priority. */
        if (e[i].dropped && strcmp(e[i - 1].policy->target, e[i].policy->target) != 0) {
            clash[0] = e[i - 1].origin;
            clash[1] = e[i].origin;
            *why = RV_CLASH_TARGET;
            return false;
        }
        k += !e[i].dropped;
    }
    if (n > 1)
        qsort(e, n, sizeof *e, by_run_order);
    *kept = k;
    return true;
}
