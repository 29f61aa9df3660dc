/* pull.c - the bundle puller thread and what it reports (pull.h).
 * SPDX-License-Identifier: Apache-2.0
 *
 * libcurl's easy interface on a thread of its own: a download blocks only
 * this thread, and the main thread keeps taking signals and the file
 * watch. The thread and the main thread share one small state under a
 * mutex; a condition variable on CLOCK_MONOTONIC lets the main thread's
 * verdict and shutdown wake the thread early.
 *
 * Only complete downloads are handed over: a transfer cut short (curl's
 * partial-file error, a timeout, a dropped connection) is a failure, and
 * a body whose bytes equal the accepted bundle's is "not modified", as a
 * 304 is (for servers that ignore If-None-Match). Everything else a
 * download can be wrong about -- a bad signature, a rollback, a bundle cut
 * short without the server saying so -- is the main thread's check.
 */
#include "pull.h"

#include "log.h"
#include "rulevm.h"

#include <curl/curl.h>
#include <nettle/sha2.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define MAX_BUNDLE_BYTES ((size_t)64 << 20)   /* as for policy files (policyset.c) */
#define ETAG_MAX 256
#define ERROR_MAX 512

typedef enum result { R_UPDATED, R_NOT_MODIFIED, R_FAILED, R_REFUSED, R_NRESULTS } result;
static const char *const result_names[R_NRESULTS] = {"updated", "not_modified", "failed", "refused"};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool running;
    atomic_bool stop;            /* also read by the transfer's progress callback */
    rd_source_config src;        /* copies of the strings the thread uses */
    /* The download waiting for a verdict. */
    bool waiting;
    ru_buf pending;
    char pending_etag[ETAG_MAX];
    /* The last accepted bundle. */
    ru_buf accepted;
    char etag[ETAG_MAX];
    uint8_t accepted_sha[SHA256_DIGEST_SIZE];
    /* What happened, for the reports. */
    unsigned long results[R_NRESULTS];
    unsigned long consecutive_failures;
    char last_error[ERROR_MAX];
    time_t last_attempt, last_success, last_change;
    uint64_t next_at_ms;         /* CLOCK_MONOTONIC */
    uint64_t rng;
} P = {.lock = PTHREAD_MUTEX_INITIALIZER};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t next_random(void)
{
    /* xorshift64: spreading replicas needs no more than this. */
    P.rng ^= P.rng << 13;
    P.rng ^= P.rng >> 7;
    P.rng ^= P.rng << 17;
    return P.rng;
}

/* The wait before the next pull, under the lock: one interval, or after
 * k failures in a row interval * 2^(k-1) up to max_backoff; less a random
 * part of the jitter, so that a change is seen within one interval and
 * replicas that started together drift apart. */
static void schedule(void)
{
    uint64_t wait = P.src.poll_interval_ms;
    for (unsigned long k = 1; k < P.consecutive_failures && wait < P.src.poll_max_backoff_ms; k++)
        wait *= 2;
    if (wait > P.src.poll_max_backoff_ms)
        wait = P.src.poll_max_backoff_ms;
    if (P.src.poll_jitter_ms)
        wait -= next_random() % ((uint64_t)P.src.poll_jitter_ms + 1) * wait / P.src.poll_interval_ms;
    P.next_at_ms = now_ms() + wait;
}

static void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_SIZE])
{
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, len, data);
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, out);
}

/* Under the lock. */
static void failed(result r, const char *why)
{
    P.results[r]++;
    P.consecutive_failures++;
    snprintf(P.last_error, sizeof P.last_error, "%s", why);
    schedule();
}

static void succeeded(result r)
{
    P.results[r]++;
    P.consecutive_failures = 0;
    P.last_error[0] = '\0';
    P.last_success = time(NULL);
    schedule();
}

/* ---- one download ---- */

typedef struct download {
    ru_buf body;
    char etag[ETAG_MAX];
    bool too_large;
} download;

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    download *d = ud;
    size_t len = size * n;
    if (d->body.len + len > MAX_BUNDLE_BYTES) {
        d->too_large = true;
        return 0;  /* curl stops with a write error */
    }
    ru_buf_put(&d->body, data, len);
    return d->body.oom ? 0 : len;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
    download *d = ud;
    size_t len = size * n;
    if (len > 5 && strncasecmp(data, "etag:", 5) == 0) {
        const char *v = data + 5, *end = data + len;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
            end--;
        size_t vl = (size_t)(end - v);
        /* A value that does not fit is not kept: a cut ETag would never match. */
        if (vl < sizeof d->etag) {
            memcpy(d->etag, v, vl);
            d->etag[vl] = '\0';
        } else {
            d->etag[0] = '\0';
        }
    }
    return len;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)ud, (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return atomic_load_explicit(&P.stop, memory_order_relaxed) ? 1 : 0;
}

