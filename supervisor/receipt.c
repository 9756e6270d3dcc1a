/* SPDX-License-Identifier: ISC */
/* receipt.c: one restart's receipt (dropped, abandoned, cut, the queue's
 * peak and longest wait, the namespace's resets), its log line, and the
 * ring of the last ones. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acceptq.h"
#include "monotime.h"
#include "procstat.h"
#include "receipt.h"

static const char *const outcome_names[] = {
    [RECEIPT_IN_PROGRESS] = "in_progress", [RECEIPT_PROMOTED] = "promoted",
    [RECEIPT_ROLLED_BACK] = "rolled_back", [RECEIPT_FAILED] = "failed",
    [RECEIPT_SUPERSEDED] = "superseded",
};
#define NOUTCOMES (sizeof(outcome_names) / sizeof(outcome_names[0]))

const char *
receipt_outcome_name(enum receipt_outcome o)
{
	return (size_t)o < NOUTCOMES ? outcome_names[o] : "unknown";
}

int
receipt_outcome_parse(const char *name, enum receipt_outcome *o)
{
	size_t i;

	for (i = 0; i < NOUTCOMES; i++)
		if (strcmp(name, outcome_names[i]) == 0) {
			*o = (enum receipt_outcome)i;
			return 0;
		}
	return -1;
}

void
receipt_clear(struct receipt *r)
{
	size_t i;

	for (i = 0; r->l != NULL && i < r->n; i++)
		free(r->l[i].key);
	free(r->l);
	memset(r, 0, sizeof(*r));
}

/* The trigger as a word for the log: printable ASCII, bounded. */
static void
copy_trigger(char *dst, const char *src)
{
	size_t i;

	for (i = 0;
	     src != NULL && src[i] != '\0' && i + 1 < RECEIPT_TRIGGER_MAX; i++)
		dst[i] = src[i] > ' ' && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
}

int
receipt_init(struct receipt *r, const struct receipt_start *s,
             const struct receipt_spec *l, size_t n,
             const struct receipt_reading *base, const struct netstat *ns)
{
	size_t i;

	receipt_clear(r);
	if ((r->l = calloc(n + 1, sizeof(*r->l))) == NULL)
		goto nomem;
	r->n = n;
	for (i = 0; i < n; i++) {
		struct receipt_listener *rl = &r->l[i];

		if ((rl->key = strdup(l[i].key != NULL ? l[i].key : "")) ==
		    NULL)
			goto nomem;
		rl->kind = l[i].kind;
		rl->fd = l[i].fd;
		rl->defer_accept = l[i].defer_accept;
		if (base != NULL)
			rl->base = base[i];
	}
	r->id = s->id;
	copy_trigger(r->trigger, s->trigger);
	r->generation = s->generation;
	r->previous = s->previous;
	r->outcome = RECEIPT_IN_PROGRESS;
	r->started_at = s->start.wall;
	r->ready_at = r->finished_at = -1;
	r->started_mono = r->last_mono = s->start.mono;
	if (ns != NULL)
		r->ns_base = *ns;
	return 0;
nomem:
	receipt_clear(r);
	errno = ENOMEM;
	return -1;
}

/* Does aq cover r's listeners (one entry each, in the same order)? */
static int
aq_fits(const struct receipt *r, const struct acceptq *aq)
{
	return aq != NULL && aq->n == r->n;
}

void
receipt_read(const struct receipt *r, const struct acceptq *aq,
             struct receipt_reading *rd, struct netstat *ns)
{
	size_t i;

	memset(rd, 0, r->n * sizeof(*rd));
	for (i = 0; i < r->n; i++) {
		const struct receipt_listener *rl = &r->l[i];
		struct qstat q;

		memset(&q, 0, sizeof(q));
		/* a light sample (ns NULL) takes a TCP queue from aq's
		 * scan, which read it already */
		if (rl->fd < 0 || rl->kind == QSTAT_UDP ||
		    (ns == NULL && rl->kind == QSTAT_TCP && aq_fits(r, aq)) ||
		    qstat_read_fd(rl->fd, rl->kind, 0, &q) < 0)
			continue;
		rd[i].has_len = (q.flags & QSTAT_HAS_QUEUE) != 0;
		rd[i].len = q.len;
		rd[i].has_drops = ns != NULL && (q.flags & QSTAT_HAS_DROPS);
		/* the kernel's counter is 32 bits wide */
		rd[i].drops = (uint32_t)q.drops;
	}
	for (i = 0; aq_fits(r, aq) && i < r->n; i++) {
		if (r->l[i].kind != QSTAT_TCP)
			continue;
		rd[i].has_scan = 1;
		rd[i].wait_max_ms = aq->st[i].wait_max_ms;
		rd[i].abandoned = aq->st[i].abandoned;
		if (!rd[i].has_len && aq->st[i].has_len) {
			rd[i].has_len = 1;
			rd[i].len = aq->st[i].len;
		}
	}
	if (ns != NULL && netstat_read(ns) < 0)
		memset(ns, 0, sizeof(*ns));
}

