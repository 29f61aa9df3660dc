/* loadclient.c - a small keep-alive HTTP/1.1 load generator for rulesd's
 * SPDX-License-Identifier: Apache-2.0
 * integration tests and benchmark: N client threads POST request bodies in
 * turn for S seconds, and every response must be 200 and byte-identical to
 * one of its expected bodies (several when a reload may change the answer).
 *
 *   loadclient --port P [--clients N] [--seconds S] [--header "K: V"]
 *              PATH BODYFILE EXPECTFILE[,EXPECTFILE...] ...
 *
 * Prints "requests R errors E rps X p50_us A p99_us B max_us C"; exits 1
 * when any request failed. Raw sockets keep it free of extra libraries.
 */
#include "file.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_EXPECT 4
#define HIST_US 20000   /* 1-us buckets up to 20 ms, then one overflow bucket */

typedef struct job {
    const char *path;
    char *body;
    size_t blen;
    char *expect[MAX_EXPECT];
    size_t elen[MAX_EXPECT];
    int nexpect;
    char *request;   /* the whole HTTP request, prepared once */
    size_t rlen;
} job;

static job *jobs;
static int njobs;
static int port;
static double seconds = 3;
static const char *header;
static atomic_long total_requests, total_errors, printed_errors;

typedef struct thread_state {
    int id;
    uint32_t hist[HIST_US + 1];
    uint64_t max_us;
} thread_state;

