/* arena.h - bump allocation, freed or reset in one step (util: the
 * SPDX-License-Identifier: Apache-2.0
 * support code the VM, the compiler and the programs share).
 *
 * Memory comes from an allocator hook shaped like lua_Alloc (rulevm.h's
 * rv_alloc_fn has the same type); NULL means malloc/realloc/free. A chunk
 * is kept across resets, so a VM that resets its arena per decision stops
 * calling the allocator after the first few. Nothing is freed one block at
 * a time.
 */
#ifndef RU_ARENA_H
#define RU_ARENA_H

#include <stdbool.h>
#include <stddef.h>

/* nsize == 0 frees ptr (of osize bytes) and returns NULL; otherwise it
 * behaves as realloc(ptr, nsize), osize being the old size (0: new). */
typedef void *(*ru_alloc_fn)(void *ud, void *ptr, size_t osize, size_t nsize);

typedef struct ru_chunk ru_chunk;
typedef struct ru_arena {
    ru_alloc_fn alloc;
    void *ud;
    ru_chunk *first;   /* chunks are kept across resets for reuse */
    ru_chunk *cur;
    size_t used;       /* bytes used in cur */
} ru_arena;

void ru_arena_init(ru_arena *a, ru_alloc_fn alloc, void *ud);
void *ru_arena_alloc(ru_arena *a, size_t size);       /* 8-aligned; NULL on OOM */
char *ru_arena_strndup(ru_arena *a, const char *s, size_t n);
void ru_arena_reset(ru_arena *a);
void ru_arena_free(ru_arena *a);
void *ru_default_alloc(void *ud, void *ptr, size_t osize, size_t nsize);

#endif
