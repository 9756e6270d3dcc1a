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

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#include "qstat.h"

#ifndef SO_MEMINFO
#define SO_MEMINFO 55 /* asm-generic/socket.h, Linux 4.12 */
#endif
/* A request socket's state (include/net/tcp_states.h); glibc's enum of TCP
 * states stops at TCP_CLOSING. inet_diag reports request sockets with it
 * or as TCP_SYN_RECV depending on the kernel version: ask for both. */
#define QSTAT_TCP_NEW_SYN_RECV 12

/* Big enough for one netlink dump skb: the kernel sizes its dump buffers
 * after the reader's recvmsg buffer, up to 32 kB (netlink_dump). */
#define DIAG_BUF 32768

/* Called for each answer message; returns 0 to go on, 1 when done. */
typedef int (*diag_cb)(const struct nlmsghdr *h, void *arg);

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

/* The value under name in a "TcpExt: a b c" / "TcpExt: 1 2 3" pair. */
static int
netstat_field(const char *names, const char *values, const char *name,
              uint64_t *v)
{
	size_t nlen = strlen(name);

	/* both lines start with "TcpExt:"; walk the two in step */
	for (;;) {
		names += strcspn(names, " \n");
		values += strcspn(values, " \n");
		if (*names != ' ' || *values != ' ')
			return -1;
		names++;
		values++;
		if (strncmp(names, name, nlen) == 0 &&
		    (names[nlen] == ' ' || names[nlen] == '\n' ||
		     names[nlen] == '\0')) {
			char *end;

			errno = 0;
			*v = strtoull(values, &end, 10);
			return errno || end == values ? -1 : 0;
		}
	}
}

int
qstat_parse_netstat(const char *text, struct qstat_cookies *c)
{
	const char *names = text, *values;

	/* the first "TcpExt:" line names the fields, the next has them */
	while (names && strncmp(names, "TcpExt:", 7) != 0) {
		names = strchr(names, '\n');
		names = names ? names + 1 : NULL;
	}
	values = names ? strchr(names, '\n') : NULL;
	if (values == NULL || strncmp(values + 1, "TcpExt:", 7) != 0 ||
	    netstat_field(names, values + 1, "SyncookiesSent", &c->sent) < 0 ||
	    netstat_field(names, values + 1, "SyncookiesRecv", &c->recv) < 0) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

int
qstat_read_cookies(struct qstat_cookies *c)
{
	char buf[8192];
	ssize_t n;
	size_t off = 0;
	int fd, saved;

	fd = open("/proc/net/netstat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* about 3 kB; TcpExt comes first */
	while (off < sizeof(buf) - 1 &&
	       (n = read(fd, buf + off, sizeof(buf) - 1 - off)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
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

/* Read the answers of one request until NLMSG_DONE, an error, or cb says
 * it has what it wanted. Returns 0 or -1 with errno. */
static int
diag_recv(int s, unsigned seq, diag_cb cb, void *arg)
{
	union {
		struct nlmsghdr h;
		char b[DIAG_BUF];
	} u;

	for (;;) {
		struct nlmsghdr *h;
		ssize_t n;

		n = recv(s, u.b, sizeof(u.b), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EPROTO;
			return -1;
		}
		for (h = &u.h; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				if (e->error == 0)
					return 0;
				errno = -e->error;
				return -1;
			}
			if (cb(h, arg))
				return 0;
		}
	}
}

/* Send one sock_diag request (header included in req) and feed every
 * answer to cb. A fresh socket each time: a reading is rare (once a
 * second per listener) and nothing stale can then be read back. */
static int
diag_query(struct nlmsghdr *req, diag_cb cb, void *arg)
{
	static unsigned seq;
	struct sockaddr_nl nl = {.nl_family = AF_NETLINK};
	int s, rc, saved;

	s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (s < 0)
		return -1;
	req->nlmsg_seq = ++seq;
	if (sendto(s, req, req->nlmsg_len, 0, (struct sockaddr *)&nl,
	           sizeof(nl)) < 0) {
		saved = errno;
		close(s);
		errno = saved;
		return -1;
	}
	rc = diag_recv(s, req->nlmsg_seq, cb, arg);
	saved = errno;
	close(s);
	errno = saved;
	return rc;
}

/* The attribute of type t in an answer's attributes, or NULL. */
static const struct rtattr *
diag_attr(const struct nlmsghdr *h, size_t hdr, unsigned short t)
{
	const struct rtattr *a;
	int len;

	if (h->nlmsg_len < NLMSG_LENGTH(hdr))
		return NULL;
	len = (int)(h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(hdr)));
	a = (const struct rtattr *)((const char *)NLMSG_DATA(h) +
	                            NLMSG_ALIGN(hdr));
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == t)
			return a;
	return NULL;
}

/* ---- unix: one exact lookup by inode ----------------------------------- */

struct unix_arg {
	uint64_t inode;
	struct qstat *q;
	int found, listening;
};

static int
unix_cb(const struct nlmsghdr *h, void *arg)
{
	struct unix_arg *ua = arg;
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	const struct rtattr *a;
	struct unix_diag_rqlen rq;

	if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)) ||
	    m->udiag_ino != ua->inode)
		return 0;
	ua->found = 1;
	ua->listening = m->udiag_state == TCP_LISTEN;
	/* net/unix/diag.c sk_diag_show_rqlen: for a listener, rqueue is the
	 * receive queue (the connections not yet accepted) and wqueue
	 * sk_max_ack_backlog. */
	a = diag_attr(h, sizeof(*m), UNIX_DIAG_RQLEN);
	if (a != NULL && RTA_PAYLOAD(a) >= sizeof(rq)) {
		memcpy(&rq, RTA_DATA(a), sizeof(rq));
		ua->q->len = rq.udiag_rqueue;
		ua->q->limit = rq.udiag_wqueue;
		ua->q->flags |= QSTAT_HAS_QUEUE;
	}
	return 1;
}

