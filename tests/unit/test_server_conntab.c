/* test_server_conntab.c - rulesd's connection table (server/conntab.c) on
 * SPDX-License-Identifier: Apache-2.0
 * a clock the test sets: header and request deadlines, a keep-alive
 * connection's wait starting again, which connection makes room for a
 * client at its limit or when the reserve is reached, who counts as one
 * client (IPv4, an IPv6 /64, IPv4-mapped), and that closing and freeing
 * leave nothing behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../server/conntab.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define S 1000000000ull  /* one second in the table's nanoseconds */

static int cut_fds[64];
static size_t ncut;

static void record_cut(int fd, void *cls)
{
    (void)cls;
    assert_true(ncut < sizeof cut_fds / sizeof *cut_fds);
    cut_fds[ncut++] = fd;
}

static rd_conntab *table(unsigned max, unsigned reserved, unsigned per_client)
{
    ncut = 0;
    rd_conn_limits lim = {max, reserved, per_client, 5 * S, 10 * S};
    rd_conntab *t = rd_conntab_new(&lim, record_cut, NULL);
    assert_non_null(t);
    return t;
}

static struct sockaddr_storage v4(const char *text)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, text, &a->sin_addr), 1);
    return ss;
}

static struct sockaddr_storage v6(const char *text)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    a->sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, text, &a->sin6_addr), 1);
    return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

static void open_at(rd_conntab *t, rd_connrec *r, int fd, const struct sockaddr_storage *addr, uint64_t now)
{
    rd_conntab_admit(t, SA(*addr));
    assert_true(rd_conntab_open(t, r, fd, SA(*addr), now));
}

static unsigned long cuts(rd_conntab *t, rd_cut_reason why)
{
    rd_conn_stats st;
    rd_conntab_stats(t, &st);
    return st.cut[why];
}

static unsigned long open_count(rd_conntab *t)
{
    rd_conn_stats st;
    rd_conntab_stats(t, &st);
    return st.open;
}

static void header_deadline_counts_from_opening(void **state)
{
    (void)state;
    rd_conntab *t = table(100, 10, 100);
    struct sockaddr_storage a = v4("10.0.0.1");
    rd_connrec r1, r2;
    open_at(t, &r1, 11, &a, 0);
    open_at(t, &r2, 12, &a, 2 * S);
    /* Exactly at the deadline it still may finish; past it, it is cut
     * however recently it sent a byte (the table never sees bytes). */
    assert_int_equal(rd_conntab_sweep(t, 5 * S), 0);
    assert_int_equal(rd_conntab_sweep(t, 5 * S + 1), 1);
    assert_int_equal(ncut, 1);
    assert_int_equal(cut_fds[0], 11);
    assert_int_equal(cuts(t, RD_CUT_HEADER_TIMEOUT), 1);
    /* A cut connection is not cut again; the other one's turn comes. */
    assert_int_equal(rd_conntab_sweep(t, 7 * S), 0);
    assert_int_equal(rd_conntab_sweep(t, 7 * S + 1), 1);
    assert_int_equal(cut_fds[1], 12);
    /* Both still held until the transport closes them. */
    assert_int_equal(open_count(t), 2);
    rd_conntab_close(t, &r1);
    rd_conntab_close(t, &r2);
    assert_int_equal(open_count(t), 0);
    rd_conntab_free(t);
}

static void request_deadline_counts_from_headers(void **state)
{
    (void)state;
    rd_conntab *t = table(100, 10, 100);
    struct sockaddr_storage a = v4("10.0.0.1");
    rd_connrec r;
    open_at(t, &r, 3, &a, 0);
    rd_conntab_request(t, &r, 4 * S);
    /* Headers in time: the header deadline no longer applies... */
    assert_int_equal(rd_conntab_sweep(t, 13 * S), 0);
    /* ...the request's does, from its headers. */
    assert_int_equal(rd_conntab_sweep(t, 14 * S + 1), 1);
    assert_int_equal(cuts(t, RD_CUT_REQUEST_TIMEOUT), 1);
    assert_int_equal(cuts(t, RD_CUT_HEADER_TIMEOUT), 0);
    /* Reports on a cut connection change nothing. */
    rd_conntab_idle(t, &r, 15 * S);
    assert_int_equal(rd_conntab_sweep(t, 100 * S), 0);
    rd_conntab_close(t, &r);
    rd_conntab_free(t);
}

