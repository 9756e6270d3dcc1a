/* SPDX-License-Identifier: ISC */
/* acceptq.c: TCP listeners' accept queues seen through one sock_diag dump:
 * waiting connections, their longest wait, the idle ones, and the clients
 * that gave up while queued, each counted once. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acceptq.h"
#include "sockdiag.h"

static const struct acceptq *sort_q; /* for port_cmp: qsort has no arg */

static int
port_cmp(const void *a, const void *b)
{
	uint16_t x = sort_q->l[*(const size_t *)a].port;
	uint16_t y = sort_q->l[*(const size_t *)b].port;

	return x < y ? -1 : x > y;
}

int
acceptq_init(struct acceptq *q, const struct acceptq_listener *l, size_t n,
             size_t cap)
{
	size_t i;

	memset(q, 0, sizeof(*q));
	q->nl = -1;
	q->cap = cap != 0 ? cap : ACCEPTQ_COOKIES;
	q->n = n;
	q->l = calloc(n + 1, sizeof(*q->l));
	q->st = calloc(n + 1, sizeof(*q->st));
	q->by_port = calloc(n + 1, sizeof(*q->by_port));
	q->dumped = calloc(n + 1, 1);
	q->ports = calloc(n + 1, sizeof(*q->ports));
	q->seen = calloc(q->cap, sizeof(*q->seen));
	q->kept = calloc(q->cap, sizeof(*q->kept));
	q->cand = calloc(q->cap, sizeof(*q->cand));
	if (q->l == NULL || q->st == NULL || q->by_port == NULL ||
	    q->dumped == NULL || q->ports == NULL || q->seen == NULL ||
	    q->kept == NULL || q->cand == NULL) {
		acceptq_free(q);
		errno = ENOMEM;
		return -1;
	}
	if (n > 0)
		memcpy(q->l, l, n * sizeof(*l));
	for (i = 0; i < n; i++)
		if (l[i].family == AF_INET || l[i].family == AF_INET6)
			q->by_port[q->ntcp++] = i;
	sort_q = q;
	qsort(q->by_port, q->ntcp, sizeof(*q->by_port), port_cmp);
	sort_q = NULL;
	return 0;
}

void
acceptq_free(struct acceptq *q)
{
	if (q->nl >= 0)
		close(q->nl);
	free(q->l);
	free(q->st);
	free(q->by_port);
	free(q->dumped);
	free(q->ports);
	free(q->seen);
	free(q->kept);
	free(q->cand);
	memset(q, 0, sizeof(*q));
	q->nl = -1;
}

static int
addr_any(const uint32_t a[4])
{
	return a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0;
}

/* How well listener l takes a connection whose local address is sk's: 3
 * the same address, 2 a wildcard of its family, 1 a v6 listener for an
 * IPv4 one (wildcard or v4-mapped), 0 not at all. */
static int
addr_score(const struct acceptq_listener *l, const struct sockdiag_inet *sk)
{
	if (sk->family == l->family) {
		if (memcmp(sk->src, l->addr, l->family == AF_INET ? 4 : 16) ==
		    0)
			return 3;
		return addr_any(l->addr) ? 2 : 0;
	}
	if (l->family == AF_INET6 && sk->family == AF_INET)
		return (addr_any(l->addr) ||
		        (l->addr[0] == 0 && l->addr[1] == 0 &&
		         l->addr[2] == htonl(0xffff) &&
		         l->addr[3] == sk->src[0]))
		           ? 1
		           : 0;
	return 0;
}

long
acceptq_match(const struct acceptq *q, const struct sockdiag_inet *sk)
{
	size_t lo = 0, hi = q->ntcp;
	long best = -1;
	int score = 0, s;

	/* the first listener on the port, then each one after it */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (q->l[q->by_port[mid]].port < sk->sport)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < q->ntcp && q->l[q->by_port[lo]].port == sk->sport; lo++) {
		s = addr_score(&q->l[q->by_port[lo]], sk);
		if (s > score) {
			score = s;
			best = (long)q->by_port[lo];
		}
	}
	return best;
}

/* The accept queue and backlog of baton's listening fd: the kernel puts
 * them in a listener's tcpi_unacked and tcpi_sacked (tcp_get_info). 0,
 * or -1 when the fd cannot say. */
static int
fd_queue(int fd, uint32_t *len, uint32_t *limit)
{
	struct tcp_info ti;
	socklen_t tlen = sizeof(ti);

	if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tlen) < 0 ||
	    ti.tcpi_state != TCP_LISTEN)
		return -1;
	*len = ti.tcpi_unacked;
	*limit = ti.tcpi_sacked;
	return 0;
}

