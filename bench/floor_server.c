/* floor_server.c - the floor rulesd is measured against: a trivial
 * SPDX-License-Identifier: Apache-2.0
 * libmicrohttpd server that reads every POST body in full and answers it
 * with a fixed body as long as rulesd's answer to the same request, and
 * does nothing else. It runs libmicrohttpd exactly as server/http.c does
 * (an internal polling thread per pool thread, MHD_USE_AUTO's choice of
 * epoll or poll, an inter-thread channel, one pool thread per CPU, the
 * same timeout, connection limit and backlog) and builds each answer the
 * way rulesd does (a response from a buffer MHD does not copy, one header,
 * queued and released per request), so that what rulesd spends per
 * request beyond this server is rulesd's own work: the decision, the
 * connection table, logging and metrics (bench/README.md).
 *
 *   floor_server --port P [--threads N] [--sizes FILE] [--size BYTES]
 *
 * FILE has one "BODY_BYTES ANSWER_BYTES" pair per line (the runner writes
 * it from rulesd's answers to the bodies wrk posts, whose lengths differ);
 * a body of another length gets --size bytes (default 2048). Runs until
 * SIGTERM or SIGINT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SIZES 4096

static struct {
    size_t body, answer;
} sizes[MAX_SIZES];
static size_t nsizes;
static size_t default_size = 2048;
static char *answer_text;   /* the longest answer; shorter ones are prefixes */

static size_t answer_size(size_t body)
{
    for (size_t i = 0; i < nsizes; i++)
        if (sizes[i].body == body)
            return sizes[i].answer;
    return default_size;
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, answer_text, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* The request's context pointer holds its body's length so far plus one
 * (so that a new request, whose context MHD sets to NULL, is told apart):
 * the body is read, counted and dropped. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)url;
    (void)version;
    (void)upload_data;
    if (*con_cls == NULL) {
        *con_cls = (void *)(uintptr_t)1;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *con_cls = (void *)((uintptr_t)*con_cls + *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
        return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, 0);
    return answer(c, MHD_HTTP_OK, answer_size((size_t)(uintptr_t)*con_cls - 1));
}

static bool read_sizes(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "floor_server: cannot read '%s': %s\n", path, strerror(errno));
        return false;
    }
    unsigned long long b, a;
    int got;
    while ((got = fscanf(f, "%llu %llu", &b, &a)) == 2 && nsizes < MAX_SIZES) {
        sizes[nsizes].body = (size_t)b;
        sizes[nsizes].answer = (size_t)a;
        nsizes++;
    }
    bool ok = got == EOF && !ferror(f);
    fclose(f);
    if (!ok)
        fprintf(stderr, "floor_server: %s: expected lines of two numbers, BODY_BYTES ANSWER_BYTES "
                        "(at most %d)\n", path, MAX_SIZES);
    return ok;
}

static bool number(const char *opt, const char *text, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(text, &end, 10);
    if (errno || *end || end == text || n > max) {
        fprintf(stderr, "floor_server: %s takes a number up to %lu, not '%s'\n", opt, max, text);
        return false;
    }
    *out = n;
    return true;
}

int main(int argc, char **argv)
{
    unsigned long port = 0, threads = 0, n;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "floor_server: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (strcmp(a, "--port") == 0) {
            if (!number(a, v, 65535, &port))
                return 2;
        } else if (strcmp(a, "--threads") == 0) {
            if (!number(a, v, 256, &threads))
                return 2;
        } else if (strcmp(a, "--size") == 0) {
            if (!number(a, v, 64ul << 20, &n))
                return 2;
            default_size = n;
        } else if (strcmp(a, "--sizes") == 0) {
            if (!read_sizes(v))
                return 2;
        } else {
            fprintf(stderr, "usage: floor_server --port P [--threads N] [--sizes FILE] [--size BYTES]\n");
            return 2;
        }
    }
    if (port == 0) {
        fprintf(stderr, "floor_server: --port is required\n");
        return 2;
    }
    if (threads == 0) {   /* rulesd's default: one per CPU */
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cpus < 1 ? 1 : cpus > 64 ? 64 : (unsigned long)cpus;
    }
    size_t longest = default_size;
    for (size_t i = 0; i < nsizes; i++)
        if (sizes[i].answer > longest)
            longest = sizes[i].answer;
    answer_text = malloc(longest + 1);
    if (!answer_text) {
        fprintf(stderr, "floor_server: out of memory\n");
        return 2;
    }
    memset(answer_text, 'x', longest);

    /* The pool's threads inherit this mask: only the main thread takes
     * the signals that stop the server. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* rulesd's flags, pool, timeout (10 s), connection limit (1024) and
     * backlog (server/http.c, server/config.c). */
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC | MHD_USE_ERROR_LOG,
        (uint16_t)port, NULL, NULL, on_request, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
        MHD_OPTION_CONNECTION_TIMEOUT, 10u,
        MHD_OPTION_CONNECTION_LIMIT, 1024u,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
        MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "floor_server: cannot listen on 127.0.0.1:%lu\n", port);
        free(answer_text);
        return 2;
    }
    int sig;
    sigwait(&stop, &sig);
    MHD_stop_daemon(d);
    free(answer_text);
    return 0;
}
