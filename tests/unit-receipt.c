/* SPDX-License-Identifier: ISC */
/* unit-receipt.c: Check tests of a restart's receipt: the namespace's
 * counters parsed by name, the receipt's arithmetic and log line, the
 * ring, the accept queue's listener matching and its two diagnoses. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "acceptq.h"
#include "monotime.h"
#include "netstat.h"
#include "receipt.h"
#include "run-tests.h"
#include "sockdiag.h"

/* ---- netstat_field ------------------------------------------------------ */

static const struct {
	const char *text, *section, *name;
	int ok;
	uint64_t v;
} field_cases[] = {
    {"TcpExt: A ListenOverflows B\nTcpExt: 1 22 3\n", "TcpExt",
     "ListenOverflows", 1, 22},
    /* the last field, and a trailing blank on the names line (6.x) */
    {"TcpExt: A ListenDrops \nTcpExt: 1 18446744073709551615\n", "TcpExt",
     "ListenDrops", 1, 18446744073709551615ULL},
    /* by name, not by prefix */
    {"TcpExt: ListenDropsX ListenDrops\nTcpExt: 7 8\n", "TcpExt", "ListenDrops",
     1, 8},
    /* "Tcp" is not "TcpExt", and comes after it in no fixed place */
    {"TcpExt: OutRsts\nTcpExt: 5\nIp: X\nIp: 1\n"
     "Tcp: RtoAlgorithm MaxConn OutRsts\nTcp: 1 -1 62238\n",
     "Tcp", "OutRsts", 1, 62238},
    {"Tcp: MaxConn OutRsts\nTcp: -1 9\n", "TcpExt", "OutRsts", 0, 0},
    /* a negative or a broken value is no count */
    {"Tcp: MaxConn OutRsts\nTcp: -1 9\n", "Tcp", "MaxConn", 0, 0},
    {"Tcp: OutRsts\nTcp: 9x\n", "Tcp", "OutRsts", 0, 0},
    /* fewer values than names */
    {"TcpExt: A B ListenDrops\nTcpExt: 1 2\n", "TcpExt", "ListenDrops", 0, 0},
    /* names without values, nothing, another section only */
    {"TcpExt: ListenDrops\n", "TcpExt", "ListenDrops", 0, 0},
    {"", "TcpExt", "ListenDrops", 0, 0},
    {"IpExt: ListenDrops\nIpExt: 4\n", "TcpExt", "ListenDrops", 0, 0},
    /* the values line must be of the same section */
    {"TcpExt: ListenDrops\nIpExt: 4\nTcpExt: 5\n", "TcpExt", "ListenDrops", 1,
     5},
};

START_TEST(test_field)
{
	uint64_t v = 12345;
	int rc = netstat_field(field_cases[_i].text, field_cases[_i].section,
	                       field_cases[_i].name, &v);

	ck_assert_int_eq(rc, field_cases[_i].ok ? 0 : -1);
	if (field_cases[_i].ok)
		ck_assert_uint_eq(v, field_cases[_i].v);
}
END_TEST

static const char sample_netstat[] =
    "TcpExt: SyncookiesSent SyncookiesRecv TCPDeferAcceptDrop "
    "ListenOverflows ListenDrops TCPAbortOnData TCPAbortOnClose \n"
    "TcpExt: 1 2 3 430 431 7 11\n"
    "IpExt: InNoRoutes InTruncatedPkts\n"
    "IpExt: 0 0\n";
static const char sample_snmp[] =
    "Ip: Forwarding DefaultTTL\nIp: 2 64\n"
    "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens OutRsts "
    "InCsumErrors\n"
    "Tcp: 1 200 120000 -1 905526 62238 0\n"
    "Udp: InDatagrams\nUdp: 3\n";

