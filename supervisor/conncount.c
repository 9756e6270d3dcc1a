/* SPDX-License-Identifier: ISC */
/* conncount.c: the established connections each generation holds.
 *
 * A worker's accepted sockets carry the listener's cgroup, not the
 * worker's, so nothing in the socket names its holder: the holder is
 * whoever has its inode open. One sample reads the socket inodes of
 * every process in the workers' process groups (/proc/PID/fd: pgroup.c
 * gives each worker a group of its own, so helpers it forked count for
 * it) and maps them onto one sock_diag dump of the ESTABLISHED TCP
 * sockets on the listeners' ports, filtered by the kernel, and one
 * unix_diag dump of the connected stream sockets named as a unix
 * listener (an accepted unix socket carries its listener's path). A
 * socket open in two processes of a generation counts once, as ss(8)
 * shows it once; a connection still in a listener's queue is nobody's.
 *
 * When: the generations on their way out (retiring, killed, failed; all
 * of them while baton stops) every second, so that their count is at
 * most 1 s old (plus the sample's own time); every generation soon
 * after each change of state, and at rest every --metrics-interval,
 * stretched so that counting them all takes at most REST_SHARE of a CPU
 * (the fd walk is most of it, 6 to 20 us per socket: a serving
 * generation with 10,000 connections is counted every 6 to 20 s, see
 * bench/conncount-cost.sh), never less often than REST_MAX. The figures
 * are those of the last count: at rest, with connections neither opened
 * nor closed, they equal ss(8)'s. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "conncount.h"
#include "listen.h"
#include "log.h"
#include "monotime.h"
#include "procstat.h"
#include "sockdiag.h"

#define BUSY_PERIOD 1.0  /* seconds between samples while retiring */
#define REST_SHARE 0.01  /* the most CPU sampling takes at rest */
#define REST_MAX 60.0    /* the longest gap at rest */
#define INODES_FIRST 256 /* the first size of the per-process buffer */
#define MAX_UNIX 64      /* unix listeners matched by name */

/* One generation as counted. */
struct cgen {
	unsigned long id;
	enum gen_state state;
	int counted;        /* a sample counted it */
	uint64_t conns;     /* the last sample's count */
	double last_at;     /* monotonic: that sample's time */
	double retired_at;  /* monotonic: first sample retiring; 0 none */
	uint64_t at_retire; /* the count of that sample */
	double zero_since;  /* monotonic: 0 connections since; 0: holding */
	int killed;         /* --kill-when-drained done */
	int seen;           /* in the sample under way */
};

/* The processes of one sample: worker group ids and their owner. */
struct pgown {
	pid_t pgid;
	size_t owner;
};

struct walk {
	struct pgown *pg;
	size_t npg;
	struct sockdiag_owned *own;
	size_t n, cap;
	uint64_t *ino;
	size_t inocap;
	uint64_t procs;
	int err;
	int full; /* every generation, not only the busy ones */
};

static struct {
	struct ev_loop *loop;
	const struct options *o;
	struct conncount_hooks h;
	ev_timer timer;
	struct cgen *g;
	size_t ng;
	uint16_t ports[SOCKDIAG_MAX_PORTS];
	size_t nports;
	int nl; /* the sock_diag socket; -1: not open */
	int warned;
	/* the unix listeners' names (unix_names) */
	struct {
		char name[sizeof(((struct sockaddr_un *)0)->sun_path)];
		size_t len;
	} unix_names[MAX_UNIX];
	size_t nunix;
	struct conncount_cost cost;
	/* monotonic: when every generation is counted next (between two,
	 * only the busy ones are), and the CPU the last such count took */
	double full_due, full_cpu;
} C = {.nl = -1};

static int
retiring(enum gen_state st)
{
	return st == GEN_RETIRING || st == GEN_KILLED;
}

/* Counted every second: one on its way out, or all while baton stops. */
static int
busy(const struct snapshot *s, const struct snap_gen *g)
{
	return s->stopping || retiring(g->state) || g->state == GEN_FAILED;
}