static void keep_alive_waits_again_from_the_last_request(void **state)
{
    (void)state;
    rd_conntab *t = table(100, 10, 100);
    struct sockaddr_storage a = v4("10.0.0.1");
    rd_connrec r;
    open_at(t, &r, 3, &a, 0);
    rd_conntab_request(t, &r, 1 * S);
    rd_conntab_idle(t, &r, 2 * S);
    assert_int_equal(rd_conntab_sweep(t, 7 * S), 0);
    rd_conntab_request(t, &r, 7 * S);
    rd_conntab_idle(t, &r, 8 * S);
    assert_int_equal(rd_conntab_sweep(t, 13 * S), 0);
    /* An idle keep-alive connection is bounded by the header deadline. */
    assert_int_equal(rd_conntab_sweep(t, 13 * S + 1), 1);
    rd_conntab_close(t, &r);
    rd_conntab_free(t);
}

static void a_sweep_older_than_a_wait_cuts_nothing(void **state)
{
    (void)state;
    /* The sweeper reads the clock before taking the lock; a connection
     * may have begun waiting in between. */
    rd_conntab *t = table(100, 10, 100);
    struct sockaddr_storage a = v4("10.0.0.1");
    rd_connrec r, q;
    open_at(t, &r, 3, &a, 50 * S);
    open_at(t, &q, 4, &a, 50 * S);
    rd_conntab_request(t, &q, 50 * S);
    assert_int_equal(rd_conntab_sweep(t, 49 * S), 0);
    rd_conntab_close(t, &r);
    rd_conntab_close(t, &q);
    rd_conntab_free(t);
}

static void a_client_at_its_limit_loses_its_own_longest_wait(void **state)
{
    (void)state;
    rd_conntab *t = table(100, 10, 2);
    struct sockaddr_storage a = v4("10.0.0.1"), b = v4("10.0.0.2");
    rd_connrec other, a1, a2, a3;
    open_at(t, &other, 1, &b, 0);   /* the oldest of all, but another client's */
    open_at(t, &a1, 2, &a, 1 * S);
    open_at(t, &a2, 3, &a, 2 * S);
    /* a1 finishes a request: now a2 has waited longest. */
    rd_conntab_request(t, &a1, 3 * S);
    rd_conntab_idle(t, &a1, 3 * S);
    open_at(t, &a3, 4, &a, 4 * S);
    assert_int_equal(ncut, 1);
    assert_int_equal(cut_fds[0], 3);
    assert_int_equal(cuts(t, RD_CUT_CLIENT_LIMIT), 1);
    assert_int_equal(cuts(t, RD_CUT_SERVER_FULL), 0);
    /* The cut one no longer counts: one more from a cuts again, a1 now. */
    rd_connrec a4;
    open_at(t, &a4, 5, &a, 5 * S);
    assert_int_equal(ncut, 2);
    assert_int_equal(cut_fds[1], 2);
    /* Another client is not affected by a's limit. */
    rd_connrec b2;
    open_at(t, &b2, 6, &b, 6 * S);
    assert_int_equal(ncut, 2);
    rd_connrec *all[] = {&other, &a1, &a2, &a3, &a4, &b2};
    for (size_t i = 0; i < 6; i++)
        rd_conntab_close(t, all[i]);
    assert_int_equal(open_count(t), 0);
    rd_conntab_free(t);
}