START_TEST(test_parse)
{
	struct netstat c, d;

	netstat_parse(sample_netstat, sample_snmp, &c);
	ck_assert_uint_eq(
	    c.have, NETSTAT_HAS_LISTEN_OVERFLOWS | NETSTAT_HAS_LISTEN_DROPS |
	                NETSTAT_HAS_ABORT_ON_CLOSE | NETSTAT_HAS_OUT_RSTS |
	                NETSTAT_HAS_DEFER_ACCEPT_DROP);
	ck_assert_uint_eq(c.listen_overflows, 430);
	ck_assert_uint_eq(c.listen_drops, 431);
	ck_assert_uint_eq(c.abort_on_close, 11);
	ck_assert_uint_eq(c.defer_accept_drop, 3);
	ck_assert_uint_eq(c.out_rsts, 62238);
	/* one file missing: its counters only are not had */
	netstat_parse(sample_netstat, NULL, &d);
	ck_assert_uint_eq(d.have & NETSTAT_HAS_OUT_RSTS, 0);
	ck_assert_uint_eq(d.listen_drops, 431);
	netstat_parse(NULL, sample_snmp, &d);
	ck_assert_uint_eq(d.have, NETSTAT_HAS_OUT_RSTS);
	/* deltas: forward, back (0), not had (0) */
	d = c;
	d.out_rsts += 5;
	d.listen_drops -= 1;
	ck_assert_uint_eq(netstat_delta(&c, &d, NETSTAT_HAS_OUT_RSTS), 5);
	ck_assert_uint_eq(netstat_delta(&c, &d, NETSTAT_HAS_LISTEN_DROPS), 0);
	d.have &= ~(unsigned)NETSTAT_HAS_OUT_RSTS;
	ck_assert_uint_eq(netstat_delta(&c, &d, NETSTAT_HAS_OUT_RSTS), 0);
}
END_TEST

/* The real files, as an unprivileged reader would: every counter there
 * (each has been in the kernel since 2.6). */
START_TEST(test_read)
{
	struct netstat c;

	ck_assert_int_eq(netstat_read(&c), 0);
	ck_assert_uint_eq(
	    c.have, NETSTAT_HAS_LISTEN_OVERFLOWS | NETSTAT_HAS_LISTEN_DROPS |
	                NETSTAT_HAS_ABORT_ON_CLOSE | NETSTAT_HAS_OUT_RSTS |
	                NETSTAT_HAS_DEFER_ACCEPT_DROP);
	ck_assert_uint_ge(c.listen_drops, c.listen_overflows);
}
END_TEST

/* ---- the receipt ---------------------------------------------------------- */

static const struct receipt_spec specs[] = {
    {"0.0.0.0:80", QSTAT_TCP, -1, 0},
    {"127.0.0.1:81", QSTAT_TCP, -1, 1}, /* defer-accept */
    {"/run/app.sock", QSTAT_UNIX, -1, 0},
};

static void
begin(struct receipt *r, enum receipt_outcome unused)
{
	struct receipt_start s = {7, "hup", 7, 6, {1700000000.0, 100.0}};
	struct receipt_reading base[3];
	struct netstat ns;

	(void)unused;
	memset(base, 0, sizeof(base));
	base[0] = (struct receipt_reading){1, 1, 1, 0xfffffff0u, 3, 5, 40};
	base[1] = (struct receipt_reading){1, 1, 1, 100, 0, 0, 0};
	base[2] = (struct receipt_reading){0, 1, 0, 0, 2, 0, 0};
	netstat_parse(sample_netstat, sample_snmp, &ns);
	memset(r, 0, sizeof(*r));
	ck_assert_int_eq(receipt_init(r, &s, specs, 3, base, &ns), 0);
}