/* A listener's figures of a dump, zeroed: before a dump, or when its
 * queue is empty (nothing waits, nobody that gave up is queued). */
static void
clear_dump_figures(struct acceptq_stat *st)
{
	st->queued = st->idle = st->idle_old = st->idle_old_min_ms = 0;
	st->wait_max_ms = st->gave_up = 0;
}

/* Which listeners need a dump (those whose queue is not known to be
 * empty), and the ports to ask for: the number of ports, 0 for a dump of
 * every port (more than the kernel filters), or -1 when nothing needs a
 * dump. */
static long
plan_dump(struct acceptq *q)
{
	size_t i, np = 0, k;

	for (k = 0; k < q->ntcp; k++) {
		struct acceptq_stat *st;

		i = q->by_port[k];
		st = &q->st[i];
		st->abandoned_new = 0;
		st->has_len = fd_queue(q->l[i].fd, &st->len, &st->limit) == 0;
		q->dumped[i] = !st->has_len || st->len > 0;
		if (!q->dumped[i])
			clear_dump_figures(st);
		else if (np == 0 || q->ports[np - 1] != q->l[i].port)
			q->ports[np++] = q->l[i].port; /* by_port is sorted */
	}
	if (np == 0)
		return -1;
	return np > SOCKDIAG_MAX_PORTS ? 0 : (long)np;
}

static int
cookie_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct acceptq_seen *)a)->cookie;
	uint64_t y = ((const struct acceptq_seen *)b)->cookie;

	return x < y ? -1 : x > y;
}

/* A queued connection whose client closed: kept when counted before,
 * else a candidate for counting. */
static void
gave_up(struct acceptq *q, size_t i, uint64_t cookie)
{
	struct acceptq_seen key = {cookie, i};

	q->st[i].gave_up++;
	if (bsearch(&key, q->seen, q->nseen, sizeof(key), cookie_cmp)) {
		if (q->nkept < q->cap)
			q->kept[q->nkept++] = key;
	} else if (q->ncand < q->cap) {
		q->cand[q->ncand++] = key;
	} else {
		q->deferred++;
	}
}

/* A queued connection still waiting: its wait and whether it is idle. */
static void
waiting(struct acceptq_stat *st, const struct sockdiag_inet *sk)
{
	const size_t need = offsetof(struct tcp_info, tcpi_last_data_sent) +
	                    sizeof(sk->info->tcpi_last_data_sent);
	uint32_t wait = 0;
	int known = sk->info != NULL && sk->info_len >= need;

	st->queued++;
	if (known) {
		wait = sk->info->tcpi_last_data_sent;
		if (wait > st->wait_max_ms)
			st->wait_max_ms = wait;
	}
	if (sk->rqueue != 0)
		return;
	st->idle++;
	if (known && wait >= ACCEPTQ_IDLE_OLD_MS) {
		if (st->idle_old == 0 || wait < st->idle_old_min_ms)
			st->idle_old_min_ms = wait;
		st->idle_old++;
	}
}

static int
scan_cb(const struct sockdiag_inet *sk, void *arg)
{
	struct acceptq *q = arg;
	long i;

	if (sk->inode != 0 || (i = acceptq_match(q, sk)) < 0 || !q->dumped[i])
		return 0;
	if (sk->state == TCP_ESTABLISHED)
		waiting(&q->st[i], sk);
	else if (sk->state == TCP_CLOSE_WAIT)
		gave_up(q, (size_t)i, sk->cookie);
	return 0;
}

/* After a whole dump: the set becomes what it saw again plus as many new
 * ones as fit, each of those counted once. */
static void
settle_cookies(struct acceptq *q)
{
	struct acceptq_seen *t;
	size_t k;

	for (k = 0; k < q->ncand; k++) {
		const struct acceptq_seen *c = &q->cand[k];

		if (q->nkept >= q->cap) {
			q->deferred++;
			continue;
		}
		q->kept[q->nkept++] = *c;
		q->st[c->listener].abandoned_new++;
		q->st[c->listener].abandoned++;
	}
	qsort(q->kept, q->nkept, sizeof(*q->kept), cookie_cmp);
	t = q->seen;
	q->seen = q->kept;
	q->nseen = q->nkept;
	q->kept = t;
}

