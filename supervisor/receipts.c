/* SPDX-License-Identifier: ISC */
/* receipts.c: the restarts' receipts while baton runs. It owns the ring
 * of the last RECEIPT_RING receipts and the one accept-queue scanner of
 * baton's listeners, index-aligned with them. The sampler's tick scans
 * for the always-on figures (receipts_steady); while a receipt is in
 * progress a RECEIPT_TICK_MS timer scans and samples it (receipt.h says
 * why that fast). gen.c tells of each step through hooks main.c wires,
 * and knows nothing of this file. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "acceptq.h"
#include "exitcode.h"
#include "listen.h"
#include "log.h"
#include "monotime.h"
#include "ratelimit.h"
#include "receipt.h"
#include "receipts.h"
#include "sockdiag.h"

/* A diagnosis is said once per episode: the flood when it begins (again
 * only once it has ended), the clients that gave up once a burst of
 * them is over (a scan finds no new one) or has gone on for
 * DIAG_SETTLE seconds, with the count of the last minute. */
#define DIAG_SETTLE 10.0
struct diag_state {
	unsigned char flooding, pending;
	double pending_since; /* monotonic */
};

static struct {
	struct ev_loop *loop;
	const struct options *o;
	void (*on_change)(int now);
	size_t n;
	struct receipt_spec *spec;
	char **names; /* the listeners as the log names them */
	struct acceptq aq;
	int aq_ok; /* aq is set up */
	struct acceptq_window *win;
	struct diag_state *diag;
	struct acceptq_stat *shown; /* the figures last published */
	struct receipt_ring ring;
	/* per ring slot, while its receipt is in progress: the new
	 * generation serves; the previous one is gone */
	unsigned char promoted[RECEIPT_RING], prev_gone[RECEIPT_RING];
	unsigned long last_id;
	ev_timer tick;
	unsigned long ticks;
	uint64_t lost_dropped, lost_abandoned, lost_cut;
} R;

/* ---- the scanner ---------------------------------------------------------- */

static void
scan(void)
{
	static struct ratelimit rl =
	    RATELIMIT_INIT("errors reading the accept queues");
	char more[64];

	if (!R.aq_ok)
		return;
	if (acceptq_scan(&R.aq, monotime_now()) < 0 &&
	    ratelimit_check(&rl, more, sizeof(more)))
		log_warn("cannot read the accept queues (sock_diag)%s", more);
}

/* The acceptq listener of l: its bound address, from the socket. */
static void
aq_listener(const struct listener *l, struct acceptq_listener *a)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(a, 0, sizeof(*a));
	a->fd = l->fd;
	if (l->kind != LISTEN_TCP || l->fd < 0)
		return;
	if (getsockname(l->fd, (struct sockaddr *)&ss, &len) < 0) {
		log_warn("cannot read the address of %s: its accept queue "
		         "is not scanned",
		         l->key);
		return;
	}
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)&ss;

		a->family = AF_INET;
		memcpy(&a->addr[0], &in->sin_addr, 4);
		a->port = ntohs(in->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)&ss;

		a->family = AF_INET6;
		memcpy(a->addr, &in6->sin6_addr, 16);
		a->port = ntohs(in6->sin6_port);
	}
}

static enum qstat_kind
kind_of(const struct listener *l)
{
	return l->kind == LISTEN_UDP    ? QSTAT_UDP
	       : l->kind == LISTEN_UNIX ? QSTAT_UNIX
	                                : QSTAT_TCP;
}

/* ---- receipts in progress ------------------------------------------------ */

static size_t
slot_of(const struct receipt *r)
{
	return (size_t)(r - R.ring.r);
}

/* The newest receipt in progress that pred picks (NULL: none). */
static struct receipt *
find(int (*pred)(const struct receipt *r, unsigned long gen), unsigned long gen)
{
	size_t i;

	for (i = R.ring.n; i > 0; i--) {
		struct receipt *r =
		    (struct receipt *)receipt_ring_at(&R.ring, i - 1);

		if (r->outcome == RECEIPT_IN_PROGRESS && pred(r, gen))
			return r;
	}
	return NULL;
}

static int
any(const struct receipt *r, unsigned long gen)
{
	(void)r;
	(void)gen;
	return 1;
}

static int
starts(const struct receipt *r, unsigned long gen)
{
	return r->generation == gen;
}