static void the_reserve_closes_the_longest_wait_of_all(void **state)
{
    (void)state;
    /* Room for 4 - 1 = 3 before a new connection makes room. */
    rd_conntab *t = table(4, 1, 4);
    struct sockaddr_storage c[5] = {v4("10.0.0.1"), v4("10.0.0.2"), v4("10.0.0.3"), v4("10.0.0.4"),
                                    v4("10.0.0.5")};
    rd_connrec r[5];
    open_at(t, &r[0], 10, &c[0], 0);
    open_at(t, &r[1], 11, &c[1], 1 * S);
    open_at(t, &r[2], 12, &c[2], 2 * S);
    assert_int_equal(ncut, 0);
    /* r0 is served (a request, then idle): r1 has now waited longest. A
     * connection in the middle of a request may be closed too. */
    rd_conntab_request(t, &r[0], 3 * S);
    rd_conntab_idle(t, &r[0], 3 * S);
    rd_conntab_request(t, &r[1], 3 * S);
    open_at(t, &r[3], 13, &c[3], 4 * S);
    assert_int_equal(ncut, 1);
    assert_int_equal(cut_fds[0], 11);
    assert_int_equal(cuts(t, RD_CUT_SERVER_FULL), 1);
    open_at(t, &r[4], 14, &c[4], 5 * S);
    assert_int_equal(ncut, 2);
    assert_int_equal(cut_fds[1], 12);
    /* Held by the transport until it closes them: 5; live: 3. */
    assert_int_equal(open_count(t), 5);
    for (size_t i = 0; i < 5; i++)
        rd_conntab_close(t, &r[i]);
    rd_conntab_free(t);
}

static void who_counts_as_one_client(void **state)
{
    (void)state;
    rd_conntab *t = table(100, 10, 1);
    struct sockaddr_storage p1 = v6("2001:db8:1:2::10"), p2 = v6("2001:db8:1:2:ffff::1"),
                            other = v6("2001:db8:1:3::10"), mapped = v6("::ffff:192.0.2.7"),
                            plain = v4("192.0.2.7");
    rd_connrec r[5];
    open_at(t, &r[0], 1, &p1, 0);
    open_at(t, &r[1], 2, &other, 0);   /* another /64: another client */
    assert_int_equal(ncut, 0);
    open_at(t, &r[2], 3, &p2, 1);      /* same /64 as p1: over its limit of 1 */
    assert_int_equal(ncut, 1);
    assert_int_equal(cut_fds[0], 1);
    open_at(t, &r[3], 4, &plain, 2);
    open_at(t, &r[4], 5, &mapped, 3);  /* the same IPv4 host */
    assert_int_equal(ncut, 2);
    assert_int_equal(cut_fds[1], 4);
    for (size_t i = 0; i < 5; i++)
        rd_conntab_close(t, &r[i]);
    rd_conntab_free(t);
}

static void clients_come_and_go_without_residue(void **state)
{
    (void)state;
    /* Ten thousand addresses through a table of 64: each client record
     * goes with its last connection (ASan would report any left). */
    rd_conntab *t = table(64, 4, 64);
    rd_connrec r;
    for (unsigned i = 0; i < 10000; i++) {
        struct sockaddr_storage a = v4("10.0.0.0");
        ((struct sockaddr_in *)&a)->sin_addr.s_addr = htonl(0x0a000000u + i);
        open_at(t, &r, 7, &a, i);
        rd_conntab_close(t, &r);
    }
    assert_int_equal(open_count(t), 0);
    assert_int_equal(ncut, 0);
    /* Closing a record that was never opened (a failed start) is ignored. */
    rd_connrec never;
    memset(&never, 0, sizeof never);
    rd_conntab_close(t, &never);
    rd_conntab_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_deadline_counts_from_opening),
        cmocka_unit_test(request_deadline_counts_from_headers),
        cmocka_unit_test(keep_alive_waits_again_from_the_last_request),
        cmocka_unit_test(a_sweep_older_than_a_wait_cuts_nothing),
        cmocka_unit_test(a_client_at_its_limit_loses_its_own_longest_wait),
        cmocka_unit_test(the_reserve_closes_the_longest_wait_of_all),
        cmocka_unit_test(who_counts_as_one_client),
        cmocka_unit_test(clients_come_and_go_without_residue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
