/* reload.h - the current policy set, and replacing it.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Workers take a reference to the current set for each request
 * (rd_current_acquire) and drop it when the response is built; a reload
 * builds the new set off to the side and swaps the pointer, so requests in
 * flight finish on the set they started with, and the old set is freed by
 * whoever drops its last reference.
 */
#ifndef RD_RELOAD_H
#define RD_RELOAD_H

#include "config.h"
#include "policyset.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

void rd_current_init(rd_set *first);
rd_set *rd_current_acquire(void);
void rd_set_release(rd_set *set);
/* Drops the server's own reference at shutdown (workers have stopped). */
void rd_current_shutdown(void);

/* The reload driver; runs on the main thread only. */
typedef struct rd_reloader {
    const rd_cli *cli;
    rd_config cfg;          /* the configuration of the current set */
    uint64_t fingerprint;   /* of cfg's inputs when last loaded */
    uint64_t settling;      /* of the inputs at the previous poll */
    uint64_t revision;      /* of the current set */
} rd_reloader;

/* Re-reads the configuration and rebuilds the set; on any failure logs
 * every diagnostic and keeps the current set. why is logged. */
bool rd_reload(rd_reloader *r, const char *why);
/* Reloads when the inputs' fingerprint changed since last time. */
void rd_reload_poll(rd_reloader *r);

/* With policies.url: builds the set from the download the puller has
 * waiting (pull.h) and swaps it in, or refuses it (logged, counted, the
 * previous set kept) and tells the puller which. Call on SIGUSR1. */
bool rd_reload_pulled(rd_reloader *r);

/* The first set, before rulesd listens. From files: built once. From a
 * URL: starts the puller and waits, taking sigs (SIGUSR1: a download to
 * check; SIGTERM/SIGINT: give up, *interrupted set), until a bundle is
 * accepted, policies.poll.startup_timeout_ms passes (0: no limit), or,
 * with once (--check), the first pull has ended either way. NULL when
 * there is none (every reason logged). */
rd_set *rd_initial_set(rd_reloader *r, const sigset_t *sigs, bool once, bool *interrupted);

#endif
