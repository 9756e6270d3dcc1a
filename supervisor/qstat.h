/* SPDX-License-Identifier: ISC */
/* qstat.h: the kernel's queues of one listener (length, limit, drops, SYNs). */
#ifndef BATON_QSTAT_H
#define BATON_QSTAT_H

#include <stddef.h>
#include <stdint.h>

enum qstat_kind { QSTAT_TCP, QSTAT_UNIX, QSTAT_UDP };

/* Which fields of a struct qstat the kernel gave. */
enum {
	QSTAT_HAS_QUEUE = 1, /* len and limit (TCP and unix listeners) */
	QSTAT_HAS_DROPS = 2, /* drops (TCP and UDP; unix has no counter) */
	QSTAT_HAS_SYN = 4    /* syn (only when asked for: it is a dump) */
};

/* One reading. */
struct qstat {
	unsigned int flags; /* QSTAT_HAS_* */
	uint32_t len;       /* connections waiting to be accepted */
	uint32_t limit;     /* the backlog as the kernel applies it */
	uint32_t syn;       /* requests in SYN_RECV on the listener */
	/* sk_drops: TCP counts SYNs and final ACKs dropped on a full
	 * queue, but also every bare ACK a defer-accept listener leaves
	 * unanswered (checked on 6.18: 5 silent clients, 5 drops), so
	 * drops alone do not mean "backlog too small" there; UDP counts
	 * datagrams dropped on a full receive buffer. */
	uint64_t drops;
	uint64_t inode; /* the socket's inode (for outside readers) */
};

/* What a caller keeps per listener across readings: the last one and the
 * highest length seen since the first one. */
struct qstat_track {
	struct qstat last;
	uint32_t peak;
	int64_t sampled_at; /* CLOCK_REALTIME seconds of the last reading; 0:
	                       never read */
};

/* Read the queue of baton's own listening fd. TCP: getsockopt TCP_INFO and
 * SO_MEMINFO, no privileges, no netlink; unix: sock_diag exact lookup by
 * the fd's inode; UDP: SO_MEMINFO (drops only). With want_syn (TCP only),
 * also count the listener's SYN_RECV requests with an inet_diag dump.
 * Returns 0, or -1 with errno (EINVAL: a TCP or unix socket that is not
 * listening). */
int qstat_read_fd(int fd, enum qstat_kind kind, int want_syn, struct qstat *q);

/* The same from outside, by inode, for any local user (sock_diag needs no
 * privileges): TCP and UDP through an inet_diag dump of AF_INET and
 * AF_INET6 sockets filtered by inode, unix through an exact lookup.
 * Returns 0, or -1 with errno (ENOENT: no such socket). */
int qstat_read_inode(uint64_t inode, enum qstat_kind kind, int want_syn,
                     struct qstat *q);

/* The same for n sockets at once (what --stats needs): one inet_diag dump
 * per family and protocol finds every TCP and UDP one, however many;
 * unix ones are one exact lookup each. q[i] and err[i] (0, or the errno
 * qstat_read_inode would set) per socket. Returns 0, or -1 with errno
 * when netlink itself fails (then no err[i] is meaningful). */
int qstat_read_inodes(const uint64_t *inodes, const enum qstat_kind *kinds,
                      size_t n, int want_syn, struct qstat *q, int *err);

/* Record one reading in t (peak, sampled_at = now). */
void qstat_sample(struct qstat_track *t, const struct qstat *q, int64_t now);

/* The --stats text after the listener's key, mirroring ss(8):
 *   "queue 5/4  peak 5  drops 5" and "  syn 3" when sampled; no queue
 * part for UDP, no drops part for unix. Returns what snprintf returns. */
int qstat_text(char *buf, size_t len, const struct qstat_track *t);

/* Did a figure STATUS.json shows move from old to now: the peak, the
 * drops, the limit, or the length (so that a queue draining is seen going
 * down to 0, not left at its last peak)? */
int qstat_moved(const struct qstat_track *old, const struct qstat_track *now);

/* ---- SYN cookies and defer-accept ----
 * A connection that completes through a SYN cookie has no request socket
 * for TCP_DEFER_ACCEPT to hold back: it goes to the accept queue at the
 * final ACK, data or not. An idle-connection flood above the SYN-queue
 * limit (net.ipv4.tcp_max_syn_backlog, the backlog) then fills a
 * defer-accept listener's queue. The kernel counts cookies per network
 * namespace only (TcpExt SyncookiesSent, SyncookiesRecv in
 * /proc/net/netstat), so a listener is blamed when the namespace's
 * SyncookiesRecv grew while its own queue went from not full to full. */
struct qstat_cookies {
	uint64_t sent, recv; /* TcpExt SyncookiesSent, SyncookiesRecv */
};

/* The TcpExt counters from the text of /proc/net/netstat (a header line
 * of names, then a line of values). 0, or -1 (EPROTO) when absent. */
int qstat_parse_netstat(const char *text, struct qstat_cookies *c);
/* The same from /proc/net/netstat. 0, or -1 with errno. */
int qstat_read_cookies(struct qstat_cookies *c);

/* Per listener: the namespace's SyncookiesRecv when its queue was last
 * seen not full. */
struct qstat_cookie_track {
	uint64_t base;
	unsigned char armed, said;
};

/* One reading r of a listener and the namespace's SyncookiesRecv now:
 * the number of connections completed through cookies since its queue
 * was last seen not full, said once each time the queue fills (0:
 * nothing to say). */
uint64_t qstat_cookie_check(struct qstat_cookie_track *t, const struct qstat *r,
                            uint64_t recv);

/* "tcp", "unix", "udp": the proto label and JSON value. */
const char *qstat_kind_name(enum qstat_kind kind);
/* The kind called name: 0, or -1 when none is. */
int qstat_kind_parse(const char *name, enum qstat_kind *kind);

#endif
