/* SPDX-License-Identifier: ISC */
/* sampler.c: the listen queues sampled by a libev timer
 * (--metrics-interval), kept per listener for the snapshot, and the
 * diagnosis lines made of them in the log: a stalled queue, drops, SYN
 * cookies filling a defer-accept listener, a backlog a worker changed.
 * It knows nothing of generations: after each sample it tells its
 * callback whether a published figure moved. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>

#include "exitcode.h"
#include "log.h"
#include "monotime.h"
#include "ratelimit.h"
#include "sampler.h"

/* Drops are reported at once, then at most once a minute while they go
 * on, each time with the count of the last minute. */
#define DROP_WINDOW 60.0

/* One listener as the sampler follows it. */
struct lq {
	struct qstat_track t;
	/* the stall: non-empty and never shrinking since stall_since */
	double stall_since;
	/* the drops of the current window (win_at 0: none open) */
	double win_at;
	uint64_t win_base;
	uint32_t win_max; /* the longest queue seen in it */
	uint32_t limit;   /* the limit last seen, to see a worker change it */
	struct qstat_cookie_track cookies; /* defer-accept listeners */
	/* sampled at least once; the last read failed; stall reported */
	unsigned char ok, failed, stall_warned;
};

static struct {
	struct ev_loop *loop;
	const struct options *o;
	void (*on_sample)(int moved);
	struct lq *lq;
	size_t n;
	ev_timer sample;
	long somaxconn;
	/* the namespace's SYN-cookie counters at this tick (defer_any) */
	struct qstat_cookies cookies;
	int cookies_ok, defer_any;
	int sampled; /* sampler_first has run */
} M;

static enum qstat_kind
kind_of(const struct listener *l)
{
	return l->kind == LISTEN_UDP    ? QSTAT_UDP
	       : l->kind == LISTEN_UNIX ? QSTAT_UNIX
	                                : QSTAT_TCP;
}

/* ---- diagnosis -------------------------------------------------------------- */

/* Clients can make a queue fill and drain at will, so the stall lines
 * are limited per cause (STYLE.md rule 5): one of each per 10 s, the
 * rest counted. */
static struct ratelimit rl_stall = RATELIMIT_INIT("accept-stall warnings");
static struct ratelimit rl_again = RATELIMIT_INIT("accepts-again lines");

static void
diagnose_stall(struct lq *q, const char *name, uint32_t prev_len, double now)
{
	const struct qstat *r = &q->t.last;
	char dropped[48] = "", more[64];

	if (!(r->flags & QSTAT_HAS_QUEUE) || M.o->accept_stall <= 0)
		return;
	if (r->len == 0 || r->len < prev_len) {
		if (q->stall_warned &&
		    ratelimit_check(&rl_again, more, sizeof(more)))
			log_info("%s accepts again (queue %u/%u)%s", name,
			         r->len, r->limit, more);
		q->stall_since = r->len ? now : 0;
		q->stall_warned = 0;
		return;
	}
	if (q->stall_since == 0)
		log_debug("%s: queue %u/%u not shrinking: watching for a stall "
		          "of %g s",
		          name, r->len, r->limit, M.o->accept_stall);
	if (q->stall_since == 0)
		q->stall_since = now;
	if (q->stall_warned || now - q->stall_since < M.o->accept_stall - 1e-3)
		return;
	if (r->flags & QSTAT_HAS_DROPS)
		snprintf(dropped, sizeof(dropped), ", %llu dropped",
		         (unsigned long long)r->drops);
	if (ratelimit_check(&rl_stall, more, sizeof(more)))
		log_warnx(
		    "nothing has accepted on %s for %g s (queue %u/%u%s)%s",
		    name, M.o->accept_stall, r->len, r->limit, dropped, more);
	q->stall_warned = 1;
}

