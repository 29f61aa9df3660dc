/* http.c - libmicrohttpd glue. MHD runs a pool of threads, each polling
 * SPDX-License-Identifier: Apache-2.0
 * its own share of the connections; each thread lazily creates its worker
 * (a VM and buffers) in thread-local storage, freed by the key's
 * destructor when MHD joins the thread. Each connection gets a context
 * with a body buffer and a response buffer that are reused across its
 * keep-alive requests: the response points into it (MHD_RESPMEM_PERSISTENT)
 * because MHD sends it after the handler returns, when the worker's VM may
 * already be serving another connection of the same thread.
 */
#include "http.h"

#include "buf.h"
#include "conntab.h"
#include "handler.h"
#include "log.h"
#include "metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Larger buffers are released after the request, so that one big request
 * does not pin memory on an idle keep-alive connection. */
#define KEEP_BUFFER_BYTES (256u << 10)

typedef struct conn {
    rd_connrec rec;     /* its entry in the connection table */
    ru_buf body;
    ru_buf out;
    bool too_large;     /* a body without Content-Length grew past the limit */
    bool refused;       /* answered from the headers; the body is discarded */
    bool has_body;      /* the request announced a body (length or chunked) */
    bool nul_in_target; /* its request target decoded to a NUL byte (%00) */
    uint64_t start_ns;
    char id[40];
} conn;

static struct MHD_Daemon *daemon_;
static MHD_socket listen_fd = MHD_INVALID_SOCKET;
static pthread_key_t worker_key;
static bool key_made;
static size_t max_body;
static uint64_t request_ns_limit;
static atomic_long in_flight;
static atomic_ullong next_id;
static unsigned long boot_id;
static atomic_bool stopping;
static atomic_bool started;
static bool embedded_mode;  /* rd_http_start_embedded: no listening socket, no threads */

/* The connection table and the thread that enforces its deadlines (and
 * publishes its counts to the metrics and, when something was cut, to the
 * log). */
static rd_conntab *conns;
static pthread_t sweeper;
static bool sweeper_running;
static atomic_bool sweeper_stop;
static rd_conn_limits limits;
#define SWEEP_MS 100
#define CUT_LOG_SECONDS 10
/* Descriptors besides connections: the listening socket, each thread's
 * epoll and wake-up pipe, the logs, policy files being read. */
#define SPARE_FDS 64

long rd_in_flight(void)
{
    return atomic_load_explicit(&in_flight, memory_order_relaxed);
}

static void free_worker(void *p)
{
    rd_worker_free(p);
}

static rd_worker *worker(void)
{
    rd_worker *w = pthread_getspecific(worker_key);
    if (!w) {
        w = rd_worker_new();
        if (w && pthread_setspecific(worker_key, w) != 0) {
            rd_worker_free(w);
            w = NULL;
        }
    }
    return w;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    /* Before start-up MHD explains why it cannot listen: that matters.
     * Afterwards it reports clients that hang up, which is routine. */
    rd_log(atomic_load(&started) ? RD_DEBUG : RD_ERROR, "libmicrohttpd: %s", msg);
}

/* Closes a connection for the table: the HTTP library sees the socket
 * end, as after a client's hang-up, and closes it in its own thread. */
static void cut_socket(int fd, void *cls)
{
    (void)cls;
    shutdown(fd, SHUT_RDWR);
}

static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)cls;
    (void)addrlen;
    rd_conntab_admit(conns, addr);
    return MHD_YES;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        conn *cx = calloc(1, sizeof(conn));
        const union MHD_ConnectionInfo *fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *addr = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (cx && (!fd || !addr || !rd_conntab_open(conns, &cx->rec, fd->connect_fd, addr->client_addr, rd_now_ns()))) {
            free(cx);
            cx = NULL;
        }
        *socket_context = cx;  /* NULL: dropped in on_request */
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        conn *cx = *socket_context;
        if (cx) {
            /* Before MHD closes the socket: the table may not cut it after. */
            rd_conntab_close(conns, &cx->rec);
            ru_buf_free(&cx->body);
            ru_buf_free(&cx->out);
            free(cx);
        }
        *socket_context = NULL;
    }
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    conn *cx = *con_cls;
    if (!cx)
        return;
    cx->nul_in_target = false;  /* set while the request line was read */
    if (cx->body.cap > KEEP_BUFFER_BYTES)
        ru_buf_free(&cx->body);
    rd_conntab_idle(conns, &cx->rec, rd_now_ns());
    *con_cls = NULL;
    atomic_fetch_sub_explicit(&in_flight, 1, memory_order_relaxed);
}

