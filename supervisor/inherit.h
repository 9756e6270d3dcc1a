/* SPDX-License-Identifier: ISC */
/* inherit.h: what a socket accepted from a TCP listener carries over from
 * it: the table baton documents, a loopback probe that asks the kernel,
 * and --check's line per listener. */
#ifndef BATON_INHERIT_H
#define BATON_INHERIT_H

#include <stddef.h>
#include <stdio.h>

struct listener;

/* One option read back on an accepted socket. inherited: the kernel copies
 * the listener's value to each accepted socket (baton.1 says so; the unit
 * test holds this column against the running kernel). test_val is a
 * non-default value the unit test sets on a listener to see that. */
struct inherit_row {
	const char *name; /* as --check prints it, --sockopts spelling */
	int level, optname;
	int inherited;
	int v6; /* IPV6_V6ONLY: read on IPv6 sockets only */
	int test_val;
};

/* Room for the values of every row (inherit.c asserts it). */
#define INHERIT_MAX 32

extern const struct inherit_row inherit_table[];
extern const size_t inherit_count;

/* Read every row's option on fd into vals[inherit_count]; a row that does
 * not apply (v6 on IPv4) gets -1. -1 with err on a failed getsockopt. */
int inherit_read(int fd, long *vals, char *err, size_t errlen);

/* Make one loopback connection to the listening TCP socket lfd (a
 * wildcard address is reached through 127.0.0.1 or ::1), accept it and
 * read the accepted socket's options into vals. send_byte: the listener
 * defers accept until data arrives (TCP_DEFER_ACCEPT), so the test client
 * writes one byte. Non-blocking throughout, at most timeout_ms in all.
 * -1 with the cause in err ("no test connection accepted within 2000 ms"). */
int inherit_probe(int lfd, int send_byte, int timeout_ms, long *vals, char *err,
                  size_t errlen);

/* "nodelay=1 cork=0 keepalive=1 ..." from vals, rows that apply only. */
void inherit_words(const long *vals, char *buf, size_t len);

/* --check: one loopback connection to each TCP listener of ls, accepted
 * by baton itself, and what the accepted socket carries
 * ("127.0.0.1:80: accepted sockets get: nodelay=1 cork=0 ..."); a probe
 * that fails is warned about and printed as "unknown". */
void inherit_print_accepted(FILE *f, const struct listener *ls, size_t n);

#endif