static int
by_pgid(const void *a, const void *b)
{
	const struct pgown *x = a, *y = b;

	return (x->pgid > y->pgid) - (x->pgid < y->pgid);
}

static int
by_inode(const void *a, const void *b)
{
	const struct sockdiag_owned *x = a, *y = b;

	if (x->inode != y->inode)
		return (x->inode > y->inode) - (x->inode < y->inode);
	return (x->owner > y->owner) - (x->owner < y->owner);
}

static int
grow(void **p, size_t *cap, size_t want, size_t size)
{
	size_t n = *cap ? *cap : INODES_FIRST;
	void *q;

	while (n < want)
		n *= 2;
	if (n == *cap)
		return 0;
	if ((q = realloc(*p, n * size)) == NULL)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

/* A process of one of the workers' groups: its socket inodes, owned by
 * that worker's generation. */
static int
proc_cb(pid_t pid, const struct procstat *ps, void *arg)
{
	struct walk *w = arg;
	struct pgown key = {ps->pgrp, 0}, *hit;
	size_t n, i;

	hit = bsearch(&key, w->pg, w->npg, sizeof(*w->pg), by_pgid);
	if (hit == NULL)
		return 0;
	w->procs++;
	for (;;) {
		n = 0;
		if (procstat_socket_inodes(pid, w->ino, &n, w->inocap) < 0)
			return 0; /* gone meanwhile, or not ours to read */
		if (n < w->inocap)
			break;
		if (grow((void **)&w->ino, &w->inocap, w->inocap * 2,
		         sizeof(*w->ino)) < 0) {
			w->err = ENOMEM;
			return 1;
		}
	}
	if (grow((void **)&w->own, &w->cap, w->n + n, sizeof(*w->own)) < 0) {
		w->err = ENOMEM;
		return 1;
	}
	for (i = 0; i < n; i++) {
		w->own[w->n].inode = w->ino[i];
		w->own[w->n++].owner = hit->owner;
	}
	return 0;
}

/* The group ids of the live workers of s (of its busy generations only,
 * unless w->full), sorted, each with the index of its generation. */
static int
worker_groups(const struct snapshot *s, struct walk *w)
{
	size_t i, k, n = 0;

	for (i = 0; i < s->ngens; i++)
		n += s->gens[i].nw;
	if ((w->pg = calloc(n + 1, sizeof(*w->pg))) == NULL)
		return -1;
	for (i = 0; i < s->ngens; i++)
		for (k = 0;
		     (w->full || busy(s, &s->gens[i])) && k < s->gens[i].nw;
		     k++)
			if (s->gens[i].w[k].alive && s->gens[i].w[k].pid > 0) {
				w->pg[w->npg].pgid = (pid_t)s->gens[i].w[k].pid;
				w->pg[w->npg++].owner = i;
			}
	qsort(w->pg, w->npg, sizeof(*w->pg), by_pgid);
	return 0;
}

/* Sort the map and drop a pair seen twice (a socket open in two
 * processes, or twice in one, of a generation). */
static void
dedup(struct walk *w)
{
	size_t i, k = 0;

	qsort(w->own, w->n, sizeof(*w->own), by_inode);
	for (i = 0; i < w->n; i++)
		if (k == 0 || w->own[k - 1].inode != w->own[i].inode ||
		    w->own[k - 1].owner != w->own[i].owner)
			w->own[k++] = w->own[i];
	w->n = k;
}

struct unix_arg {
	const struct walk *w;
	uint64_t *counts;
	size_t ncounts;
};

static int
named_as_listener(const struct sockdiag_unix *sk)
{
	size_t i, len = sk->name_len;

	if (sk->name == NULL)
		return 0;
	/* a path may come with its NUL (the bound address's length); an
	 * abstract name starts with one and is taken whole */
	while (len > 0 && sk->name[0] != '\0' && sk->name[len - 1] == '\0')
		len--;
	for (i = 0; i < C.nunix; i++)
		if (C.unix_names[i].len == len &&
		    memcmp(C.unix_names[i].name, sk->name, len) == 0)
			return 1;
	return 0;
}

/* The name each unix listener is bound to, as the kernel has it
 * (getsockname on baton's own socket: an adopted abstract one's key is
 * "@" only), else its path. */
static void
unix_names(const struct options *o)
{
	struct sockaddr_un un;
	socklen_t sl;
	size_t i, len;

	for (i = 0; i < o->nls && C.nunix < MAX_UNIX; i++) {
		if (o->ls[i].kind != LISTEN_UNIX)
			continue;
		sl = sizeof(un);
		memset(&un, 0, sizeof(un));
		if (o->ls[i].fd >= 0 &&
		    getsockname(o->ls[i].fd, (struct sockaddr *)&un, &sl) ==
		        0 &&
		    sl > offsetof(struct sockaddr_un, sun_path)) {
			len = sl - offsetof(struct sockaddr_un, sun_path);
			while (len > 0 && un.sun_path[0] != '\0' &&
			       un.sun_path[len - 1] == '\0')
				len--;
		} else if (o->ls[i].path != NULL) {
			len = strlen(o->ls[i].path);
			if (len > sizeof(un.sun_path))
				continue;
			memcpy(un.sun_path, o->ls[i].path, len);
		} else
			continue;
		memcpy(C.unix_names[C.nunix].name, un.sun_path, len);
		C.unix_names[C.nunix++].len = len;
	}
}

/* A connected unix stream socket: counted for each owner of its inode
 * when it was accepted on one of baton's unix listeners. */
static int
unix_cb(const struct sockdiag_unix *sk, void *arg)
{
	const struct unix_arg *a = arg;
	const struct walk *w = a->w;
	size_t lo = 0, hi = w->n;

	if (sk->type != SOCK_STREAM || !named_as_listener(sk))
		return 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (w->own[mid].inode < sk->inode)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < w->n && w->own[lo].inode == sk->inode; lo++)
		if (w->own[lo].owner < a->ncounts)
			a->counts[w->own[lo].owner]++;
	return 0;
}

