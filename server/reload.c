/* reload.c - the current-set pointer and the reload driver.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Acquire is a mutex-guarded load-and-increment: with a plain atomic
 * pointer, a reader could load the old pointer, be preempted while the
 * swap drops the last reference and frees the set, then increment freed
 * memory. The lock is held for two instructions and contended only
 * during a swap, which costs far less than a decision.
 *
 * Files are watched by polling a fingerprint (stat of each input) rather
 * than inotify: editors and config managers replace files by rename,
 * Kubernetes swaps ConfigMap symlinks, and folders gain files -- all of
 * which inotify watches on files miss or need re-arming for -- while a few
 * stat calls a second cost nothing and behave the same on every filesystem.
 */
#include "reload.h"

#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "pull.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static rd_set *current;

void rd_current_init(rd_set *first)
{
    current = first;
}

rd_set *rd_current_acquire(void)
{
    pthread_mutex_lock(&current_lock);
    rd_set *s = current;
    if (s)
        atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&current_lock);
    return s;
}

void rd_set_release(rd_set *set)
{
    if (!set)
        return;
    /* acq_rel: the freeing thread must see every other thread's reads done. */
    if (atomic_fetch_sub_explicit(&set->refs, 1, memory_order_acq_rel) == 1) {
        rd_log(RD_DEBUG, "policy set revision %llu released", (unsigned long long)set->revision);
        rd_set_free(set);
    }
}

static void swap_in(rd_set *next)
{
    pthread_mutex_lock(&current_lock);
    rd_set *old = current;
    current = next;
    pthread_mutex_unlock(&current_lock);
    rd_set_release(old);
}

void rd_current_shutdown(void)
{
    swap_in(NULL);
}

/* Settings that the running listener was started with. */
static void warn_restart_only(const rd_config *old, const rd_config *new)
{
    if (strcmp(old->address, new->address) != 0 || old->port != new->port)
        rd_log(RD_WARN, "reload: 'listen' changed; it takes effect on restart");
    if (old->threads != new->threads)
        rd_log(RD_WARN, "reload: 'threads' changed; it takes effect on restart");
    if (old->max_body != new->max_body || old->connection_timeout != new->connection_timeout ||
        old->max_connections != new->max_connections || old->shutdown_grace != new->shutdown_grace)
        rd_log(RD_WARN, "reload: 'limits' changed; they take effect on restart");
    const char *a = old->decision_log ? old->decision_log : "", *b = new->decision_log ? new->decision_log : "";
    if (strcmp(a, b) != 0)
        rd_log(RD_WARN, "reload: 'decision_log' changed; it takes effect on restart");
    a = old->skypilot_path ? old->skypilot_path : "";
    b = new->skypilot_path ? new->skypilot_path : "";
    if (strcmp(a, b) != 0)
        rd_log(RD_WARN, "reload: 'skypilot.path' changed; it takes effect on restart");
}

/* Where policies come from is fixed at start-up: a reload that would
 * change it is refused (the puller pulls the start-up URL). */
static bool same_source(const rd_config *old, const rd_config *new, char *err, size_t errsize)
{
    const char *a = old->source.url ? old->source.url : "", *b = new->source.url ? new->source.url : "";
    if (strcmp(a, b) == 0)
        return true;
    snprintf(err, errsize, "%s: policies.url changed (from %s%s%s to %s%s%s): where policies come from "
                           "changes on restart only", new->config_path ? new->config_path : "rulesd",
             *a ? "'" : "", *a ? a : "paths", *a ? "'" : "", *b ? "'" : "", *b ? b : "paths", *b ? "'" : "");
    return false;
}

/* The set for cfg: from its files, or from the accepted pulled bundle. */
static rd_set *build_for(const rd_config *cfg, uint64_t revision, const rd_set *prev, ru_buf *diag)
{
    if (!cfg->source.url)
        return rd_set_build(cfg, revision, prev, diag);
    char *data;
    size_t len;
    if (!rd_pull_accepted(&data, &len)) {
        ru_buf_puts(diag, "no bundle has been pulled from the URL yet\n");
        return NULL;
    }
    rc_input in = {cfg->source.url, data, len, 0, 0, 0};
    rd_set *set = rd_set_build_pulled(cfg, revision, prev, &in, diag);
    free(data);
    return set;
}

