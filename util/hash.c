/* SPDX-License-Identifier: Apache-2.0 */
/* hash.c - the string-keyed hash map (hash.h). */
#include "hash.h"

#include <string.h>

void ru_map_init(ru_map *m, ru_arena *arena)
{
    m->arena = arena;
    m->slots = NULL;
    m->cap = m->count = 0;
}

static size_t find_slot(const ru_map_slot *slots, size_t cap, const char *key, size_t len)
{
    size_t i = (size_t)ru_fnv1a(RU_FNV_OFFSET, key, len) & (cap - 1);
    while (slots[i].key && !(slots[i].len == len && memcmp(slots[i].key, key, len) == 0))
        i = (i + 1) & (cap - 1);
    return i;
}

void *ru_map_get(const ru_map *m, const char *key, size_t len)
{
    if (!m->cap)
        return NULL;
    const ru_map_slot *s = &m->slots[find_slot(m->slots, m->cap, key, len)];
    return s->key ? s->value : NULL;
}

/* Doubles the table (arena memory: the old one is left behind, which at
 * most doubles what the map uses). */
static bool grow(ru_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    ru_map_slot *slots = ru_arena_alloc(m->arena, cap * sizeof *slots);
    if (!slots)
        return false;
    memset(slots, 0, cap * sizeof *slots);
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key)
            slots[find_slot(slots, cap, m->slots[i].key, m->slots[i].len)] = m->slots[i];
    m->slots = slots;
    m->cap = cap;
    return true;
}

bool ru_map_put(ru_map *m, const char *key, size_t len, void *value, void **old)
{
    /* At most half full: probes stay short. */
    if ((m->count + 1) * 2 > m->cap && !grow(m))
        return false;
    ru_map_slot *s = &m->slots[find_slot(m->slots, m->cap, key, len)];
    if (old)
        *old = s->key ? s->value : NULL;
    if (!s->key) {
        s->key = key;
        s->len = len;
        m->count++;
    }
    s->value = value;
    return true;
}