static enum MHD_Result send_response(struct MHD_Connection *c, conn *cx, const rd_response *r)
{
    rd_metrics_http(r->status);
    ru_buf_clear(&cx->out);
    ru_buf_put(&cx->out, r->body, r->len);
    const char *body = cx->out.data;
    size_t len = cx->out.len;
    int status = r->status;
    if (cx->out.oom) {
        body = "{\"detail\":\"out of memory\"}\n";
        len = strlen(body);
        status = 500;
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
                                                                MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;  /* out of memory: MHD closes the connection */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    MHD_add_response_header(resp, "X-Request-Id", cx->id);
    if (r->allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    if (r->challenge)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"rulesd\"");
    /* A refused body may still be on its way: do not read it as the next
     * request. And while stopping, clients should not keep the connection. */
    if (atomic_load_explicit(&stopping, memory_order_relaxed) || (cx->refused && cx->has_body) ||
        cx->too_large)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    if (rd_log_enabled(RD_DEBUG))
        rd_log(RD_DEBUG, "request %s -> %d (%.3f ms)", cx->id, status,
               (double)(rd_now_ns() - cx->start_ns) / 1e6);
    return ret;
}

/* ---- requests that cannot be read one way only: 400, then close ----
 * A path that holds a NUL is cut short by every C string that carries it
 * (/healthz%00/x would be served as /healthz), and a body framed two ways
 * (two different Content-Length values, or a length and chunking) is read
 * one way here and maybe another by a proxy in front: request smuggling.
 * Both are refused before anything else is looked at. */

static conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* MHD's own %HH decoding, noting a decoded NUL (in the path or in a query
 * argument) on the connection for on_request to refuse. */
static size_t unescape_target(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    size_t n = MHD_http_unescape(s);
    conn *cx;
    if (memchr(s, '\0', n) && (cx = conn_of(c)))
        cx->nul_in_target = true;
    return n;
}

typedef struct framing {
    unsigned lengths;        /* Content-Length headers */
    bool differ;             /* ... with more than one value */
    const char *first;
    bool chunked;            /* a Transfer-Encoding header */
} framing;

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    framing *f = cls;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        if (f->lengths++ == 0)
            f->first = value ? value : "";
        else if (strcmp(f->first, value ? value : "") != 0)
            f->differ = true;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->chunked = true;
    }
    return MHD_YES;
}

/* Why the request cannot be read one way only, or NULL. */
static const char *ambiguous_request(struct MHD_Connection *c, conn *cx)
{
    if (cx->nul_in_target)
        return "the request target holds a NUL byte (%00)";
    framing f = {0, false, NULL, false};
    MHD_get_connection_values(c, MHD_HEADER_KIND, count_framing, &f);
    if (f.differ)
        return "conflicting Content-Length headers";
    if (f.lengths && f.chunked)
        return "both Content-Length and Transfer-Encoding headers";
    return NULL;
}

static enum MHD_Result refuse_bare(struct MHD_Connection *c, conn *cx, int status, const char *detail)
{
    rd_worker *w = worker();
    if (!w) {
        static const char oom[] = "{\"detail\":\"out of memory\"}\n";
        rd_response r = {500, "application/json", oom, sizeof oom - 1, NULL, false};
        return send_response(c, cx, &r);
    }
    rd_response r;
    rd_error_response(w, status, detail, &r);
    return send_response(c, cx, &r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)version;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    conn *cx = ci ? ci->socket_context : NULL;
    if (!cx)
        return MHD_NO;  /* its context could not be allocated: drop it */

