/* conntab.c - the connection table (conntab.h). Connections that are not
 * SPDX-License-Identifier: Apache-2.0
 * yet closed by the table sit on two lists ordered by when their current
 * wait began: the table's and their client's. A connection moves to the
 * back when it finishes a request, so the front of either list is the
 * connection that has waited longest on its client: the one to close for
 * room. Clients live in a chained hash table sized to the connection
 * limit (there are never more clients than connections) and are freed
 * with their last connection, so a client cycling through addresses
 * cannot grow it. A deadline sweep walks the whole table list: it holds
 * at most max_connections entries and runs a few times a second.
 */
#include "conntab.h"

#include "hash.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct rd_conn_client {
    rd_conn_client *chain;
    unsigned char key[8];
    size_t keylen;
    unsigned live;      /* its connections not cut */
    unsigned refs;      /* records pointing here, cut or not */
    rd_connrec *head, *tail;
};

struct rd_conntab {
    pthread_mutex_t lock;
    rd_conn_limits lim;
    void (*cut)(int fd, void *cls);
    void *cls;
    rd_conn_client **buckets;
    size_t nbuckets;    /* a power of two */
    rd_connrec *head, *tail;
    unsigned live;      /* registered and not cut */
    rd_conn_stats stats;
};

/* The client an address belongs to (see conntab.h). */
static size_t client_key(const struct sockaddr *addr, unsigned char key[8])
{
    if (addr && addr->sa_family == AF_INET) {
        memcpy(key, &((const struct sockaddr_in *)(const void *)addr)->sin_addr, 4);
        return 4;
    }
    if (addr && addr->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)addr)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            memcpy(key, a->s6_addr + 12, 4);
            return 4;
        }
        memcpy(key, a->s6_addr, 8);
        return 8;
    }
    return 0;  /* another family: all such connections are one client */
}

static size_t bucket_of(const rd_conntab *t, const unsigned char *key, size_t len)
{
    return (size_t)ru_fnv1a(RU_FNV_OFFSET, key, len) & (t->nbuckets - 1);
}

static rd_conn_client *find_client(const rd_conntab *t, const unsigned char *key, size_t len)
{
    for (rd_conn_client *c = t->buckets[bucket_of(t, key, len)]; c; c = c->chain)
        if (c->keylen == len && memcmp(c->key, key, len) == 0)
            return c;
    return NULL;
}

rd_conntab *rd_conntab_new(const rd_conn_limits *limits, void (*cut)(int fd, void *cls), void *cls)
{
    rd_conntab *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->lim = *limits;
    t->cut = cut;
    t->cls = cls;
    t->nbuckets = 64;
    while (t->nbuckets < limits->max_connections && t->nbuckets < ((size_t)1 << 20))
        t->nbuckets <<= 1;
    t->buckets = calloc(t->nbuckets, sizeof *t->buckets);
    if (!t->buckets || pthread_mutex_init(&t->lock, NULL) != 0) {
        free(t->buckets);
        free(t);
        return NULL;
    }
    return t;
}

