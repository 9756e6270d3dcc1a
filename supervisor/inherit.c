/* SPDX-License-Identifier: ISC */
/* inherit.c: what a socket accepted from a TCP listener carries over from
 * it: the table baton documents, a loopback probe that asks the kernel,
 * and --check's line per listener. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "inherit.h"
#include "listen.h"
#include "log.h"
#include "monotime.h"
#include "sockopt.h"

/* Linux clones the listener into each accepted socket (sk_clone_lock), so
 * whatever lives in the socket itself comes along: TCP_NODELAY and TCP_CORK
 * (both bits of tp->nonagle), the keepalive settings, user-set buffer
 * sizes, the timeouts. What belongs to the listening queue (defer-accept,
 * the Fast Open queue) is cleared. TCP_QUICKACK is no setting but the
 * delayed-ACK mode of one connection, which the kernel switches by itself:
 * listen(2) resets it (baton sets options before), and a socket accepted
 * from a listener set to 0 after listen(2) starts in that mode but leaves
 * it as soon as a delayed ACK runs out (Linux 6.x). */
const struct inherit_row inherit_table[] = {
    {"nodelay", IPPROTO_TCP, TCP_NODELAY, 1, 0, 1},
    {"cork", IPPROTO_TCP, TCP_CORK, 1, 0, 1},
    {"keepalive", SOL_SOCKET, SO_KEEPALIVE, 1, 0, 1},
    {"keepidle", IPPROTO_TCP, TCP_KEEPIDLE, 1, 0, 600},
    {"keepintvl", IPPROTO_TCP, TCP_KEEPINTVL, 1, 0, 30},
    {"keepcnt", IPPROTO_TCP, TCP_KEEPCNT, 1, 0, 4},
    {"rcvbuf", SOL_SOCKET, SO_RCVBUF, 1, 0, 65536},
    {"sndbuf", SOL_SOCKET, SO_SNDBUF, 1, 0, 65536},
    {"reuseaddr", SOL_SOCKET, SO_REUSEADDR, 1, 0, 1},
    {"reuseport", SOL_SOCKET, SO_REUSEPORT, 1, 0, 1},
    {"freebind", IPPROTO_IP, IP_FREEBIND, 1, 0, 1},
    {"v6only", IPPROTO_IPV6, IPV6_V6ONLY, 1, 1, 1},
    {"defer-accept", IPPROTO_TCP, TCP_DEFER_ACCEPT, 0, 0, 5},
    {"fastopen", IPPROTO_TCP, TCP_FASTOPEN, 0, 0, 5},
    {"quickack", IPPROTO_TCP, TCP_QUICKACK, 0, 0, 0},
    {"user-timeout", IPPROTO_TCP, TCP_USER_TIMEOUT, 1, 0, 5000},
    {"notsent-lowat", IPPROTO_TCP, TCP_NOTSENT_LOWAT, 1, 0, 16384},
};
const size_t inherit_count = sizeof(inherit_table) / sizeof(inherit_table[0]);
_Static_assert(sizeof(inherit_table) / sizeof(inherit_table[0]) <= INHERIT_MAX,
               "INHERIT_MAX is too small for inherit_table");

static int
family_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return -1;
	return ss.ss_family;
}

int
inherit_read(int fd, long *vals, char *err, size_t errlen)
{
	int family = family_of(fd);
	size_t i;

	for (i = 0; i < inherit_count; i++) {
		const struct inherit_row *r = &inherit_table[i];
		socklen_t sl = sizeof(int);
		int v = 0;

		if (r->v6 && family != AF_INET6) {
			vals[i] = -1;
			continue;
		}
		if (getsockopt(fd, r->level, r->optname, &v, &sl) < 0) {
			snprintf(err, errlen,
			         "cannot read %s on the accepted socket: %s",
			         r->name, strerror(errno));
			return -1;
		}
		/* TCP_NOTSENT_LOWAT is unsigned (0: the sysctl's value) */
		if (r->level == IPPROTO_TCP && r->optname == TCP_NOTSENT_LOWAT)
			vals[i] = (long)(unsigned)v;
		else
			vals[i] = v;
	}
	return 0;
}

/* The address a client reaches lfd at: its own, with a wildcard replaced
 * by the loopback of its family. */
static int
probe_target(int lfd, struct sockaddr_storage *ss, socklen_t *sl, char *err,
             size_t errlen)
{
	*sl = sizeof(*ss);
	if (getsockname(lfd, (struct sockaddr *)ss, sl) < 0) {
		snprintf(err, errlen, "cannot read the listener's address: %s",
		         strerror(errno));
		return -1;
	}
	if (ss->ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (sin->sin_addr.s_addr == htonl(INADDR_ANY))
			sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else if (ss->ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr))
			sin6->sin6_addr = in6addr_loopback;
	} else {
		snprintf(err, errlen, "not a TCP listener");
		return -1;
	}
	return 0;
}

/* Milliseconds left before deadline (monotonic), at least 0. */
static int
left_ms(double deadline)
{
	double d = (deadline - monotime_now()) * 1000.0;

	return d <= 0 ? 0 : (int)d + 1;
}

/* Is fd's peer the address of our client c? A listener shared with
 * another server (SO_REUSEPORT, a passed fd) may hold a stranger. */
static int
is_our_client(int fd, int c)
{
	struct sockaddr_storage a, b;
	socklen_t al = sizeof(a), bl = sizeof(b);

	if (getpeername(fd, (struct sockaddr *)&a, &al) < 0 ||
	    getsockname(c, (struct sockaddr *)&b, &bl) < 0)
		return 0;
	return al == bl && memcmp(&a, &b, al) == 0;
}

