/* SPDX-License-Identifier: ISC */
/* arrivals.c: is traffic still arriving, while --stop-delay=auto waits?
 *
 * A new connection is counted by the network namespace's passive opens
 * (Tcp PassiveOpens in /proc/net/snmp: every connection a listener of
 * the namespace completed, whether or not a worker accepted it yet).
 * Per listener the kernel keeps no such counter (a listener's tcp_info
 * is its queue and backlog), and a sock_diag sample sees only the
 * connections alive at that instant: a request on a fresh connection,
 * answered and closed in a millisecond, falls between two samples. The
 * namespace's counter misses none of them. In a container (a network
 * namespace of its own, the case --stop-delay=auto is for) it counts
 * baton's listeners only; on a shared host it counts other programs'
 * connections too, which can only make baton wait longer, up to MAX,
 * never stop while its own traffic still arrives. Unix listeners are
 * not counted (no such counter for them).
 *
 * Read every POLL seconds (one small file read) while the wait lasts. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "arrivals.h"
#include "log.h"
#include "monotime.h"
#include "netstat.h"

#define POLL 0.1
#define SNMP_BUF 8192

static struct {
	struct ev_loop *loop;
	void (*quiet)(const char *why);
	ev_timer timer;
	double began, last; /* monotonic: the wait's start, last arrival */
	uint64_t opens;     /* PassiveOpens at the last read */
	uint64_t arrived;   /* connections counted during the wait */
	int have, warned;
} A;

/* The namespace's passive opens. 0, or -1 with errno. */
static int
passive_opens(uint64_t *v)
{
	char buf[SNMP_BUF];
	ssize_t n;
	size_t len = 0;
	int fd;

	if ((fd = open("/proc/net/snmp", O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	while (len + 1 < sizeof(buf) &&
	       (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	return netstat_field(buf, "Tcp", "PassiveOpens", v);
}

static void
poll_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	double now = monotime_now();
	char why[160];
	uint64_t v;

	(void)loop;
	(void)t;
	(void)revents;
	if (passive_opens(&v) < 0) {
		if (!A.warned)
			log_warn("cannot read /proc/net/snmp: --stop-delay="
			         "auto waits its MAX");
		A.warned = 1;
		return;
	}
	if (!A.have || v != A.opens) {
		if (A.have) {
			A.arrived += v - A.opens;
			A.last = now;
		}
		A.opens = v;
		A.have = 1;
		return;
	}
	if (now - A.began < ARRIVALS_MIN || now - A.last < ARRIVALS_QUIET)
		return;
	snprintf(why, sizeof(why),
	         "no connection arrived for %.1fs (%llu arrived while it "
	         "waited)",
	         now - A.last, (unsigned long long)A.arrived);
	ev_timer_stop(A.loop, &A.timer);
	A.quiet(why);
}

void
arrivals_init(struct ev_loop *loop, void (*quiet)(const char *why))
{
	A.loop = loop;
	A.quiet = quiet;
	ev_timer_init(&A.timer, poll_cb, POLL, POLL);
}

void
arrivals_watch(int on)
{
	ev_timer_stop(A.loop, &A.timer);
	if (!on)
		return;
	A.began = A.last = monotime_now();
	A.have = 0;
	A.arrived = 0;
	A.warned = 0;
	poll_cb(A.loop, &A.timer, 0);
	ev_timer_start(A.loop, &A.timer);
}
