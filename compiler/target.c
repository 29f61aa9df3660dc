/* target.c - the table of targets and their kinds (target.h). */
#include "target.h"

#include "rulec.h"
#include "suggest.h"

#include <stdio.h>

#include <string.h>

/* The schema bytes, from schemas.S. */
extern const char rc_schema_dstack_run[], rc_schema_dstack_run_end[];
extern const char rc_schema_dstack_fleet[], rc_schema_dstack_fleet_end[];
extern const char rc_schema_dstack_volume[], rc_schema_dstack_volume_end[];
extern const char rc_schema_dstack_gateway[], rc_schema_dstack_gateway_end[];
extern const char rc_secrets_dstack[], rc_secrets_dstack_end[];

/* dstack's REST plugin kinds (dstack 0.21.2's ApplyPolicy hooks
 * on_run_apply, on_fleet_apply, on_volume_apply, on_gateway_apply), each
 * with the schema of the `spec` the plugin sends. */
static const rc_target_kind dstack_kinds[] = {
    {"run", rc_schema_dstack_run, rc_schema_dstack_run_end},
    {"fleet", rc_schema_dstack_fleet, rc_schema_dstack_fleet_end},
    {"volume", rc_schema_dstack_volume, rc_schema_dstack_volume_end},
    {"gateway", rc_schema_dstack_gateway, rc_schema_dstack_gateway_end},
};

static const rc_target targets[] = {
    {"dstack", dstack_kinds, sizeof dstack_kinds / sizeof *dstack_kinds, rc_secrets_dstack,
     rc_secrets_dstack_end},
    {"any", NULL, 0, NULL, NULL},
};

const rc_target *rc_target_at(size_t i)
{
    return i < sizeof targets / sizeof *targets ? &targets[i] : NULL;
}

const rc_target *rc_target_find(const char *name)
{
    for (size_t i = 0; i < sizeof targets / sizeof *targets; i++)
        if (strcmp(targets[i].name, name) == 0)
            return &targets[i];
    return NULL;
}

int rc_target_kind_index(const rc_target *t, const char *kind)
{
    for (size_t i = 0; i < t->nkinds; i++)
        if (strcmp(t->kinds[i].name, kind) == 0)
            return (int)i;
    return -1;
}

size_t rc_target_block_kinds(const rc_target *t, const char *const *names, size_t n,
                             const rc_target_kind **out, size_t max)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], "*") == 0) {
            count = 0;
            for (size_t k = 0; k < t->nkinds && count < max; k++)
                out[count++] = &t->kinds[k];
            return count;
        }
    }
    for (size_t i = 0; i < n; i++) {
        int k = rc_target_kind_index(t, names[i]);
        bool seen = k < 0;
        for (size_t j = 0; j < count && !seen; j++)
            seen = out[j] == &t->kinds[k];
        if (!seen && count < max)
            out[count++] = &t->kinds[k];
    }
    return count;
}

void rc_schemas_init(rc_schemas *s, ru_arena *arena)
{
    memset(s, 0, sizeof *s);
    s->arena = arena;
}

const rv_node *rc_schema_of(rc_schemas *s, const rc_target_kind *kind)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->slots[i].kind == kind)
            return s->slots[i].root;
    rv_error err;
    size_t len = (size_t)(kind->schema_end - kind->schema) - 1;  /* without the NUL */
    const rv_node *root = rv_json_parse(s->arena, kind->schema, len, 0, &err);
    if (s->n < sizeof s->slots / sizeof *s->slots)
        s->slots[s->n++] = (struct rc_schema_slot){kind, root};
    return root;
}

int rc_target_has_kind(const char *target, const char *kind, char *why, size_t size)
{
    const char *name = target ? target : RC_DEFAULT_TARGET;
    const rc_target *t = rc_target_find(name);
    const char *names[16];
    size_t n = 0;
    char list[256] = "";
    size_t used = 0;
    if (!t) {
        for (const rc_target *x; (x = rc_target_at(n)) && n < 16; n++) {
            names[n] = x->name;
            used += (size_t)snprintf(list + used, used < sizeof list ? sizeof list - used : 0, "%s%s",
                                     n ? ", " : "", x->name);
        }
        const char *hint = rc_suggest(name, names, n);
        snprintf(why, size, "unknown target '%s' (targets: %s)%s%s%s", name, list,
                 hint ? "; did you mean '" : "", hint ? hint : "", hint ? "'?" : "");
        return 0;
    }
    if (!kind || !t->nkinds || rc_target_kind_index(t, kind) >= 0)
        return 1;
    for (; n < t->nkinds && n < 16; n++) {
        names[n] = t->kinds[n].name;
        used += (size_t)snprintf(list + used, used < sizeof list ? sizeof list - used : 0, "%s%s",
                                 n ? ", " : "", names[n]);
    }
    const char *hint = rc_suggest(kind, names, n);
    snprintf(why, size, "unknown kind '%s' for target %s (kinds: %s)%s%s%s", kind, t->name, list,
             hint ? "; did you mean '" : "", hint ? hint : "", hint ? "'?" : "");
    return 0;
}
