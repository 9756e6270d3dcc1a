/* SPDX-License-Identifier: ISC */
/* acceptq.h: the connections in TCP listeners' accept queues, seen
 * through sock_diag: how many wait, for how long, how many sent nothing,
 * and the clients that gave up while queued.
 *
 * A connection the kernel completed and no worker accepted yet is a
 * socket with no inode (no file refers to it) on the listener's port:
 * ESTABLISHED while its client waits, CLOSE-WAIT once the client closed
 * its end (gave up: a worker would later accept it and do the work for
 * nobody). One dump of both families serves every listener: the kernel
 * filters the ports (up to SOCKDIAG_MAX_PORTS, else baton does), and
 * listeners whose queue is empty (baton's own fd says so, without
 * netlink) are left out of it, so a host with no queue pays no dump.
 *
 * What each figure is made of:
 * - the wait of a queued connection is tcp_info's tcpi_last_data_sent:
 *   the kernel sets the socket's last-send time when it creates the
 *   connection at the handshake's end (tcp_create_openreq_child) and
 *   moves it only when the socket sends data, which a connection no
 *   process has accepted never does (ACKs and keepalive probes are not
 *   data). It is therefore the time since the connection entered the
 *   queue, at the kernel's clock tick (1 to 10 ms), whether or not the
 *   client sent its request; tcpi_last_data_recv would restart at each
 *   packet the client sends, and tcpi_last_ack_recv at each ACK. A
 *   defer-accept listener creates the connection when the first data
 *   arrives, so there it is the wait since the request came.
 * - idle: a queued connection whose receive queue is empty (idiag_rqueue
 *   0: nothing read it, so it holds every byte received), i.e. its
 *   client has sent nothing. (tcpi_bytes_received says the same, but
 *   lies past the C library's struct tcp_info, which sockdiag copies.)
 * - gave up: CLOSE-WAIT with no inode. A client that closed with a reset
 *   (SO_LINGER 0) leaves no socket to see, and one that a worker
 *   accepts between two scans is seen by the worker (EOF), not here:
 *   the count is what the scans catch, so sample often while it matters.
 *   Each is counted once, by its sock cookie (unique until reboot): the
 *   set of cookies seen keeps only those still queued after each scan,
 *   so it holds at most the gave-up connections queued at once (bounded
 *   by the listeners' backlogs). When it is full, a newly seen one is
 *   not counted yet but "deferred": counted by a later scan that finds
 *   room, or never if it leaves the queue first (deferred counts these
 *   misses, so a reader can tell the total is then a lower bound).
 * A listener shared with another program (SO_REUSEPORT, or two programs
 * on one address) shows that program's queue too: sock_diag cannot tell
 * which listener of a group a connection waits in. */
#ifndef BATON_ACCEPTQ_H
#define BATON_ACCEPTQ_H

#include <stddef.h>
#include <stdint.h>

/* A queued connection that has sent nothing counts as an idle one for
 * the flood diagnosis once it has waited this long. */
#define ACCEPTQ_IDLE_OLD_MS 1000
/* The flood diagnosis needs at least this many such connections ... */
#define ACCEPTQ_FLOOD_MIN 10
/* ... and the abandoned one this many in the last minute. */
#define ACCEPTQ_ABANDON_MIN 10
/* The default size of the set of cookies (acceptq_init's cap 0). */
#define ACCEPTQ_COOKIES 4096

struct acceptq_listener {
	int family;       /* AF_INET or AF_INET6; 0: not TCP (skipped) */
	uint32_t addr[4]; /* network order, IPv4 in [0]; all 0: any */
	uint16_t port;    /* host order */
	int fd;           /* baton's listening socket; -1: none (always
	                     dumped) */
};

/* One listener: the figures of the last scan and a running total. */
struct acceptq_stat {
	/* the kernel's accept queue (ESTABLISHED and CLOSE-WAIT) and its
	 * limit, from the fd's TCP_INFO (has_len 0: no fd or not read) */
	int has_len;
	uint32_t len, limit;
	uint32_t queued;          /* ESTABLISHED, no inode */
	uint32_t idle;            /* of them, sent nothing */
	uint32_t idle_old;        /* idle and waiting >= ACCEPTQ_IDLE_OLD_MS */
	uint32_t idle_old_min_ms; /* the shortest wait among those */
	uint32_t wait_max_ms;     /* the longest wait of a queued one */
	uint32_t gave_up;         /* CLOSE-WAIT, no inode, now */
	uint32_t abandoned_new;   /* of them, counted by this scan */
	uint64_t abandoned;       /* counted since acceptq_init */
};