static char *read_file(const char *path, size_t *len)
{
    char *buf;
    size_t n;
    int e = ru_read_file(path, 0, &buf, &n);
    if (e) {
        fprintf(stderr, "loadclient: cannot read '%s': %s\n", path, strerror(e));
        exit(2);
    }
    /* Trailing newlines are not part of the comparison. */
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    *len = n;
    return buf;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_server(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {10, 0};  /* a hung server fails the test, not hangs it */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void report(const job *j, const char *what, const char *got, size_t len)
{
    if (atomic_fetch_add(&printed_errors, 1) < 5)
        fprintf(stderr, "loadclient: %s %s: %.*s\n", j->path, what, (int)(len > 300 ? 300 : len),
                got ? got : "");
}

/* Sends one request and reads one response into *buf. Returns the body
 * offset (>0) with *status, *blen and *close set, or -1 on a socket error. */
static long exchange(int fd, const job *j, char **buf, size_t *cap, int *status, size_t *blen, int *close_after)
{
    size_t off = 0;
    while (off < j->rlen) {
        ssize_t n = send(fd, j->request + off, j->rlen - off, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    size_t have = 0;
    long hdr_end = -1;
    size_t need = 0;
    for (;;) {
        if (have + 4096 > *cap) {
            *cap = (*cap + 4096) * 2;
            *buf = realloc(*buf, *cap);
            if (!*buf)
                return -1;
        }
        ssize_t n = recv(fd, *buf + have, *cap - have - 1, 0);
        if (n <= 0)
            return -1;
        have += (size_t)n;
        (*buf)[have] = '\0';
        if (hdr_end < 0) {
            char *e = strstr(*buf, "\r\n\r\n");
            if (!e)
                continue;
            hdr_end = (long)(e - *buf) + 4;
            *status = atoi(*buf + 9);
            char *cl = strcasestr(*buf, "\r\ncontent-length:");
            if (!cl || cl > e)
                return -1;
            *blen = strtoul(cl + 17, NULL, 10);
            char *conn = strcasestr(*buf, "\r\nconnection: close");
            *close_after = conn && conn < e;
            need = (size_t)hdr_end + *blen;
        }
        if (have >= need)
            return hdr_end;
    }
}

static void *run(void *arg)
{
    thread_state *t = arg;
    double end = now_s() + seconds;
    char *buf = NULL;
    size_t cap = 0;
    int fd = -1;
    long i = t->id;
    while (now_s() < end) {
        const job *j = &jobs[i++ % njobs];
        if (fd < 0 && (fd = connect_server()) < 0) {
            atomic_fetch_add(&total_errors, 1);
            report(j, "cannot connect", strerror(errno), strlen(strerror(errno)));
            struct timespec ts = {0, 10000000};
            nanosleep(&ts, NULL);
            continue;
        }
        int status = 0, close_after = 0;
        size_t blen = 0;
        double t0 = now_s();
        long body = exchange(fd, j, &buf, &cap, &status, &blen, &close_after);
        uint64_t us = (uint64_t)((now_s() - t0) * 1e6);
        atomic_fetch_add(&total_requests, 1);
        if (body < 0) {
            atomic_fetch_add(&total_errors, 1);
            report(j, "connection failed", strerror(errno), strlen(strerror(errno)));
            close(fd);
            fd = -1;
            continue;
        }
        t->hist[us < HIST_US ? us : HIST_US]++;
        if (us > t->max_us)
            t->max_us = us;
        const char *got = buf + body;
        size_t glen = blen;
        while (glen > 0 && (got[glen - 1] == '\n' || got[glen - 1] == '\r'))
            glen--;
        int ok = 0;
        for (int k = 0; k < j->nexpect && !ok; k++)
            ok = glen == j->elen[k] && memcmp(got, j->expect[k], glen) == 0;
        if (status != 200 || !ok) {
            atomic_fetch_add(&total_errors, 1);
            char what[64];
            snprintf(what, sizeof what, "status %d, unexpected body", status);
            report(j, what, got, glen);
        }
        if (close_after) {
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0)
        close(fd);
    free(buf);
    return NULL;
}

int main(int argc, char **argv)
{
    int clients = 4, i = 1;
    for (; i < argc && argv[i][0] == '-'; i += 2) {
        if (i + 1 >= argc)
            break;
        if (strcmp(argv[i], "--port") == 0)
            port = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--clients") == 0)
            clients = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--header") == 0)
            header = argv[i + 1];
        else {
            fprintf(stderr, "loadclient: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (port <= 0 || clients <= 0 || clients > 512 || seconds <= 0 || (argc - i) % 3 != 0 || argc == i) {
        fprintf(stderr, "usage: loadclient --port P [--clients N] [--seconds S] [--header H] "
                        "PATH BODY EXPECT[,EXPECT...] ...\n");
        return 2;
    }
    njobs = (argc - i) / 3;
    jobs = calloc((size_t)njobs, sizeof *jobs);
    for (int k = 0; k < njobs; k++, i += 3) {
        job *j = &jobs[k];
        j->path = argv[i];
        j->body = read_file(argv[i + 1], &j->blen);
        char *list = strdup(argv[i + 2]);
        for (char *s = strtok(list, ","); s && j->nexpect < MAX_EXPECT; s = strtok(NULL, ","))
            j->expect[j->nexpect] = read_file(s, &j->elen[j->nexpect]), j->nexpect++;
        free(list);
        size_t cap = j->blen + 512 + (header ? strlen(header) : 0);
        j->request = malloc(cap);
        int n = snprintf(j->request, cap,
                         "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         "Content-Length: %zu\r\n%s%s\r\n",
                         j->path, j->blen, header ? header : "", header ? "\r\n" : "");
        memcpy(j->request + n, j->body, j->blen);
        j->rlen = (size_t)n + j->blen;
    }
    pthread_t *th = calloc((size_t)clients, sizeof *th);
    thread_state *ts = calloc((size_t)clients, sizeof *ts);
    double t0 = now_s();
    for (int k = 0; k < clients; k++) {
        ts[k].id = k;
        pthread_create(&th[k], NULL, run, &ts[k]);
    }
    for (int k = 0; k < clients; k++)
        pthread_join(th[k], NULL);
    double elapsed = now_s() - t0;
    uint64_t count = 0, maxus = 0;
    static uint64_t hist[HIST_US + 1];
    for (int k = 0; k < clients; k++) {
        for (int b = 0; b <= HIST_US; b++)
            hist[b] += ts[k].hist[b];
        if (ts[k].max_us > maxus)
            maxus = ts[k].max_us;
    }
    for (int b = 0; b <= HIST_US; b++)
        count += hist[b];
    uint64_t p50 = 0, p99 = 0, acc = 0;
    for (int b = 0; b <= HIST_US; b++) {
        acc += hist[b];
        if (!p50 && acc * 2 >= count)
            p50 = (uint64_t)b;
        if (!p99 && acc * 100 >= count * 99) {
            p99 = (uint64_t)b;
            break;
        }
    }
    long reqs = atomic_load(&total_requests), errs = atomic_load(&total_errors);
    printf("requests %ld errors %ld rps %.0f p50_us %llu p99_us %llu max_us %llu\n", reqs, errs,
           (double)reqs / elapsed, (unsigned long long)p50, (unsigned long long)p99,
           (unsigned long long)maxus);
    for (int k = 0; k < njobs; k++) {
        free(jobs[k].body);
        free(jobs[k].request);
        for (int e = 0; e < jobs[k].nexpect; e++)
            free(jobs[k].expect[e]);
    }
    free(jobs);
    free(th);
    free(ts);
    return errs || reqs == 0 ? 1 : 0;
}