    if (*con_cls == NULL) {
        /* Headers complete: a new request on this connection. */
        *con_cls = cx;
        atomic_fetch_add_explicit(&in_flight, 1, memory_order_relaxed);
        ru_buf_clear(&cx->body);
        cx->too_large = cx->refused = false;
        cx->start_ns = rd_now_ns();
        rd_conntab_request(conns, &cx->rec, cx->start_ns);
        snprintf(cx->id, sizeof cx->id, "%lx-%llu", boot_id,
                 (unsigned long long)atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed) + 1);
        const char *ambiguous = ambiguous_request(c, cx);
        cx->nul_in_target = false;
        if (ambiguous) {
            /* The body, if any, cannot be delimited: close after answering. */
            cx->refused = cx->has_body = true;
            rd_log(RD_DEBUG, "request %s: 400: %s", cx->id, ambiguous);
            return refuse_bare(c, cx, 400, ambiguous);
        }
        rd_worker *w = worker();
        if (!w)
            return refuse_bare(c, cx, 500, "out of memory");
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        uint64_t length = 0;
        if (cl) {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(cl, &end, 10);
            length = (errno || *end) ? UINT64_MAX : n;
        }
        cx->has_body = (cl && length > 0) ||
                       MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
        rd_request req = {method, url,
                          MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
                          NULL, 0, cx->id, cx->start_ns};
        rd_response r;
        if (rd_precheck(w, &req, cl != NULL, length, max_body, &r)) {
            cx->refused = true;
            return send_response(c, cx, &r);
        }
        return MHD_YES;
    }

    if (*upload_data_size != 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (rd_now_ns() - cx->start_ns > request_ns_limit) {
            rd_log(RD_WARN, "request %s: body still arriving after the time limit: connection closed",
                   cx->id);
            return MHD_NO;
        }
        if (cx->refused || cx->too_large)
            return MHD_YES;  /* discard: the answer is already decided */
        if (cx->body.len + n > max_body) {
            cx->too_large = true;
            return MHD_YES;
        }
        ru_buf_put(&cx->body, upload_data, n);
        return MHD_YES;
    }

    if (cx->refused)
        return MHD_YES;  /* response queued with the headers */
    if (cx->too_large) {
        char detail[120];
        snprintf(detail, sizeof detail, "request body is over the %zu-byte limit", max_body);
        return refuse_bare(c, cx, 413, detail);
    }
    if (cx->body.oom)
        return refuse_bare(c, cx, 500, "out of memory while reading the request body");
    rd_worker *w = worker();
    if (!w)
        return refuse_bare(c, cx, 500, "out of memory");
    rd_request req = {method, url,
                      MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
                      cx->body.data ? cx->body.data : "", cx->body.len, cx->id, cx->start_ns};
    rd_response r;
    rd_handle(w, &req, &r);
    return send_response(c, cx, &r);
}

/* One warning line for what the table closed since the last
 * one, so that an attack is visible without a line per connection. */
static void log_cuts(const rd_conn_stats *now, const rd_conn_stats *before)
{
    unsigned long d[RD_NCUTS];
    bool any = false;
    for (int i = 0; i < RD_NCUTS; i++)
        any |= (d[i] = now->cut[i] - before->cut[i]) != 0;
    if (!any)
        return;
    char what[RD_NCUTS][120];
    snprintf(what[0], sizeof what[0], "%lu without a complete request line and headers within %.0f s", d[0],
             (double)limits.header_ns / 1e9);
    snprintf(what[1], sizeof what[1], "%lu with a request unfinished after %.0f s", d[1],
             (double)limits.request_ns / 1e9);
    snprintf(what[2], sizeof what[2], "%lu to keep a client within %u connections", d[2], limits.per_client);
    snprintf(what[3], sizeof what[3], "%lu to keep %u connections in reserve", d[3], limits.reserved);
    char line[800];
    size_t n = 0;
    for (int i = 0; i < RD_NCUTS; i++)
        if (d[i] && n < sizeof line)
            n += (size_t)snprintf(line + n, sizeof line - n, "%s%s", n ? "; " : "", what[i]);
    rd_log(RD_WARN, "connections closed waiting on their clients in the last %d s: %s (%lu open)",
           CUT_LOG_SECONDS, line, now->open);
}