static int
replaces(const struct receipt *r, unsigned long gen)
{
	return r->previous == gen;
}

static void
tick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	int full = ++R.ticks % RECEIPT_FULL_EVERY == 0;
	size_t i;

	(void)loop;
	(void)t;
	(void)revents;
	scan();
	for (i = 0; i < R.ring.n; i++) {
		struct receipt *r =
		    (struct receipt *)receipt_ring_at(&R.ring, i);

		if (r->outcome == RECEIPT_IN_PROGRESS)
			receipt_sample(r, R.aq_ok ? &R.aq : NULL, full);
	}
}

/* The fast tick runs while a receipt is in progress, and only then. */
static void
fast(int on)
{
	if (on && !ev_is_active(&R.tick)) {
		R.aq.dump_gap = RECEIPT_DUMP_GAP;
		R.ticks = 0;
		ev_timer_set(&R.tick, RECEIPT_TICK_MS / 1000.0,
		             RECEIPT_TICK_MS / 1000.0);
		ev_timer_start(R.loop, &R.tick);
		/* sampling must not keep the loop alive */
		ev_unref(R.loop);
	} else if (!on && ev_is_active(&R.tick)) {
		ev_ref(R.loop);
		ev_timer_stop(R.loop, &R.tick);
		R.aq.dump_gap = 0;
	}
}

static void
finish(struct receipt *r, enum receipt_outcome outcome)
{
	struct receipt_when t = {(double)time(NULL), monotime_now()};
	struct receipt_sum s;
	struct timespec ts;
	char line[512];

	if (clock_gettime(CLOCK_REALTIME, &ts) == 0)
		t.wall = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	scan();
	receipt_sample(r, R.aq_ok ? &R.aq : NULL, 1);
	receipt_finish(r, outcome, &t);
	receipt_sum(r, &s);
	R.lost_dropped += s.dropped;
	R.lost_abandoned += s.abandoned;
	R.lost_cut += s.cut;
	receipt_line(r, line, sizeof(line));
	log_info("%s", line);
	if (find(any, 0) == NULL)
		fast(0);
	R.on_change(0);
}

/* ---- what gen.c tells ---------------------------------------------------- */

static double
wall_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return (double)time(NULL);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void
receipts_trigger(const char *trigger, unsigned long generation,
                 unsigned long previous)
{
	struct receipt_start st = {0};
	struct receipt *r;

	if (R.o == NULL)
		return;
	while ((r = find(any, 0)) != NULL)
		finish(r, RECEIPT_SUPERSEDED);
	scan();
	r = receipt_ring_next(&R.ring);
	st.id = ++R.last_id;
	st.trigger = trigger;
	st.generation = generation;
	st.previous = previous;
	st.start.wall = wall_now();
	st.start.mono = monotime_now();
	if (receipt_begin(r, &st, R.spec, R.n, R.aq_ok ? &R.aq : NULL) < 0)
		fatalx(EXIT_SOFTWARE, "out of memory");
	R.promoted[slot_of(r)] = 0;
	R.prev_gone[slot_of(r)] = 0;
	fast(1);
	R.on_change(0);
}

void
receipts_started(unsigned long generation, unsigned long previous)
{
	struct receipt *r = find(any, 0);

	if (r == NULL)
		return;
	r->generation = generation;
	r->previous = previous;
}

void
receipts_ready(unsigned long generation)
{
	struct receipt *r = find(starts, generation);

	if (r != NULL)
		receipt_ready(r, wall_now());
}

void
receipts_promoted(unsigned long generation)
{
	struct receipt *r = find(starts, generation);

	if (r == NULL)
		return;
	if (r->ready_at < 0)
		receipt_ready(r, wall_now());
	R.promoted[slot_of(r)] = 1;
	if (r->previous == 0 || R.prev_gone[slot_of(r)])
		finish(r, RECEIPT_PROMOTED);
}

void
receipts_gone(unsigned long generation)
{
	struct receipt *r;

	while ((r = find(replaces, generation)) != NULL &&
	       !R.prev_gone[slot_of(r)]) {
		R.prev_gone[slot_of(r)] = 1;
		if (R.promoted[slot_of(r)])
			finish(r, RECEIPT_PROMOTED);
	}
}

void
receipts_failed(unsigned long generation, int rolled_back)
{
	struct receipt *r = find(starts, generation);

	if (r != NULL)
		finish(r, rolled_back ? RECEIPT_ROLLED_BACK : RECEIPT_FAILED);
}