/* counts[i]: the connections of s->gens[i]. 0, or -1 with errno. */
static int
count(const struct snapshot *s, uint64_t *counts, struct walk *w)
{
	uint64_t *ucounts;
	struct unix_arg ua;
	int r = 0;

	if (worker_groups(s, w) < 0)
		return -1;
	if (w->npg > 0 && procstat_walk(SIZE_MAX, proc_cb, w) < 0)
		return -1;
	if (w->err != 0) {
		errno = w->err;
		return -1;
	}
	dedup(w);
	if (C.nl < 0 && (C.nl = sockdiag_open()) < 0)
		return -1;
	if (sockdiag_count_owned(C.nl, C.ports, C.nports, 1u << TCP_ESTABLISHED,
	                         w->own, w->n, counts, s->ngens) < 0)
		return -1;
	if (C.nunix == 0 || w->n == 0)
		return 0;
	if ((ucounts = calloc(s->ngens + 1, sizeof(*ucounts))) == NULL)
		return -1;
	ua.w = w;
	ua.counts = ucounts;
	ua.ncounts = s->ngens;
	if (sockdiag_unix_dump(C.nl, 1u << TCP_ESTABLISHED, SOCKDIAG_NAME,
	                       unix_cb, &ua) < 0)
		r = -1;
	for (size_t i = 0; r == 0 && i < s->ngens; i++)
		counts[i] += ucounts[i];
	free(ucounts);
	return r;
}

/* ---- the table of generations ---------------------------------------- */

static struct cgen *
find(unsigned long id)
{
	size_t i;

	for (i = 0; i < C.ng; i++)
		if (C.g[i].id == id)
			return &C.g[i];
	return NULL;
}

/* 1204 -> "1,204" */
static const char *
grouped(uint64_t v, char *buf, size_t len)
{
	char tmp[32];
	size_t n, i, k = 0;

	n = (size_t)snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	for (i = 0; i < n && k + 2 < len; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			buf[k++] = ',';
		buf[k++] = tmp[i];
	}
	buf[k] = '\0';
	return buf;
}