START_TEST(test_arithmetic)
{
	struct receipt r;
	struct receipt_reading now[3];
	struct receipt_sum sum;
	struct netstat ns;
	uint64_t cut[3] = {2, 0, 0};

	begin(&r, RECEIPT_IN_PROGRESS);
	ck_assert_str_eq(r.trigger, "hup");
	ck_assert_int_eq(r.outcome, RECEIPT_IN_PROGRESS);
	ck_assert(r.finished_at < 0 && r.ready_at < 0);
	/* sample 1: a queue of 14 waiting 38 ms, the drop counter wrapped */
	netstat_parse(sample_netstat, sample_snmp, &ns);
	memset(now, 0, sizeof(now));
	now[0] = (struct receipt_reading){1, 1, 1, 4, 14, 38, 41};
	now[1] = (struct receipt_reading){1, 1, 1, 103, 1, 5, 0};
	now[2] = (struct receipt_reading){0, 1, 0, 0, 9, 0, 0};
	ns.out_rsts += 4;
	ns.abort_on_close += 3;
	ns.defer_accept_drop += 2;
	ns.listen_overflows += 6;
	receipt_fold(&r, now, &ns, 100.5);
	/* sample 2: lower figures do not lower the peaks */
	now[0] = (struct receipt_reading){1, 1, 1, 6, 2, 10, 43};
	receipt_fold(&r, now, &ns, 101.42);
	ck_assert_uint_eq(r.l[0].dropped, 22); /* 0xfffffff0 -> 6 */
	ck_assert_uint_eq(r.l[0].abandoned, 3);
	ck_assert_uint_eq(r.l[0].queue_peak, 14);
	ck_assert_uint_eq(r.l[0].wait_max_ms, 38);
	/* defer-accept: 3 drops less the namespace's 2 deferred ACKs */
	ck_assert_uint_eq(r.l[1].dropped, 1);
	ck_assert_uint_eq(r.l[2].queue_peak, 9);
	ck_assert_uint_eq(r.l[2].dropped, 0);
	/* OutRsts holds TCPAbortOnClose's resets: not added twice */
	ck_assert_uint_eq(r.reset, 4);
	ck_assert_uint_eq(r.abort_on_close, 3);
	ck_assert_uint_eq(r.listen_overflows, 6);
	/* a new acceptq (the listeners changed) counts from 0 again: its 1
	 * adds to the 3, the drop counter of the same socket stands */
	now[0].abandoned = 1;
	receipt_fold(&r, now, &ns, 101.42);
	ck_assert_uint_eq(r.l[0].abandoned, 4);
	now[0].abandoned = 0;
	receipt_fold(&r, now, &ns, 101.42);
	ck_assert_uint_eq(r.l[0].abandoned, 4);
	now[0].abandoned = 43;
	receipt_add_cut(&r, cut);
	receipt_sum(&r, &sum);
	ck_assert_uint_eq(sum.dropped, 23);
	ck_assert_uint_eq(sum.abandoned, 4);
	ck_assert_uint_eq(sum.cut, 2);
	ck_assert_uint_eq(sum.total, 29);
	ck_assert_uint_eq(sum.queue_peak, 14);
	ck_assert_uint_eq(sum.wait_max_ms, 38);
	ck_assert_uint_eq(r.samples, 4);
	ck_assert(receipt_duration(&r) > 1.41 && receipt_duration(&r) < 1.43);
	receipt_clear(&r);
	ck_assert_ptr_null(r.l);
}
END_TEST

static const struct {
	enum receipt_outcome outcome;
	uint32_t drops; /* listener 0's counter at the end */
	const char *line;
} line_cases[] = {
    {RECEIPT_PROMOTED, 0xfffffff0u,
     "restart 7 (generation 6 \xe2\x86\x92 7, hup): 1.42 s, 0 connections "
     "lost (0 dropped, 0 abandoned, 0 cut); queue peak 14, longest wait "
     "38 ms"},
    {RECEIPT_PROMOTED, 0xfffffff1u,
     "restart 7 (generation 6 \xe2\x86\x92 7, hup): 1.42 s, 1 connection "
     "lost (1 dropped, 0 abandoned, 0 cut); queue peak 14, longest wait "
     "38 ms"},
    {RECEIPT_ROLLED_BACK, 5,
     "restart 7 (generation 6 \xe2\x86\x92 7, hup): 1.42 s, rolled back, "
     "22 connections lost (22 dropped, 0 abandoned, 0 cut); queue peak 14, "
     "longest wait 38 ms"},
    {RECEIPT_SUPERSEDED, 0xfffffff0u,
     "restart 7 (generation 6 \xe2\x86\x92 7, hup): 1.42 s, superseded, 0 "
     "connections lost (0 dropped, 0 abandoned, 0 cut); queue peak 14, "
     "longest wait 38 ms"},
    {RECEIPT_FAILED, 0xfffffff0u,
     "restart 7 (generation 6 \xe2\x86\x92 7, hup): 1.42 s, failed, 0 "
     "connections lost (0 dropped, 0 abandoned, 0 cut); queue peak 14, "
     "longest wait 38 ms"},
};

START_TEST(test_line)
{
	struct receipt r;
	struct receipt_reading now[3];
	struct receipt_when end = {1700000001.42, 101.42};
	char buf[512];

	begin(&r, line_cases[_i].outcome);
	memset(now, 0, sizeof(now));
	now[0] =
	    (struct receipt_reading){1, 1, 1, line_cases[_i].drops, 14, 38, 40};
	now[1] = (struct receipt_reading){1, 1, 1, 100, 1, 5, 0};
	/* listener 1 drops one when listener 0's counter wrapped past 0 */
	if (line_cases[_i].drops < 0xfffffff0u)
		now[1].drops = 101;
	receipt_fold(&r, now, NULL, 101.0);
	receipt_finish(&r, line_cases[_i].outcome, &end);
	ck_assert_int_lt(receipt_line(&r, buf, sizeof(buf)), (int)sizeof(buf));
	ck_assert_str_eq(buf, line_cases[_i].line);
	ck_assert(r.finished_at > 1700000001.4);
	receipt_clear(&r);
}
END_TEST