int
receipt_begin(struct receipt *r, const struct receipt_start *s,
              const struct receipt_spec *l, size_t n, const struct acceptq *aq)
{
	struct receipt_reading *base;
	struct netstat ns;
	int rc;

	/* receipt_read needs r's listeners: set up first, then read */
	if (receipt_init(r, s, l, n, NULL, NULL) < 0)
		return -1;
	if ((base = calloc(n + 1, sizeof(*base))) == NULL) {
		receipt_clear(r);
		errno = ENOMEM;
		return -1;
	}
	receipt_read(r, aq, base, &ns);
	rc = receipt_init(r, s, l, n, base, &ns);
	free(base);
	return rc;
}

static void
fold_listener(struct receipt_listener *rl, const struct receipt_reading *rd,
              uint64_t defer_drops)
{
	if (rd->has_len && rd->len > rl->queue_peak)
		rl->queue_peak = rd->len;
	if (rd->has_scan && rd->wait_max_ms > rl->wait_max_ms)
		rl->wait_max_ms = rd->wait_max_ms;
	if (rd->has_scan) {
		/* added up reading by reading: a total that went back is a
		 * new acceptq (the listeners changed), counting from 0 */
		if (rl->base.has_scan)
			rl->abandoned +=
			    rd->abandoned >= rl->base.abandoned
			        ? rd->abandoned - rl->base.abandoned
			        : rd->abandoned;
		rl->base.has_scan = 1;
		rl->base.abandoned = rd->abandoned;
	}
	if (rd->has_drops && rl->base.has_drops && rl->kind == QSTAT_TCP) {
		/* modulo 2^32: the counter wraps */
		uint64_t d = (uint32_t)(rd->drops - rl->base.drops);

		if (rl->defer_accept)
			d = d > defer_drops ? d - defer_drops : 0;
		rl->dropped = d;
	}
}

void
receipt_fold(struct receipt *r, const struct receipt_reading *now,
             const struct netstat *ns, double mono)
{
	uint64_t defer = 0;
	size_t i;

	if (ns != NULL) {
		const struct netstat *b = &r->ns_base;

		r->listen_overflows =
		    netstat_delta(b, ns, NETSTAT_HAS_LISTEN_OVERFLOWS);
		r->listen_drops =
		    netstat_delta(b, ns, NETSTAT_HAS_LISTEN_DROPS);
		r->abort_on_close =
		    netstat_delta(b, ns, NETSTAT_HAS_ABORT_ON_CLOSE);
		r->defer_accept_drop = defer =
		    netstat_delta(b, ns, NETSTAT_HAS_DEFER_ACCEPT_DROP);
		/* OutRsts holds TCPAbortOnClose's resets already; without
		 * it (no /proc/net/snmp), those are all there is */
		r->reset = (b->have & ns->have & NETSTAT_HAS_OUT_RSTS)
		               ? netstat_delta(b, ns, NETSTAT_HAS_OUT_RSTS)
		               : r->abort_on_close;
	}
	for (i = 0; now != NULL && i < r->n; i++)
		fold_listener(&r->l[i], &now[i], defer);
	r->samples++;
	if (mono > r->last_mono)
		r->last_mono = mono;
}

void
receipt_sample(struct receipt *r, const struct acceptq *aq, int full)
{
	struct receipt_reading *rd = calloc(r->n + 1, sizeof(*rd));
	struct netstat ns;

	if (rd == NULL) {
		receipt_fold(r, NULL, NULL, monotime_now());
		return;
	}
	receipt_read(r, aq, rd, full ? &ns : NULL);
	receipt_fold(r, rd, full ? &ns : NULL, monotime_now());
	free(rd);
}

void
receipt_add_cut(struct receipt *r, const uint64_t *per)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		r->l[i].cut += per[i];
}

static int
pid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The socket inodes of the processes a kill reaches. */
struct victims {
	const pid_t *pids; /* sorted */
	size_t npids;
	uint64_t *ino;
	size_t n, cap;
	int err; /* an errno: a process unreadable, or no memory */
};

static int
victim_cb(pid_t pid, const struct procstat *ps, void *arg)
{
	struct victims *v = arg;
	size_t before = v->n;

	if (ps->state == 'Z' || ps->state == 'X' ||
	    (!bsearch(&pid, v->pids, v->npids, sizeof(pid), pid_cmp) &&
	     !bsearch(&ps->pgrp, v->pids, v->npids, sizeof(pid), pid_cmp)))
		return 0;
	for (;;) {
		uint64_t *more;

		if (procstat_socket_inodes(pid, v->ino, &v->n, v->cap) < 0) {
			v->err = errno;
			return 1;
		}
		if (v->n < v->cap)
			return 0;
		/* perhaps cut short: read this process again, with room */
		more = realloc(v->ino, 2 * v->cap * sizeof(*more));
		if (more == NULL) {
			v->err = ENOMEM;
			return 1;
		}
		v->ino = more;
		v->cap *= 2;
		v->n = before;
	}
}

