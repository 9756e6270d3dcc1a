/* SPDX-License-Identifier: ISC */
/* sockdiag.c: the one netlink sock_diag client: requests, bounded reads of
 * the answers, inet_diag dumps filtered in the kernel, unix_diag lookups. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#include "sockdiag.h"

/* Big enough for one netlink dump skb: the kernel sizes its dump buffers
 * after the reader's recvmsg buffer, up to 32 kB (netlink_dump). */
#define DIAG_BUF 32768
/* The kernel answers within the recv that asks for the next part of a
 * dump; a wait this long is a bug, not a busy host. */
#define DIAG_TIMEOUT_SECONDS 5

int
sockdiag_open(void)
{
	struct timeval tv = {DIAG_TIMEOUT_SECONDS, 0};
	int s, saved;

	s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (s < 0)
		return -1;
	if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		saved = errno;
		close(s);
		errno = saved;
		return -1;
	}
	return s;
}

/* What one answer message means: 1 the end (or fn's stop: *stopped), 0
 * go on, -1 an error (errno). fn NULL: answers dropped. */
static int
diag_answer(const struct nlmsghdr *h, unsigned seq, sockdiag_msg_fn fn,
            void *arg, int *stopped)
{
	if (h->nlmsg_seq != seq)
		return 0; /* a stale answer to an earlier request */
	if (h->nlmsg_type == NLMSG_DONE)
		return 1;
	if (h->nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(h);

		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e))) {
			errno = EPROTO;
			return -1;
		}
		if (e->error == 0)
			return 1;
		errno = -e->error;
		return -1;
	}
	if (fn != NULL && fn(h, arg) != 0) {
		*stopped = 1;
		return 1;
	}
	return 0;
}

/* Read the answers to request seq until its end, an error or fn's stop.
 * Each recv makes the kernel write the next part of a dump, so the loop
 * ends with the dump; SO_RCVTIMEO bounds a wait. 0 or -1 with errno. */
static int
diag_recv(int s, unsigned seq, sockdiag_msg_fn fn, void *arg, int *stopped)
{
	union {
		struct nlmsghdr h;
		char b[DIAG_BUF];
	} u;
	struct nlmsghdr *h;
	ssize_t n;
	int rc;

	for (;;) {
		n = recv(s, u.b, sizeof(u.b), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EPROTO;
			return -1;
		}
		for (h = &u.h; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n))
			if ((rc = diag_answer(h, seq, fn, arg, stopped)) != 0)
				return rc < 0 ? -1 : 0;
	}
}

/* One request on s. drain: read to its end a dump that fn stopped,
 * which is still running in the kernel (a new dump on s would get EBUSY).
 */
static int
diag_run(int s, struct nlmsghdr *req, sockdiag_msg_fn fn, void *arg, int drain)
{
	static unsigned seq;
	struct sockaddr_nl nl = {.nl_family = AF_NETLINK};
	int stopped = 0;

	req->nlmsg_seq = ++seq;
	if (sendto(s, req, req->nlmsg_len, 0, (struct sockaddr *)&nl,
	           sizeof(nl)) < 0)
		return -1;
	if (diag_recv(s, req->nlmsg_seq, fn, arg, &stopped) < 0)
		return -1;
	if (stopped && drain && (req->nlmsg_flags & NLM_F_DUMP))
		return diag_recv(s, req->nlmsg_seq, NULL, NULL, &stopped);
	return 0;
}

int
sockdiag_query(int s, struct nlmsghdr *req, sockdiag_msg_fn fn, void *arg)
{
	int own, rc, saved;

	if (s >= 0)
		return diag_run(s, req, fn, arg, 1);
	/* a fresh socket: nothing stale can be read back, and an early
	 * stop costs a close, not the rest of the dump */
	if ((own = sockdiag_open()) < 0)
		return -1;
	rc = diag_run(own, req, fn, arg, 0);
	saved = errno;
	close(own);
	errno = saved;
	return rc;
}

const void *
sockdiag_attr(const struct nlmsghdr *h, size_t hdr, unsigned short type,
              size_t *len)
{
	const struct rtattr *a;
	int left;

	if (h->nlmsg_len < NLMSG_LENGTH(NLMSG_ALIGN(hdr)))
		return NULL;
	left = (int)(h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(hdr)));
	a = (const struct rtattr *)((const char *)NLMSG_DATA(h) +
	                            NLMSG_ALIGN(hdr));
	for (; RTA_OK(a, left); a = RTA_NEXT(a, left))
		if (a->rta_type == type) {
			*len = RTA_PAYLOAD(a);
			return RTA_DATA(a);
		}
	return NULL;
}

/* ---- inet_diag ------------------------------------------------------- */

