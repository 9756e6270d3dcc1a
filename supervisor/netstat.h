/* SPDX-License-Identifier: ISC */
/* netstat.h: the network namespace's TCP counters that a restart's
 * receipt reports beside its own (/proc/net/netstat, /proc/net/snmp). */
#ifndef BATON_NETSTAT_H
#define BATON_NETSTAT_H

#include <stddef.h>
#include <stdint.h>

/* Which members of struct netstat the kernel gave. */
enum {
	NETSTAT_HAS_LISTEN_OVERFLOWS = 1,
	NETSTAT_HAS_LISTEN_DROPS = 2,
	NETSTAT_HAS_ABORT_ON_CLOSE = 4,
	NETSTAT_HAS_OUT_RSTS = 8,
	NETSTAT_HAS_DEFER_ACCEPT_DROP = 16
};

/* Counters of the whole network namespace since it was made: every
 * listener and connection of every program in it, not baton's alone.
 * They count packets and events, so a client that retries a dropped SYN
 * is counted once per try. */
struct netstat {
	unsigned have; /* NETSTAT_HAS_* */
	/* TcpExt ListenOverflows: a SYN or final ACK that found an accept
	 * queue full; ListenDrops: those and every other drop at a
	 * listener */
	uint64_t listen_overflows, listen_drops;
	/* TcpExt TCPAbortOnClose: a socket closed with unread data, reset
	 * (a server that closes a keep-alive connection as the client's
	 * next request arrives) */
	uint64_t abort_on_close;
	/* Tcp OutRsts: every RST sent (TCPAbortOnClose's among them:
	 * tcp_send_active_reset counts both) */
	uint64_t out_rsts;
	/* TcpExt TCPDeferAcceptDrop: bare ACKs a defer-accept listener
	 * left unanswered, which its own drop counter counts too */
	uint64_t defer_accept_drop;
};

/* The value of name in section ("TcpExt", "Tcp") of text in the shape of
 * /proc/net/netstat and /proc/net/snmp: per section a line of names and
 * a line of values, both starting "SECTION:", matched by name (the
 * kernel adds fields between versions, so never by position). 0, or -1
 * with errno EPROTO when the section or the name is absent or its value
 * is not a number. */
int netstat_field(const char *text, const char *section, const char *name,
                  uint64_t *v);

/* The counters from the texts of /proc/net/netstat and
 * /proc/net/snmp (either may be NULL): c->have says which were found.
 * Never fails: an absent counter is only not had. */
void netstat_parse(const char *netstat, const char *snmp, struct netstat *c);

/* The same from /proc/net/netstat and /proc/net/snmp, which every user
 * may read. 0, or -1 with errno when neither file could be read (a
 * failure of one leaves its counters not had). */
int netstat_read(struct netstat *c);

/* now - then for the counter bit of both; 0 when either lacks it or the
 * counter went back (another namespace's reading, a reboot). */
uint64_t netstat_delta(const struct netstat *then, const struct netstat *now,
                       unsigned bit);

/* The whole of a small /proc file (path) into buf, NUL-terminated, cut
 * at len - 1 bytes. 0, or -1 with errno. */
int netstat_read_file(const char *path, char *buf, size_t len);

#endif
