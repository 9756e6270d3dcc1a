/* SPDX-License-Identifier: ISC */
/* qstat.c: the kernel's queues of a listener, from its fd or by inode. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/sock_diag.h>

#include "netstat.h"
#include "qstat.h"
#include "sockdiag.h"

#ifndef SO_MEMINFO
#define SO_MEMINFO 55 /* asm-generic/socket.h, Linux 4.12 */
#endif
/* A request socket's state (include/net/tcp_states.h); glibc's enum of TCP
 * states stops at TCP_CLOSING. inet_diag reports request sockets with it
 * or as TCP_SYN_RECV depending on the kernel version: ask for both. */
#define QSTAT_TCP_NEW_SYN_RECV 12

const char *
qstat_kind_name(enum qstat_kind kind)
{
	switch (kind) {
	case QSTAT_TCP:
		return "tcp";
	case QSTAT_UNIX:
		return "unix";
	case QSTAT_UDP:
		return "udp";
	}
	return "?";
}

int
qstat_kind_parse(const char *name, enum qstat_kind *kind)
{
	static const enum qstat_kind all[] = {QSTAT_TCP, QSTAT_UNIX, QSTAT_UDP};
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(name, qstat_kind_name(all[i])) == 0) {
			*kind = all[i];
			return 0;
		}
	return -1;
}

void
qstat_sample(struct qstat_track *t, const struct qstat *q, int64_t now)
{
	t->last = *q;
	if ((q->flags & QSTAT_HAS_QUEUE) && q->len > t->peak)
		t->peak = q->len;
	t->sampled_at = now;
}

int
qstat_moved(const struct qstat_track *old, const struct qstat_track *now)
{
	return old->peak != now->peak || old->last.drops != now->last.drops ||
	       old->last.limit != now->last.limit ||
	       old->last.len != now->last.len;
}

/* ---- SYN cookies ------------------------------------------------------ */