void
receipts_kill(unsigned long generation, const pid_t *pids, size_t n)
{
	static struct ratelimit rl =
	    RATELIMIT_INIT("errors counting the connections cut");
	struct receipt *r = find(replaces, generation);
	char more[64];

	if (r == NULL)
		r = find(any, 0);
	if (r == NULL || !R.aq_ok || n == 0)
		return;
	if (receipt_cut(r, &R.aq, pids, n) < 0 &&
	    ratelimit_check(&rl, more, sizeof(more)))
		log_warn("cannot count the connections generation %lu holds "
		         "before SIGKILL%s",
		         generation, more);
}

/* ---- the steady scan ------------------------------------------------------ */

/* The two diagnoses of listener i, each rate-limited (an outside party
 * causes both). */
static void
diagnose(size_t i, double now)
{
	static struct ratelimit rl_idle =
	    RATELIMIT_INIT("idle-connection flood warnings");
	static struct ratelimit rl_gave_up =
	    RATELIMIT_INIT("warnings about clients giving up while queued");
	const struct acceptq_stat *st = &R.aq.st[i];
	struct diag_state *d = &R.diag[i];
	uint64_t minute, fresh;
	char line[512], more[64];

	if (!acceptq_diag_idle(st, R.names[i], line, sizeof(line))) {
		d->flooding = 0;
	} else if (!d->flooding) {
		d->flooding = 1;
		if (ratelimit_check(&rl_idle, more, sizeof(more)))
			log_warnx("%s%s", line, more);
	}
	minute = acceptq_window_add(&R.win[i], st->abandoned, now, &fresh);
	if (fresh > 0 && !d->pending) {
		d->pending = 1;
		d->pending_since = now;
	}
	if (!d->pending || (fresh > 0 && now - d->pending_since < DIAG_SETTLE))
		return;
	d->pending = 0;
	if (acceptq_diag_abandoned(minute, 1, R.names[i], line, sizeof(line)) &&
	    ratelimit_check(&rl_gave_up, more, sizeof(more)))
		log_warnx("%s%s", line, more);
}

int
receipts_steady(void)
{
	double now = monotime_now();
	int moved = 0;
	size_t i;

	if (!R.aq_ok)
		return 0;
	/* the fast tick scans while a restart is in progress */
	if (!ev_is_active(&R.tick))
		scan();
	for (i = 0; i < R.n; i++) {
		const struct acceptq_stat *st = &R.aq.st[i];

		if (R.aq.l[i].family == 0)
			continue;
		diagnose(i, now);
		moved |= st->wait_max_ms != R.shown[i].wait_max_ms ||
		         st->idle != R.shown[i].idle ||
		         st->abandoned != R.shown[i].abandoned;
		R.shown[i] = *st;
	}
	/* a receipt in progress shows its figures so far */
	return moved || ev_is_active(&R.tick);
}

/* ---- the snapshot --------------------------------------------------------- */

static void
fill_receipt(struct snap_receipt *o, const struct receipt *r)
{
	struct receipt_sum sum;
	size_t i;

	receipt_sum(r, &sum);
	o->id = r->id;
	o->trigger = r->trigger[0] ? r->trigger : NULL;
	o->generation = r->generation;
	o->previous = r->previous;
	o->started_at = r->started_at;
	o->ready_at = r->ready_at;
	o->finished_at = r->finished_at;
	o->duration = receipt_duration(r);
	o->outcome = receipt_outcome_name(r->outcome);
	o->dropped = sum.dropped;
	o->abandoned = sum.abandoned;
	o->cut = sum.cut;
	o->total = sum.total;
	o->reset = r->reset;
	o->abort_on_close = r->abort_on_close;
	o->listen_overflows = r->listen_overflows;
	o->listen_drops = r->listen_drops;
	o->queue_peak = sum.queue_peak;
	o->wait_max_ms = sum.wait_max_ms;
	/* the listeners with a figure other than 0 only: 16 receipts of
	 * 1,000 listeners each would make every write of STATUS.json 2 MB */
	o->nl = 0;
	for (i = 0; i < r->n; i++) {
		const struct receipt_listener *l = &r->l[i];
		struct snap_receipt_listener *x = &o->l[o->nl];

		if (l->dropped + l->abandoned + l->cut == 0 &&
		    l->queue_peak == 0 && l->wait_max_ms == 0)
			continue;
		x->key = l->key;
		x->dropped = l->dropped;
		x->abandoned = l->abandoned;
		x->cut = l->cut;
		x->total = l->dropped + l->abandoned + l->cut;
		x->queue_peak = l->queue_peak;
		x->wait_max_ms = l->wait_max_ms;
		o->nl++;
	}
}

