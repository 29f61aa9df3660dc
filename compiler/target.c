/* SPDX-License-Identifier: Apache-2.0 */
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
extern const char rc_schema_skypilot_task[], rc_schema_skypilot_task_end[];
extern const char rc_schema_skypilot_config[], rc_schema_skypilot_config_end[];
extern const char rc_secrets_dstack[], rc_secrets_dstack_end[];
extern const char rc_secrets_skypilot[], rc_secrets_skypilot_end[];

/* dstack's REST plugin kinds (dstack 0.21.2's ApplyPolicy hooks
 * on_run_apply, on_fleet_apply, on_volume_apply, on_gateway_apply), each
 * with the schema of the `spec` the plugin sends. */
static const rc_target_kind dstack_kinds[] = {
    {"run", rc_schema_dstack_run, rc_schema_dstack_run_end, NULL, 0},
    {"fleet", rc_schema_dstack_fleet, rc_schema_dstack_fleet_end, NULL, 0},
    {"volume", rc_schema_dstack_volume, rc_schema_dstack_volume_end, NULL, 0},
    {"gateway", rc_schema_dstack_gateway, rc_schema_dstack_gateway_end, NULL, 0},
};

/* SkyPilot's RESTful admin policy: one document per request, whose two
 * roots are the task (the `task` YAML) and the server's configuration (the
 * `skypilot_config` YAML), both readable and writable. The kinds are the
 * request names of the calls that apply an admin policy (SkyPilot 0.10+,
 * `request_name` of the request body; sky/server/requests). */
static const rc_schema_root skypilot_roots[] = {
    {"task", rc_schema_skypilot_task, rc_schema_skypilot_task_end},
    {"config", rc_schema_skypilot_config, rc_schema_skypilot_config_end},
};
#define SKYPILOT_KIND(name) \
    {name, NULL, NULL, skypilot_roots, sizeof skypilot_roots / sizeof *skypilot_roots}
static const rc_target_kind skypilot_kinds[] = {
    SKYPILOT_KIND("launch"),      SKYPILOT_KIND("exec"),
    SKYPILOT_KIND("validate"),    SKYPILOT_KIND("optimize"),
    SKYPILOT_KIND("jobs.launch"), SKYPILOT_KIND("jobs.pool_apply"),
    SKYPILOT_KIND("serve.up"),    SKYPILOT_KIND("serve.update"),
};

/* $request for SkyPilot: the request body's members other than the task
 * and config YAML, as protocols/skypilot.c passes them. `options` is
 * SkyPilot's RequestOptions (sky/admin_policy.py at the schemas' commit);
 * `user` is empty on client-side calls (null here). Written for this
 * project from those fields; docs/language.md shows it. */
static const char skypilot_request_schema[] =
    "{\"type\": \"object\", \"additionalProperties\": false, \"properties\": {"
    "\"name\": {\"type\": \"string\"},"
    "\"at_client_side\": {\"type\": \"boolean\"},"
    "\"options\": {\"anyOf\": [{\"type\": \"null\"}, {\"type\": \"object\","
    " \"additionalProperties\": false, \"properties\": {"
    "  \"cluster_name\": {\"type\": [\"string\", \"null\"]},"
    "  \"idle_minutes_to_autostop\": {\"type\": [\"integer\", \"null\"]},"
    "  \"down\": {\"type\": \"boolean\"},"
    "  \"dryrun\": {\"type\": \"boolean\"}}}]},"
    "\"client_api_version\": {\"type\": [\"integer\", \"null\"]},"
    "\"client_version\": {\"type\": [\"string\", \"null\"]},"
    "\"user\": {\"anyOf\": [{\"type\": \"null\"}, {\"type\": \"object\","
    " \"additionalProperties\": false, \"properties\": {"
    "  \"id\": {\"type\": [\"string\", \"null\"]},"
    "  \"name\": {\"type\": [\"string\", \"null\"]},"
    "  \"user_type\": {\"type\": [\"string\", \"null\"]}}}]}"
    "}}";

