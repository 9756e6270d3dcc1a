/* SPDX-License-Identifier: ISC */
/* qprobe.c: test helper printing one listener's kernel queues as JSON. */

/*
 * qprobe --kind tcp|unix|udp (--inode INO | --fd FD) [--syn]
 *        [--connect HOST:PORT|PATH --count N [--hold SECONDS]]
 *
 * Reads the queue of the socket with inode INO (the way an unprivileged
 * outside reader does) or of the inherited fd FD, through qstat, and
 * prints one line:
 *
 *   {"inode":N,"kind":"tcp","connected":N,"refused":N,"len":N,"limit":N,
 *    "drops":N,"syn":N}
 *
 * a figure the kernel did not give being null. With --connect it first
 * opens N non-blocking connections to the listener (TCP to HOST:PORT,
 * unix to PATH) and keeps them open while it reads: "connected" counts
 * those the kernel took, "refused" the others (EAGAIN on a full unix
 * queue). --hold keeps them open SECONDS more after the line is printed,
 * so that a script can look at them with ss(8) (it may kill qprobe
 * sooner). Exits 1 when the reading fails, 2 on a usage error.
 *
 * qprobe --held PGID --port PORT[,PORT...]
 *
 * Counts the established TCP connections on those local ports that the
 * processes of group PGID hold (procstat's walk of /proc and their
 * descriptors mapped onto one sock_diag dump), and prints
 *
 *   {"pgid":N,"processes":N,"sockets":N,"held":N}
 *
 * qprobe --acceptq K --talk T --wait MS
 *
 * The accept queue through acceptq.c, against clients it makes itself on
 * two loopback listeners nobody accepts on: K clients on the first (T of
 * them send a line halfway through the wait), 2 on the second. After MS
 * milliseconds one scan; then the K clients close, and it scans until
 * the K are seen as gave up (at most 2 s) and 3 times more. Prints
 *
 *   {"queued":K,"idle":K-T,"wait_max_ms":N,"wait_lo_ms":N,"wait_hi_ms":N,
 *    "other_queued":2,"abandoned":K,"abandoned_scans":N,
 *    "other_abandoned":0,"dumps":N}
 *
 * where the wait can be no less than wait_lo_ms (from the last connect
 * to the scan's start) and no more than wait_hi_ms (from the first
 * connect to the scan's end), to the kernel's clock tick.
 *
 * qprobe --cut K
 *
 * A listener, a process group (a child and its own child) that accepts
 * the K connections and holds them, one more accepted and held by qprobe
 * itself: receipt_cut for the group's leader, before the group is
 * SIGKILLed. Prints {"cut":N,"line":"restart 1 (...)"}.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <poll.h>
#include <signal.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "acceptq.h"
#include "monotime.h"
#include "procstat.h"
#include "qstat.h"
#include "receipt.h"
#include "sockdiag.h"

#define MAX_CONNECT 1000
#define MAX_HELD 65536

static int connected, refused;

static void
usage(void)
{
	fprintf(stderr, "usage: qprobe --kind tcp|unix|udp (--inode INO | "
	                "--fd FD) [--syn] [--connect ADDR --count N]\n"
	                "       qprobe --held PGID --port PORT[,PORT...]\n"
	                "       qprobe --acceptq K --talk T --wait MS\n"
	                "       qprobe --cut K\n");
	exit(2);
}

static int
connect_one(const char *target, int unix_kind)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int s;

	memset(&ss, 0, sizeof(ss));
	if (unix_kind) {
		struct sockaddr_un *un = (struct sockaddr_un *)&ss;

		un->sun_family = AF_UNIX;
		snprintf(un->sun_path, sizeof(un->sun_path), "%s", target);
		len = sizeof(*un);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		char host[64];
		const char *colon = strrchr(target, ':');

		if (colon == NULL || (size_t)(colon - target) >= sizeof(host))
			usage();
		memcpy(host, target, (size_t)(colon - target));
		host[colon - target] = '\0';
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)atoi(colon + 1));
		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			usage();
		len = sizeof(*in);
	}
	s = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0) {
		perror("qprobe: socket");
		exit(1);
	}
	if (connect(s, (struct sockaddr *)&ss, len) == 0 ||
	    errno == EINPROGRESS) {
		connected++;
		return s;
	}
	refused++;
	close(s);
	return -1;
}

static void
print_u(const char *name, int have, uint64_t v)
{
	if (have)
		printf(",\"%s\":%" PRIu64, name, v);
	else
		printf(",\"%s\":null", name);
}

struct held {
	pid_t pgid;
	uint64_t ino[MAX_HELD];
	size_t n, procs;
	int unreadable;
};

static int
held_proc(pid_t pid, const struct procstat *ps, void *arg)
{
	struct held *h = arg;

	if (ps->pgrp != h->pgid || ps->state == 'Z' || ps->state == 'X')
		return 0;
	h->procs++;
	if (procstat_socket_inodes(pid, h->ino, &h->n, MAX_HELD) < 0)
		h->unreadable++;
	return 0;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
held_main(const char *pgid, const char *ports_s)
{
	static struct held h;
	uint16_t ports[SOCKDIAG_MAX_PORTS];
	size_t nports = 0;
	const char *p = ports_s;
	uint64_t count;
	char *end;

	h.pgid = (pid_t)atol(pgid);
	while (*p != '\0' && nports < SOCKDIAG_MAX_PORTS) {
		ports[nports++] = (uint16_t)strtoul(p, &end, 10);
		p = *end == ',' ? end + 1 : end;
		if (end == p && *p != '\0')
			usage();
	}
	if (h.pgid <= 0 || nports == 0)
		usage();
	if (procstat_walk(SIZE_MAX, held_proc, &h) < 0 || h.unreadable) {
		perror("qprobe: /proc");
		return 1;
	}
	qsort(h.ino, h.n, sizeof(*h.ino), u64_cmp);
	if (sockdiag_count_held(-1, ports, nports, 1u << TCP_ESTABLISHED, h.ino,
	                        h.n, &count) < 0) {
		perror("qprobe: sock_diag");
		return 1;
	}
	printf("{\"pgid\":%ld,\"processes\":%zu,\"sockets\":%zu,"
	       "\"held\":%" PRIu64 "}\n",
	       (long)h.pgid, h.procs, h.n, count);
	return 0;
}

/* ---- --acceptq and --cut ------------------------------------------- */