int
acceptq_scan(struct acceptq *q, double now)
{
	struct sockdiag_inet_req r = {
	    AF_UNSPEC,
	    IPPROTO_TCP,
	    (1u << TCP_ESTABLISHED) | (1u << TCP_CLOSE_WAIT),
	    SOCKDIAG_INFO,
	    q->ports,
	    0};
	size_t i;
	long np;

	q->scans++;
	q->nkept = q->ncand = 0;
	if ((np = plan_dump(q)) < 0) {
		/* every queue empty: so are the queued gave-up ones */
		q->nseen = 0;
		return 0;
	}
	if (q->dump_gap > 0 && q->dumps > 0 && now >= q->last_dump &&
	    now - q->last_dump < q->dump_gap) {
		q->skipped++;
		return 0;
	}
	for (i = 0; i < q->n; i++)
		if (q->dumped[i])
			clear_dump_figures(&q->st[i]);
	r.nports = (size_t)np;
	q->last_dump = now;
	if (q->nl < 0 && (q->nl = sockdiag_open()) < 0)
		return -1;
	q->dumps++;
	if (sockdiag_inet_dump(q->nl, &r, scan_cb, q) < 0) {
		int saved = errno;

		/* a socket left mid-dump would answer the next request
		 * with this one's rest */
		close(q->nl);
		q->nl = -1;
		errno = saved;
		return -1;
	}
	settle_cookies(q);
	return 0;
}

struct held_arg {
	struct acceptq *q;
	const uint64_t *held;
	size_t n;
	uint64_t *per;
};

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
held_cb(const struct sockdiag_inet *sk, void *arg)
{
	struct held_arg *a = arg;
	long i;

	if (sk->inode != 0 &&
	    bsearch(&sk->inode, a->held, a->n, sizeof(*a->held), u64_cmp) &&
	    (i = acceptq_match(a->q, sk)) >= 0)
		a->per[i]++;
	return 0;
}

int
acceptq_held(struct acceptq *q, const uint64_t *held, size_t n, uint64_t *per)
{
	struct sockdiag_inet_req r = {
	    AF_UNSPEC, IPPROTO_TCP, 1u << TCP_ESTABLISHED, 0, q->ports, 0};
	struct held_arg a = {q, held, n, per};
	size_t k, np = 0;

	memset(per, 0, q->n * sizeof(*per));
	if (n == 0 || q->ntcp == 0)
		return 0;
	for (k = 0; k < q->ntcp; k++) {
		uint16_t p = q->l[q->by_port[k]].port;

		if (np == 0 || q->ports[np - 1] != p)
			q->ports[np++] = p;
	}
	r.nports = np > SOCKDIAG_MAX_PORTS ? 0 : np;
	/* a fresh socket: this runs once per kill, not per tick */
	return sockdiag_inet_dump(-1, &r, held_cb, &a);
}

int
acceptq_diag_idle(const struct acceptq_stat *s, const char *key, char *buf,
                  size_t len)
{
	int n;

	if (s->idle_old < ACCEPTQ_FLOOD_MIN || s->idle_old * 2 < s->queued)
		return 0;
	n = snprintf(buf, len,
	             "%" PRIu32 " of %" PRIu32
	             " queued connections on %s have sent nothing for %" PRIu32
	             " s: an idle-connection flood? (see --defer-accept)",
	             s->idle_old, s->queued, key, s->idle_old_min_ms / 1000);
	return n >= 0;
}

uint64_t
acceptq_window_add(struct acceptq_window *w, uint64_t total, double now,
                   uint64_t *fresh)
{
	int64_t slot = (int64_t)(now / ACCEPTQ_WINDOW_SLOT_SECONDS);
	uint64_t add = 0, sum = 0;
	int k;

	if (!w->started) {
		memset(w, 0, sizeof(*w));
		w->started = 1;
		w->slot = slot;
	} else {
		/* a total that went back (a new acceptq) restarts from it */
		add = total >= w->last_total ? total - w->last_total : 0;
	}
	w->last_total = total;
	/* empty the buckets of the slots that passed, at most all */
	for (k = 0; w->slot < slot && k < ACCEPTQ_WINDOW_SLOTS; k++) {
		w->slot++;
		w->count[w->slot % ACCEPTQ_WINDOW_SLOTS] = 0;
	}
	w->slot = slot > w->slot ? slot : w->slot;
	w->count[w->slot % ACCEPTQ_WINDOW_SLOTS] += add;
	for (k = 0; k < ACCEPTQ_WINDOW_SLOTS; k++)
		sum += w->count[k];
	if (fresh != NULL)
		*fresh = add;
	return sum;
}

int
acceptq_diag_abandoned(uint64_t minute, uint64_t fresh, const char *key,
                       char *buf, size_t len)
{
	if (fresh == 0 || minute < ACCEPTQ_ABANDON_MIN)
		return 0;
	return snprintf(buf, len,
	                "%" PRIu64
	                " client%s gave up while queued on %s in the "
	                "last minute: too few workers, or a stalled generation",
	                minute, minute == 1 ? "" : "s", key) >= 0;
}