static const rc_target targets[] = {
    {"dstack", dstack_kinds, sizeof dstack_kinds / sizeof *dstack_kinds, NULL, rc_secrets_dstack,
     rc_secrets_dstack_end},
    {"skypilot", skypilot_kinds, sizeof skypilot_kinds / sizeof *skypilot_kinds,
     skypilot_request_schema, rc_secrets_skypilot, rc_secrets_skypilot_end},
    {"any", NULL, 0, NULL, NULL, NULL},
};

const rc_target *rc_target_at(size_t i)
{
    return i < sizeof targets / sizeof *targets ? &targets[i] : NULL;
}

const char *rc_target_name(size_t i)
{
    const rc_target *t = rc_target_at(i);
    return t ? t->name : NULL;
}

const char *rc_target_kind_name(const char *target, size_t i)
{
    const rc_target *t = rc_target_find(target ? target : RC_DEFAULT_TARGET);
    return t && i < t->nkinds ? t->kinds[i].name : NULL;
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

/* The parsed schema of text (memoised by its address). */
static const rv_node *parse_once(rc_schemas *s, const char *text, const char *end)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->slots[i].text == text)
            return s->slots[i].root;
    rv_error err;
    size_t len = (size_t)(end - text) - 1;  /* without the NUL */
    const rv_node *root = rv_json_parse(s->arena, text, len, 0, &err);
    if (s->n < sizeof s->slots / sizeof *s->slots)
        s->slots[s->n++] = (struct rc_schema_slot){text, root};
    return root;
}

/* {"type": "object", "additionalProperties": false, "properties": {ROOT:
 * its schema, ...}}: a kind made of roots as one schema. The roots'
 * schemas have no $refs of their own (checked by the tests), so nesting
 * them keeps every reference meaning what it meant. */
static const rv_node *roots_schema(rc_schemas *s, const rc_target_kind *kind)
{
    ru_arena *a = s->arena;
    rv_node *props = rv_new_object(a, (uint32_t)kind->nroots);
    rv_node *root = rv_new_object(a, 3);
    if (!props || !root)
        return NULL;
    for (size_t i = 0; i < kind->nroots; i++) {
        const rc_schema_root *r = &kind->roots[i];
        rv_error err;
        rv_node *one = rv_json_parse(a, r->schema, (size_t)(r->schema_end - r->schema) - 1, 0, &err);
        if (!one || !rv_object_push(a, props, r->name, strlen(r->name), one))
            return NULL;
    }
    rv_node *type = rv_new_string(a, "object", 6), *closed = rv_new_bool(a, false);
    if (!type || !closed || !rv_object_push(a, root, "type", 4, type) ||
        !rv_object_push(a, root, "additionalProperties", 20, closed) ||
        !rv_object_push(a, root, "properties", 10, props))
        return NULL;
    return root;
}

const rv_node *rc_request_schema_of(rc_schemas *s, const rc_target *t)
{
    if (!t || !t->request_schema)
        return NULL;
    return parse_once(s, t->request_schema, t->request_schema + strlen(t->request_schema) + 1);
}

const rv_node *rc_schema_of(rc_schemas *s, const rc_target_kind *kind)
{
    if (!kind->nroots)
        return parse_once(s, kind->schema, kind->schema_end);
    /* The combined schema is memoised under the roots table's address. */
    const char *key = (const char *)kind->roots;
    for (size_t i = 0; i < s->n; i++)
        if (s->slots[i].text == key)
            return s->slots[i].root;
    const rv_node *root = roots_schema(s, kind);
    if (root && s->n < sizeof s->slots / sizeof *s->slots)
        s->slots[s->n++] = (struct rc_schema_slot){key, root};
    return root;
}

const char *rc_request_target(const char *target, const char *kind)
{
    const rc_target *t = rc_target_find(target ? target : RC_DEFAULT_TARGET);
    if (t && t->nkinds)
        return t->name;
    const char *found = NULL;
    for (size_t i = 0; kind && (t = rc_target_at(i)); i++) {
        if (!t->nkinds || rc_target_kind_index(t, kind) < 0)
            continue;
        if (found)
            return NULL;
        found = t->name;
    }
    return found;
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