#define MAX_QUEUE 512

static void
die(const char *what)
{
	fprintf(stderr, "qprobe: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* A loopback listener on a port of the kernel's choice. */
static int
loopback_listener(int backlog, struct sockaddr_in *a)
{
	socklen_t len = sizeof(*a);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)a, sizeof(*a)) < 0 ||
	    listen(s, backlog) < 0 ||
	    getsockname(s, (struct sockaddr *)a, &len) < 0)
		die("listener on 127.0.0.1");
	return s;
}

static int
client(const struct sockaddr_in *a)
{
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (c < 0 || connect(c, (const struct sockaddr *)a, sizeof(*a)) < 0)
		die("connect to 127.0.0.1");
	return c;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static long
ms_since(double t0, double t1)
{
	return (long)((t1 - t0) * 1000.0);
}

static void
queue_of(const struct sockaddr_in *a, int fd, struct acceptq_listener *l)
{
	memset(l, 0, sizeof(*l));
	l->family = AF_INET;
	memcpy(l->addr, &a->sin_addr, 4);
	l->port = ntohs(a->sin_port);
	l->fd = fd;
}

/* Scan until listener 0 shows want gave-up connections (at most 2 s),
 * then 3 times more: the number of scans. */
static int
scan_gave_up(struct acceptq *q, uint32_t want)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (acceptq_scan(q, monotime_now()) < 0)
			die("acceptq_scan");
		if (q->st[0].gave_up >= want)
			break;
		sleep_ms(10);
	}
	for (int k = 0; k < 3; k++)
		if (acceptq_scan(q, monotime_now()) < 0)
			die("acceptq_scan");
	return i + 4;
}