static void
report_drops(const struct lq *q, const struct listener *l, const char *name,
             uint64_t n)
{
	const struct qstat *r = &q->t.last;
	char fix[128];

	if (!(r->flags & QSTAT_HAS_QUEUE)) {
		log_warnx("%s dropped %llu datagrams in the last minute "
		          "(receive buffer full); raise --rcvbuf",
		          name, (unsigned long long)n);
		return;
	}
	/* a defer-accept listener counts its silent clients as drops
	 * (qstat.h): only a queue seen full says the backlog is short */
	if (listen_eff(l)->val[SOCKOPT_DEFER_ACCEPT] > 0 &&
	    q->win_max <= r->limit)
		log_debug("%s: %llu drops not reported: a defer-accept "
		          "listener counts its silent clients as drops, and "
		          "its queue was never full",
		          name, (unsigned long long)n);
	if (listen_eff(l)->val[SOCKOPT_DEFER_ACCEPT] > 0 &&
	    q->win_max <= r->limit)
		return;
	if (M.somaxconn > 0 && r->limit < (uint32_t)M.somaxconn)
		snprintf(fix, sizeof(fix),
		         "raise --backlog (net.core.somaxconn caps it at %ld)",
		         M.somaxconn);
	else
		snprintf(fix, sizeof(fix),
		         "raise net.core.somaxconn (now %ld) and --backlog",
		         M.somaxconn);
	/* sk_drops counts packets (a SYN, or the final ACK of a handshake,
	 * that found the queue full), and a client sends its SYN again:
	 * not connections */
	log_warnx("%s dropped %llu handshake packets (SYN or final ACK) in "
	          "the last minute (queue %s %u/%u); %s",
	          name, (unsigned long long)n,
	          q->win_max > r->limit ? "full at" : "at", q->win_max,
	          r->limit, fix);
}

static void
diagnose_drops(struct lq *q, const struct listener *l, const char *name,
               uint64_t prev, double now)
{
	const struct qstat *r = &q->t.last;

	if (!(r->flags & QSTAT_HAS_DROPS))
		return;
	if ((r->flags & QSTAT_HAS_QUEUE) && r->len > q->win_max)
		q->win_max = r->len;
	if (q->win_at == 0) {
		if (r->drops > prev) {
			report_drops(q, l, name, r->drops - prev);
			q->win_at = now;
		}
		q->win_base = r->drops;
		q->win_max = r->len;
		return;
	}
	if (now - q->win_at < DROP_WINDOW - 1e-3)
		return;
	if (r->drops > q->win_base) {
		report_drops(q, l, name, r->drops - q->win_base);
		q->win_at = now;
	} else
		q->win_at = 0;
	q->win_base = r->drops;
	q->win_max = r->len;
}

/* A defer-accept listener whose queue filled while connections came in
 * through SYN cookies (qstat.h): defer-accept cannot hold those back. */
static void
diagnose_cookies(struct lq *q, const struct listener *l, const char *name)
{
	static struct ratelimit rl =
	    RATELIMIT_INIT("warnings about SYN cookies filling queues");
	const struct qstat *r = &q->t.last;
	char more[64];
	uint64_t n;

	if (!M.cookies_ok || kind_of(l) != QSTAT_TCP ||
	    listen_eff(l)->val[SOCKOPT_DEFER_ACCEPT] <= 0)
		return;
	n = qstat_cookie_check(&q->cookies, r, M.cookies.recv);
	if (n > 0 && ratelimit_check(&rl, more, sizeof(more)))
		log_warnx("%s filled its queue (%u/%u) while %llu connections "
		          "completed through SYN cookies, which skip "
		          "--defer-accept: an idle-connection flood? raise "
		          "--backlog and net.ipv4.tcp_max_syn_backlog%s",
		          name, r->len, r->limit, (unsigned long long)n, more);
}

/* ---- sampling ----------------------------------------------------------------- */