void rd_conntab_free(rd_conntab *t)
{
    if (!t)
        return;
    /* The transport closes every connection before this; free what a
     * failed start-up may have left. */
    for (size_t i = 0; i < t->nbuckets; i++) {
        rd_conn_client *c = t->buckets[i];
        while (c) {
            rd_conn_client *next = c->chain;
            free(c);
            c = next;
        }
    }
    free(t->buckets);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static void append(rd_conntab *t, rd_connrec *r)
{
    rd_conn_client *c = r->client;
    r->next = NULL;
    r->prev = t->tail;
    if (t->tail)
        t->tail->next = r;
    else
        t->head = r;
    t->tail = r;
    r->cnext = NULL;
    r->cprev = c->tail;
    if (c->tail)
        c->tail->cnext = r;
    else
        c->head = r;
    c->tail = r;
}

static void unlink_rec(rd_conntab *t, rd_connrec *r)
{
    rd_conn_client *c = r->client;
    if (r->prev)
        r->prev->next = r->next;
    else
        t->head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        t->tail = r->prev;
    if (r->cprev)
        r->cprev->cnext = r->cnext;
    else
        c->head = r->cnext;
    if (r->cnext)
        r->cnext->cprev = r->cprev;
    else
        c->tail = r->cprev;
    r->prev = r->next = r->cprev = r->cnext = NULL;
}

/* Closes r for reason: off the lists, out of the counts, socket shut. Its
 * record stays registered until the transport reports the close. */
static void cut_rec(rd_conntab *t, rd_connrec *r, rd_cut_reason reason)
{
    unlink_rec(t, r);
    r->cut = true;
    t->live--;
    r->client->live--;
    t->stats.cut[reason]++;
    t->cut(r->fd, t->cls);
}

void rd_conntab_admit(rd_conntab *t, const struct sockaddr *addr)
{
    unsigned char key[8];
    size_t len = client_key(addr, key);
    pthread_mutex_lock(&t->lock);
    rd_conn_client *c = find_client(t, key, len);
    /* Every live connection is on the lists, so there is always one to
     * close when a count is reached (limits are at least 1). */
    if (c && c->live >= t->lim.per_client && c->head)
        cut_rec(t, c->head, RD_CUT_CLIENT_LIMIT);
    unsigned room = t->lim.max_connections > t->lim.reserved ? t->lim.max_connections - t->lim.reserved : 1;
    if (t->live >= room && t->head)
        cut_rec(t, t->head, RD_CUT_SERVER_FULL);
    pthread_mutex_unlock(&t->lock);
}

bool rd_conntab_open(rd_conntab *t, rd_connrec *r, int fd, const struct sockaddr *addr, uint64_t now)
{
    unsigned char key[8];
    size_t len = client_key(addr, key);
    memset(r, 0, sizeof *r);
    pthread_mutex_lock(&t->lock);
    rd_conn_client *c = find_client(t, key, len);
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c) {
            pthread_mutex_unlock(&t->lock);
            return false;
        }
        memcpy(c->key, key, len);
        c->keylen = len;
        size_t b = bucket_of(t, key, len);
        c->chain = t->buckets[b];
        t->buckets[b] = c;
    }
    c->refs++;
    c->live++;
    r->client = c;
    r->fd = fd;
    r->registered = true;
    r->since = now;
    append(t, r);
    t->live++;
    t->stats.open++;
    pthread_mutex_unlock(&t->lock);
    return true;
}

void rd_conntab_request(rd_conntab *t, rd_connrec *r, uint64_t now)
{
    pthread_mutex_lock(&t->lock);
    if (r->registered && !r->cut) {
        r->in_request = true;
        r->request_at = now;
    }
    pthread_mutex_unlock(&t->lock);
}

void rd_conntab_idle(rd_conntab *t, rd_connrec *r, uint64_t now)
{
    pthread_mutex_lock(&t->lock);
    if (r->registered && !r->cut) {
        r->in_request = false;
        r->since = now;
        unlink_rec(t, r);
        append(t, r);
    }
    pthread_mutex_unlock(&t->lock);
}

void rd_conntab_close(rd_conntab *t, rd_connrec *r)
{
    pthread_mutex_lock(&t->lock);
    if (!r->registered) {
        pthread_mutex_unlock(&t->lock);
        return;
    }
    rd_conn_client *c = r->client;
    if (!r->cut) {
        unlink_rec(t, r);
        t->live--;
        c->live--;
    }
    r->registered = false;
    t->stats.open--;
    if (--c->refs == 0) {
        rd_conn_client **p = &t->buckets[bucket_of(t, c->key, c->keylen)];
        while (*p != c)
            p = &(*p)->chain;
        *p = c->chain;
        free(c);
    }
    pthread_mutex_unlock(&t->lock);
}

size_t rd_conntab_sweep(rd_conntab *t, uint64_t now)
{
    size_t n = 0;
    pthread_mutex_lock(&t->lock);
    for (rd_connrec *r = t->head, *next; r; r = next) {
        next = r->next;
        /* now may predate a time another thread took just before it
         * got the lock: such a wait has barely begun. */
        if (!r->in_request && now > r->since && now - r->since > t->lim.header_ns) {
            cut_rec(t, r, RD_CUT_HEADER_TIMEOUT);
            n++;
        } else if (r->in_request && now > r->request_at && now - r->request_at > t->lim.request_ns) {
            cut_rec(t, r, RD_CUT_REQUEST_TIMEOUT);
            n++;
        }
    }
    pthread_mutex_unlock(&t->lock);
    return n;
}

void rd_conntab_stats(rd_conntab *t, rd_conn_stats *out)
{
    pthread_mutex_lock(&t->lock);
    *out = t->stats;
    pthread_mutex_unlock(&t->lock);
}
