/* arena.c - bump allocation for documents, programs and compilations (util).
 * SPDX-License-Identifier: Apache-2.0
 *
 * Everything a decision allocates comes from one arena that is reset, not
 * freed, between decisions: after the first few requests a VM runs without
 * calling the allocator at all.
 */
#include "arena.h"

#include <stdlib.h>
#include <string.h>

struct ru_chunk {
    ru_chunk *next;
    size_t size;            /* usable bytes after the header */
    max_align_t data[];
};

#define RU_CHUNK_MIN 16384

void *ru_default_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud;
    (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, nsize);
}

void ru_arena_init(ru_arena *a, ru_alloc_fn alloc, void *ud)
{
    a->alloc = alloc ? alloc : ru_default_alloc;
    a->ud = ud;
    a->first = a->cur = NULL;
    a->used = 0;
}

void *ru_arena_alloc(ru_arena *a, size_t size)
{
    size = (size + 7) & ~(size_t)7;
    if (size == 0)
        size = 8;
    if (a->cur && a->cur->size - a->used >= size) {
        void *p = (char *)a->cur->data + a->used;
        a->used += size;
        return p;
    }
    /* Reuse a chunk kept from before a reset if it is big enough; chunks
     * too small for this request are skipped, not lost (they stay in the
     * list and are reused after the next reset). */
    ru_chunk *prev = a->cur;
    ru_chunk *c = a->cur ? a->cur->next : a->first;
    while (c && c->size < size) {
        prev = c;
        c = c->next;
    }
    if (!c) {
        size_t want = size > RU_CHUNK_MIN ? size : RU_CHUNK_MIN;
        if (a->cur && a->cur->size * 2 > want && a->cur->size * 2 <= (size_t)1 << 26)
            want = a->cur->size * 2;
        c = a->alloc(a->ud, NULL, 0, sizeof(ru_chunk) + want);
        if (!c)
            return NULL;
        c->size = want;
        c->next = NULL;
        if (prev)
            prev->next = c;
        else
            a->first = c;
    }
    a->cur = c;
    a->used = size;
    return c->data;
}

char *ru_arena_strndup(ru_arena *a, const char *s, size_t n)
{
    char *p = ru_arena_alloc(a, n + 1);
    if (p) {
        if (n)
            memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

void ru_arena_reset(ru_arena *a)
{
    a->cur = NULL;
    a->used = 0;
}

void ru_arena_free(ru_arena *a)
{
    ru_chunk *c = a->first;
    while (c) {
        ru_chunk *next = c->next;
        a->alloc(a->ud, c, sizeof(ru_chunk) + c->size, 0);
        c = next;
    }
    a->first = a->cur = NULL;
    a->used = 0;
}