static void *sweep_main(void *arg)
{
    (void)arg;
    rd_conn_stats logged, st;
    rd_conntab_stats(conns, &logged);
    uint64_t last_log = rd_now_ns();
    while (!atomic_load(&sweeper_stop)) {
        struct timespec ts = {0, SWEEP_MS * 1000000L};
        nanosleep(&ts, NULL);
        uint64_t now = rd_now_ns();
        rd_conntab_sweep(conns, now);
        rd_conntab_stats(conns, &st);
        rd_metrics_connections(&st);
        if (now - last_log >= (uint64_t)CUT_LOG_SECONDS * 1000000000u) {
            log_cuts(&st, &logged);
            logged = st;
            last_log = now;
        }
    }
    return NULL;
}

/* How many connections the open-file limit allows: raises the soft limit
 * toward the hard one when it is short (systemd's default soft limit is
 * 1024), and lowers the connection limit, with a warning, when even that
 * is not enough, so that the table closes connections before accept(2)
 * starts failing. */
static unsigned fit_fd_limit(unsigned want, char *err, size_t errsize)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)want + SPARE_FDS;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return want;
    rlim_t old = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || getrlimit(RLIMIT_NOFILE, &rl) != 0)
        rl.rlim_cur = old;
    if (rl.rlim_cur >= need)
        return want;
    if (rl.rlim_cur < SPARE_FDS + 2) {
        snprintf(err, errsize, "the open-file limit (%llu) leaves no room for connections: raise it "
                 "(LimitNOFILE= in the unit, ulimit -n)", (unsigned long long)rl.rlim_cur);
        return 0;
    }
    unsigned fit = (unsigned)(rl.rlim_cur - SPARE_FDS);
    rd_log(RD_WARN, "the open-file limit (%llu) allows %u connections: limits.max_connections "
           "lowered from %u (raise LimitNOFILE= in the unit, or ulimit -n)",
           (unsigned long long)rl.rlim_cur, fit, want);
    return fit;
}

/* Starts the daemon: listening with a thread pool, or (embedded) with no
 * socket and no thread of its own, for rd_http_exchange. */
static bool start(const rd_config *cfg, bool embedded, unsigned *bound_port, char *err, size_t errsize)
{
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    struct sockaddr *addr;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    memset(&v4, 0, sizeof v4);
    memset(&v6, 0, sizeof v6);
    if (inet_pton(AF_INET, cfg->address, &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        v4.sin_port = htons((uint16_t)cfg->port);
        addr = (struct sockaddr *)&v4;
    } else if (inet_pton(AF_INET6, cfg->address, &v6.sin6_addr) == 1) {
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons((uint16_t)cfg->port);
        addr = (struct sockaddr *)&v6;
        flags |= MHD_USE_IPv6;
    } else {
        snprintf(err, errsize, "listen: '%s' is not a numeric IPv4 or IPv6 address", cfg->address);
        return false;
    }
    if (pthread_key_create(&worker_key, free_worker) != 0) {
        snprintf(err, errsize, "cannot create thread-local storage");
        return false;
    }
    key_made = true;
    max_body = cfg->max_body;
    request_ns_limit = (uint64_t)cfg->connection_timeout * 1000000000u;
    boot_id = (unsigned long)time(NULL);
    if (embedded)
        flags = MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG;
    limits.max_connections = embedded ? cfg->max_connections : fit_fd_limit(cfg->max_connections, err, errsize);
    if (limits.max_connections == 0)
        goto fail;
    limits.reserved = cfg->reserved_connections < limits.max_connections ? cfg->reserved_connections
                                                                         : limits.max_connections / 16 + 1;
    limits.per_client = cfg->max_connections_per_client;
    limits.header_ns = (uint64_t)cfg->header_timeout * 1000000000u;
    limits.request_ns = request_ns_limit;
    if (!(conns = rd_conntab_new(&limits, cut_socket, NULL))) {
        snprintf(err, errsize, "out of memory");
        goto fail;
    }
    /* An embedded daemon has no threads, hence no pool. */
    struct MHD_OptionItem pool[] = {{MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)cfg->threads, NULL},
                                    {MHD_OPTION_END, 0, NULL}};
    daemon_ = MHD_start_daemon(
        flags, (uint16_t)cfg->port, on_accept, NULL, on_request, NULL,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,  /* first, or MHD logs the rest itself */
        MHD_OPTION_SOCK_ADDR, addr,
        MHD_OPTION_ARRAY, embedded ? pool + 1 : pool,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->connection_timeout,
        MHD_OPTION_CONNECTION_LIMIT, limits.max_connections,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape_target, NULL,
        MHD_OPTION_END);
    if (!daemon_) {
        snprintf(err, errsize, "cannot listen on %s:%u (see the libmicrohttpd message above)",
                 cfg->address, cfg->port);
        goto fail;
    }
    atomic_store(&sweeper_stop, false);
    if (!embedded && pthread_create(&sweeper, NULL, sweep_main, NULL) != 0) {
        snprintf(err, errsize, "cannot start the connection deadline thread");
        MHD_stop_daemon(daemon_);
        daemon_ = NULL;
        goto fail;
    }
    sweeper_running = !embedded;
    embedded_mode = embedded;
    if (bound_port) {
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
        *bound_port = di ? di->port : cfg->port;
    }
    atomic_store(&started, true);
    return true;
fail:
    rd_conntab_free(conns);
    conns = NULL;
    pthread_key_delete(worker_key);
    key_made = false;
    return false;
}

