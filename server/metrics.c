/* metrics.c - the Prometheus counters. Buckets are chosen around the speed
 * SPDX-License-Identifier: Apache-2.0
 * target (p99 under 2 ms) so that the histogram can show whether it holds;
 * the slow end stops at dstack's 8-second timeout.
 */
#include "metrics.h"

#include "rulevm.h"
#include "skypilot.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>

static const char *const kind_names[RD_NKINDS] = {"run", "fleet", "volume", "gateway", "other"};
static const char *const outcome_names[RD_NOUTCOMES] = {"allowed", "rejected", "invalid", "error"};

static const double bucket_le[] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002,
                                   0.005,   0.01,   0.05,    0.25,   1.0,   8.0};
#define NBUCKETS (sizeof bucket_le / sizeof *bucket_le)

static const int status_codes[] = {200, 400, 401, 404, 405, 408, 413, 422, 500, 503};
#define NSTATUS (sizeof status_codes / sizeof *status_codes)

/* A latency histogram: counts per bucket (summed cumulatively when
 * rendered), their count and sum. */
typedef struct histogram {
    atomic_ulong buckets[NBUCKETS + 1];   /* last: +Inf only */
    atomic_ulong count;
    atomic_ullong sum_ns;
} histogram;

/* SkyPilot's request names, and one more slot for any other. */
#define MAX_SKYPILOT_NAMES 16

static atomic_ulong decisions[RD_NKINDS][RD_NOUTCOMES];
static histogram latency;
static atomic_ulong skypilot_decisions[MAX_SKYPILOT_NAMES + 1][RD_NOUTCOMES];
static histogram skypilot_latency;
static atomic_ulong responses[NSTATUS + 1];  /* last: any other status */
static atomic_ulong reloads, reload_failures;
static atomic_ulong conns_open, conns_cut[RD_NCUTS];
static const char *const cut_names[RD_NCUTS] = {"header_timeout", "request_timeout", "client_limit",
                                                "reserve"};

rd_kind rd_kind_of(const char *kind)
{
    for (int i = 0; i < RD_K_OTHER; i++)
        if (strcmp(kind, kind_names[i]) == 0)
            return (rd_kind)i;
    return RD_K_OTHER;
}

const char *rd_outcome_name(rd_outcome o)
{
    return outcome_names[o];
}

