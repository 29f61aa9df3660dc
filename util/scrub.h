/* scrub.h - finding many byte strings (a request's secret values) in the
 * SPDX-License-Identifier: Apache-2.0
 * texts about to be logged, and replacing them with a marker (util: the
 * support code the VM, the compiler and the programs share).
 *
 * Matching ignores ASCII case (upper() and lower() of a secret are found).
 * A pattern of 4 bytes or more is found anywhere; a shorter one only where
 * it stands as a whole word, so that a secret such as "1" does not shred
 * every number in a text.
 *
 * The cost is linear. ru_scrub_prepare is told every text that will be
 * scrubbed; it keeps as candidates only the patterns whose every 4-byte
 * window occurs somewhere in those texts (a hash set of the texts' 4-byte
 * windows, then a few lookups per pattern: the texts' length plus the
 * patterns'). Usually no pattern survives, and scrubbing is a copy. The
 * candidates are then searched for in each text, against a budget of a
 * few times the texts' and the patterns' length: a request built to make
 * that search long (texts made of copies of its own secrets) runs out of
 * budget, and the rest of its texts are withheld, never printed unchecked.
 */
#ifndef RU_SCRUB_H
#define RU_SCRUB_H

#include "arena.h"
#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RU_SCRUB_SHORT 4   /* patterns shorter than this match whole words only */

typedef struct ru_scrub {
    ru_alloc_fn alloc;
    void *ud;
    ru_buf folded;      /* the patterns, ASCII-folded, back to back */
    ru_buf index;       /* per pattern: size_t offset, size_t length */
    ru_buf cands;       /* after prepare: the candidates' numbers (size_t each) */
    bool prepared;
    size_t budget;      /* bytes of searching left (prepare sets it) */
    bool exhausted;     /* the budget ran out: texts are withheld */
    bool oom;           /* sticky: an allocation failed: texts are withheld */
} ru_scrub;

void ru_scrub_init(ru_scrub *s, ru_alloc_fn alloc, void *ud);
/* Adds a pattern (empty ones are ignored). false: out of memory. */
bool ru_scrub_add(ru_scrub *s, const char *p, size_t n);
/* Adds p and, when JSON escaping changes it, its escaped form (without
 * the quotes), so that it is found where a JSON text prints it (a map
 * interpolated into a message, a printed value). */
bool ru_scrub_add_json(ru_scrub *s, const char *p, size_t n);
/* How many patterns, and their total length. */
size_t ru_scrub_count(const ru_scrub *s);
size_t ru_scrub_bytes(const ru_scrub *s);
/* Keeps as candidates the patterns that can occur in texts[0..n) (their
 * lengths in lens), and sets the budget. Without it every pattern is a
 * candidate and the budget is unlimited: for a caller that scrubs its
 * user's own input (rulec). false: out of memory (texts are then withheld). */
bool ru_scrub_prepare(ru_scrub *s, const char *const *texts, const size_t *lens, size_t n);
/* Appends text (n bytes) to out with every occurrence of a candidate
 * replaced by marker; overlapping and adjacent occurrences become one
 * marker. When texts are withheld (out of memory or budget), appends
 * withheld instead of any of the text. */
void ru_scrub_apply(ru_scrub *s, const char *text, size_t n, const char *marker, const char *withheld,
                    ru_buf *out);
/* Whether text holds a candidate, or texts are withheld. */
bool ru_scrub_found(ru_scrub *s, const char *text, size_t n);
/* Frees everything; the scrubber may be used again after ru_scrub_init. */
void ru_scrub_free(ru_scrub *s);
/* Forgets the patterns, keeping the memory. */
void ru_scrub_clear(ru_scrub *s);

#endif
