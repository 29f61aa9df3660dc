/* diag.h - diagnostics as data.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Every pass reports problems as records (severity, source, span, message)
 * appended to one list; rulec prints them at the end as
 *   file:line:col: error: message
 *       the source line
 *       ^~~~ under the span
 * and tests compare that text. Nothing here exits.
 */
#ifndef RC_DIAG_H
#define RC_DIAG_H

#include "ast.h"

#include <stdio.h>

/* One record. The typedef is rc_diag_rec because rc_diag is the function
 * that adds one (the struct tag stays rc_diag; tags are a separate
 * namespace in C). */
typedef struct rc_diag {
    rc_severity severity;
    const rc_source *src;   /* NULL: not tied to a file */
    rc_loc loc;             /* ignored when src is NULL */
    char *message;
    struct rc_diag *next;
} rc_diag_rec;

typedef struct rc_diags {
    ru_arena *arena;        /* records live here */
    rc_diag_rec *head, *tail;
    int nerrors, nwarnings;
} rc_diags;

void rc_diags_init(rc_diags *d, ru_arena *arena);
void rc_diag(rc_diags *d, rc_severity sev, const rc_source *src, rc_loc loc,
             const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Prints every record in order (see the file comment). */
void rc_diags_print(const rc_diags *d, FILE *out);
/* The records in printing order: sorted by file (in order of first
 * appearance) and position, each note right after its record. Returns a
 * malloc'd array of d's records (*n of them), NULL when there are none or
 * memory ran out (then *n is 0 for none, or the count for OOM). */
const rc_diag_rec **rc_diags_sorted(const rc_diags *d, size_t *n);
/* Prints one record. */
void rc_diag_print(const rc_diag_rec *diag, FILE *out);

#endif
