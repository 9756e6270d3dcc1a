/* SPDX-License-Identifier: ISC */
/* bench/receipt-cost.c: the CPU a restart's receipt costs: one scan of
 * the accept queues (acceptq_scan) and one receipt sample (the listeners'
 * queues and drops, /proc/net/netstat and snmp), with 10 and 1,000
 * listeners, their queues empty (no dump) and each holding one waiting
 * connection (one dump), beside 10,000 established connections on
 * another port; and the cut at a kill (a walk of /proc and one dump).
 * CPU microseconds per call (user + system, this process), and what a
 * restart of 1.5 s comes to (a scan and a light sample every
 * RECEIPT_TICK_MS, a dump every RECEIPT_DUMP_GAP when a queue is not
 * empty, a full sample at the start, the end and once a second), and
 * the steady sampler (one scan and light sample a second, a dump every
 * 5 s when a queue is not empty).
 *
 * build: cc -O2 -I. -Isupervisor bench/receipt-cost.c supervisor/acceptq.c \
 *            supervisor/receipt.c supervisor/netstat.c supervisor/qstat.c \
 *            supervisor/sockdiag.c supervisor/procstat.c \
 *            supervisor/monotime.c -o /tmp/receipt-cost
 * usage: /tmp/receipt-cost [ESTABLISHED] [ITERATIONS]  (10000, 200)
 * The connections live in children, 5,000 each; this process needs some
 * 2,000 descriptors (the soft limit is raised to the hard one). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acceptq.h"
#include "monotime.h"
#include "receipt.h"

#define MAX_LISTENERS 1000

static double
cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	       ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static void
die(const char *what)
{
	fprintf(stderr, "receipt-cost: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int
listener(struct sockaddr_in *a)
{
	socklen_t len = sizeof(*a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (struct sockaddr *)a, sizeof(*a)) < 0 ||
	    listen(l, 4096) < 0 ||
	    getsockname(l, (struct sockaddr *)a, &len) < 0)
		die("listener");
	return l;
}

/* Children holding n established connections (both ends) on ports of
 * their own, until killed, CHUNK connections each (2 * CHUNK descriptors
 * fit under a hard limit of 20,000); the first child's pid. */
#define CHUNK 5000
#define MAX_HOLDERS 64
static pid_t holders[MAX_HOLDERS];
static int nholders;

static pid_t established_chunk(int n);

static pid_t
established(int n)
{
	while (n > 0 && nholders < MAX_HOLDERS) {
		holders[nholders++] = established_chunk(n < CHUNK ? n : CHUNK);
		n -= CHUNK;
	}
	return holders[0];
}

static pid_t
established_chunk(int n)
{
	struct sockaddr_in a;
	int p[2], l, i;
	pid_t pid;
	char c;

	if (pipe(p) < 0 || (pid = fork()) < 0)
		die("pipe/fork");
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &c, 1) != 1) {
			fprintf(stderr,
			        "receipt-cost: the connections failed\n");
			exit(1);
		}
		close(p[0]);
		return pid;
	}
	l = listener(&a);
	for (i = 0; i < n; i++) {
		int c1 = socket(AF_INET, SOCK_STREAM, 0);

		if (c1 < 0 ||
		    connect(c1, (struct sockaddr *)&a, sizeof(a)) < 0 ||
		    accept(l, NULL, NULL) < 0)
			die("an established connection");
	}
	if (write(p[1], "x", 1) != 1)
		_exit(1);
	pause();
	_exit(0);
}

struct setup {
	int n, fd[MAX_LISTENERS], waiting[MAX_LISTENERS];
	struct acceptq_listener l[MAX_LISTENERS];
	struct receipt_spec spec[MAX_LISTENERS];
	char key[MAX_LISTENERS][32];
};

static void
make_listeners(struct setup *s, int n)
{
	struct sockaddr_in a;
	int i;

	s->n = n;
	for (i = 0; i < n; i++) {
		s->fd[i] = listener(&a);
		s->waiting[i] = -1;
		s->l[i] = (struct acceptq_listener){
		    AF_INET, {a.sin_addr.s_addr}, ntohs(a.sin_port), s->fd[i]};
		snprintf(s->key[i], sizeof(s->key[i]), "127.0.0.1:%u",
		         ntohs(a.sin_port));
		s->spec[i] =
		    (struct receipt_spec){s->key[i], QSTAT_TCP, s->fd[i], 0};
	}
}

/* One connection waiting in each listener's queue. */
static void
queue_one_each(struct setup *s)
{
	int i;

	for (i = 0; i < s->n; i++) {
		struct sockaddr_in a = {.sin_family = AF_INET};

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a.sin_port = htons(s->l[i].port);
		s->waiting[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s->waiting[i] < 0 ||
		    connect(s->waiting[i], (struct sockaddr *)&a, sizeof(a)) <
		        0)
			die("a waiting connection");
	}
}

