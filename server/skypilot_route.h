/* skypilot_route.h - rulesd's SkyPilot endpoint: the path it is served on
 * SPDX-License-Identifier: Apache-2.0
 * (configurable, SKYPILOT_DEFAULT_PATH unless the configuration says
 * otherwise) and how a SkyPilot decision becomes its HTTP answer. The
 * decision itself is made by handler.c like every other, so that metrics,
 * the decision log and redaction treat both protocols alike; the protocol
 * (decoding, encoding) is protocols/skypilot.c, shared with rulec.
 */
#ifndef RD_SKYPILOT_ROUTE_H
#define RD_SKYPILOT_ROUTE_H

#include "handler.h"
#include "metrics.h"
#include "skypilot.h"

#include <stdbool.h>
#include <stddef.h>

/* Sets the path at start-up (before the server starts; never changed while
 * it runs); NULL keeps the default. The text is copied. false when out of
 * memory. */
bool rd_skypilot_set_path(const char *path);
/* Whether path is the SkyPilot endpoint's. */
bool rd_skypilot_is_path(const char *path);
const char *rd_skypilot_path(void);
void rd_skypilot_free(void);

/* Whether path is one rulesd can serve SkyPilot on; why otherwise (for
 * the configuration's error). */
bool rd_skypilot_path_ok(const char *path, char *why, size_t size);

/* Fills resp with the answer to a decoded request: with d, 200 (allowed)
 * or 400 (rejected); without d, 500 with failure (fail closed). An allowed
 * spec SkyPilot could not take back becomes a 500 too, and its reason goes
 * to detail (else detail is ""). Returns the outcome to count and log;
 * the body lives in vm. */
rd_outcome rd_skypilot_respond(rv_vm *vm, const skypilot_request *sq, const rv_decision *d,
                               const char *failure, rd_response *resp, char *detail, size_t size);

#endif