/* The filter for n local ports, in inet_diag's bytecode: per port
 * "sport >= p && sport <= p" (S_EQ is newer than some kernels baton runs
 * on), then a jump to the end, which accepts. A failed test goes on to
 * the next port; the last one's jump 4 bytes past the end, which rejects
 * (inet_diag_bc_run accepts only at exactly the end). Returns the
 * filter's length in bytes. */
#define BC_PORT_OPS 5
static size_t
port_filter(struct inet_diag_bc_op *bc, const uint16_t *ports, size_t n)
{
	size_t i, step = BC_PORT_OPS * sizeof(*bc), total = n * step;
	struct inet_diag_bc_op *op;

	for (i = 0; i < n; i++) {
		size_t base = i * step;
		/* from this port's first op: the next port, or reject */
		unsigned short fail =
		    (unsigned short)(i + 1 < n ? step : total + 4 - base);

		op = bc + i * BC_PORT_OPS;
		op[0] = (struct inet_diag_bc_op){INET_DIAG_BC_S_GE, 8, fail};
		op[1] = (struct inet_diag_bc_op){0, 0, ports[i]};
		op[2] = (struct inet_diag_bc_op){INET_DIAG_BC_S_LE, 8,
		                                 (unsigned short)(fail - 8)};
		op[3] = (struct inet_diag_bc_op){0, 0, ports[i]};
		op[4] = (struct inet_diag_bc_op){
		    INET_DIAG_BC_JMP, 4,
		    (unsigned short)(total - base - 4 * sizeof(*bc))};
	}
	return total;
}

struct inet_arg {
	sockdiag_inet_fn fn;
	void *arg;
	size_t seen; /* answers passed to fn */
};

/* The extras of one answer into sk, copied: the kernel's tcp_info may be
 * shorter than ours, and attributes are only 4-byte aligned. */
static void
inet_extras(const struct nlmsghdr *h, struct sockdiag_inet *sk,
            struct tcp_info *info, uint32_t *mem)
{
	const size_t hdr = sizeof(struct inet_diag_msg);
	const size_t memlen = SK_MEMINFO_VARS * sizeof(*mem);
	const void *p;
	size_t len;

	if ((p = sockdiag_attr(h, hdr, INET_DIAG_INFO, &len)) != NULL) {
		memset(info, 0, sizeof(*info));
		sk->info_len = len < sizeof(*info) ? len : sizeof(*info);
		memcpy(info, p, sk->info_len);
		sk->info = info;
	}
	if ((p = sockdiag_attr(h, hdr, INET_DIAG_SKMEMINFO, &len)) != NULL) {
		memset(mem, 0, memlen);
		len = len < memlen ? len : memlen;
		memcpy(mem, p, len);
		sk->meminfo = mem;
		sk->nmeminfo = len / sizeof(*mem);
	}
}

static int
inet_cb(const struct nlmsghdr *h, void *arg)
{
	struct inet_arg *a = arg;
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	struct sockdiag_inet sk;
	struct tcp_info info;
	uint32_t mem[SK_MEMINFO_VARS];

	/* answers carry the request's type */
	if ((h->nlmsg_type != SOCK_DIAG_BY_FAMILY &&
	     h->nlmsg_type != TCPDIAG_GETSOCK) ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return 0;
	memset(&sk, 0, sizeof(sk));
	sk.family = m->idiag_family;
	sk.state = m->idiag_state;
	sk.inode = m->idiag_inode;
	sk.cookie = (uint64_t)m->id.idiag_cookie[0] |
	            (uint64_t)m->id.idiag_cookie[1] << 32;
	sk.uid = m->idiag_uid;
	sk.rqueue = m->idiag_rqueue;
	sk.wqueue = m->idiag_wqueue;
	sk.sport = ntohs(m->id.idiag_sport);
	sk.dport = ntohs(m->id.idiag_dport);
	memcpy(sk.src, m->id.idiag_src, sizeof(sk.src));
	memcpy(sk.dst, m->id.idiag_dst, sizeof(sk.dst));
	if (h->nlmsg_len > NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*m))))
		inet_extras(h, &sk, &info, mem);
	a->seen++;
	return a->fn(&sk, a->arg);
}

/* The request's body: inet_diag_req_v2 for one family; for both
 * (AF_UNSPEC), the older inet_diag_req of TCPDIAG_GETSOCK, the one
 * request the kernel answers from a single walk of its TCP hash tables
 * for both families (inet_diag_dump_compat). Returns its size. */