int
receipt_cut(struct receipt *r, struct acceptq *aq, const pid_t *pids, size_t n)
{
	struct victims v = {NULL, n, NULL, 0, 1024, 0};
	pid_t *sorted = malloc((n + 1) * sizeof(*sorted));
	uint64_t *per = calloc(r->n + 1, sizeof(*per));
	int rc = -1;

	v.ino = malloc(v.cap * sizeof(*v.ino));
	if (sorted == NULL || per == NULL || v.ino == NULL) {
		errno = ENOMEM;
		goto out;
	}
	if (n > 0)
		memcpy(sorted, pids, n * sizeof(*pids));
	qsort(sorted, n, sizeof(*sorted), pid_cmp);
	v.pids = sorted;
	if (aq->n != r->n) {
		errno = EINVAL;
		goto out;
	}
	if (procstat_walk(SIZE_MAX, victim_cb, &v) < 0)
		goto out;
	if (v.err != 0) {
		errno = v.err;
		goto out;
	}
	qsort(v.ino, v.n, sizeof(*v.ino), u64_cmp);
	if (acceptq_held(aq, v.ino, v.n, per) < 0)
		goto out;
	receipt_add_cut(r, per);
	rc = 0;
out:
	free(sorted);
	free(per);
	free(v.ino);
	return rc;
}

void
receipt_ready(struct receipt *r, double wall)
{
	r->ready_at = wall;
}

void
receipt_finish(struct receipt *r, enum receipt_outcome outcome,
               const struct receipt_when *t)
{
	r->outcome = outcome;
	r->finished_at = t->wall;
	r->last_mono = t->mono;
}

void
receipt_sum(const struct receipt *r, struct receipt_sum *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < r->n; i++) {
		const struct receipt_listener *rl = &r->l[i];

		s->dropped += rl->dropped;
		s->abandoned += rl->abandoned;
		s->cut += rl->cut;
		if (rl->queue_peak > s->queue_peak)
			s->queue_peak = rl->queue_peak;
		if (rl->wait_max_ms > s->wait_max_ms)
			s->wait_max_ms = rl->wait_max_ms;
	}
	s->total = s->dropped + s->abandoned + s->cut;
}

double
receipt_duration(const struct receipt *r)
{
	double d = r->last_mono - r->started_mono;

	return d > 0 ? d : 0;
}

int
receipt_line(const struct receipt *r, char *buf, size_t len)
{
	static const char *const said[] = {
	    [RECEIPT_IN_PROGRESS] = "in progress, ",
	    [RECEIPT_PROMOTED] = "",
	    [RECEIPT_ROLLED_BACK] = "rolled back, ",
	    [RECEIPT_FAILED] = "failed, ",
	    [RECEIPT_SUPERSEDED] = "superseded, ",
	};
	struct receipt_sum s;

	receipt_sum(r, &s);
	return snprintf(
	    buf, len,
	    "restart %lu (generation %lu \xe2\x86\x92 %lu, %s): %.2f s, "
	    "%s%" PRIu64 " connection%s lost (%" PRIu64 " dropped, %" PRIu64
	    " abandoned, %" PRIu64 " cut); queue peak %" PRIu32
	    ", longest wait %" PRIu32 " ms",
	    r->id, r->previous, r->generation,
	    r->trigger[0] != '\0' ? r->trigger : "unknown", receipt_duration(r),
	    (size_t)r->outcome < NOUTCOMES ? said[r->outcome] : "", s.total,
	    s.total == 1 ? "" : "s", s.dropped, s.abandoned, s.cut,
	    s.queue_peak, s.wait_max_ms);
}

struct receipt *
receipt_ring_next(struct receipt_ring *ring)
{
	struct receipt *r;

	if (ring->n == RECEIPT_RING) {
		receipt_clear(&ring->r[ring->first]);
		ring->first = (ring->first + 1) % RECEIPT_RING;
		ring->n--;
	}
	r = &ring->r[(ring->first + ring->n) % RECEIPT_RING];
	receipt_clear(r);
	ring->n++;
	return r;
}

const struct receipt *
receipt_ring_at(const struct receipt_ring *ring, size_t i)
{
	return i < ring->n ? &ring->r[(ring->first + i) % RECEIPT_RING] : NULL;
}

struct receipt *
receipt_ring_find(struct receipt_ring *ring, unsigned long id)
{
	size_t i;

	for (i = 0; i < ring->n; i++) {
		struct receipt *r = &ring->r[(ring->first + i) % RECEIPT_RING];

		if (r->id == id)
			return r;
	}
	return NULL;
}

void
receipt_ring_free(struct receipt_ring *ring)
{
	size_t i;

	for (i = 0; i < RECEIPT_RING; i++)
		receipt_clear(&ring->r[i]);
	ring->first = ring->n = 0;
}