static void
close_all(struct setup *s)
{
	int i;

	for (i = 0; i < s->n; i++) {
		close(s->fd[i]);
		if (s->waiting[i] >= 0)
			close(s->waiting[i]);
	}
}

/* CPU microseconds per call of f over iters calls. */
#define PER_CALL(iters, stmt)                                                  \
	({                                                                     \
		double t0_ = cpu_us();                                         \
		for (int i_ = 0; i_ < (iters); i_++)                           \
			stmt;                                                  \
		(cpu_us() - t0_) / (iters);                                    \
	})

/* What a restart of 1.5 s costs at RECEIPT_TICK_MS, and the steady
 * sampler at one scan a second with a dump every STEADY_GAP seconds. */
#define RESTART_S 1.5
#define STEADY_GAP 5.0

static void
scan_or_die(struct acceptq *q)
{
	if (acceptq_scan(q, monotime_now()) < 0)
		die("acceptq_scan");
}

static void
measure(struct setup *s, const char *what, int iters)
{
	struct receipt_start st = {1, "hup", 2, 1, {0, 0}};
	struct acceptq q;
	struct receipt r;
	double scan, light, full, dump = 0, restart, steady;
	int ticks = (int)(RESTART_S * 1000 / RECEIPT_TICK_MS);
	int dumps = (int)(RESTART_S / RECEIPT_DUMP_GAP);

	memset(&r, 0, sizeof(r));
	if (acceptq_init(&q, s->l, (size_t)s->n, 0) < 0 ||
	    acceptq_scan(&q, monotime_now()) < 0 ||
	    receipt_begin(&r, &st, s->spec, (size_t)s->n, &q) < 0)
		die("setup");
	/* a scan that needs a dump, every time; then one that skips it */
	scan = PER_CALL(iters, scan_or_die(&q));
	if (q.dumps > 0) {
		dump = scan;
		q.dump_gap = 1e9;
		scan = PER_CALL(iters, scan_or_die(&q));
	}
	light = PER_CALL(iters, receipt_sample(&r, &q, 0));
	full = PER_CALL(iters, receipt_sample(&r, &q, 1));
	restart = (ticks * (scan + light) + (dumps + 1) * dump +
	           (RESTART_S + 2) * full) /
	          1000.0;
	steady = (scan + light + dump / STEADY_GAP) / 1e4;
	printf("%5d listeners, %-22s scan %6.0f us, dump %6.0f us, light "
	       "sample %5.0f us, full %5.0f us; a %.1f s restart: %6.1f ms; "
	       "steady: %.2f %% of a core\n",
	       s->n, what, scan, dump, light, full, RESTART_S, restart, steady);
	receipt_clear(&r);
	acceptq_free(&q);
}

static void
measure_cut(struct setup *s, pid_t holder, int iters)
{
	struct receipt_start st = {1, "hup", 2, 1, {0, 0}};
	struct acceptq q;
	struct receipt r;
	double t;
	int i;

	memset(&r, 0, sizeof(r));
	if (acceptq_init(&q, s->l, (size_t)s->n, 0) < 0 ||
	    receipt_begin(&r, &st, s->spec, (size_t)s->n, &q) < 0)
		die("setup");
	for (i = 0, t = cpu_us(); i < iters; i++)
		if (receipt_cut(&r, &q, &holder, 1) < 0)
			die("receipt_cut");
	printf("%5d listeners, the cut of one worker group: %.0f us\n", s->n,
	       (cpu_us() - t) / iters);
	receipt_clear(&r);
	acceptq_free(&q);
}

int
main(int argc, char **argv)
{
	static struct setup s;
	int est = argc > 1 ? atoi(argv[1]) : 10000;
	int iters = argc > 2 ? atoi(argv[2]) : 200;
	struct rlimit rl;
	int sizes[] = {10, MAX_LISTENERS}, k;
	pid_t holder;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	holder = established(est);
	printf("%d established connections held by another process; %d "
	       "iterations\n",
	       est, iters);
	for (k = 0; k < 2; k++) {
		make_listeners(&s, sizes[k]);
		measure(&s, "queues empty:", iters);
		queue_one_each(&s);
		measure(&s, "one waiting in each:", iters);
		/* a worker group holding 5,000 connections */
		measure_cut(&s, holder, iters / 10 > 0 ? iters / 10 : 1);
		close_all(&s);
	}
	/* the children are unreaped: their pids are still ours */
	for (k = 0; k < nholders; k++) {
		kill(holders[k], SIGKILL);
		waitpid(holders[k], NULL, 0);
	}
	return 0;
}