static size_t
inet_body(void *body, const struct sockdiag_inet_req *r, __u16 *type)
{
	struct inet_diag_sockid id;
	__u8 ext = 0;

	memset(&id, 0, sizeof(id));
	if (r->want & SOCKDIAG_INFO)
		ext |= 1u << (INET_DIAG_INFO - 1);
	if (r->want & SOCKDIAG_MEMINFO)
		ext |= 1u << (INET_DIAG_SKMEMINFO - 1);
	id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	/* one port: the kernel's own test, cheaper than bytecode */
	if (r->nports == 1)
		id.idiag_sport = htons(r->ports[0]);
	if (r->family == AF_UNSPEC) {
		struct inet_diag_req *v1 = body;

		memset(v1, 0, sizeof(*v1));
		v1->idiag_ext = ext;
		v1->id = id;
		v1->idiag_states = r->states;
		*type = TCPDIAG_GETSOCK;
		return sizeof(*v1);
	} else {
		struct inet_diag_req_v2 *v2 = body;

		memset(v2, 0, sizeof(*v2));
		v2->sdiag_family = (__u8)r->family;
		v2->sdiag_protocol = (__u8)r->protocol;
		v2->idiag_ext = ext;
		v2->id = id;
		v2->idiag_states = r->states;
		*type = SOCK_DIAG_BY_FAMILY;
		return sizeof(*v2);
	}
}

/* One request for r; 0 or -1 with errno. */
static int
inet_request(int s, const struct sockdiag_inet_req *r, struct inet_arg *ia)
{
	union {
		struct nlmsghdr h;
		char b[NLMSG_SPACE(sizeof(struct inet_diag_req)) + NLA_HDRLEN +
		       SOCKDIAG_MAX_PORTS * BC_PORT_OPS *
		           sizeof(struct inet_diag_bc_op)];
	} u;
	struct nlattr *a;

	memset(&u.h, 0, sizeof(u.h));
	u.h.nlmsg_len =
	    NLMSG_LENGTH(inet_body(NLMSG_DATA(&u.h), r, &u.h.nlmsg_type));
	u.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	if (r->nports > 1) {
		a = (struct nlattr *)(u.b + NLMSG_ALIGN(u.h.nlmsg_len));
		a->nla_type = INET_DIAG_REQ_BYTECODE;
		a->nla_len =
		    (__u16)(NLA_HDRLEN +
		            port_filter((struct inet_diag_bc_op *)(a + 1),
		                        r->ports, r->nports));
		u.h.nlmsg_len = NLMSG_ALIGN(u.h.nlmsg_len) + a->nla_len;
	}
	return sockdiag_query(s, &u.h, inet_cb, ia);
}

int
sockdiag_inet_dump(int s, const struct sockdiag_inet_req *r,
                   sockdiag_inet_fn fn, void *arg)
{
	struct inet_arg ia = {fn, arg, 0};
	struct sockdiag_inet_req one;

	if (r->nports > SOCKDIAG_MAX_PORTS ||
	    (r->family == AF_UNSPEC && r->protocol != IPPROTO_TCP)) {
		errno = EINVAL;
		return -1;
	}
	if (inet_request(s, r, &ia) == 0)
		return 0;
	/* a kernel without the older request refuses it before any
	 * answer: then one dump per family */
	if (r->family != AF_UNSPEC || ia.seen > 0 ||
	    (errno != EOPNOTSUPP && errno != EINVAL && errno != ENOENT))
		return -1;
	one = *r;
	one.family = AF_INET;
	if (inet_request(s, &one, &ia) < 0)
		return -1;
	one.family = AF_INET6;
	return inet_request(s, &one, &ia);
}

struct held_arg {
	const uint64_t *held;
	size_t n;
	uint64_t count;
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

	if (sk->inode != 0 &&
	    bsearch(&sk->inode, a->held, a->n, sizeof(*a->held), u64_cmp))
		a->count++;
	return 0;
}

int
sockdiag_count_held(int s, const uint16_t *ports, size_t nports,
                    uint32_t states, const uint64_t *held, size_t n,
                    uint64_t *count)
{
	/* both families in one walk of the established hash, whose
	 * buckets cost more than the sockets in them (262,144 buckets:
	 * some 4 ms a walk) */
	struct sockdiag_inet_req r = {AF_UNSPEC, IPPROTO_TCP, states,
	                              0,         ports,       nports};
	struct held_arg a = {held, n, 0};

	*count = 0;
	if (n == 0 || nports == 0)
		return 0;
	if (sockdiag_inet_dump(s, &r, held_cb, &a) < 0)
		return -1;
	*count = a.count;
	return 0;
}

struct owned_arg {
	const struct sockdiag_owned *own;
	size_t n;
	uint64_t *counts;
	size_t ncounts;
};

static int
owned_cb(const struct sockdiag_inet *sk, void *arg)
{
	const struct owned_arg *a = arg;
	size_t lo = 0, hi = a->n;

	/* the first entry for the inode, then every one after it */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a->own[mid].inode < sk->inode)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; sk->inode != 0 && lo < a->n && a->own[lo].inode == sk->inode;
	     lo++)
		if (a->own[lo].owner < a->ncounts)
			a->counts[a->own[lo].owner]++;
	return 0;
}

