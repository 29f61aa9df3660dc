/* pathslots.c - numbers the path segments of a loaded program for the
 * SPDX-License-Identifier: Apache-2.0
 * evaluator's lookup memo (vm_impl.h, rv_memo).
 *
 * Segments reached by the same keys from the start of their paths share a
 * slot: `configuration` in every policy's `configuration.x` is one slot,
 * `configuration.resources.gpu.count` another, whichever path and policy
 * they are written in. A slot remembers the object it was last looked up
 * in and what was found there, so a second path through the same object
 * costs a pointer comparison instead of a key comparison. The memo checks
 * the object itself, so sharing never gives a wrong answer; it only makes
 * hits likely. Paths that start at a loop's element (`g.resources...`)
 * share slots with each other the same way.
 */
#include "program.h"

#include "hash.h"

#include <string.h>

/* The identity of a segment: its parent's slot (UINT32_MAX at a path's
 * start), then 'K' and the key's bytes, or 'I' and the index. */
static char *seg_identity(ru_arena *a, uint32_t parent, const rv_seg *s, size_t *len)
{
    size_t n = sizeof parent + 1 + (s->key ? s->klen : sizeof s->index);
    char *id = ru_arena_alloc(a, n ? n : 1);
    if (!id)
        return NULL;
    memcpy(id, &parent, sizeof parent);
    if (s->key) {
        id[sizeof parent] = 'K';
        memcpy(id + sizeof parent + 1, s->key, s->klen);
    } else {
        id[sizeof parent] = 'I';
        memcpy(id + sizeof parent + 1, &s->index, sizeof s->index);
    }
    *len = n;
    return id;
}

bool rv_number_segments(rv_program *prog)
{
    ru_arena scratch;
    ru_arena_init(&scratch, prog->cfg.alloc, prog->cfg.alloc_ud);
    ru_map ids;
    ru_map_init(&ids, &scratch);
    uint32_t nslots = 0;
    bool ok = true;
    for (uint32_t i = 0; i < prog->npolicies && ok; i++) {
        rv_policy *p = prog->policies[i];
        for (uint32_t j = 0; j < p->npaths && ok; j++) {
            uint32_t parent = UINT32_MAX;
            for (uint32_t k = 0; k < p->paths[j].nseg && ok; k++) {
                rv_seg *s = &p->paths[j].segs[k];
                size_t len;
                char *id = seg_identity(&scratch, parent, s, &len);
                if (!id) {
                    ok = false;
                    break;
                }
                /* Values are slot + 1: the map's NULL means absent. */
                uintptr_t known = (uintptr_t)ru_map_get(&ids, id, len);
                if (known) {
                    s->slot = (uint32_t)(known - 1);
                } else {
                    s->slot = nslots++;
                    ok = ru_map_put(&ids, id, len, (void *)(uintptr_t)(s->slot + 1), NULL);
                }
                parent = s->slot;
            }
        }
    }
    ru_arena_free(&scratch);
    prog->nsegs = nslots;
    return ok;
}