/* Wait until c's connect has completed, then write one byte: a
 * --defer-accept listener hands over a connection only once data came. */
static int
send_first_byte(int c, const char *where, double deadline, int timeout_ms,
                char *err, size_t errlen)
{
	struct pollfd p = {c, POLLOUT, 0};
	int e = 0;
	socklen_t el = sizeof(e);

	if (poll(&p, 1, left_ms(deadline)) <= 0) {
		snprintf(err, errlen, "cannot connect to %s within %d ms",
		         where, timeout_ms);
		return -1;
	}
	if (getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e) {
		snprintf(err, errlen, "cannot connect to %s: %s", where,
		         strerror(e ? e : errno));
		return -1;
	}
	if (send(c, "\n", 1, MSG_NOSIGNAL) != 1) {
		snprintf(err, errlen, "cannot write to %s: %s", where,
		         strerror(errno));
		return -1;
	}
	return 0;
}

/* Accept on the non-blocking listener lfd until the connection is c's
 * (another client's is closed), by the deadline: the fd, or -1. */
static int
accept_ours(int lfd, int c, const char *where, double deadline, int timeout_ms,
            char *err, size_t errlen)
{
	for (;;) {
		struct pollfd p = {lfd, POLLIN, 0};
		int n = poll(&p, 1, left_ms(deadline)), a;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "cannot wait on the listener: %s",
			         strerror(errno));
			return -1;
		}
		if (n == 0) {
			snprintf(err, errlen,
			         "no test connection to %s accepted within %d "
			         "ms",
			         where, timeout_ms);
			return -1;
		}
		a = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (a < 0 && (errno == EAGAIN || errno == EINTR ||
		              errno == ECONNABORTED))
			continue;
		if (a < 0) {
			snprintf(err, errlen, "cannot accept on %s: %s", where,
			         strerror(errno));
			return -1;
		}
		if (is_our_client(a, c))
			return a;
		close(a);
	}
}

int
inherit_probe(int lfd, int send_byte, int timeout_ms, long *vals, char *err,
              size_t errlen)
{
	double deadline = monotime_now() + timeout_ms / 1000.0;
	struct sockaddr_storage ss;
	struct linger lg = {1, 0};
	char where[INET6_ADDRSTRLEN + 16];
	socklen_t sl;
	int c, a = -1, flags, rc = -1;

	if (probe_target(lfd, &ss, &sl, err, errlen) < 0)
		return -1;
	listen_addr_text(&ss, where, sizeof(where));
	c = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c < 0) {
		snprintf(err, errlen, "cannot make a test socket for %s: %s",
		         where, strerror(errno));
		return -1;
	}
	/* closed with a reset: no TIME_WAIT left behind by --check */
	(void)setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	/* the listener is blocking in baton; an fd shared with another
	 * server could lose the connection between poll and accept, so
	 * accept must not wait: O_NONBLOCK for the probe only */
	flags = fcntl(lfd, F_GETFL);
	if (flags < 0 || (!(flags & O_NONBLOCK) &&
	                  fcntl(lfd, F_SETFL, flags | O_NONBLOCK) < 0)) {
		snprintf(err, errlen,
		         "cannot make the listener non-blocking: %s",
		         strerror(errno));
		close(c);
		return -1;
	}
	if (connect(c, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS)
		snprintf(err, errlen, "cannot connect to %s: %s", where,
		         strerror(errno));
	else if ((!send_byte || send_first_byte(c, where, deadline, timeout_ms,
	                                        err, errlen) == 0) &&
	         (a = accept_ours(lfd, c, where, deadline, timeout_ms, err,
	                          errlen)) >= 0)
		rc = inherit_read(a, vals, err, errlen);
	if (a >= 0)
		close(a);
	close(c);
	if (!(flags & O_NONBLOCK))
		(void)fcntl(lfd, F_SETFL, flags);
	return rc;
}

void
inherit_words(const long *vals, char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < inherit_count && off < len; i++) {
		int n;

		if (vals[i] < 0)
			continue;
		n = snprintf(buf + off, len - off, "%s%s=%ld", off ? " " : "",
		             inherit_table[i].name, vals[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/* --check's test connection: loopback answers in microseconds; a bound that
 * a loaded machine meets and that never makes --check hang. */
#define INHERIT_PROBE_MS 2000

void
inherit_print_accepted(FILE *f, const struct listener *ls, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct listener *l = &ls[i];
		const struct sockopts *eff = listen_eff(l);
		char name[400], err[512], words[1024];
		long vals[INHERIT_MAX];
		int defer;

		if (l->kind != LISTEN_TCP || l->fd < 0)
			continue;
		listen_check_name(l, name, sizeof(name));
		/* a deferring listener hands over a connection only once
		 * data came: the test client writes one byte */
		defer = (eff->given & 1u << SOCKOPT_DEFER_ACCEPT) &&
		        eff->val[SOCKOPT_DEFER_ACCEPT] > 0;
		if (inherit_probe(l->fd, defer, INHERIT_PROBE_MS, vals, err,
		                  sizeof(err)) < 0) {
			log_warnx("cannot see what sockets accepted on %s get: "
			          "%s",
			          name, err);
			fprintf(f, "%s: accepted sockets get: unknown\n", name);
			continue;
		}
		inherit_words(vals, words, sizeof(words));
		fprintf(f, "%s: accepted sockets get: %s\n", name, words);
	}
}
