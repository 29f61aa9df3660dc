/* pull.h - the policy set from a URL (policies.url): one thread polls the
 * SPDX-License-Identifier: Apache-2.0
 * signed bundle there with If-None-Match, every interval less a random
 * jitter (so replicas spread out), backing off by doubling after
 * failures; it hands each new download to the main thread, which checks
 * and builds it (rd_reload_pulled: signature, digest, revision, the VM's
 * verifier) and swaps it in, or refuses it and keeps serving the last
 * good set. The thread never builds or swaps a set itself, so all of that
 * stays on the main thread, as for files.
 *
 * What the puller saw is reported in /v1/policies ("pull"), /healthz and
 * /metrics (rulesd_bundle_*).
 */
#ifndef RD_PULL_H
#define RD_PULL_H

#include "buf.h"
#include "config.h"

#include <stdbool.h>
#include <stddef.h>

/* Starts the thread; its first pull starts at once. The main thread hears
 * of a download by SIGUSR1 (which it must block before any thread starts,
 * and take with sigwait). false with err when the thread or libcurl
 * cannot start. */
bool rd_pull_start(const rd_source_config *src, char *err, size_t errsize);
/* Stops the thread (a download in progress is abandoned) and frees all. */
void rd_pull_stop(void);
bool rd_pull_running(void);

/* The download waiting for the main thread's verdict: its bytes stay
 * valid until rd_pull_verdict. false when there is none. */
bool rd_pull_pending(const char **data, size_t *len);
/* The verdict on the pending download: accepted (its ETag is sent from now
 * on, the next pull is one interval away) or refused with why (a failure:
 * counted, logged by the caller, and backed off; it is downloaded again
 * next time). */
void rd_pull_verdict(bool accepted, const char *why);
/* A copy of the last accepted bundle (malloc'd; the caller frees), for a
 * reload that rebuilds the set from it. false when none was accepted. */
bool rd_pull_accepted(char **data, size_t *len);
/* How many pulls have ended (downloaded, not modified, or failed) and how
 * many of the last ones in a row failed; the last failure's reason. */
void rd_pull_progress(unsigned long *ended, unsigned long *consecutive_failures, char *last_error,
                      size_t size);

/* Appends ,"pull":{...} (nothing when no URL is pulled): brief for
 * /healthz, everything for /v1/policies. */
void rd_pull_render_json(ru_buf *out, bool brief);
/* Appends the rulesd_bundle_* metrics (the info line needs the served
 * set's signed revision and key; "" when none). */
void rd_pull_render_metrics(ru_buf *out, const char *bundle_revision, const char *key_id);

#endif