/* Sample listener i; 1 when a figure STATUS.json shows moved. */
static int
sample_one(size_t i, int64_t wall, double now)
{
	const struct listener *l = &M.o->ls[i];
	struct lq *q = &M.lq[i];
	struct qstat r;
	struct qstat_track old = q->t;
	char name[300];
	enum qstat_kind k = kind_of(l);

	if (l->fd < 0)
		return 0;
	listen_name(l, name, sizeof(name));
	if (qstat_read_fd(l->fd, k, M.o->metrics_syn_queue && k == QSTAT_TCP,
	                  &r) < 0) {
		if (!q->failed)
			log_warn("cannot read the queue of %s", name);
		q->failed = 1;
		return 0;
	}
	q->failed = 0;
	qstat_sample(&q->t, &r, wall);
	if (!q->ok) {
		q->ok = 1;
		q->limit = r.limit;
		q->win_base = r.drops;
		/* the cookie counter from before any client came */
		diagnose_cookies(q, l, name);
		return 1;
	}
	if ((r.flags & QSTAT_HAS_QUEUE) && r.limit != q->limit) {
		/* a worker may call listen() with another backlog at every
		 * sample: a cause an outside party drives (rule 5) */
		static struct ratelimit rl_backlog =
		    RATELIMIT_INIT("backlog changes");
		char more[64];

		if (ratelimit_check(&rl_backlog, more, sizeof(more)))
			log_warnx("the backlog of %s changed from %u to %u: a "
			          "worker called listen() on it again%s",
			          name, q->limit, r.limit, more);
		q->limit = r.limit;
	}
	diagnose_stall(q, name, old.last.len, now);
	diagnose_drops(q, l, name, old.last.drops, now);
	diagnose_cookies(q, l, name);
	/* the length too: a draining queue must not stay at its peak in
	 * STATUS.json */
	return qstat_moved(&old, &q->t);
}

static void
read_cookies(void)
{
	static struct ratelimit rl =
	    RATELIMIT_INIT("errors reading /proc/net/netstat");
	char more[64];

	M.cookies_ok = qstat_read_cookies(&M.cookies) == 0;
	if (!M.cookies_ok && ratelimit_check(&rl, more, sizeof(more)))
		log_warnx("cannot read SYN-cookie counters from "
		          "/proc/net/netstat: %s%s",
		          strerror(errno), more);
}

static void
sample_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	int64_t wall = (int64_t)time(NULL);
	int moved = 0;
	size_t i;

	if (M.defer_any)
		read_cookies();
	for (i = 0; i < M.n; i++)
		moved |= sample_one(i, wall, monotime_now());
	M.on_sample(moved);
}

/* ---- the public side ---------------------------------------------------- */

static long
read_somaxconn(void)
{
	FILE *f = fopen("/proc/sys/net/core/somaxconn", "re");
	long v = 0;

	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

void
sampler_open(struct ev_loop *loop, const struct options *o,
             void (*on_sample)(int moved))
{
	M.loop = loop;
	M.o = o;
	M.on_sample = on_sample;
	M.n = o->nls;
	M.lq = calloc(M.n + 1, sizeof(*M.lq));
	if (M.lq == NULL)
		fatalx(EXIT_SOFTWARE, "out of memory");
}

void
sampler_first(void)
{
	size_t i;

	if (M.sampled)
		return;
	M.sampled = 1;
	M.somaxconn = read_somaxconn();
	for (i = 0; i < M.n; i++)
		if (M.o->ls[i].kind == LISTEN_TCP &&
		    listen_eff(&M.o->ls[i])->val[SOCKOPT_DEFER_ACCEPT] > 0)
			M.defer_any = 1;
	if (M.defer_any)
		read_cookies();
	for (i = 0; i < M.n; i++)
		sample_one(i, (int64_t)time(NULL), monotime_now());
}

void
sampler_start(void)
{
	sampler_first();
	ev_timer_init(&M.sample, sample_cb, M.o->metrics_interval,
	              M.o->metrics_interval);
	ev_timer_start(M.loop, &M.sample);
	/* sampling must not keep the loop alive (gen.c's tick does not) */
	ev_unref(M.loop);
}

void
sampler_fill(struct snapshot *s)
{
	size_t i;

	for (i = 0; M.lq != NULL && i < s->nls && i < M.n; i++) {
		s->ls[i].has_queue = M.lq[i].ok;
		if (!M.lq[i].ok)
			continue;
		s->ls[i].inode = M.lq[i].t.last.inode;
		s->ls[i].queue = M.lq[i].t;
	}
}
