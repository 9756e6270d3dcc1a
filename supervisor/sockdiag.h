/* SPDX-License-Identifier: ISC */
/* sockdiag.h: the one netlink sock_diag client (inet_diag and unix_diag). */
#ifndef BATON_SOCKDIAG_H
#define BATON_SOCKDIAG_H

#include <netinet/tcp.h>
#include <stddef.h>
#include <stdint.h>

struct nlmsghdr;

/* A socket for sock_diag requests, close-on-exec, with a receive timeout
 * (a dump is answered synchronously: the timeout only keeps a kernel bug
 * from stopping baton's loop). The fd, or -1 with errno. */
int sockdiag_open(void);

/* Called per answer message of a request (never NLMSG_DONE or
 * NLMSG_ERROR); returns 0 to go on, anything else when it has what it
 * wanted. */
typedef int (*sockdiag_msg_fn)(const struct nlmsghdr *h, void *arg);

/* Send req (a whole netlink message; its nlmsg_seq is set here) on s and
 * pass each answer to fn until the dump's end, an error or fn's stop.
 * s < 0: on a fresh socket, closed after. On a socket of the caller's,
 * the rest of a dump fn stopped is read and dropped, so that s can take
 * the next request. Returns 0, or -1 with errno (the kernel's error, or
 * EPROTO on a short read). */
int sockdiag_query(int s, struct nlmsghdr *req, sockdiag_msg_fn fn, void *arg);

/* The payload of the attribute of type type in an answer whose fixed
 * part is hdr bytes, and its length in *len; NULL when absent. */
const void *sockdiag_attr(const struct nlmsghdr *h, size_t hdr,
                          unsigned short type, size_t *len);

/* ---- inet_diag: TCP and UDP ---------------------------------------- */

/* Extras an inet dump may ask for, per socket. */
enum {
	SOCKDIAG_INFO = 1,   /* tcp_info (TCP) */
	SOCKDIAG_MEMINFO = 2 /* the SK_MEMINFO_* counters */
};

/* The most local ports one dump filters on. */
#define SOCKDIAG_MAX_PORTS 256

struct sockdiag_inet_req {
	/* AF_INET, AF_INET6, or AF_UNSPEC for both in one walk of the
	 * kernel's tables (TCP only: the older TCPDIAG_GETSOCK request) */
	int family;
	int protocol;    /* IPPROTO_TCP or IPPROTO_UDP */
	uint32_t states; /* bits 1 << TCP_* (e.g. 1 << TCP_ESTABLISHED);
	                    ~0u: all */
	unsigned want;   /* SOCKDIAG_INFO | SOCKDIAG_MEMINFO */
	/* Keep only sockets on these local ports (host order), the kernel
	 * filtering (no copy of the others): at most SOCKDIAG_MAX_PORTS;
	 * nports 0: every port. Addresses are for the callback to match. */
	const uint16_t *ports;
	size_t nports;
};

/* One socket of a dump. */
struct sockdiag_inet {
	int family;
	uint8_t state;  /* TCP_* */
	uint64_t inode; /* 0: no socket inode (a request, TIME_WAIT) */
	/* the kernel's idiag_cookie: names this socket for good (never
	 * reused until reboot), unlike an inode, which a queued connection
	 * has none of yet */
	uint64_t cookie;
	uint32_t uid;
	/* TCP listener: accept queue and backlog; otherwise bytes queued */
	uint32_t rqueue, wqueue;
	uint16_t sport, dport;   /* host order */
	uint32_t src[4], dst[4]; /* network order; IPv4 in [0] */
	/* with SOCKDIAG_INFO and TCP: the kernel's tcp_info, its first
	 * info_len bytes valid (the rest zero); NULL otherwise */
	const struct tcp_info *info;
	size_t info_len;
	/* with SOCKDIAG_MEMINFO: SK_MEMINFO_* (nmeminfo of them); NULL
	 * otherwise */
	const uint32_t *meminfo;
	size_t nmeminfo;
};

typedef int (*sockdiag_inet_fn)(const struct sockdiag_inet *sk, void *arg);

/* Dump the sockets r asks for on s (< 0: a fresh socket) and pass each
 * to fn (0 to go on, anything else to stop). Returns 0 or -1 with errno
 * (EINVAL: more than SOCKDIAG_MAX_PORTS ports, or AF_UNSPEC not TCP). */
int sockdiag_inet_dump(int s, const struct sockdiag_inet_req *r,
                       sockdiag_inet_fn fn, void *arg);

/* Count the TCP sockets of both families in states on one of ports whose
 * inodes are in held[n] (sorted ascending): e.g. the established
 * connections a process group holds on baton's listeners, from the
 * inodes its processes have open (procstat_socket_inodes). One dump,
 * filtered by the kernel. 0 with *count, or -1 with errno. */
int sockdiag_count_held(int s, const uint16_t *ports, size_t nports,
                        uint32_t states, const uint64_t *held, size_t n,
                        uint64_t *count);

/* A socket inode and whom it belongs to: an index into the caller's
 * counts (a generation, a worker). */
struct sockdiag_owned {
	uint64_t inode;
	size_t owner;
};

/* The same for many owners in one dump: counts[owner] is the number of
 * the sockets in own[n] (sorted by inode; an inode listed for two
 * owners counts for both) that are TCP, in states, on one of ports;
 * counts[ncounts] are set, owners past them ignored. 0, or -1 with
 * errno. */
int sockdiag_count_owned(int s, const uint16_t *ports, size_t nports,
                         uint32_t states, const struct sockdiag_owned *own,
                         size_t n, uint64_t *counts, size_t ncounts);

/* ---- unix_diag -------------------------------------------------------- */

/* Extras a unix request may ask for. */
enum {
	SOCKDIAG_RQLEN = 1, /* queue lengths */
	SOCKDIAG_PEER = 2,  /* the peer's inode */
	SOCKDIAG_NAME = 4   /* the bound path */
};

struct sockdiag_unix {
	uint8_t type;  /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	uint8_t state; /* TCP_LISTEN, TCP_ESTABLISHED, ... */
	uint64_t inode;
	/* with SOCKDIAG_RQLEN (has_rqlen): for a listener, connections
	 * waiting to be accepted and the backlog */
	int has_rqlen;
	uint32_t rqueue, wqueue;
	uint64_t peer; /* with SOCKDIAG_PEER: the peer's inode; 0: none */
	/* with SOCKDIAG_NAME: the path it is bound to (an accepted socket
	 * has its listener's), name_len bytes, a leading '\0' for the
	 * abstract namespace; NULL: unnamed */
	const char *name;
	size_t name_len;
};

typedef int (*sockdiag_unix_fn)(const struct sockdiag_unix *sk, void *arg);

/* The unix socket with this inode, exactly (no dump), to fn. Returns 0,
 * or -1 with errno (ENOENT: no such socket). */
int sockdiag_unix_get(int s, uint64_t inode, unsigned want, sockdiag_unix_fn fn,
                      void *arg);

/* Every unix socket in states (bits 1 << TCP_*) to fn. 0 or -1 with
 * errno. */
int sockdiag_unix_dump(int s, uint32_t states, unsigned want,
                       sockdiag_unix_fn fn, void *arg);

#endif