START_TEST(test_outcome_names)
{
	static const char *const names[] = {
	    "in_progress", "promoted", "rolled_back", "failed", "superseded"};
	enum receipt_outcome o;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ck_assert_str_eq(receipt_outcome_name((enum receipt_outcome)i),
		                 names[i]);
		ck_assert_int_eq(receipt_outcome_parse(names[i], &o), 0);
		ck_assert_int_eq(o, (int)i);
	}
	ck_assert_int_eq(receipt_outcome_parse("done", &o), -1);
	ck_assert_int_eq(receipt_outcome_parse("", &o), -1);
}
END_TEST

START_TEST(test_ring)
{
	static struct receipt_ring ring;
	struct receipt_start s = {0, "hup\n\x01injected", 0, 0, {0, 0}};
	struct receipt *r;
	unsigned long id;

	for (id = 1; id <= 20; id++) {
		s.id = id;
		s.generation = id + 1;
		s.previous = id;
		r = receipt_ring_next(&ring);
		ck_assert_int_eq(receipt_init(r, &s, specs, 3, NULL, NULL), 0);
	}
	ck_assert_uint_eq(ring.n, RECEIPT_RING);
	ck_assert_uint_eq(receipt_ring_at(&ring, 0)->id, 5);
	ck_assert_uint_eq(receipt_ring_at(&ring, RECEIPT_RING - 1)->id, 20);
	ck_assert_ptr_null(receipt_ring_at(&ring, RECEIPT_RING));
	ck_assert_ptr_null(receipt_ring_find(&ring, 4));
	ck_assert_ptr_nonnull(r = receipt_ring_find(&ring, 12));
	ck_assert_str_eq(r->l[2].key, "/run/app.sock");
	/* a trigger is a word of printable ASCII, bounded */
	ck_assert_str_eq(r->trigger, "hup??injected");
	receipt_ring_free(&ring);
	ck_assert_uint_eq(ring.n, 0);
}
END_TEST

/* ---- acceptq: matching and diagnoses ------------------------------------ */

START_TEST(test_match)
{
	struct acceptq_listener l[5];
	struct sockdiag_inet sk;
	struct acceptq q;

	memset(l, 0, sizeof(l));
	l[0] = (struct acceptq_listener){AF_INET, {0}, 8080, -1};
	l[1] =
	    (struct acceptq_listener){AF_INET, {htonl(0x7f000002)}, 8080, -1};
	l[2] = (struct acceptq_listener){AF_INET6, {0}, 9090, -1};
	l[3] = (struct acceptq_listener){0, {0}, 7070, -1}; /* unix: none */
	l[4] =
	    (struct acceptq_listener){AF_INET, {htonl(0x7f000001)}, 7070, -1};
	ck_assert_int_eq(acceptq_init(&q, l, 5, 8), 0);
	memset(&sk, 0, sizeof(sk));
	sk.family = AF_INET;
	sk.sport = 8080;
	sk.src[0] = htonl(0x7f000002);
	ck_assert_int_eq(acceptq_match(&q, &sk), 1); /* exact before any */
	sk.src[0] = htonl(0x7f000003);
	ck_assert_int_eq(acceptq_match(&q, &sk), 0);
	sk.sport = 9090; /* an IPv4 child of a dual-stack v6 listener */
	ck_assert_int_eq(acceptq_match(&q, &sk), 2);
	sk.family = AF_INET6;
	sk.src[0] = 0;
	sk.src[3] = htonl(1);
	ck_assert_int_eq(acceptq_match(&q, &sk), 2);
	sk.sport = 7070;
	ck_assert_int_eq(acceptq_match(&q, &sk), -1);
	sk.family = AF_INET;
	sk.src[0] = htonl(0x7f000001);
	ck_assert_int_eq(acceptq_match(&q, &sk), 4);
	sk.sport = 1;
	ck_assert_int_eq(acceptq_match(&q, &sk), -1);
	acceptq_free(&q);
}
END_TEST