int
qstat_parse_netstat(const char *text, struct qstat_cookies *c)
{
	/* netstat.c owns the format: by name, in step with the names */
	if (netstat_field(text, "TcpExt", "SyncookiesSent", &c->sent) < 0 ||
	    netstat_field(text, "TcpExt", "SyncookiesRecv", &c->recv) < 0) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

int
qstat_read_cookies(struct qstat_cookies *c)
{
	char buf[8192]; /* about 3 kB; TcpExt comes first */

	if (netstat_read_file("/proc/net/netstat", buf, sizeof(buf)) < 0)
		return -1;
	return qstat_parse_netstat(buf, c);
}

uint64_t
qstat_cookie_check(struct qstat_cookie_track *t, const struct qstat *r,
                   uint64_t recv)
{
	/* the kernel's own test (sk_acceptq_is_full) is len > limit; a
	 * queue at its limit takes one more and is then full */
	int full = (r->flags & QSTAT_HAS_QUEUE) && r->len >= r->limit;

	if (!full || !t->armed || recv < t->base) {
		/* not full: the base moves on; full at the first reading
		 * (or counters reset): no telling when the cookies came */
		t->base = recv;
		t->armed = 1;
		t->said = full;
		return 0;
	}
	if (t->said || recv == t->base)
		return 0;
	t->said = 1;
	return recv - t->base;
}

int
qstat_text(char *buf, size_t len, const struct qstat_track *t)
{
	const struct qstat *q = &t->last;
	char queue[64] = "", drops[32] = "", syn[32] = "";

	if (q->flags & QSTAT_HAS_QUEUE)
		snprintf(queue, sizeof(queue), "queue %u/%u  peak %u", q->len,
		         q->limit, t->peak);
	if (q->flags & QSTAT_HAS_DROPS)
		snprintf(drops, sizeof(drops), "%sdrops %llu",
		         queue[0] != '\0' ? "  " : "",
		         (unsigned long long)q->drops);
	if (q->flags & QSTAT_HAS_SYN)
		snprintf(syn, sizeof(syn), "  syn %u", q->syn);
	return snprintf(buf, len, "%s%s%s", queue, drops, syn);
}

/* ---- unix: one exact lookup by inode ----------------------------------- */

struct unix_arg {
	struct qstat *q;
	int listening;
};

static int
unix_cb(const struct sockdiag_unix *sk, void *arg)
{
	struct unix_arg *ua = arg;

	ua->listening = sk->state == TCP_LISTEN;
	if (sk->has_rqlen) {
		ua->q->len = sk->rqueue;
		ua->q->limit = sk->wqueue;
		ua->q->flags |= QSTAT_HAS_QUEUE;
	}
	return 0;
}

static int
unix_read(uint64_t inode, struct qstat *q)
{
	struct unix_arg ua = {q, 0};

	if (sockdiag_unix_get(-1, inode, SOCKDIAG_RQLEN, unix_cb, &ua) < 0)
		return -1;
	if (!ua.listening || !(q->flags & QSTAT_HAS_QUEUE)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* ---- inet_diag dumps ------------------------------------------------- */

/* The listener's local address, to match its SYN_RECV requests. */
struct local_addr {
	int family;    /* AF_INET or AF_INET6 */
	uint16_t port; /* network order */
	uint32_t a[4]; /* as inet_diag_sockid.idiag_src */
};

static int
addr_is_any(const struct local_addr *l)
{
	return l->a[0] == 0 && l->a[1] == 0 && l->a[2] == 0 && l->a[3] == 0;
}

/* Does a request socket's local address belong to listener l? A wildcard
 * listener takes any address; a dual-stack v6 listener's IPv4 requests
 * are AF_INET ones, a v4-mapped listener address matches them too. */
static int
addr_match(const struct local_addr *l, const struct sockdiag_inet *m)
{
	if (htons(m->sport) != l->port)
		return 0;
	if (addr_is_any(l))
		return 1;
	if (m->family == l->family)
		return memcmp(m->src, l->a, l->family == AF_INET ? 4 : 16) == 0;
	if (l->family == AF_INET6 && m->family == AF_INET)
		return l->a[0] == 0 && l->a[1] == 0 &&
		       l->a[2] == htonl(0xffff) && l->a[3] == m->src[0];
	return 0;
}

/* The sockets one call looks up by inode: one dump per family and
 * protocol finds them all, however many listeners --stats asks about. */
struct batch {
	const uint64_t *inodes;
	const enum qstat_kind *kinds;
	size_t n, left;
	enum qstat_kind kind; /* the protocol being dumped */
	struct qstat *q;
	int *err;                 /* ENOENT until found */
	struct local_addr *local; /* each one's address, for the SYN count */
};

struct dump_arg {
	const struct local_addr *listener;
	uint32_t count;
};

static void
fill_inet(const struct sockdiag_inet *sk, struct qstat *q, struct local_addr *l)
{
	/* net/ipv4/tcp_diag.c tcp_diag_get_info: for a listener, rqueue is
	 * sk_ack_backlog (the accept queue) and wqueue sk_max_ack_backlog */
	q->len = sk->rqueue;
	q->limit = sk->wqueue;
	l->family = sk->family;
	l->port = htons(sk->sport);
	memcpy(l->a, sk->src, sizeof(l->a));
	if (sk->meminfo != NULL && sk->nmeminfo > SK_MEMINFO_DROPS) {
		q->drops = sk->meminfo[SK_MEMINFO_DROPS];
		q->flags |= QSTAT_HAS_DROPS;
	}
}

static int
batch_cb(const struct sockdiag_inet *sk, void *arg)
{
	struct batch *b = arg;
	size_t i;

	for (i = 0; i < b->n; i++)
		if (b->kinds[i] == b->kind && b->err[i] == ENOENT &&
		    b->inodes[i] == sk->inode)
			break;
	if (i == b->n)
		return 0;
	fill_inet(sk, &b->q[i], &b->local[i]);
	b->err[i] = 0;
	return --b->left == 0;
}

static int
syn_cb(const struct sockdiag_inet *sk, void *arg)
{
	struct dump_arg *da = arg;

	if (addr_match(da->listener, sk))
		da->count++;
	return 0;
}

/* One inet_diag dump of family's sockets of protocol in states. port
 * (host order, 0: any) lets the kernel skip other ports. */
static int
inet_dump(int family, int protocol, uint32_t states, uint16_t port,
          unsigned want, sockdiag_inet_fn fn, void *arg)
{
	struct sockdiag_inet_req r = {family, protocol, states,
	                              want,   &port,    port != 0};

	return sockdiag_inet_dump(-1, &r, fn, arg);
}

/* Count the listener's requests in SYN_RECV: both families for an IPv6
 * listener (one walk, AF_UNSPEC), since a dual-stack listener's IPv4
 * requests are AF_INET sockets. Requests carry no link to their listener
 * but the address, so SO_REUSEPORT siblings on one address share the
 * count. */
static int
syn_count(const struct local_addr *l, uint32_t *count)
{
	struct dump_arg da = {.listener = l};
	uint32_t states = (1u << TCP_SYN_RECV) | (1u << QSTAT_TCP_NEW_SYN_RECV);
	int family = l->family == AF_INET6 ? AF_UNSPEC : AF_INET;

	if (inet_dump(family, IPPROTO_TCP, states, ntohs(l->port), 0, syn_cb,
	              &da) < 0)
		return -1;
	*count = da.count;
	return 0;
}

/* Find the batch's sockets of one kind: a dump of each family. */
static int
batch_dump(struct batch *b, enum qstat_kind kind)
{
	static const int families[] = {AF_INET, AF_INET6};
	int proto = kind == QSTAT_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	uint32_t states = kind == QSTAT_TCP ? 1u << TCP_LISTEN : ~0u;
	size_t i;

	b->kind = kind;
	b->left = 0;
	for (i = 0; i < b->n; i++)
		b->left += b->kinds[i] == kind;
	for (i = 0; i < 2 && b->left > 0; i++)
		if (inet_dump(families[i], proto, states, 0, SOCKDIAG_MEMINFO,
		              batch_cb, b) < 0)
			return -1;
	return 0;
}

/* What the dumps leave to do per socket: unix lookups, the flags, the
 * SYN counts. */
static void
batch_finish(struct batch *b, int want_syn)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		if (b->kinds[i] == QSTAT_UNIX) {
			b->err[i] =
			    unix_read(b->inodes[i], &b->q[i]) < 0 ? errno : 0;
			continue;
		}
		if (b->err[i] != 0)
			continue;
		if (b->kinds[i] == QSTAT_UDP) {
			/* no accept queue: a UDP socket's r/wqueue are bytes */
			b->q[i].len = b->q[i].limit = 0;
			continue;
		}
		b->q[i].flags |= QSTAT_HAS_QUEUE;
		if (!want_syn)
			continue;
		if (syn_count(&b->local[i], &b->q[i].syn) < 0)
			b->err[i] = errno;
		else
			b->q[i].flags |= QSTAT_HAS_SYN;
	}
}

int
qstat_read_inodes(const uint64_t *inodes, const enum qstat_kind *kinds,
                  size_t n, int want_syn, struct qstat *q, int *err)
{
	struct batch b = {inodes, kinds, n, 0, QSTAT_TCP, q, err, NULL};
	size_t i;
	int saved;

	b.local = calloc(n ? n : 1, sizeof(*b.local));
	if (b.local == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		memset(&q[i], 0, sizeof(q[i]));
		q[i].inode = inodes[i];
		err[i] = ENOENT;
	}
	if (batch_dump(&b, QSTAT_TCP) < 0 || batch_dump(&b, QSTAT_UDP) < 0) {
		saved = errno;
		free(b.local);
		errno = saved;
		return -1;
	}
	batch_finish(&b, want_syn);
	free(b.local);
	return 0;
}

int
qstat_read_inode(uint64_t inode, enum qstat_kind kind, int want_syn,
                 struct qstat *q)
{
	int err;

	if (qstat_read_inodes(&inode, &kind, 1, want_syn, q, &err) < 0)
		return -1;
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

/* ---- from baton's own fd --------------------------------------------- */

static int
meminfo_drops(int fd, struct qstat *q)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0)
		return -1;
	if (len <= SK_MEMINFO_DROPS * sizeof(uint32_t)) {
		errno = EPROTO;
		return -1;
	}
	q->drops = mem[SK_MEMINFO_DROPS];
	q->flags |= QSTAT_HAS_DROPS;
	return 0;
}

