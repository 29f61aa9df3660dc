/* conntab.h - rulesd's connection table: who holds which connection, how
 * SPDX-License-Identifier: Apache-2.0
 * long each has been waiting on its client, and which to close when a
 * limit is reached. It knows no HTTP library: the transport (http.c)
 * reports what happens to a connection, and the table closes connections
 * through a callback (shutdown(2) of the socket, which the HTTP library
 * then notices and cleans up like a client hang-up).
 *
 * Why: a client that sends a request a byte at a time keeps its
 * connection alive under an inactivity timeout, and enough of them fill
 * every slot (slowloris). The table bounds the time any connection may
 * take to deliver a request, however it trickles; bounds the connections
 * one client may hold; and keeps a reserve of slots by closing the
 * connection that has waited longest on its client whenever a new one
 * arrives and the reserve is reached. A well-behaved client delivers its
 * request in milliseconds, so it is never the one that has waited
 * longest, and /healthz stays reachable under any number of slow clients.
 *
 * A "client" is an IPv4 address, or an IPv6 address's /64 prefix (one
 * host usually holds a whole /64); an IPv4-mapped IPv6 address is its
 * IPv4 address. All functions are thread-safe (one mutex).
 */
#ifndef RD_CONNTAB_H
#define RD_CONNTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct rd_conn_limits {
    unsigned max_connections;  /* the transport's hard limit */
    unsigned reserved;         /* a new connection makes room once max - reserved are open */
    unsigned per_client;       /* open connections one client may hold */
    uint64_t header_ns;        /* a request line and headers must arrive within this, counted
                                * from the connection's opening or its previous request's end */
    uint64_t request_ns;       /* the rest of a request (body in, answer out), from its headers */
} rd_conn_limits;

/* Why the table closed a connection. */
typedef enum rd_cut_reason {
    RD_CUT_HEADER_TIMEOUT,   /* no complete request line and headers in time */
    RD_CUT_REQUEST_TIMEOUT,  /* body or answer not through in time */
    RD_CUT_CLIENT_LIMIT,     /* its client opened one more than its limit */
    RD_CUT_SERVER_FULL,      /* room for a new connection in the reserve */
    RD_NCUTS
} rd_cut_reason;

typedef struct rd_conn_stats {
    unsigned long open;            /* connections the transport holds now */
    unsigned long cut[RD_NCUTS];   /* closed by the table, by reason, since start */
} rd_conn_stats;

typedef struct rd_conn_client rd_conn_client;

/* One connection's entry, embedded in the transport's own per-connection
 * context; its fields belong to the table. */
typedef struct rd_connrec {
    struct rd_connrec *prev, *next;    /* the table's list, longest waiting first */
    struct rd_connrec *cprev, *cnext;  /* the same order within its client */
    rd_conn_client *client;
    int fd;
    bool registered;  /* between rd_conntab_open and rd_conntab_close */
    bool cut;         /* closed by the table; the transport has yet to notice */
    bool in_request;  /* headers complete, request not yet done */
    uint64_t since;       /* when its current wait began (opening, or the previous request's end) */
    uint64_t request_at;  /* when its current request's headers were complete */
} rd_connrec;

typedef struct rd_conntab rd_conntab;

/* cut(fd, cls) is called with the table locked, while fd is certainly
 * still the connection's (it is closed only after rd_conntab_close). NULL:
 * out of memory. */
rd_conntab *rd_conntab_new(const rd_conn_limits *limits, void (*cut)(int fd, void *cls), void *cls);
void rd_conntab_free(rd_conntab *t);

/* A connection from addr is being accepted: makes room if its client is
 * at its limit (closing that client's longest-waiting connection) or the
 * reserve is reached (closing the longest-waiting connection of all).
 * Every open connection may be closed for room, even one in the middle of
 * a request: one that has taken longest is the likeliest to be an
 * attacker's, and a slot that could never be freed is what an attacker
 * would aim for. */
void rd_conntab_admit(rd_conntab *t, const struct sockaddr *addr);
/* The transport holds a new connection. false: out of memory (the
 * transport should drop it; r stays unregistered). */
bool rd_conntab_open(rd_conntab *t, rd_connrec *r, int fd, const struct sockaddr *addr, uint64_t now);
/* The connection's request line and headers are complete. */
void rd_conntab_request(rd_conntab *t, rd_connrec *r, uint64_t now);
/* Its request is done (answered or abandoned): it waits for the next. */
void rd_conntab_idle(rd_conntab *t, rd_connrec *r, uint64_t now);
/* The transport is closing it (before it closes the socket). Unregistered
 * records are ignored. */
void rd_conntab_close(rd_conntab *t, rd_connrec *r);
/* Closes every connection past its header or request deadline; returns
 * how many it closed. */
size_t rd_conntab_sweep(rd_conntab *t, uint64_t now);
void rd_conntab_stats(rd_conntab *t, rd_conn_stats *out);

#endif
