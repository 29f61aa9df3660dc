/* hash.h - FNV-1a and a string-keyed hash map in an arena (util: the
 * SPDX-License-Identifier: Apache-2.0
 * support code the VM, the compiler and the programs share).
 *
 * The map is open addressing with linear probing over (key, length) pairs:
 * keys may hold NUL bytes and are not copied (they must outlive the map).
 * Its memory comes from an ru_arena and goes with it; it never shrinks.
 */
#ifndef RU_HASH_H
#define RU_HASH_H

#include "arena.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RU_FNV_OFFSET 14695981039346656037ull

/* 64-bit FNV-1a of n bytes, continuing from h (RU_FNV_OFFSET to start). */
static inline uint64_t ru_fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

typedef struct ru_map_slot {
    const char *key;    /* NULL: empty */
    size_t len;
    void *value;
} ru_map_slot;

typedef struct ru_map {
    ru_arena *arena;
    ru_map_slot *slots;
    size_t cap, count;  /* cap: 0 or a power of two */
} ru_map;

void ru_map_init(ru_map *m, ru_arena *arena);
/* The value stored under key, or NULL when there is none. */
void *ru_map_get(const ru_map *m, const char *key, size_t len);
/* Stores value (not NULL) under key, replacing what was there (its old value in *old
 * when old is not NULL; NULL when the key is new). false: out of memory. */
bool ru_map_put(ru_map *m, const char *key, size_t len, void *value, void **old);

#endif