static void observe(histogram *h, uint64_t ns)
{
    double s = (double)ns / 1e9;
    size_t b = 0;
    while (b < NBUCKETS && s > bucket_le[b])
        b++;
    /* Stored per bucket, summed cumulatively when rendered. */
    atomic_fetch_add_explicit(&h->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
}

void rd_metrics_decision(rd_kind kind, rd_outcome outcome, uint64_t ns)
{
    atomic_fetch_add_explicit(&decisions[kind][outcome], 1, memory_order_relaxed);
    observe(&latency, ns);
}

static size_t skypilot_names(void)
{
    return skypilot_nrequest_names < MAX_SKYPILOT_NAMES ? skypilot_nrequest_names : MAX_SKYPILOT_NAMES;
}

void rd_metrics_skypilot(const char *request_name, rd_outcome outcome, uint64_t ns)
{
    size_t i = 0, n = skypilot_names();
    while (request_name && i < n && strcmp(request_name, skypilot_request_names[i]) != 0)
        i++;
    if (!request_name)
        i = n;  /* a body too broken to name its request */
    atomic_fetch_add_explicit(&skypilot_decisions[i][outcome], 1, memory_order_relaxed);
    observe(&skypilot_latency, ns);
}

void rd_metrics_http(int status)
{
    size_t i = 0;
    while (i < NSTATUS && status_codes[i] != status)
        i++;
    atomic_fetch_add_explicit(&responses[i], 1, memory_order_relaxed);
}

void rd_metrics_reload(bool ok)
{
    atomic_fetch_add_explicit(ok ? &reloads : &reload_failures, 1, memory_order_relaxed);
}

void rd_metrics_connections(const rd_conn_stats *st)
{
    atomic_store_explicit(&conns_open, st->open, memory_order_relaxed);
    for (int i = 0; i < RD_NCUTS; i++)
        atomic_store_explicit(&conns_cut[i], st->cut[i], memory_order_relaxed);
}

static unsigned long get(atomic_ulong *a)
{
    return atomic_load_explicit(a, memory_order_relaxed);
}

static void render_histogram(ru_buf *o, const char *name, histogram *h)
{
    unsigned long cum = 0;
    for (size_t b = 0; b < NBUCKETS; b++) {
        cum += get(&h->buckets[b]);
        ru_buf_printf(o, "%s_bucket{le=\"%g\"} %lu\n", name, bucket_le[b], cum);
    }
    cum += get(&h->buckets[NBUCKETS]);
    ru_buf_printf(o, "%s_bucket{le=\"+Inf\"} %lu\n", name, cum);
    ru_buf_printf(o, "%s_sum %.9f\n", name, (double)atomic_load_explicit(&h->sum_ns, memory_order_relaxed) / 1e9);
    ru_buf_printf(o, "%s_count %lu\n", name, get(&h->count));
}

void rd_metrics_render(ru_buf *o, uint64_t revision, size_t npolicies, const char *set_sha256,
                       long in_flight)
{
    /* Which build serves which policy set: the digest is hex, the version
     * digits and dots, so neither needs label escaping. */
    ru_buf_printf(o, "# HELP rulesd_build_info The rulesd version and the SHA-256 of the policy set it serves.\n"
                     "# TYPE rulesd_build_info gauge\n"
                     "rulesd_build_info{version=\"%d.%d.%d\",set_sha256=\"%s\"} 1\n",
                  RV_VERSION_MAJOR, RV_VERSION_MINOR, RV_VERSION_PATCH, set_sha256);
    ru_buf_puts(o, "# HELP rulesd_decisions_total Policy decisions by request kind and outcome.\n"
                   "# TYPE rulesd_decisions_total counter\n");
    for (int k = 0; k < RD_NKINDS; k++)
        for (int x = 0; x < RD_NOUTCOMES; x++)
            ru_buf_printf(o, "rulesd_decisions_total{kind=\"%s\",outcome=\"%s\"} %lu\n", kind_names[k],
                          outcome_names[x], get(&decisions[k][x]));
    ru_buf_puts(o, "# HELP rulesd_decision_duration_seconds Time from a complete request body to its response.\n"
                   "# TYPE rulesd_decision_duration_seconds histogram\n");
    render_histogram(o, "rulesd_decision_duration_seconds", &latency);
    ru_buf_puts(o, "# HELP rulesd_skypilot_decisions_total SkyPilot admin-policy decisions by request name and "
                   "outcome.\n"
                   "# TYPE rulesd_skypilot_decisions_total counter\n");
    for (size_t k = 0; k <= skypilot_names(); k++)
        for (int x = 0; x < RD_NOUTCOMES; x++)
            ru_buf_printf(o, "rulesd_skypilot_decisions_total{request=\"%s\",outcome=\"%s\"} %lu\n",
                          k < skypilot_names() ? skypilot_request_names[k] : "other", outcome_names[x],
                          get(&skypilot_decisions[k][x]));
    ru_buf_puts(o, "# HELP rulesd_skypilot_decision_duration_seconds Time from a complete SkyPilot request body "
                   "to its response.\n"
                   "# TYPE rulesd_skypilot_decision_duration_seconds histogram\n");
    render_histogram(o, "rulesd_skypilot_decision_duration_seconds", &skypilot_latency);
    ru_buf_puts(o, "# HELP rulesd_http_responses_total HTTP responses by status code.\n"
                   "# TYPE rulesd_http_responses_total counter\n");
    for (size_t i = 0; i < NSTATUS; i++)
        ru_buf_printf(o, "rulesd_http_responses_total{code=\"%d\"} %lu\n", status_codes[i], get(&responses[i]));
    ru_buf_printf(o, "rulesd_http_responses_total{code=\"other\"} %lu\n", get(&responses[NSTATUS]));
    ru_buf_printf(o,
                  "# HELP rulesd_policy_set_revision Revision of the loaded policy set (1 at start, +1 per reload).\n"
                  "# TYPE rulesd_policy_set_revision gauge\n"
                  "rulesd_policy_set_revision %llu\n"
                  "# HELP rulesd_policies_loaded Policies in the loaded set.\n"
                  "# TYPE rulesd_policies_loaded gauge\n"
                  "rulesd_policies_loaded %zu\n"
                  "# HELP rulesd_reloads_total Policy set reloads that succeeded.\n"
                  "# TYPE rulesd_reloads_total counter\n"
                  "rulesd_reloads_total %lu\n"
                  "# HELP rulesd_reload_failures_total Reloads refused (the previous set kept serving).\n"
                  "# TYPE rulesd_reload_failures_total counter\n"
                  "rulesd_reload_failures_total %lu\n"
                  "# HELP rulesd_requests_in_flight Requests being received or answered.\n"
                  "# TYPE rulesd_requests_in_flight gauge\n"
                  "rulesd_requests_in_flight %ld\n",
                  (unsigned long long)revision, npolicies, get(&reloads), get(&reload_failures), in_flight);
    ru_buf_printf(o, "# HELP rulesd_connections_open Connections held now.\n"
                     "# TYPE rulesd_connections_open gauge\n"
                     "rulesd_connections_open %lu\n"
                     "# HELP rulesd_connections_cut_total Connections closed while waiting on their client, by reason.\n"
                     "# TYPE rulesd_connections_cut_total counter\n",
                  get(&conns_open));
    for (int i = 0; i < RD_NCUTS; i++)
        ru_buf_printf(o, "rulesd_connections_cut_total{reason=\"%s\"} %lu\n", cut_names[i], get(&conns_cut[i]));
}