/* A cookie counted, and whose queue it waits in. */
struct acceptq_seen {
	uint64_t cookie;
	size_t listener;
};

struct acceptq {
	size_t n;
	struct acceptq_listener *l;
	struct acceptq_stat *st;
	size_t *by_port; /* indexes of the TCP listeners sorted by port */
	size_t ntcp;
	/* the cookie set (sorted), the part of it this scan saw again,
	 * and the new ones it saw */
	struct acceptq_seen *seen, *kept, *cand;
	size_t nseen, nkept, ncand, cap;
	unsigned char *dumped; /* per listener: in this scan's dump */
	uint16_t *ports;       /* scratch: the ports of a dump */
	int nl;                /* the sock_diag socket; -1: not open yet */
	/* The least time between two dumps, in seconds (the caller's to
	 * set; 0: a dump at every scan that needs one): a dump walks the
	 * namespace's whole established hash table, some 10 ms of CPU on a
	 * host with 262,144 buckets whatever the listeners (bench/
	 * receipt-cost.c), so a scan skips it within dump_gap of the last
	 * and keeps that dump's figures (only len and limit are fresh). */
	double dump_gap;
	double last_dump; /* monotonic time of the last dump */
	/* scans, those that dumped, those that skipped a dump they needed */
	uint64_t scans, dumps, skipped;
	uint64_t deferred; /* gave-up connections the full set missed */
};

/* Set q up for the n listeners l (copied; index i of every result is
 * l[i]), with room for cap cookies (0: ACCEPTQ_COOKIES; the sum of the
 * listeners' backlogs + 1 each is the most that can be queued). 0, or -1
 * with errno (ENOMEM). */
int acceptq_init(struct acceptq *q, const struct acceptq_listener *l, size_t n,
                 size_t cap);
void acceptq_free(struct acceptq *q);

/* One scan at monotonic time now: q->st[i] for every listener. A
 * listener whose fd shows an empty queue is not dumped (its figures are
 * 0); within q->dump_gap of the last dump, none is. 0, or -1 with errno
 * (sock_diag failed: the scan's figures are partial, no cookie is
 * counted and the set is kept for the next scan). */
int acceptq_scan(struct acceptq *q, double now);

/* The index of the listener a dumped connection sk belongs to, by its
 * local port and address (an exact address before a wildcard); -1: none
 * of them. */
struct sockdiag_inet;
long acceptq_match(const struct acceptq *q, const struct sockdiag_inet *sk);

/* per[i] = the ESTABLISHED connections on listener i whose inode is in
 * held[n] (sorted ascending): what some processes hold on baton's
 * listeners. One dump. 0, or -1 with errno. */
int acceptq_held(struct acceptq *q, const uint64_t *held, size_t n,
                 uint64_t *per);

/* The idle-connection flood diagnosis for listener key, e.g.
 *   "800 of 820 queued connections on 0.0.0.0:80 have sent nothing for
 *    12 s: an idle-connection flood? (see --defer-accept)"
 * said when at least ACCEPTQ_FLOOD_MIN queued connections have sent
 * nothing for ACCEPTQ_IDLE_OLD_MS and they are at least half of the
 * queue; the seconds are the shortest wait among them (each has been
 * silent that long at least). 1 with the line in buf, 0 when there is
 * nothing to say. The caller rate-limits it (ratelimit.c). */
int acceptq_diag_idle(const struct acceptq_stat *s, const char *key, char *buf,
                      size_t len);

/* The clients that gave up on one listener in the last minute: six
 * buckets of 10 s, fed with the running total. */
#define ACCEPTQ_WINDOW_SLOTS 6
#define ACCEPTQ_WINDOW_SLOT_SECONDS 10
struct acceptq_window {
	uint64_t count[ACCEPTQ_WINDOW_SLOTS];
	int64_t slot;        /* the current bucket's number */
	uint64_t last_total; /* the total at the last call */
	int started;
};

/* Feed w the listener's abandoned total at monotonic time now; returns
 * how many gave up in the last minute (50 to 60 s, by buckets). *fresh
 * (may be NULL) is how many since the last call. */
uint64_t acceptq_window_add(struct acceptq_window *w, uint64_t total,
                            double now, uint64_t *fresh);

/* "37 clients gave up while queued on 0.0.0.0:80 in the last minute: too
 * few workers, or a stalled generation", said when fresh > 0 (something
 * new to say) and minute >= ACCEPTQ_ABANDON_MIN. 1 with the line in buf,
 * 0 when there is nothing to say. The caller rate-limits it. */
int acceptq_diag_abandoned(uint64_t minute, uint64_t fresh, const char *key,
                           char *buf, size_t len);

#endif
