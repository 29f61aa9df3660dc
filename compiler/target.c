/* target.c - the table of targets and their kinds (target.h). */
#include "target.h"

#include <string.h>

/* The schema bytes, from schemas.S. */
extern const char rc_schema_dstack_run[], rc_schema_dstack_run_end[];
extern const char rc_schema_dstack_fleet[], rc_schema_dstack_fleet_end[];
extern const char rc_schema_dstack_volume[], rc_schema_dstack_volume_end[];
extern const char rc_schema_dstack_gateway[], rc_schema_dstack_gateway_end[];

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
    {"dstack", dstack_kinds, sizeof dstack_kinds / sizeof *dstack_kinds},
    {"any", NULL, 0},
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
