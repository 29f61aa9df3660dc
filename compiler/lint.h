/* lint.h - warnings about policies that do not mean what they say (lint.c):
 * SPDX-License-Identifier: Apache-2.0
 * precedence traps, conditions whose value their types fix, code that can
 * never run, defaults the schema makes pointless. Each says what to write
 * instead. Warnings only: a lint never fails a check.
 */
#ifndef RC_LINT_H
#define RC_LINT_H

#include "compile.h"

/* Walks a checked file (names resolved, no errors) and reports warnings,
 * each followed by a note where a second way out exists. target is the
 * policy's resolved target (NULL when unknown); env gives its schemas. */
void rc_lint(const rc_checked *checked, const rc_target *target, const rc_check_env *env,
             ru_arena *arena, rc_diags *diags);

#endif