START_TEST(test_diag_idle)
{
	struct acceptq_stat s;
	char buf[256];

	memset(&s, 0, sizeof(s));
	s.queued = 820;
	s.idle = 810;
	s.idle_old = 800;
	s.idle_old_min_ms = 12400;
	ck_assert_int_eq(acceptq_diag_idle(&s, "0.0.0.0:80", buf, sizeof(buf)),
	                 1);
	ck_assert_str_eq(buf, "800 of 820 queued connections on 0.0.0.0:80 "
	                      "have sent nothing for 12 s: an "
	                      "idle-connection flood? (see --defer-accept)");
	s.idle_old = 409; /* less than half the queue */
	ck_assert_int_eq(acceptq_diag_idle(&s, "k", buf, sizeof(buf)), 0);
	s.queued = 12;
	s.idle_old = ACCEPTQ_FLOOD_MIN - 1; /* too few */
	ck_assert_int_eq(acceptq_diag_idle(&s, "k", buf, sizeof(buf)), 0);
	s.idle_old = ACCEPTQ_FLOOD_MIN;
	ck_assert_int_eq(acceptq_diag_idle(&s, "k", buf, sizeof(buf)), 1);
}
END_TEST

START_TEST(test_window)
{
	struct acceptq_window w;
	uint64_t fresh, minute;
	char buf[256];

	memset(&w, 0, sizeof(w));
	ck_assert_uint_eq(acceptq_window_add(&w, 100, 1000.0, &fresh), 0);
	ck_assert_uint_eq(fresh, 0); /* the first call sets the baseline */
	ck_assert_uint_eq(acceptq_window_add(&w, 120, 1005.0, &fresh), 20);
	ck_assert_uint_eq(fresh, 20);
	ck_assert_uint_eq(acceptq_window_add(&w, 137, 1031.0, &fresh), 37);
	ck_assert_int_eq(
	    acceptq_diag_abandoned(37, fresh, "0.0.0.0:80", buf, sizeof(buf)),
	    1);
	ck_assert_str_eq(buf, "37 clients gave up while queued on 0.0.0.0:80 "
	                      "in the last minute: too few workers, or a "
	                      "stalled generation");
	/* nothing new: nothing to say, though the minute still holds 37 */
	minute = acceptq_window_add(&w, 137, 1040.0, &fresh);
	ck_assert_uint_eq(minute, 37);
	ck_assert_int_eq(
	    acceptq_diag_abandoned(minute, fresh, "k", buf, sizeof(buf)), 0);
	/* the first 20 leave the window after a minute */
	ck_assert_uint_eq(acceptq_window_add(&w, 138, 1062.0, &fresh), 18);
	/* a long silence empties it */
	ck_assert_uint_eq(acceptq_window_add(&w, 138, 5000.0, &fresh), 0);
	ck_assert_int_eq(acceptq_diag_abandoned(ACCEPTQ_ABANDON_MIN - 1, 1, "k",
	                                        buf, sizeof(buf)),
	                 0);
}
END_TEST

/* ---- acceptq and the receipt on real loopback sockets -------------------- */

/* A loopback listener nobody accepts on, with backlog; its entry. */
static int
listener(int backlog, struct sockaddr_in *a, struct acceptq_listener *l)
{
	socklen_t len = sizeof(*a);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(s, 0);
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s, (struct sockaddr *)a, sizeof(*a)), 0);
	ck_assert_int_eq(listen(s, backlog), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)a, &len), 0);
	*l = (struct acceptq_listener){
	    AF_INET, {a->sin_addr.s_addr}, ntohs(a->sin_port), s};
	return s;
}