static int
local_of_fd(int fd, struct local_addr *l)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	memset(l, 0, sizeof(*l));
	l->family = ss.ss_family;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;

		l->port = s4->sin_port;
		memcpy(l->a, &s4->sin_addr, 4);
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 =
		    (const struct sockaddr_in6 *)&ss;

		l->port = s6->sin6_port;
		memcpy(l->a, &s6->sin6_addr, 16);
	} else {
		errno = EAFNOSUPPORT;
		return -1;
	}
	return 0;
}

/* TCP from the fd: no netlink unless the SYN count is asked for. */
static int
tcp_read_fd(int fd, int want_syn, struct qstat *q)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	struct local_addr l;

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return -1;
	if (ti.tcpi_state != TCP_LISTEN) {
		errno = EINVAL;
		return -1;
	}
	/* net/ipv4/tcp.c tcp_get_info: "if (info->tcpi_state == TCP_LISTEN)
	 * { info->tcpi_unacked = READ_ONCE(sk->sk_ack_backlog);
	 * info->tcpi_sacked = READ_ONCE(sk->sk_max_ack_backlog); }": for a
	 * listener the two fields are the accept queue and the backlog. The
	 * queue holds up to backlog + 1 (sk_acceptq_is_full uses ">"). */
	q->len = ti.tcpi_unacked;
	q->limit = ti.tcpi_sacked;
	q->flags |= QSTAT_HAS_QUEUE;
	/* tcp_conn_request and tcp_v4_syn_recv_sock count each SYN or
	 * final ACK dropped on a full queue in sk_drops (tcp_listendrop) */
	if (meminfo_drops(fd, q) < 0)
		return -1;
	if (want_syn) {
		if (local_of_fd(fd, &l) < 0 || syn_count(&l, &q->syn) < 0)
			return -1;
		q->flags |= QSTAT_HAS_SYN;
	}
	return 0;
}

int
qstat_read_fd(int fd, enum qstat_kind kind, int want_syn, struct qstat *q)
{
	struct stat st;

	memset(q, 0, sizeof(*q));
	if (fstat(fd, &st) < 0)
		return -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = ENOTSOCK;
		return -1;
	}
	q->inode = st.st_ino;
	switch (kind) {
	case QSTAT_TCP:
		return tcp_read_fd(fd, want_syn, q);
	case QSTAT_UNIX:
		/* no getsockopt gives a unix listener's queue */
		return unix_read(st.st_ino, q);
	case QSTAT_UDP:
		return meminfo_drops(fd, q);
	}
	errno = EINVAL;
	return -1;
}