bool rd_http_start(const rd_config *cfg, unsigned *bound_port, char *err, size_t errsize)
{
    return start(cfg, false, bound_port, err, errsize);
}

bool rd_http_start_embedded(const rd_config *cfg, char *err, size_t errsize)
{
    return start(cfg, true, NULL, err, errsize);
}

bool rd_http_exchange(const char *request, size_t len, ru_buf *out)
{
    int sv[2];
    if (!daemon_ || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
        return false;
    /* The peer as MHD and the connection table see it: a loopback client. */
    struct sockaddr_in peer;
    memset(&peer, 0, sizeof peer);
    peer.sin_family = AF_INET;
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (MHD_add_connection(daemon_, sv[1], (const struct sockaddr *)&peer, sizeof peer) != MHD_YES) {
        close(sv[0]);
        return false;  /* MHD closed sv[1] */
    }
    size_t sent = 0;
    bool shut = false, closed = false;
    uint64_t deadline = rd_now_ns() + 10ull * 1000000000u;
    while (!closed && rd_now_ns() < deadline) {
        bool progress = false;
        if (sent < len) {
            ssize_t n = send(sv[0], request + sent, len - sent, MSG_NOSIGNAL);
            if (n > 0) {
                sent += (size_t)n;
                progress = true;
            } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                sent = len;  /* MHD closed its end: nothing more goes in */
            }
        }
        if (sent == len && !shut) {
            /* All sent: the end of the input is the client hanging up. */
            shutdown(sv[0], SHUT_WR);
            shut = true;
        }
        MHD_run(daemon_);
        char buf[16384];
        ssize_t n;
        while ((n = recv(sv[0], buf, sizeof buf, 0)) > 0) {
            ru_buf_put(out, buf, (size_t)n);
            progress = true;
        }
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            closed = true;
        else if (!progress) {
            struct pollfd pf = {sv[0], POLLIN, 0};
            poll(&pf, 1, 1);
        }
    }
    close(sv[0]);
    /* Let MHD notice a connection it has not closed yet (the deadline). */
    MHD_run(daemon_);
    return closed && !out->oom;
}

void rd_http_stop(unsigned grace_seconds)
{
    if (!daemon_)
        return;
    atomic_store(&stopping, true);
    if (!embedded_mode)
        listen_fd = MHD_quiesce_daemon(daemon_);
    uint64_t deadline = rd_now_ns() + (uint64_t)grace_seconds * 1000000000u;
    long left;
    while ((left = rd_in_flight()) > 0 && rd_now_ns() < deadline) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (left > 0)
        rd_log(RD_WARN, "shutdown: %ld request(s) still in flight after %u s: closing them", left,
               grace_seconds);
    MHD_stop_daemon(daemon_);
    daemon_ = NULL;
    if (sweeper_running) {
        atomic_store(&sweeper_stop, true);
        pthread_join(sweeper, NULL);
        sweeper_running = false;
    }
    rd_conntab_free(conns);
    conns = NULL;
    /* Closed only now: MHD's threads may use it until they are joined. */
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);
    listen_fd = MHD_INVALID_SOCKET;
    if (key_made)
        pthread_key_delete(worker_key);
    key_made = false;
}