static void status_notify(const rd_set *set)
{
    if (set->bundle_revision[0])
        rd_notify("STATUS=serving policy set revision %llu: %zu policies, signed revision %s",
                  (unsigned long long)set->revision, set->npolicies, set->bundle_revision);
    else
        rd_notify("STATUS=serving policy set revision %llu: %zu policies", (unsigned long long)set->revision,
                  set->npolicies);
}

bool rd_reload(rd_reloader *r, const char *why)
{
    rd_config cfg;
    char err[1024];
    rd_log(RD_INFO, "reloading policies (%s)", why);
    bool loaded = rd_config_load(r->cli, &cfg, err, sizeof err);
    if (loaded && !same_source(&r->cfg, &cfg, err, sizeof err)) {
        rd_config_free(&cfg);
        loaded = false;
    }
    if (!loaded) {
        rd_log(RD_ERROR, "reload failed: %s", err);
        rd_log(RD_ERROR, "reload failed: still serving revision %llu", (unsigned long long)r->revision);
        r->fingerprint = rd_inputs_fingerprint(&r->cfg);
        rd_metrics_reload(false);
        return false;
    }
    /* Taken before building: a change made while building shows next poll. */
    uint64_t fp = rd_inputs_fingerprint(&cfg);
    ru_buf diag = {0};
    /* The served set: what each file was, for the new one to be checked
     * against (truncated bundles and emptied sources are refused). */
    rd_set *prev = rd_current_acquire();
    rd_set *set = build_for(&cfg, r->revision + 1, prev, &diag);
    rd_set_release(prev);
    if (!set) {
        rd_log_lines(RD_ERROR, "reload failed: ", diag.data ? diag.data : "", diag.len);
        rd_log(RD_ERROR, "reload failed: still serving revision %llu", (unsigned long long)r->revision);
        ru_buf_free(&diag);
        rd_config_free(&cfg);
        r->fingerprint = fp;
        rd_metrics_reload(false);
        return false;
    }
    if (diag.len)
        rd_log_lines(RD_WARN, "", diag.data, diag.len);
    ru_buf_free(&diag);
    warn_restart_only(&r->cfg, &cfg);
    rd_log_set_level((rd_level)cfg.log_level);
    r->revision = set->revision;
    rd_log(RD_INFO, "policy set revision %llu loaded: %zu policies", (unsigned long long)set->revision,
           set->npolicies);
    status_notify(set);
    swap_in(set);
    /* Keep the start-up-only settings the listener actually uses. */
    char *keep_addr = cfg.address;
    cfg.address = r->cfg.address;
    r->cfg.address = keep_addr;
    cfg.port = r->cfg.port;
    cfg.threads = r->cfg.threads;
    cfg.max_body = r->cfg.max_body;
    cfg.connection_timeout = r->cfg.connection_timeout;
    cfg.max_connections = r->cfg.max_connections;
    cfg.shutdown_grace = r->cfg.shutdown_grace;
    char *keep_log = cfg.decision_log;
    cfg.decision_log = r->cfg.decision_log;
    r->cfg.decision_log = keep_log;
    char *keep_path = cfg.skypilot_path;
    cfg.skypilot_path = r->cfg.skypilot_path;
    r->cfg.skypilot_path = keep_path;
    rd_config_free(&r->cfg);
    r->cfg = cfg;
    r->fingerprint = fp;
    rd_metrics_reload(true);
    return true;
}

void rd_reload_poll(rd_reloader *r)
{
    uint64_t fp = rd_inputs_fingerprint(&r->cfg);
    if (fp == r->fingerprint) {
        r->settling = fp;
        return;
    }
    /* Reload only once the inputs have stood still for one interval: a
     * file copied in place is empty or half written for a moment. (Were it
     * read then, the reload would be refused: a bundle that is no longer
     * one, or a source that lost its rules, keeps the previous set.) */
    if (fp != r->settling) {
        r->settling = fp;
        return;
    }
    r->fingerprint = fp;
    rd_reload(r, "policy or configuration files changed");
}

