/* fmt.h - the canonical layout of a policy file (fmt.c; `rulec fmt`
 * SPDX-License-Identifier: Apache-2.0
 * reaches it through rc_format in rulec.h).
 */
#ifndef RC_FMT_H
#define RC_FMT_H

#include "buf.h"
#include "parse.h"

#include <stdbool.h>

/* Appends to out the file whose tokens (rc_scan_tokens, comments
 * included) are given, laid out canonically: the same tokens in the same
 * order, only the blanks between them changed. The tokens must be those of
 * a file that parses. false when memory ran out. */
bool rc_fmt_tokens(const rc_token *tokens, long n, ru_arena *arena, ru_buf *out);

#endif