/* A generation no longer in the snapshot is gone: its drain, if it
 * retired, in the log. Its processes have exited, so it holds nothing
 * now; the count it last had says what its end cut (a worker that ends
 * its connections itself, or SIGKILL). */
static void
log_drain(const struct cgen *g, double now)
{
	char a[32], b[32], cut[96] = "";

	if (g->retired_at <= 0)
		return;
	if (g->conns > 0)
		snprintf(cut, sizeof(cut), " (%s still open %.1f s before)",
		         grouped(g->conns, b, sizeof(b)), now - g->last_at);
	log_info("generation %lu retired: %s connection%s \xe2\x86\x92 0 in "
	         "%.0f s%s",
	         g->id, grouped(g->at_retire, a, sizeof(a)),
	         g->at_retire == 1 ? "" : "s", now - g->retired_at, cut);
}

/* --kill-when-drained: SECONDS with no connection, counted from the
 * later of its retirement and its last connection. */
static void
check_drained(struct cgen *g, double now)
{
	double since, quiet = C.o->kill_when_drained;
	char why[160];

	if (quiet <= 0 || g->killed || g->state != GEN_RETIRING ||
	    g->conns != 0 || g->zero_since <= 0 || C.h.kill_drained == NULL)
		return;
	since = g->zero_since > g->retired_at ? g->zero_since : g->retired_at;
	if (now - since < quiet)
		return;
	g->killed = 1;
	snprintf(why, sizeof(why),
	         "its workers have held no connection for %.0f s "
	         "(--kill-when-drained=%g)",
	         now - since, quiet);
	C.h.kill_drained(g->id, why);
}

/* One generation's new figure; 1 when it moved. */
static int
update(const struct snap_gen *sg, uint64_t n, double now)
{
	struct cgen *g = find(sg->id), *p;
	int moved;

	if (g == NULL) {
		if ((p = realloc(C.g, (C.ng + 1) * sizeof(*C.g))) == NULL)
			return 0;
		C.g = p;
		g = &C.g[C.ng++];
		memset(g, 0, sizeof(*g));
		g->id = sg->id;
	}
	moved = !g->counted || g->conns != n;
	g->seen = 1;
	g->state = sg->state;
	g->counted = 1;
	g->conns = n;
	g->last_at = now;
	if (retiring(sg->state) && g->retired_at <= 0) {
		g->retired_at = now;
		g->at_retire = n;
	}
	if (n > 0)
		g->zero_since = 0;
	else if (g->zero_since <= 0)
		g->zero_since = now;
	return moved;
}

/* A generation this sample did not count (not busy): still there. A
 * new one is never skipped (conncount_changed makes the next sample a
 * full one). */
static void
keep(const struct snap_gen *sg)
{
	struct cgen *g = find(sg->id);

	if (g != NULL) {
		g->seen = 1;
		g->state = sg->state;
	}
}

/* Drop the generations the sample did not see (gone), logging each
 * drain; 1 when one was dropped. */
static int
sweep(double now)
{
	size_t i, k = 0;
	int moved = 0;

	for (i = 0; i < C.ng; i++) {
		if (C.g[i].seen) {
			C.g[i].seen = 0;
			C.g[k++] = C.g[i];
			continue;
		}
		log_drain(&C.g[i], now);
		moved = 1;
	}
	C.ng = k;
	return moved;
}

/* ---- sampling ---------------------------------------------------------- */

static double
cpu_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) < 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The next sample: every second while one retires (of the busy ones
 * only), and of every generation at rest's pace: --metrics-interval,
 * longer when a count of them all costs more than REST_SHARE of it. */