static int
connect_to(const struct sockaddr_in *a, int nonblock)
{
	int c = socket(
	    AF_INET,
	    SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);

	ck_assert_int_ge(c, 0);
	if (connect(c, (const struct sockaddr *)a, sizeof(*a)) < 0)
		ck_assert_int_eq(nonblock, 1);
	return c;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Scan until listener 0 shows want gave-up connections, at most 2 s. */
static void
scan_until_gave_up(struct acceptq *q, uint32_t want)
{
	int i;

	for (i = 0; i < 200; i++) {
		ck_assert_int_eq(acceptq_scan(q, monotime_now()), 0);
		if (q->st[0].gave_up >= want)
			return;
		sleep_ms(10);
	}
	ck_abort_msg("%u gave up, not seen", want);
}

/* Within dump_gap a scan keeps the last dump's figures; after it, the
 * clients that gave up meanwhile are counted. */
START_TEST(test_dump_gap)
{
	struct sockaddr_in a;
	struct acceptq_listener l;
	struct acceptq q;
	int s = listener(16, &a, &l), c[2];

	ck_assert_int_eq(acceptq_init(&q, &l, 1, 0), 0);
	c[0] = connect_to(&a, 0);
	c[1] = connect_to(&a, 0);
	q.dump_gap = 1000;
	ck_assert_int_eq(acceptq_scan(&q, 10.0), 0);
	ck_assert_uint_eq(q.st[0].queued, 2);
	close(c[0]);
	close(c[1]);
	sleep_ms(50);
	ck_assert_int_eq(acceptq_scan(&q, 11.0), 0);
	ck_assert_uint_eq(q.dumps, 1);
	ck_assert_uint_eq(q.skipped, 1);
	ck_assert_uint_eq(q.st[0].queued, 2); /* the last dump's */
	ck_assert_uint_eq(q.st[0].len, 2);    /* fresh: from the fd */
	ck_assert_uint_eq(q.st[0].abandoned, 0);
	q.dump_gap = 0;
	scan_until_gave_up(&q, 2);
	ck_assert_uint_eq(q.st[0].queued, 0);
	ck_assert_uint_eq(q.st[0].abandoned, 2);
	acceptq_free(&q);
	close(s);
}
END_TEST

/* A full set of cookies defers, never double-counts: room for 3, 3
 * clients give up (counted), then 2 more (deferred); once the first 3
 * are accepted (the queue is first in, first out) and leave the set,
 * the 2 others are counted. */
START_TEST(test_cookies_full)
{
	struct sockaddr_in a;
	struct acceptq_listener l;
	struct acceptq q;
	int s = listener(16, &a, &l), c[5], i, k;

	ck_assert_int_eq(acceptq_init(&q, &l, 1, 3), 0);
	for (i = 0; i < 3; i++)
		c[i] = connect_to(&a, 0);
	for (i = 0; i < 3; i++)
		close(c[i]);
	scan_until_gave_up(&q, 3);
	ck_assert_uint_eq(q.st[0].abandoned, 3);
	for (i = 3; i < 5; i++)
		c[i] = connect_to(&a, 0);
	for (i = 3; i < 5; i++)
		close(c[i]);
	scan_until_gave_up(&q, 5);
	for (k = 0; k < 3; k++)
		ck_assert_int_eq(acceptq_scan(&q, monotime_now()), 0);
	ck_assert_uint_eq(q.st[0].abandoned, 3);
	ck_assert_uint_ge(q.deferred, 2);
	for (i = 0; i < 3; i++)
		ck_assert_int_ge(c[i] = accept(s, NULL, NULL), 0);
	for (k = 0; k < 3; k++)
		ck_assert_int_eq(acceptq_scan(&q, monotime_now()), 0);
	ck_assert_uint_eq(q.st[0].abandoned, 5);
	ck_assert_uint_eq(q.st[0].gave_up, 2);
	for (i = 0; i < 3; i++)
		close(c[i]);
	acceptq_free(&q);
	close(s);
}
END_TEST

/* IPv6: a listener on ::1, and a dual-stack one on :: whose IPv4 clients
 * wait as v4-mapped IPv6 sockets; one dump of both families. */
START_TEST(test_v6)
{
	struct sockaddr_in6 a6[2];
	struct sockaddr_in a4;
	struct acceptq_listener l[2];
	struct acceptq q;
	socklen_t len;
	int s[2], c[3], i, off = 0;

	for (i = 0; i < 2; i++) {
		s[i] = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ck_assert_int_ge(s[i], 0);
		memset(&a6[i], 0, sizeof(a6[i]));
		a6[i].sin6_family = AF_INET6;
		a6[i].sin6_addr = i == 0 ? in6addr_loopback : in6addr_any;
		ck_assert_int_eq(setsockopt(s[i], IPPROTO_IPV6, IPV6_V6ONLY,
		                            &off, sizeof(off)),
		                 0);
		ck_assert_int_eq(
		    bind(s[i], (struct sockaddr *)&a6[i], sizeof(a6[i])), 0);
		ck_assert_int_eq(listen(s[i], 16), 0);
		len = sizeof(a6[i]);
		ck_assert_int_eq(
		    getsockname(s[i], (struct sockaddr *)&a6[i], &len), 0);
		l[i] = (struct acceptq_listener){
		    AF_INET6, {0}, ntohs(a6[i].sin6_port), s[i]};
		memcpy(l[i].addr, &a6[i].sin6_addr, 16);
	}
	ck_assert_int_eq(acceptq_init(&q, l, 2, 0), 0);
	for (i = 0; i < 2; i++) {
		c[i] = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ck_assert_int_eq(
		    connect(c[i], (struct sockaddr *)&a6[0], sizeof(a6[0])), 0);
	}
	memset(&a4, 0, sizeof(a4));
	a4.sin_family = AF_INET;
	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a4.sin_port = a6[1].sin6_port;
	c[2] = connect_to(&a4, 0);
	ck_assert_int_eq(acceptq_scan(&q, monotime_now()), 0);
	ck_assert_uint_eq(q.st[0].queued, 2);
	ck_assert_uint_eq(q.st[1].queued, 1);
	for (i = 0; i < 3; i++)
		close(c[i]);
	scan_until_gave_up(&q, 2);
	for (i = 0; i < 20 && q.st[1].gave_up < 1; i++) {
		sleep_ms(10);
		ck_assert_int_eq(acceptq_scan(&q, monotime_now()), 0);
	}
	ck_assert_uint_eq(q.st[0].abandoned, 2);
	ck_assert_uint_eq(q.st[1].abandoned, 1);
	acceptq_free(&q);
	close(s[0]);
	close(s[1]);
}
END_TEST

/* The listener's own drop counter over the window: a queue of 3 (backlog
 * 2) and 6 SYNs, 3 of which find it full. */
START_TEST(test_dropped)
{
	struct receipt_start st = {1, "hup", 2, 1, {0, 0}};
	struct sockaddr_in a;
	struct acceptq_listener l;
	struct receipt_spec spec = {"127.0.0.1:0", QSTAT_TCP, -1, 0};
	struct receipt r;
	struct acceptq q;
	int s = listener(2, &a, &l), c[6], i;

	spec.fd = s;
	st.start.mono = monotime_now();
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(acceptq_init(&q, &l, 1, 0), 0);
	ck_assert_int_eq(receipt_begin(&r, &st, &spec, 1, &q), 0);
	for (i = 0; i < 6; i++)
		c[i] = connect_to(&a, 1);
	sleep_ms(100);
	ck_assert_int_eq(acceptq_scan(&q, monotime_now()), 0);
	receipt_sample(&r, &q, 0);
	ck_assert_uint_eq(r.l[0].queue_peak, 3);
	ck_assert_uint_eq(r.l[0].dropped, 0); /* a light sample */
	receipt_sample(&r, &q, 1);
	/* a dropped SYN is sent again after 1 s: 3, or a few more on a
	 * host that slow */
	ck_assert_uint_ge(r.l[0].dropped, 3);
	ck_assert_uint_le(r.l[0].dropped, 6);
	/* netns-wide, so at least these */
	ck_assert_uint_ge(r.listen_overflows, r.l[0].dropped);
	for (i = 0; i < 6; i++)
		close(c[i]);
	receipt_clear(&r);
	acceptq_free(&q);
	close(s);
}
END_TEST

void
tests_receipt(void)
{
	TCase *tn = unit_case("netstat"), *tr = unit_case("receipt"),
	      *ta = unit_case("acceptq");

	tcase_add_loop_test(tn, test_field, 0,
	                    sizeof(field_cases) / sizeof(field_cases[0]));
	tcase_add_test(tn, test_parse);
	tcase_add_test(tn, test_read);
	tcase_add_test(tr, test_arithmetic);
	tcase_add_loop_test(tr, test_line, 0,
	                    sizeof(line_cases) / sizeof(line_cases[0]));
	tcase_add_test(tr, test_outcome_names);
	tcase_add_test(tr, test_ring);
	tcase_add_test(tr, test_match);
	tcase_add_test(tr, test_dropped);
	tcase_add_test(ta, test_diag_idle);
	tcase_add_test(ta, test_window);
	tcase_add_test(ta, test_dump_gap);
	tcase_add_test(ta, test_cookies_full);
	tcase_add_test(ta, test_v6);
	tcase_set_timeout(tr, 30);
	tcase_set_timeout(ta, 30);
}
