/* suggest.h - "did you mean ...?": the closest known name to a misspelt
 * SPDX-License-Identifier: Apache-2.0
 * one (internal to the compiler; it lives in grammar/ so syntax errors
 * can suggest keywords too). */
#ifndef RC_SUGGEST_H
#define RC_SUGGEST_H

#include <stddef.h>

/* The candidate nearest to word by edit distance (insertions, deletions,
 * substitutions and swaps of neighbours each count 1), when it is near
 * enough to be a likely slip: at most 1 edit for words of up to 4
 * characters, 2 up to 8, 3 beyond. NULL when none is; the first of equals
 * wins. An exact match is not a suggestion (NULL). */
const char *rc_suggest(const char *word, const char *const *candidates, size_t n);

#endif