int
receipts_fill(struct snapshot *s)
{
	size_t i;

	if (R.o == NULL)
		return 0;
	for (i = 0; R.aq_ok && i < s->nls && i < R.n; i++) {
		if (R.aq.l[i].family == 0 || R.aq.scans == 0)
			continue;
		s->ls[i].has_acceptq = 1;
		s->ls[i].wait_max_ms = R.aq.st[i].wait_max_ms;
		s->ls[i].idle = R.aq.st[i].idle;
		s->ls[i].abandoned = R.aq.st[i].abandoned;
	}
	s->has_lost = 1;
	s->lost_dropped = R.lost_dropped;
	s->lost_abandoned = R.lost_abandoned;
	s->lost_cut = R.lost_cut;
	if (R.ring.n == 0)
		return 0;
	if ((s->receipts = calloc(R.ring.n, sizeof(*s->receipts))) == NULL)
		return -1;
	for (i = 0; i < R.ring.n; i++) {
		const struct receipt *r = receipt_ring_at(&R.ring, i);
		struct snap_receipt *o = &s->receipts[i];

		if ((o->l = calloc(r->n + 1, sizeof(*o->l))) == NULL)
			return -1;
		s->nreceipts = i + 1;
		fill_receipt(o, r);
	}
	return 0;
}

/* ---- set-up ---------------------------------------------------------------- */

void
receipts_open(struct ev_loop *loop, const struct options *o,
              void (*on_change)(int now))
{
	struct acceptq_listener *al;
	char name[300];
	size_t i;

	R.loop = loop;
	R.o = o;
	R.on_change = on_change;
	R.n = o->nls;
	ev_timer_init(&R.tick, tick_cb, 0, 0);
	R.spec = calloc(R.n + 1, sizeof(*R.spec));
	R.names = calloc(R.n + 1, sizeof(*R.names));
	R.win = calloc(R.n + 1, sizeof(*R.win));
	R.diag = calloc(R.n + 1, sizeof(*R.diag));
	R.shown = calloc(R.n + 1, sizeof(*R.shown));
	al = calloc(R.n + 1, sizeof(*al));
	if (R.spec == NULL || R.names == NULL || R.win == NULL ||
	    R.diag == NULL || R.shown == NULL || al == NULL)
		fatalx(EXIT_SOFTWARE, "out of memory");
	for (i = 0; i < R.n; i++) {
		const struct listener *l = &o->ls[i];

		R.spec[i].key = l->key;
		R.spec[i].kind = kind_of(l);
		R.spec[i].fd = l->fd;
		R.spec[i].defer_accept =
		    l->kind == LISTEN_TCP &&
		    listen_eff(l)->val[SOCKOPT_DEFER_ACCEPT] > 0;
		if ((R.names[i] = strdup(listen_name(l, name, sizeof(name)))) ==
		    NULL)
			fatalx(EXIT_SOFTWARE, "out of memory");
		aq_listener(l, &al[i]);
	}
	if (acceptq_init(&R.aq, al, R.n, 0) < 0)
		fatalx(EXIT_SOFTWARE, "out of memory");
	free(al);
	R.aq_ok = 1;
	/* the sock_diag socket now, not at the first restart: baton's fds
	 * stay as they are from the start on (a dump that fails closes it,
	 * the next one opens it again) */
	if (R.aq.ntcp > 0 && (R.aq.nl = sockdiag_open()) < 0)
		log_warn("cannot open a sock_diag socket for the accept "
		         "queues");
	scan();
}

void
receipts_close(void)
{
	size_t i;

	if (R.o == NULL)
		return;
	fast(0);
	receipt_ring_free(&R.ring);
	if (R.aq_ok)
		acceptq_free(&R.aq);
	for (i = 0; i < R.n; i++)
		free(R.names[i]);
	free(R.names);
	free(R.spec);
	free(R.win);
	free(R.diag);
	free(R.shown);
	memset(&R, 0, sizeof(R));
}