static void
plan(const struct snapshot *s, int full, double now)
{
	double rest = C.o->metrics_interval, next;
	size_t i;
	int any = 0;

	if (full) {
		if (C.full_cpu / REST_SHARE > rest)
			rest = C.full_cpu / REST_SHARE;
		C.full_due = now + (rest > REST_MAX ? REST_MAX : rest);
	}
	next = C.full_due - now;
	for (i = 0; i < s->ngens; i++)
		any |= busy(s, &s->gens[i]);
	if (any && next > BUSY_PERIOD)
		next = BUSY_PERIOD;
	if (next < 0)
		next = 0;
	ev_timer_stop(C.loop, &C.timer);
	ev_timer_set(&C.timer, next, 0);
	ev_timer_start(C.loop, &C.timer);
}

static int
sample_counts(const struct snapshot *s, uint64_t *counts, int full)
{
	struct walk w = {0};
	int r;

	w.full = full;
	r = count(s, counts, &w);
	C.cost.sockets = w.n;
	C.cost.procs = w.procs;
	free(w.pg);
	free(w.own);
	free(w.ino);
	return r;
}

static void
sample(void)
{
	struct snapshot s;
	uint64_t *counts;
	double cpu0 = cpu_now(), now = monotime_now();
	size_t i;
	int moved = 0, full = now >= C.full_due;

	if (C.h.get(&s, 0) < 0) {
		/* out of memory: the timer must run again (it is unref'd) */
		ev_timer_set(&C.timer, BUSY_PERIOD, 0);
		ev_timer_start(C.loop, &C.timer);
		return;
	}
	if ((counts = calloc(s.ngens + 1, sizeof(*counts))) == NULL ||
	    sample_counts(&s, counts, full) < 0) {
		if (!C.warned)
			log_warn("cannot count the generations' connections");
		C.warned = 1;
		/* the last figures stay; the next sample tries again */
	} else {
		C.warned = 0;
		for (i = 0; i < s.ngens; i++)
			if (full || busy(&s, &s.gens[i]))
				moved |= update(&s.gens[i], counts[i], now);
			else
				keep(&s.gens[i]);
		moved |= sweep(now);
		for (i = 0; i < C.ng; i++)
			check_drained(&C.g[i], now);
	}
	free(counts);
	C.cost.samples++;
	C.cost.cpu = cpu_now() - cpu0;
	if (full)
		C.full_cpu = C.cost.cpu;
	log_debug("connections counted (%s): %llu sockets of %llu "
	          "processes in the workers' groups, %.2f ms of CPU",
	          full ? "all" : "retiring", (unsigned long long)C.cost.sockets,
	          (unsigned long long)C.cost.procs, C.cost.cpu * 1e3);
	plan(&s, full, now);
	C.h.put(&s);
	if (moved && C.h.on_sample)
		C.h.on_sample(1);
}

static void
timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)t;
	(void)revents;
	sample();
}

/* ---- the public side --------------------------------------------------- */

void
conncount_start(struct ev_loop *loop, const struct options *o,
                const struct conncount_hooks *h)
{
	size_t i;

	C.loop = loop;
	C.o = o;
	C.h = *h;
	for (i = 0; i < o->nls; i++) {
		if (o->ls[i].kind == LISTEN_TCP && o->ls[i].bound_port > 0 &&
		    C.nports < SOCKDIAG_MAX_PORTS)
			C.ports[C.nports++] = (uint16_t)o->ls[i].bound_port;
	}
	unix_names(o);
	ev_timer_init(&C.timer, timer_cb, 0, 0);
	ev_timer_start(loop, &C.timer);
	/* counting must not keep the loop alive */
	ev_unref(loop);
}

void
conncount_changed(void)
{
	if (C.loop == NULL)
		return;
	C.full_due = 0;
	ev_timer_stop(C.loop, &C.timer);
	ev_timer_set(&C.timer, 0, 0);
	ev_timer_start(C.loop, &C.timer);
}

void
conncount_fill(struct snapshot *s)
{
	const struct cgen *g;
	size_t i;

	for (i = 0; i < s->ngens; i++)
		if ((g = find(s->gens[i].id)) != NULL && g->counted) {
			s->gens[i].has_connections = 1;
			s->gens[i].connections = g->conns;
		}
}

void
conncount_last_cost(struct conncount_cost *c)
{
	*c = C.cost;
}
