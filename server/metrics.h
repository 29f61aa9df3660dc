/* metrics.h - counters for GET /metrics (Prometheus text format): decisions
 * SPDX-License-Identifier: Apache-2.0
 * by kind and outcome, a decision latency histogram (dstack's, and
 * SkyPilot's by request name with a histogram of its own), HTTP responses by
 * status, reloads. Lock-free (relaxed atomics): workers only add.
 */
#ifndef RD_METRICS_H
#define RD_METRICS_H

#include "buf.h"
#include "conntab.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum rd_kind { RD_K_RUN, RD_K_FLEET, RD_K_VOLUME, RD_K_GATEWAY, RD_K_OTHER, RD_NKINDS } rd_kind;
typedef enum rd_outcome {
    RD_O_ALLOWED,
    RD_O_REJECTED,
    RD_O_INVALID,   /* a bad request: 400 */
    RD_O_ERROR,     /* the policies failed (a limit): rejected, fail closed */
    RD_NOUTCOMES
} rd_outcome;

rd_kind rd_kind_of(const char *kind);
const char *rd_outcome_name(rd_outcome o);
void rd_metrics_decision(rd_kind kind, rd_outcome outcome, uint64_t nanoseconds);
/* A SkyPilot decision, counted apart from dstack's: by request name (one
 * of skypilot_request_names, anything else as "other") and outcome, with
 * its own latency histogram. */
void rd_metrics_skypilot(const char *request_name, rd_outcome outcome, uint64_t nanoseconds);
void rd_metrics_http(int status);
void rd_metrics_reload(bool ok);
/* The connection table's counts, published by the transport a few times a
 * second (a snapshot: rendered as they were last published). */
void rd_metrics_connections(const rd_conn_stats *s);
/* Appends the whole exposition. set_sha256 is the served set's digest
 * (rulesd_build_info), "" when none is loaded. */
void rd_metrics_render(ru_buf *out, uint64_t revision, size_t npolicies, const char *set_sha256,
                       long in_flight);

#endif
