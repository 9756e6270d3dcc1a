/* SPDX-License-Identifier: ISC */
/* unit-qstat.c: Check tests of the queue reader on real loopback sockets. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "qstat.h"
#include "run-tests.h"

#define MAX_CLIENTS 16

static int clients[MAX_CLIENTS], nclients;
static char dir[64];

static void
setup(void)
{
	nclients = 0;
	strcpy(dir, "/tmp/unit-qstat.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/s.sock", dir);
	unlink(path);
	rmdir(dir);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* A loopback TCP listener (port chosen by the kernel) with backlog. */
static int
tcp_listener(int backlog, int defer, struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(s, 0);
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (defer)
		ck_assert_int_eq(setsockopt(s, IPPROTO_TCP, TCP_DEFER_ACCEPT,
		                            &defer, sizeof(defer)),
		                 0);
	ck_assert_int_eq(bind(s, (struct sockaddr *)addr, sizeof(*addr)), 0);
	ck_assert_int_eq(listen(s, backlog), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)addr, &len), 0);
	return s;
}

/* n non-blocking connects, kept open; returns how many the kernel took
 * (0 or EINPROGRESS) and counts EAGAIN in *again. */
static int
connect_n(const struct sockaddr *sa, socklen_t salen, int n, int *again)
{
	int i, ok = 0;

	*again = 0;
	for (i = 0; i < n && nclients < MAX_CLIENTS; i++) {
		int c = socket(sa->sa_family,
		               SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		ck_assert_int_ge(c, 0);
		if (connect(c, sa, salen) == 0 || errno == EINPROGRESS) {
			ok++;
			clients[nclients++] = c;
		} else {
			ck_assert_int_eq(errno, EAGAIN);
			(*again)++;
			close(c);
		}
	}
	return ok;
}

/* Seconds times the suite's time scale (Makefile.am passes
 * BATON_TEST_TIME_SCALE on as CK_TIMEOUT_MULTIPLIER, which also stretches
 * the tcase timeout). */
static double
scaled_s(double s)
{
	const char *m = getenv("CK_TIMEOUT_MULTIPLIER");
	double f = m != NULL ? strtod(m, NULL) : 1;

	return f > 0 ? s * f : s;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Read fd until its accept queue holds want_len and (with syn) its SYN
 * queue want_syn: loopback handshakes finish in softirq right after
 * connect, so this is quick, but on a loaded machine softirqs can wait
 * for ksoftirqd. At most 20 s (scaled), inside the tcase's 30 s; the
 * caller's assertions then say what was read. */
static void
read_until_len(int fd, enum qstat_kind kind, int syn, uint32_t want_len,
               uint32_t want_syn, struct qstat *q)
{
	double deadline = now_s() + scaled_s(20);

	for (;;) {
		ck_assert_int_eq(qstat_read_fd(fd, kind, syn, q), 0);
		if (q->len == want_len && (!syn || q->syn == want_syn))
			return;
		if (now_s() > deadline)
			return;
		sleep_ms(10);
	}
}

START_TEST(test_tcp_backlog)
{
	struct sockaddr_in a;
	struct qstat q, qi;
	struct stat st;
	int s = tcp_listener(4, 0, &a), again;

	ck_assert_int_eq(
	    connect_n((struct sockaddr *)&a, sizeof(a), 10, &again), 10);
	read_until_len(s, QSTAT_TCP, 0, 5, 0, &q);
	/* the accept queue holds backlog + 1 (sk_acceptq_is_full uses >) */
	ck_assert_uint_eq(q.len, 5);
	ck_assert_uint_eq(q.limit, 4);
	ck_assert_uint_eq(q.flags, QSTAT_HAS_QUEUE | QSTAT_HAS_DROPS);
	/* the 5 other SYNs, and maybe their retransmissions */
	ck_assert_uint_ge(q.drops, 5);
	ck_assert_int_eq(fstat(s, &st), 0);
	ck_assert_uint_eq(q.inode, st.st_ino);
	/* the outside reader agrees */
	ck_assert_int_eq(qstat_read_inode(q.inode, QSTAT_TCP, 0, &qi), 0);
	ck_assert_uint_eq(qi.len, 5);
	ck_assert_uint_eq(qi.limit, 4);
	ck_assert_uint_eq(qi.flags, QSTAT_HAS_QUEUE | QSTAT_HAS_DROPS);
	ck_assert_uint_ge(qi.drops, q.drops);
	ck_assert_uint_eq(qi.inode, q.inode);
	/* accepting drains it */
	ck_assert_int_ge(accept4(s, NULL, NULL, SOCK_CLOEXEC), 0);
	ck_assert_int_eq(qstat_read_fd(s, QSTAT_TCP, 0, &q), 0);
	ck_assert_uint_le(q.len, 5);
}
END_TEST

START_TEST(test_unix_backlog)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct qstat q, qi;
	int s, again;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s/s.sock", dir);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(s, 3), 0);
	ck_assert_int_eq(qstat_read_fd(s, QSTAT_UNIX, 0, &q), 0);
	ck_assert_uint_eq(q.len, 0);
	ck_assert_uint_eq(q.limit, 3);
	/* unix_recvq_full uses > too: 4 connect, 2 get EAGAIN */
	ck_assert_int_eq(connect_n((struct sockaddr *)&a, sizeof(a), 6, &again),
	                 4);
	ck_assert_int_eq(again, 2);
	ck_assert_int_eq(qstat_read_fd(s, QSTAT_UNIX, 0, &q), 0);
	ck_assert_uint_eq(q.len, 4);
	ck_assert_uint_eq(q.limit, 3);
	/* no drop counter for unix: refused connects got EAGAIN */
	ck_assert_uint_eq(q.flags, QSTAT_HAS_QUEUE);
	ck_assert_int_eq(qstat_read_inode(q.inode, QSTAT_UNIX, 0, &qi), 0);
	ck_assert_uint_eq(qi.len, 4);
	ck_assert_uint_eq(qi.limit, 3);
	ck_assert_uint_eq(qi.flags, QSTAT_HAS_QUEUE);
}
END_TEST

/* With defer-accept the final bare ACK is dropped (tcp_check_req), so the
 * silent clients stay request sockets in SYN_RECV: in syn, not in len. */
START_TEST(test_syn_queue)
{
	struct sockaddr_in a;
	struct qstat q, qi;
	int s = tcp_listener(16, 30, &a), again;

	ck_assert_int_eq(connect_n((struct sockaddr *)&a, sizeof(a), 5, &again),
	                 5);
	read_until_len(s, QSTAT_TCP, 1, 0, 5, &q);
	ck_assert_uint_eq(q.syn, 5);
	ck_assert_uint_eq(q.len, 0);
	ck_assert(q.flags & QSTAT_HAS_SYN);
	ck_assert_int_eq(qstat_read_inode(q.inode, QSTAT_TCP, 1, &qi), 0);
	ck_assert_uint_eq(qi.syn, 5);
	ck_assert_uint_eq(qi.len, 0);
	/* not asked for, not read */
	ck_assert_int_eq(qstat_read_fd(s, QSTAT_TCP, 0, &q), 0);
	ck_assert(!(q.flags & QSTAT_HAS_SYN));
	/* another listener's requests are not this one's */
	{
		struct sockaddr_in b;
		int s2 = tcp_listener(16, 30, &b);

		ck_assert_int_eq(qstat_read_fd(s2, QSTAT_TCP, 1, &q), 0);
		ck_assert_uint_eq(q.syn, 0);
		close(s2);
	}
}
END_TEST

/* An IPv6 listener with defer-accept on addr (::1, or ::ffff:127.0.0.1
 * whose requests are AF_INET sockets). */
static int
tcp6_listener(const char *addr, struct sockaddr_in6 *a)
{
	socklen_t len = sizeof(*a);
	int s = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), defer = 30;

	ck_assert_int_ge(s, 0);
	memset(a, 0, sizeof(*a));
	a->sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, addr, &a->sin6_addr), 1);
	ck_assert_int_eq(
	    setsockopt(s, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof(defer)),
	    0);
	ck_assert_int_eq(bind(s, (struct sockaddr *)a, sizeof(*a)), 0);
	ck_assert_int_eq(listen(s, 16), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)a, &len), 0);
	return s;
}