int
sockdiag_count_owned(int s, const uint16_t *ports, size_t nports,
                     uint32_t states, const struct sockdiag_owned *own,
                     size_t n, uint64_t *counts, size_t ncounts)
{
	struct sockdiag_inet_req r = {AF_UNSPEC, IPPROTO_TCP, states,
	                              0,         ports,       nports};
	struct owned_arg a = {own, n, counts, ncounts};

	memset(counts, 0, ncounts * sizeof(*counts));
	if (n == 0 || nports == 0)
		return 0;
	return sockdiag_inet_dump(s, &r, owned_cb, &a);
}

/* ---- unix_diag -------------------------------------------------------- */

struct unix_arg {
	sockdiag_unix_fn fn;
	void *arg;
	uint64_t inode; /* an exact lookup's (0: a dump) */
	int found;
};

static void
unix_extras(const struct nlmsghdr *h, struct sockdiag_unix *sk)
{
	const size_t hdr = sizeof(struct unix_diag_msg);
	struct unix_diag_rqlen rq;
	uint32_t peer;
	const void *p;
	size_t len;

	/* net/unix/diag.c sk_diag_show_rqlen: for a listener, rqueue is
	 * the receive queue (the connections not yet accepted) and wqueue
	 * sk_max_ack_backlog */
	if ((p = sockdiag_attr(h, hdr, UNIX_DIAG_RQLEN, &len)) != NULL &&
	    len >= sizeof(rq)) {
		memcpy(&rq, p, sizeof(rq));
		sk->has_rqlen = 1;
		sk->rqueue = rq.udiag_rqueue;
		sk->wqueue = rq.udiag_wqueue;
	}
	if ((p = sockdiag_attr(h, hdr, UNIX_DIAG_PEER, &len)) != NULL &&
	    len >= sizeof(peer)) {
		memcpy(&peer, p, sizeof(peer));
		sk->peer = peer;
	}
	if ((p = sockdiag_attr(h, hdr, UNIX_DIAG_NAME, &len)) != NULL &&
	    len > 0) {
		sk->name = p;
		sk->name_len = len;
	}
}

static int
unix_cb(const struct nlmsghdr *h, void *arg)
{
	struct unix_arg *a = arg;
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	struct sockdiag_unix sk;

	if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)) ||
	    (a->inode != 0 && m->udiag_ino != a->inode))
		return 0;
	memset(&sk, 0, sizeof(sk));
	sk.type = m->udiag_type;
	sk.state = m->udiag_state;
	sk.inode = m->udiag_ino;
	unix_extras(h, &sk);
	a->found = 1;
	/* an exact lookup has one answer */
	return a->fn(&sk, a->arg) != 0 || a->inode != 0;
}

static unsigned
unix_show(unsigned want)
{
	return ((want & SOCKDIAG_RQLEN) ? UDIAG_SHOW_RQLEN : 0) |
	       ((want & SOCKDIAG_PEER) ? UDIAG_SHOW_PEER : 0) |
	       ((want & SOCKDIAG_NAME) ? UDIAG_SHOW_NAME : 0);
}

/* An exact lookup of inode, or (inode 0) a dump of states. */
static int
unix_request(int s, uint64_t inode, uint32_t states, unsigned want,
             struct unix_arg *ua)
{
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} req;

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = sizeof(req);
	req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.h.nlmsg_flags = NLM_F_REQUEST | (inode == 0 ? NLM_F_DUMP : 0);
	req.r.sdiag_family = AF_UNIX;
	req.r.udiag_states = states;
	req.r.udiag_ino = (__u32)inode;
	req.r.udiag_show = unix_show(want);
	/* INET_DIAG_NOCOOKIE: look up by inode alone
	 * (sock_diag_check_cookie skips the check) */
	req.r.udiag_cookie[0] = INET_DIAG_NOCOOKIE;
	req.r.udiag_cookie[1] = INET_DIAG_NOCOOKIE;
	return sockdiag_query(s, &req.h, unix_cb, ua);
}

int
sockdiag_unix_get(int s, uint64_t inode, unsigned want, sockdiag_unix_fn fn,
                  void *arg)
{
	struct unix_arg ua = {fn, arg, inode, 0};

	/* unix_diag's inodes are 32 bits: a wider one is no unix socket */
	if (inode == 0 || inode > UINT32_MAX) {
		errno = ENOENT;
		return -1;
	}
	if (unix_request(s, inode, ~0u, want, &ua) < 0)
		return -1;
	if (!ua.found) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

int
sockdiag_unix_dump(int s, uint32_t states, unsigned want, sockdiag_unix_fn fn,
                   void *arg)
{
	struct unix_arg ua = {fn, arg, 0, 0};

	return unix_request(s, 0, states, want, &ua);
}
