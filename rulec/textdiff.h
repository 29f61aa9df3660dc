/* textdiff.h - a unified diff of two texts, line by line (`rulec fmt
 * SPDX-License-Identifier: Apache-2.0
 * --diff`).
 */
#ifndef RULEC_TEXTDIFF_H
#define RULEC_TEXTDIFF_H

#include "buf.h"

/* Appends to out the unified diff (three lines of context, `--- a/NAME`,
 * `+++ b/NAME` headers, as `diff -u` and `git diff` print it) that turns
 * a into b; nothing when they are equal. */
void cli_text_diff(ru_buf *out, const char *name, const char *a, size_t alen, const char *b,
                   size_t blen);

#endif