/* The SYN count of IPv6 listeners: their requests are AF_INET6 sockets,
 * or AF_INET ones for a v4-mapped address; one dump finds both. */
START_TEST(test_syn_queue_v6)
{
	struct sockaddr_in6 a6, m6;
	struct sockaddr_in m4 = {.sin_family = AF_INET};
	struct qstat q;
	int s6 = tcp6_listener("::1", &a6), again;
	int sm = tcp6_listener("::ffff:127.0.0.1", &m6);

	ck_assert_int_eq(
	    connect_n((struct sockaddr *)&a6, sizeof(a6), 3, &again), 3);
	m4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	m4.sin_port = m6.sin6_port;
	ck_assert_int_eq(
	    connect_n((struct sockaddr *)&m4, sizeof(m4), 2, &again), 2);
	read_until_len(s6, QSTAT_TCP, 1, 0, 3, &q);
	ck_assert_uint_eq(q.syn, 3);
	read_until_len(sm, QSTAT_TCP, 1, 0, 2, &q);
	ck_assert_uint_eq(q.syn, 2);
	close(s6);
	close(sm);
}
END_TEST

START_TEST(test_udp_drops)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	struct qstat q, qi;
	char dgram[1024] = "x";
	int r, c, i, small = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	c = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(r, 0);
	ck_assert_int_ge(c, 0);
	/* the kernel's minimum buffer: a few datagrams fill it */
	ck_assert_int_eq(
	    setsockopt(r, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	ck_assert_int_eq(bind(r, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(r, (struct sockaddr *)&a, &len), 0);
	for (i = 0; i < 200; i++)
		sendto(c, dgram, sizeof(dgram), MSG_DONTWAIT,
		       (struct sockaddr *)&a, sizeof(a));
	ck_assert_int_eq(qstat_read_fd(r, QSTAT_UDP, 0, &q), 0);
	ck_assert_uint_eq(q.flags, QSTAT_HAS_DROPS);
	ck_assert_uint_gt(q.drops, 0);
	ck_assert_int_eq(qstat_read_inode(q.inode, QSTAT_UDP, 0, &qi), 0);
	ck_assert_uint_eq(qi.flags, QSTAT_HAS_DROPS);
	ck_assert_uint_eq(qi.drops, q.drops);
}
END_TEST

START_TEST(test_errors)
{
	struct sockaddr_in a;
	struct qstat q;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int l = tcp_listener(4, 0, &a);
	int fds[2];

	/* a TCP socket that does not listen */
	ck_assert_int_eq(qstat_read_fd(s, QSTAT_TCP, 0, &q), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* not a socket */
	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(qstat_read_fd(fds[0], QSTAT_TCP, 0, &q), -1);
	ck_assert_int_eq(errno, ENOTSOCK);
	/* a unix socket that does not listen */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	ck_assert_int_eq(qstat_read_fd(fds[0], QSTAT_UNIX, 0, &q), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* gone: a closed listener's inode */
	ck_assert_int_eq(qstat_read_fd(l, QSTAT_TCP, 0, &q), 0);
	close(l);
	ck_assert_int_eq(qstat_read_inode(q.inode, QSTAT_TCP, 0, &q), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(qstat_read_inode(q.inode, QSTAT_UNIX, 0, &q), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/* Many sockets in one call: each gets its own figures or its own error. */
START_TEST(test_batch)
{
	struct sockaddr_in a, b;
	struct sockaddr_un u = {.sun_family = AF_UNIX};
	int t1 = tcp_listener(4, 0, &a), t2 = tcp_listener(7, 0, &b);
	int us = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int ud = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	uint64_t inodes[5];
	enum qstat_kind kinds[5] = {QSTAT_TCP, QSTAT_UNIX, QSTAT_TCP, QSTAT_UDP,
	                            QSTAT_TCP};
	struct qstat q[5];
	int err[5], fds[4] = {t1, us, t2, ud}, i, again;
	struct stat st;

	snprintf(u.sun_path, sizeof(u.sun_path), "%s/s.sock", dir);
	ck_assert_int_eq(bind(us, (struct sockaddr *)&u, sizeof(u)), 0);
	ck_assert_int_eq(listen(us, 2), 0);
	b.sin_port = 0;
	ck_assert_int_eq(bind(ud, (struct sockaddr *)&b, sizeof(b)), 0);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(fstat(fds[i], &st), 0);
		inodes[i] = st.st_ino;
	}
	inodes[4] = inodes[1]; /* a unix socket's inode is no TCP one */
	ck_assert_int_eq(connect_n((struct sockaddr *)&a, sizeof(a), 2, &again),
	                 2);
	read_until_len(t1, QSTAT_TCP, 0, 2, 0, &q[0]);
	ck_assert_int_eq(qstat_read_inodes(inodes, kinds, 5, 0, q, err), 0);
	ck_assert_int_eq(err[0], 0);
	ck_assert_uint_eq(q[0].len, 2);
	ck_assert_uint_eq(q[0].limit, 4);
	ck_assert_int_eq(err[1], 0);
	ck_assert_uint_eq(q[1].limit, 2);
	ck_assert_uint_eq(q[1].flags, QSTAT_HAS_QUEUE);
	ck_assert_int_eq(err[2], 0);
	ck_assert_uint_eq(q[2].len, 0);
	ck_assert_uint_eq(q[2].limit, 7);
	ck_assert_int_eq(err[3], 0);
	ck_assert_uint_eq(q[3].flags, QSTAT_HAS_DROPS);
	ck_assert_int_eq(err[4], ENOENT);
	for (i = 0; i < 5; i++)
		ck_assert_uint_eq(q[i].inode, inodes[i]);
	ck_assert_int_eq(qstat_read_inodes(inodes, kinds, 0, 0, q, err), 0);
}
END_TEST

START_TEST(test_sample_peak)
{
	struct qstat_track t = {0};
	struct qstat q = {.flags = QSTAT_HAS_QUEUE, .len = 3, .limit = 4};

	qstat_sample(&t, &q, 100);
	ck_assert_uint_eq(t.peak, 3);
	q.len = 5;
	qstat_sample(&t, &q, 101);
	q.len = 1;
	qstat_sample(&t, &q, 102);
	ck_assert_uint_eq(t.peak, 5);
	ck_assert_uint_eq(t.last.len, 1);
	ck_assert_int_eq(t.sampled_at, 102);
	/* a reading without a queue (UDP) leaves the peak alone */
	q.flags = QSTAT_HAS_DROPS;
	q.len = 9;
	qstat_sample(&t, &q, 103);
	ck_assert_uint_eq(t.peak, 5);
	ck_assert_str_eq(qstat_kind_name(QSTAT_UNIX), "unix");
}
END_TEST

/* The --stats text of a queue (its STATUS.json object: unit-status.c). */
static const struct {
	struct qstat q;
	uint32_t peak;
	const char *text;
} format_cases[] = {
    {{QSTAT_HAS_QUEUE | QSTAT_HAS_DROPS, 5, 4, 0, 5, 1},
     5,
     "queue 5/4  peak 5  drops 5"},
    {{QSTAT_HAS_QUEUE, 4, 3, 0, 0, 1}, 4, "queue 4/3  peak 4"},
    {{QSTAT_HAS_QUEUE | QSTAT_HAS_DROPS | QSTAT_HAS_SYN, 0, 16, 5, 5, 1},
     2,
     "queue 0/16  peak 2  drops 5  syn 5"},
    {{QSTAT_HAS_DROPS, 0, 0, 0, 18446744073709551615u, 1},
     0,
     "drops 18446744073709551615"},
};

START_TEST(test_format)
{
	struct qstat_track t = {format_cases[_i].q, format_cases[_i].peak,
	                        1764600000};
	char buf[256];

	ck_assert_int_eq(qstat_text(buf, sizeof(buf), &t),
	                 (int)strlen(format_cases[_i].text));
	ck_assert_str_eq(buf, format_cases[_i].text);
}
END_TEST

/* ---- the SYN-cookie diagnosis: pure parts ----------------------------- */

static const struct {
	const char *text;
	int ok;
	uint64_t sent, recv;
} netstat_cases[] = {
    {"TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed\n"
     "TcpExt: 12 7 3\n"
     "IpExt: InNoRoutes\nIpExt: 0\n",
     1, 12, 7},
    /* other fields first, and the last field without a trailing space */
    {"TcpExt: EmbryonicRsts SyncookiesSent PruneCalled SyncookiesRecv\n"
     "TcpExt: 1 18446744073709551615 2 42\n",
     1, 18446744073709551615ULL, 42},
    /* TcpExt after another section */
    {"IpExt: InNoRoutes\nIpExt: 0\nTcpExt: SyncookiesRecv SyncookiesSent\n"
     "TcpExt: 5 6\n",
     1, 6, 5},
    {"TcpExt: SyncookiesSent\nTcpExt: 12\n", 0, 0, 0},    /* no Recv */
    {"TcpExt: SyncookiesSent SyncookiesRecv\n", 0, 0, 0}, /* no values */
    {"TcpExt: SyncookiesSent SyncookiesRecv\nTcpExt: 1\n", 0, 0, 0},
    {"TcpExt: SyncookiesSent SyncookiesRecv\nTcpExt: 1 x\n", 0, 0, 0},
    {"", 0, 0, 0},
    {"IpExt: InNoRoutes\nIpExt: 0\n", 0, 0, 0},
};

START_TEST(test_parse_netstat)
{
	struct qstat_cookies c = {0, 0};
	int rc = qstat_parse_netstat(netstat_cases[_i].text, &c);

	ck_assert_int_eq(rc, netstat_cases[_i].ok ? 0 : -1);
	if (netstat_cases[_i].ok) {
		ck_assert_uint_eq(c.sent, netstat_cases[_i].sent);
		ck_assert_uint_eq(c.recv, netstat_cases[_i].recv);
	}
}
END_TEST

/* the real file of this namespace parses */
START_TEST(test_read_cookies)
{
	struct qstat_cookies c;

	ck_assert_int_eq(qstat_read_cookies(&c), 0);
}
END_TEST

/* One listener's readings, (len, limit, SyncookiesRecv) in turn, and what
 * each makes baton say: a count once each time the queue fills while
 * cookies came in. */
static const struct {
	uint32_t len, limit;
	uint64_t recv, want;
} cookie_steps[] = {
    {0, 4, 100, 0}, /* start: arms at 100 */
    {2, 4, 103, 0}, /* not full */
    {5, 4, 110, 7}, /* full, 7 cookies since it was last not full */
    {5, 4, 120, 0}, /* still full: said once */
    {1, 4, 120, 0}, /* drained */
    {4, 4, 120, 0}, /* full, but no cookie since: a plain stall */
    {5, 4, 121, 1}, /* then one comes */
    {0, 4, 121, 0}, /* drained */
    {5, 4, 50, 0},  /* counters went back (a new namespace?): re-arm */
    {0, 4, 50, 0},  /* */
    {5, 4, 60, 10}, /* */
};

START_TEST(test_cookie_check)
{
	struct qstat_cookie_track t = {0, 0, 0};
	struct qstat r;
	size_t i;

	memset(&r, 0, sizeof(r));
	r.flags = QSTAT_HAS_QUEUE;
	for (i = 0; i < sizeof(cookie_steps) / sizeof(cookie_steps[0]); i++) {
		r.len = cookie_steps[i].len;
		r.limit = cookie_steps[i].limit;
		ck_assert_msg(
		    qstat_cookie_check(&t, &r, cookie_steps[i].recv) ==
		        cookie_steps[i].want,
		    "step %zu", i);
	}
	/* full at the very first reading: no telling when cookies came */
	memset(&t, 0, sizeof(t));
	r.len = 5;
	ck_assert_uint_eq(qstat_cookie_check(&t, &r, 10), 0);
	ck_assert_uint_eq(qstat_cookie_check(&t, &r, 20), 0);
}
END_TEST

/* STATUS.json is rewritten when the length moves, down included */
START_TEST(test_moved)
{
	struct qstat_track a, b;

	memset(&a, 0, sizeof(a));
	a.last.flags = QSTAT_HAS_QUEUE;
	a.last.len = 5;
	a.last.limit = 4;
	a.peak = 5;
	b = a;
	ck_assert_int_eq(qstat_moved(&a, &b), 0);
	b.last.len = 3;
	ck_assert_int_eq(qstat_moved(&a, &b), 1);
	b.last.len = 0;
	ck_assert_int_eq(qstat_moved(&a, &b), 1);
	b = a;
	b.last.drops = 1;
	ck_assert_int_eq(qstat_moved(&a, &b), 1);
}
END_TEST

void
tests_qstat(void)
{
	TCase *tc = unit_case("qstat");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_tcp_backlog);
	tcase_add_test(tc, test_unix_backlog);
	tcase_add_test(tc, test_syn_queue);
	tcase_add_test(tc, test_syn_queue_v6);
	tcase_add_test(tc, test_udp_drops);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_batch);
	tcase_add_test(tc, test_sample_peak);
	tcase_add_loop_test(tc, test_format, 0,
	                    sizeof(format_cases) / sizeof(format_cases[0]));
	tcase_add_loop_test(tc, test_parse_netstat, 0,
	                    sizeof(netstat_cases) / sizeof(netstat_cases[0]));
	tcase_add_test(tc, test_read_cookies);
	tcase_add_test(tc, test_cookie_check);
	tcase_add_test(tc, test_moved);
}