static int
unix_read(uint64_t inode, struct qstat *q)
{
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} req;
	struct unix_arg ua = {.inode = inode, .q = q};

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = sizeof(req);
	req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.h.nlmsg_flags = NLM_F_REQUEST;
	req.r.sdiag_family = AF_UNIX;
	req.r.udiag_states = 1u << TCP_LISTEN;
	req.r.udiag_ino = (__u32)inode;
	req.r.udiag_show = UDIAG_SHOW_RQLEN;
	/* INET_DIAG_NOCOOKIE: look up by inode alone
	 * (sock_diag_check_cookie skips the check) */
	req.r.udiag_cookie[0] = INET_DIAG_NOCOOKIE;
	req.r.udiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (diag_query(&req.h, unix_cb, &ua) < 0)
		return -1;
	if (!ua.found) {
		errno = ENOENT;
		return -1;
	}
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
addr_match(const struct local_addr *l, const struct inet_diag_msg *m)
{
	if (m->id.idiag_sport != l->port)
		return 0;
	if (addr_is_any(l))
		return 1;
	if (m->idiag_family == l->family)
		return memcmp(m->id.idiag_src, l->a,
		              l->family == AF_INET ? 4 : 16) == 0;
	if (l->family == AF_INET6 && m->idiag_family == AF_INET)
		return l->a[0] == 0 && l->a[1] == 0 &&
		       l->a[2] == htonl(0xffff) &&
		       l->a[3] == m->id.idiag_src[0];
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
fill_inet(const struct nlmsghdr *h, const struct inet_diag_msg *m,
          struct qstat *q, struct local_addr *l)
{
	const struct rtattr *a;
	uint32_t mem[SK_MEMINFO_VARS];

	/* net/ipv4/tcp_diag.c tcp_diag_get_info: for a listener, rqueue is
	 * sk_ack_backlog (the accept queue) and wqueue sk_max_ack_backlog */
	q->len = m->idiag_rqueue;
	q->limit = m->idiag_wqueue;
	l->family = m->idiag_family;
	l->port = m->id.idiag_sport;
	memcpy(l->a, m->id.idiag_src, sizeof(l->a));
	a = diag_attr(h, sizeof(*m), INET_DIAG_SKMEMINFO);
	if (a != NULL && RTA_PAYLOAD(a) > SK_MEMINFO_DROPS * sizeof(uint32_t)) {
		memset(mem, 0, sizeof(mem));
		memcpy(mem, RTA_DATA(a),
		       RTA_PAYLOAD(a) < sizeof(mem) ? RTA_PAYLOAD(a)
		                                    : sizeof(mem));
		q->drops = mem[SK_MEMINFO_DROPS];
		q->flags |= QSTAT_HAS_DROPS;
	}
}

static int
batch_cb(const struct nlmsghdr *h, void *arg)
{
	struct batch *b = arg;
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	size_t i;

	if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return 0;
	for (i = 0; i < b->n; i++)
		if (b->kinds[i] == b->kind && b->err[i] == ENOENT &&
		    b->inodes[i] == m->idiag_inode)
			break;
	if (i == b->n)
		return 0;
	fill_inet(h, m, &b->q[i], &b->local[i]);
	b->err[i] = 0;
	return --b->left == 0;
}

static int
syn_cb(const struct nlmsghdr *h, void *arg)
{
	struct dump_arg *da = arg;
	const struct inet_diag_msg *m = NLMSG_DATA(h);

	if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
	    h->nlmsg_len >= NLMSG_LENGTH(sizeof(*m)) &&
	    addr_match(da->listener, m))
		da->count++;
	return 0;
}

/* One inet_diag dump of family's sockets of protocol in states. sport (in
 * network order, 0: any) lets the kernel skip other ports. */
static int
inet_dump(int family, int protocol, uint32_t states, uint16_t sport, diag_cb cb,
          void *arg)
{
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} req;

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = sizeof(req);
	req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.r.sdiag_family = (__u8)family;
	req.r.sdiag_protocol = (__u8)protocol;
	req.r.idiag_states = states;
	req.r.idiag_ext = 1u << (INET_DIAG_SKMEMINFO - 1);
	req.r.id.idiag_sport = sport;
	req.r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	return diag_query(&req.h, cb, arg);
}

/* Count the listener's requests in SYN_RECV: both families, since a
 * dual-stack listener's IPv4 requests are AF_INET sockets. Requests carry
 * no link to their listener but the address, so SO_REUSEPORT siblings
 * on one address share the count. */
static int
syn_count(const struct local_addr *l, uint32_t *count)
{
	struct dump_arg da = {.listener = l};
	uint32_t states = (1u << TCP_SYN_RECV) | (1u << QSTAT_TCP_NEW_SYN_RECV);

	if (inet_dump(AF_INET, IPPROTO_TCP, states, l->port, syn_cb, &da) < 0)
		return -1;
	if (l->family == AF_INET6 &&
	    inet_dump(AF_INET6, IPPROTO_TCP, states, l->port, syn_cb, &da) < 0)
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
		if (inet_dump(families[i], proto, states, 0, batch_cb, b) < 0)
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