static int
acceptq_main(int k, int talk, int wait_ms)
{
	struct sockaddr_in a, b;
	struct acceptq_listener l[2];
	struct acceptq q;
	int cs[MAX_QUEUE], other[2], la, lb, i, scans;
	double first, last, s0, s1;
	uint32_t queued, idle, wait;

	if (k < 1 || k > MAX_QUEUE - 8 || talk < 0 || talk > k || wait_ms < 0)
		usage();
	la = loopback_listener(MAX_QUEUE, &a);
	lb = loopback_listener(16, &b);
	queue_of(&a, la, &l[0]);
	queue_of(&b, lb, &l[1]);
	if (acceptq_init(&q, l, 2, 0) < 0)
		die("acceptq_init");
	first = monotime_now();
	for (i = 0; i < k; i++)
		cs[i] = client(&a);
	last = monotime_now();
	other[0] = client(&b);
	other[1] = client(&b);
	sleep_ms(wait_ms / 2);
	for (i = 0; i < talk; i++)
		if (write(cs[i], "GET /\r\n", 7) != 7)
			die("write to the listener");
	sleep_ms(wait_ms - wait_ms / 2);
	s0 = monotime_now();
	if (acceptq_scan(&q, monotime_now()) < 0)
		die("acceptq_scan");
	s1 = monotime_now();
	queued = q.st[0].queued;
	idle = q.st[0].idle;
	wait = q.st[0].wait_max_ms;
	printf("{\"queued\":%" PRIu32 ",\"idle\":%" PRIu32
	       ",\"wait_max_ms\":%" PRIu32 ",\"wait_lo_ms\":%ld,"
	       "\"wait_hi_ms\":%ld,\"other_queued\":%" PRIu32,
	       queued, idle, wait, ms_since(last, s0), ms_since(first, s1),
	       q.st[1].queued);
	for (i = 0; i < k; i++)
		close(cs[i]);
	scans = scan_gave_up(&q, (uint32_t)k);
	printf(",\"abandoned\":%" PRIu64 ",\"abandoned_scans\":%d,"
	       "\"other_abandoned\":%" PRIu64 ",\"dumps\":%" PRIu64 "}\n",
	       q.st[0].abandoned, scans, q.st[1].abandoned, q.dumps);
	acceptq_free(&q);
	close(other[0]);
	close(other[1]);
	close(la);
	close(lb);
	return 0;
}

/* In the group: accept n connections on l, say so on fd w, and hold
 * them until killed (at most 30 s). */
