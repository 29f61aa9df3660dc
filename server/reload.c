/* reload.c - the current-set pointer and the reload driver.
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

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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

bool rd_reload(rd_reloader *r, const char *why)
{
    rd_config cfg;
    char err[1024];
    rd_log(RD_INFO, "reloading policies (%s)", why);
    if (!rd_config_load(r->cli, &cfg, err, sizeof err)) {
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
    rd_set *set = rd_set_build(&cfg, r->revision + 1, prev, &diag);
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