/* Downloads the URL. Returns the HTTP status (200, 304, ...) or 0 with
 * why filled for a transfer that failed. */
static long fetch(const char *etag, download *d, char *why, size_t whysize)
{
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(why, whysize, "cannot start a transfer (libcurl)");
        return 0;
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    char ua[64], inm[ETAG_MAX + 32];
    snprintf(ua, sizeof ua, "rulesd/%d.%d.%d", RV_VERSION_MAJOR, RV_VERSION_MINOR, RV_VERSION_PATCH);
    struct curl_slist *headers = NULL;
    if (etag[0]) {
        snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
        headers = curl_slist_append(headers, inm);
    }
    curl_easy_setopt(c, CURLOPT_URL, P.src.url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);   /* object stores and CDNs redirect */
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, ua);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)P.src.poll_timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(P.src.poll_timeout_ms < 10000 ? P.src.poll_timeout_ms : 10000));
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)MAX_BUNDLE_BYTES);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, d);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, d);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    if (P.src.ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, P.src.ca_file);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    else if (d->too_large || rc == CURLE_FILESIZE_EXCEEDED)
        snprintf(why, whysize, "the bundle is larger than %zu MiB", MAX_BUNDLE_BYTES >> 20);
    else if (rc == CURLE_PARTIAL_FILE)
        snprintf(why, whysize, "the download was cut short (%s)", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    else
        snprintf(why, whysize, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    return status;
}

/* ---- the thread ---- */

static void *puller(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&P.lock);
    for (;;) {
        while (!P.stop && (P.waiting || now_ms() < P.next_at_ms)) {
            if (P.waiting) {
                pthread_cond_wait(&P.wake, &P.lock);
                continue;
            }
            uint64_t at = P.next_at_ms;
            struct timespec ts = {(time_t)(at / 1000), (long)(at % 1000) * 1000000L};
            pthread_cond_timedwait(&P.wake, &P.lock, &ts);
        }
        if (P.stop)
            break;
        char etag[ETAG_MAX];
        memcpy(etag, P.etag, sizeof etag);
        P.last_attempt = time(NULL);
        pthread_mutex_unlock(&P.lock);

        download d;
        memset(&d, 0, sizeof d);
        char why[ERROR_MAX - 100] = "";
        long status = fetch(etag, &d, why, sizeof why);

        pthread_mutex_lock(&P.lock);
        if (P.stop) {
            ru_buf_free(&d.body);
            break;
        }
        char msg[ERROR_MAX];
        if (status == 0) {
            snprintf(msg, sizeof msg, "pulling %s: %s", P.src.url, why);
            failed(R_FAILED, msg);
            rd_log(RD_WARN, "%s; still serving the last good set; next pull in %llu ms", msg,
                   (unsigned long long)(P.next_at_ms - now_ms()));
        } else if (status == 304 && P.accepted.len) {
            succeeded(R_NOT_MODIFIED);
            rd_log(RD_DEBUG, "pulling %s: not modified", P.src.url);
        } else if (status != 200) {
            snprintf(msg, sizeof msg, "pulling %s: HTTP %ld%s", P.src.url, status,
                     status == 304 ? " without a bundle to compare with" : "");
            failed(R_FAILED, msg);
            rd_log(RD_WARN, "%s; still serving the last good set; next pull in %llu ms", msg,
                   (unsigned long long)(P.next_at_ms - now_ms()));
        } else {
            uint8_t sha[SHA256_DIGEST_SIZE];
            sha256(d.body.data ? d.body.data : "", d.body.len, sha);
            if (P.accepted.len && d.body.len == P.accepted.len && memcmp(sha, P.accepted_sha, sizeof sha) == 0) {
                /* The same bytes: a server that ignores If-None-Match. */
                memcpy(P.etag, d.etag, sizeof P.etag);
                succeeded(R_NOT_MODIFIED);
            } else {
                ru_buf_free(&P.pending);
                P.pending = d.body;
                d.body = (ru_buf){0};
                memcpy(P.pending_etag, d.etag, sizeof P.pending_etag);
                P.waiting = true;
                /* The main thread takes SIGUSR1 in sigtimedwait. */
                kill(getpid(), SIGUSR1);
            }
        }
        ru_buf_free(&d.body);
    }
    pthread_mutex_unlock(&P.lock);
    return NULL;
}