static void
holder(int l, int n, int w)
{
	int held[MAX_QUEUE], i;

	alarm(30);
	for (i = 0; i < n; i++)
		if ((held[i] = accept(l, NULL, NULL)) < 0)
			_exit(1);
	if (write(w, "r", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

/* Wait for want bytes on fd r (each holder's "ready"), at most 10 s. */
static void
wait_ready(int r, int want)
{
	struct pollfd p = {r, POLLIN, 0};
	char c;

	while (want > 0) {
		if (poll(&p, 1, 10000) != 1 || read(r, &c, 1) != 1)
			die("the holders' ready");
		want--;
	}
}

static int
cut_main(int k)
{
	struct sockaddr_in a;
	struct acceptq_listener al;
	struct acceptq q;
	struct receipt r;
	struct receipt_spec spec = {"127.0.0.1:0", QSTAT_TCP, -1, 0};
	struct receipt_start st = {1, "hup", 2, 1, {0, 0}};
	int cs[MAX_QUEUE], p[2], l, i, mine, extra;
	pid_t child;
	char line[512];

	if (k < 2 || k > MAX_QUEUE - 8)
		usage();
	l = loopback_listener(MAX_QUEUE, &a);
	if (pipe2(p, O_CLOEXEC) < 0)
		die("pipe");
	if ((child = fork()) < 0)
		die("fork");
	if (child == 0) {
		setpgid(0, 0);
		/* the group's second process takes half */
		if (fork() == 0)
			holder(l, k / 2, p[1]);
		holder(l, k - k / 2, p[1]);
	}
	setpgid(child, child); /* either of the two may win the race */
	for (i = 0; i < k; i++)
		cs[i] = client(&a);
	wait_ready(p[0], 2);
	/* one connection held outside the group, on the same listener */
	extra = client(&a);
	if ((mine = accept(l, NULL, NULL)) < 0)
		die("accept");
	queue_of(&a, l, &al);
	spec.fd = l;
	st.start.wall = (double)time(NULL);
	st.start.mono = monotime_now();
	memset(&r, 0, sizeof(r));
	if (acceptq_init(&q, &al, 1, 0) < 0 ||
	    receipt_begin(&r, &st, &spec, 1, &q) < 0)
		die("receipt_begin");
	if (receipt_cut(&r, &q, &child, 1) < 0)
		die("receipt_cut");
	/* the child is unreaped: its pid, and so its group, is still ours */
	kill(-child, SIGKILL);
	waitpid(child, NULL, 0);
	receipt_sample(&r, &q, 1);
	receipt_finish(&r, RECEIPT_PROMOTED, &st.start);
	receipt_line(&r, line, sizeof(line));
	printf("{\"cut\":%" PRIu64 ",\"line\":\"%s\"}\n", r.l[0].cut, line);
	receipt_clear(&r);
	acceptq_free(&q);
	for (i = 0; i < k; i++)
		close(cs[i]);
	close(extra);
	close(mine);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *kind_s = NULL, *target = NULL;
	long long inode = -1;
	int fd = -1, syn = 0, count = 0, hold = 0, i, rc;
	enum qstat_kind kind;
	struct qstat q;
	struct timespec settle = {0, 100 * 1000 * 1000};

	if (argc == 5 && strcmp(argv[1], "--held") == 0 &&
	    strcmp(argv[3], "--port") == 0)
		return held_main(argv[2], argv[4]);
	if (argc == 7 && strcmp(argv[1], "--acceptq") == 0 &&
	    strcmp(argv[3], "--talk") == 0 && strcmp(argv[5], "--wait") == 0)
		return acceptq_main(atoi(argv[2]), atoi(argv[4]),
		                    atoi(argv[6]));
	if (argc == 3 && strcmp(argv[1], "--cut") == 0)
		return cut_main(atoi(argv[2]));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--syn") == 0)
			syn = 1;
		else if (i + 1 >= argc)
			usage();
		else if (strcmp(argv[i], "--kind") == 0)
			kind_s = argv[++i];
		else if (strcmp(argv[i], "--inode") == 0)
			inode = atoll(argv[++i]);
		else if (strcmp(argv[i], "--fd") == 0)
			fd = atoi(argv[++i]);
		else if (strcmp(argv[i], "--connect") == 0)
			target = argv[++i];
		else if (strcmp(argv[i], "--count") == 0)
			count = atoi(argv[++i]);
		else if (strcmp(argv[i], "--hold") == 0)
			hold = atoi(argv[++i]);
		else
			usage();
	}
	if (kind_s == NULL || (inode < 0) == (fd < 0) || count < 0 ||
	    count > MAX_CONNECT)
		usage();
	if (strcmp(kind_s, "tcp") == 0)
		kind = QSTAT_TCP;
	else if (strcmp(kind_s, "unix") == 0)
		kind = QSTAT_UNIX;
	else if (strcmp(kind_s, "udp") == 0)
		kind = QSTAT_UDP;
	else
		usage();
	if (target != NULL) {
		for (i = 0; i < count; i++)
			connect_one(target, kind == QSTAT_UNIX);
		/* loopback handshakes are done by now; let the kernel's
		 * softirq work settle before reading */
		nanosleep(&settle, NULL);
	}
	if (fd >= 0)
		rc = qstat_read_fd(fd, kind, syn, &q);
	else
		rc = qstat_read_inode((uint64_t)inode, kind, syn, &q);
	if (rc < 0) {
		fprintf(stderr,
		        "qprobe: cannot read the queue of %s %s %lld: %s\n",
		        kind_s, fd >= 0 ? "fd" : "inode",
		        fd >= 0 ? (long long)fd : inode, strerror(errno));
		return 1;
	}
	printf("{\"inode\":%" PRIu64 ",\"kind\":\"%s\",\"connected\":%d,"
	       "\"refused\":%d",
	       q.inode, kind_s, connected, refused);
	print_u("len", q.flags & QSTAT_HAS_QUEUE, q.len);
	print_u("limit", q.flags & QSTAT_HAS_QUEUE, q.limit);
	print_u("drops", q.flags & QSTAT_HAS_DROPS, q.drops);
	print_u("syn", q.flags & QSTAT_HAS_SYN, q.syn);
	printf("}\n");
	fflush(stdout);
	if (hold > 0)
		sleep((unsigned)hold);
	return 0;
}