/* Builds the set from the pending download, gives the puller its verdict,
 * and returns the set (not yet served), or NULL. */
static rd_set *take_pulled(rd_reloader *r)
{
    const char *data;
    size_t len;
    if (!rd_pull_pending(&data, &len))
        return NULL;
    rc_input in = {r->cfg.source.url, data, len, 0, 0, 0};
    ru_buf diag = {0};
    rd_set *prev = rd_current_acquire();
    rd_set *set = rd_set_build_pulled(&r->cfg, r->revision + 1, prev, &in, &diag);
    rd_set_release(prev);
    if (!set) {
        ru_buf_terminate(&diag);
        rd_log_lines(RD_ERROR, "pulled bundle refused: ", diag.data ? diag.data : "", diag.len);
        if (r->revision)
            rd_log(RD_ERROR, "pulled bundle refused: still serving revision %llu", (unsigned long long)r->revision);
        /* The first line says why, for /v1/policies and /healthz. */
        const char *text = diag.data ? diag.data : "refused";
        const char *nl = strchr(text, '\n');
        char why[400];
        snprintf(why, sizeof why, "%.*s", nl ? (int)(nl - text) : (int)strlen(text), text);
        rd_pull_verdict(false, why);
        ru_buf_free(&diag);
        if (r->revision)
            rd_metrics_reload(false);
        return NULL;
    }
    if (diag.len)
        rd_log_lines(RD_WARN, "", diag.data, diag.len);
    ru_buf_free(&diag);
    rd_pull_verdict(true, NULL);
    r->revision = set->revision;
    rd_log(RD_INFO, "policy set revision %llu loaded: %zu policies, signed revision %s (key %s) from %s",
           (unsigned long long)set->revision, set->npolicies, set->bundle_revision, set->bundle_key_id,
           r->cfg.source.url);
    return set;
}

bool rd_reload_pulled(rd_reloader *r)
{
    rd_set *set = take_pulled(r);
    if (!set)
        return false;
    status_notify(set);
    swap_in(set);
    rd_metrics_reload(true);
    return true;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

rd_set *rd_initial_set(rd_reloader *r, const sigset_t *sigs, bool once, bool *interrupted)
{
    *interrupted = false;
    if (!r->cfg.source.url) {
        ru_buf diag = {0};
        rd_set *set = rd_set_build(&r->cfg, 1, NULL, &diag);
        if (diag.len)
            rd_log_lines(set ? RD_WARN : RD_ERROR, "", diag.data, diag.len);
        ru_buf_free(&diag);
        if (set)
            r->revision = set->revision;
        return set;
    }
    char err[300];
    if (!rd_pull_start(&r->cfg.source, err, sizeof err)) {
        rd_log(RD_ERROR, "%s", err);
        return NULL;
    }
    unsigned limit = r->cfg.source.startup_timeout_ms;
    rd_log(RD_INFO, "pulling the policy bundle from %s (waiting %s%u ms for a good one)", r->cfg.source.url,
           limit ? "up to " : "", limit);
    uint64_t start = mono_ms();
    for (;;) {
        /* Taken here, not in the main loop: nothing listens yet. */
        struct timespec wait = {0, 100 * 1000000L};
        int sig = sigtimedwait(sigs, NULL, &wait);
        if (sig == SIGTERM || sig == SIGINT) {
            rd_log(RD_INFO, "%s before a policy set was loaded: exiting", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            *interrupted = true;
            break;
        }
        rd_set *set = take_pulled(r);
        if (set)
            return set;
        unsigned long ended, failures;
        char last[512];
        rd_pull_progress(&ended, &failures, last, sizeof last);
        if (once && ended) {
            rd_log(RD_ERROR, "%s", last);
            break;
        }
        if (limit && mono_ms() - start >= limit) {
            rd_log(RD_ERROR, "no good bundle from %s within %u ms (policies.poll.startup_timeout_ms)%s%s",
                   r->cfg.source.url, limit, last[0] ? "; the last pull: " : "", last);
            break;
        }
    }
    rd_pull_stop();
    return NULL;
}