static char *dup_or_null(const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = true;
    return d;
}

bool rd_pull_start(const rd_source_config *src, char *err, size_t errsize)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errsize, "cannot initialize libcurl");
        return false;
    }
    bool oom = false;
    P.src = *src;
    P.src.url = dup_or_null(src->url, &oom);
    P.src.ca_file = dup_or_null(src->ca_file, &oom);
    P.src.trusted_keys = NULL;  /* not the thread's business */
    P.src.ntrusted_keys = 0;
    if (getrandom(&P.rng, sizeof P.rng, 0) != sizeof P.rng)
        P.rng = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
    P.rng |= 1;
    P.next_at_ms = 0;  /* the first pull at once */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&P.wake, &ca);
    pthread_condattr_destroy(&ca);
    int e = oom ? ENOMEM : pthread_create(&P.thread, NULL, puller, NULL);
    if (e) {
        snprintf(err, errsize, "cannot start the bundle puller: %s", strerror(e));
        free(P.src.url);
        free(P.src.ca_file);
        P.src.url = P.src.ca_file = NULL;
        pthread_cond_destroy(&P.wake);
        curl_global_cleanup();
        return false;
    }
    P.running = true;
    return true;
}

bool rd_pull_running(void)
{
    return P.running;
}

void rd_pull_stop(void)
{
    if (!P.running)
        return;
    pthread_mutex_lock(&P.lock);
    atomic_store_explicit(&P.stop, true, memory_order_relaxed);
    pthread_cond_signal(&P.wake);
    pthread_mutex_unlock(&P.lock);
    pthread_join(P.thread, NULL);
    P.running = false;
    ru_buf_free(&P.pending);
    ru_buf_free(&P.accepted);
    free(P.src.url);
    free(P.src.ca_file);
    P.src.url = P.src.ca_file = NULL;
    pthread_cond_destroy(&P.wake);
    curl_global_cleanup();
}

bool rd_pull_pending(const char **data, size_t *len)
{
    pthread_mutex_lock(&P.lock);
    bool waiting = P.waiting;
    if (waiting) {
        /* The buffer is not touched again until the verdict. */
        *data = P.pending.data ? P.pending.data : "";
        *len = P.pending.len;
    }
    pthread_mutex_unlock(&P.lock);
    return waiting;
}

void rd_pull_verdict(bool accepted, const char *why)
{
    pthread_mutex_lock(&P.lock);
    if (!P.waiting) {
        pthread_mutex_unlock(&P.lock);
        return;
    }
    if (accepted) {
        ru_buf_free(&P.accepted);
        P.accepted = P.pending;
        P.pending = (ru_buf){0};
        sha256(P.accepted.data ? P.accepted.data : "", P.accepted.len, P.accepted_sha);
        memcpy(P.etag, P.pending_etag, sizeof P.etag);
        P.last_change = time(NULL);
        succeeded(R_UPDATED);
    } else {
        ru_buf_free(&P.pending);
        char msg[ERROR_MAX];
        snprintf(msg, sizeof msg, "pulling %s: refused: %s", P.src.url, why);
        failed(R_REFUSED, msg);
    }
    P.waiting = false;
    pthread_cond_signal(&P.wake);
    pthread_mutex_unlock(&P.lock);
}

bool rd_pull_accepted(char **data, size_t *len)
{
    pthread_mutex_lock(&P.lock);
    bool have = P.accepted.len > 0;
    if (have && (*data = malloc(P.accepted.len ? P.accepted.len : 1)) != NULL) {
        memcpy(*data, P.accepted.data, P.accepted.len);
        *len = P.accepted.len;
    } else {
        have = false;
    }
    pthread_mutex_unlock(&P.lock);
    return have;
}

void rd_pull_progress(unsigned long *ended, unsigned long *consecutive_failures, char *last_error, size_t size)
{
    pthread_mutex_lock(&P.lock);
    *ended = 0;
    for (int r = 0; r < R_NRESULTS; r++)
        *ended += P.results[r];
    *consecutive_failures = P.consecutive_failures;
    snprintf(last_error, size, "%s", P.last_error);
    pthread_mutex_unlock(&P.lock);
}

/* ---- reports ---- */

static void json_time(ru_buf *out, const char *key, time_t t)
{
    if (!t) {
        ru_buf_printf(out, ",\"%s\":null", key);
        return;
    }
    struct tm tm;
    char s[32];
    gmtime_r(&t, &tm);
    strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    ru_buf_printf(out, ",\"%s\":\"%s\"", key, s);
}

void rd_pull_render_json(ru_buf *out, bool brief)
{
    if (!P.running)
        return;
    pthread_mutex_lock(&P.lock);
    ru_buf_puts(out, ",\"pull\":{\"url\":");
    ru_buf_json_string(out, P.src.url, strlen(P.src.url));
    json_time(out, "last_success", P.last_success);
    ru_buf_printf(out, ",\"consecutive_failures\":%lu,\"last_error\":", P.consecutive_failures);
    if (P.last_error[0])
        ru_buf_json_string(out, P.last_error, strlen(P.last_error));
    else
        ru_buf_puts(out, "null");
    if (!brief) {
        json_time(out, "last_attempt", P.last_attempt);
        json_time(out, "last_change", P.last_change);
        ru_buf_puts(out, ",\"etag\":");
        if (P.etag[0])
            ru_buf_json_string(out, P.etag, strlen(P.etag));
        else
            ru_buf_puts(out, "null");
        ru_buf_printf(out, ",\"interval_ms\":%u,\"results\":{", P.src.poll_interval_ms);
        for (int r = 0; r < R_NRESULTS; r++)
            ru_buf_printf(out, "%s\"%s\":%lu", r ? "," : "", result_names[r], P.results[r]);
        uint64_t now = now_ms();
        ru_buf_printf(out, "},\"next_pull_in_ms\":%llu",
                      P.waiting ? 0ull : (unsigned long long)(P.next_at_ms > now ? P.next_at_ms - now : 0));
    }
    ru_buf_putc(out, '}');
    pthread_mutex_unlock(&P.lock);
}

void rd_pull_render_metrics(ru_buf *out, const char *bundle_revision, const char *key_id)
{
    /* Revisions and key ids are [A-Za-z0-9._+:~-] and hex: no label
     * escaping needed. */
    if (bundle_revision && *bundle_revision)
        ru_buf_printf(out, "# HELP rulesd_bundle_info The signed revision of the bundle served and the key that signed it.\n"
                           "# TYPE rulesd_bundle_info gauge\n"
                           "rulesd_bundle_info{revision=\"%s\",signed_by=\"%s\"} 1\n",
                      bundle_revision, key_id ? key_id : "");
    if (!P.running)
        return;
    pthread_mutex_lock(&P.lock);
    ru_buf_puts(out, "# HELP rulesd_bundle_pulls_total Pulls of the policy bundle URL by result.\n"
                     "# TYPE rulesd_bundle_pulls_total counter\n");
    for (int r = 0; r < R_NRESULTS; r++)
        ru_buf_printf(out, "rulesd_bundle_pulls_total{result=\"%s\"} %lu\n", result_names[r], P.results[r]);
    ru_buf_printf(out,
                  "# HELP rulesd_bundle_pull_consecutive_failures Pulls failed or refused in a row (0: the last one succeeded).\n"
                  "# TYPE rulesd_bundle_pull_consecutive_failures gauge\n"
                  "rulesd_bundle_pull_consecutive_failures %lu\n"
                  "# HELP rulesd_bundle_last_success_timestamp_seconds When a pull last succeeded (new or not modified); 0: never.\n"
                  "# TYPE rulesd_bundle_last_success_timestamp_seconds gauge\n"
                  "rulesd_bundle_last_success_timestamp_seconds %lld\n"
                  "# HELP rulesd_bundle_last_attempt_timestamp_seconds When a pull last started.\n"
                  "# TYPE rulesd_bundle_last_attempt_timestamp_seconds gauge\n"
                  "rulesd_bundle_last_attempt_timestamp_seconds %lld\n",
                  P.consecutive_failures, (long long)P.last_success, (long long)P.last_attempt);
    pthread_mutex_unlock(&P.lock);
}
