/* SPDX-License-Identifier: ISC */
/* verify.c: check each inherited fd against what the environment says. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define LABEL_MAX 200

/* What an inet key says: "8080", "u53", "host:8080", "[v6]:8080". */
struct inet_key {
	int family; /* AF_INET/AF_INET6 for a numeric host, 0: not checked */
	unsigned char host[16];
	int port; /* 0: any (the supervisor let the kernel choose) */
	int udp;  /* 'u' prefix: start_server's UDP spelling */
};

static int
parse_port(const char *s, struct inet_key *k)
{
	long v = 0;
	size_t i = 0;

	if (s[0] == 'u') {
		k->udp = 1;
		s++;
	}
	for (; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 5)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0 || v > 65535)
		return -1;
	k->port = (int)v;
	return 0;
}

/* A numeric host fills k->family and k->host; a name (localhost) is left
 * unchecked, since a library must not resolve names behind the caller's
 * back. */
static int
parse_host(const char *h, size_t len, int bracketed, struct inet_key *k)
{
	char buf[64];
	char *pct;

	if (len == 0)
		return bracketed ? -1 : 0;
	if (len >= sizeof buf)
		return bracketed ? -1 : 0;
	memcpy(buf, h, len);
	buf[len] = '\0';
	pct = strchr(buf, '%'); /* zone: fe80::1%eth0 */
	if (pct != NULL && bracketed)
		*pct = '\0';
	if (inet_pton(AF_INET, buf, k->host) == 1) {
		k->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, k->host) == 1) {
		k->family = AF_INET6;
		return 0;
	}
	if (bracketed || memchr(h, ':', len) != NULL ||
	    memchr(h, '/', len) != NULL)
		return -1;
	return 0;
}

static int
parse_inet_key(const char *key, struct inet_key *k)
{
	const char *colon;

	memset(k, 0, sizeof *k);
	if (key[0] == '[') {
		const char *close = strchr(key, ']');

		if (close == NULL || close[1] != ':')
			return -1;
		if (parse_host(key + 1, (size_t)(close - key - 1), 1, k) < 0)
			return -1;
		return parse_port(close + 2, k);
	}
	colon = strrchr(key, ':');
	if (colon == NULL)
		return parse_port(key, k);
	if (parse_host(key, (size_t)(colon - key), 0, k) < 0)
		return -1;
	return parse_port(colon + 1, k);
}

static int
inet_key_matches(const struct inet_key *k, const struct baton_listener *l)
{
	static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0,    0,
	                                           0, 0, 0, 0, 0xff, 0xff};

	if (k->port != 0 && k->port != l->port)
		return 0;
	if (k->family == 0)
		return 1;
	if (l->family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)&l->addr;

		return k->family == AF_INET &&
		       memcmp(k->host, &sin->sin_addr, 4) == 0;
	}
	const struct sockaddr_in6 *sin6 = (const void *)&l->addr;
	if (k->family == AF_INET6)
		return memcmp(k->host, &sin6->sin6_addr, 16) == 0;
	return memcmp(&sin6->sin6_addr, v4mapped, 12) == 0 &&
	       memcmp(k->host, (const unsigned char *)&sin6->sin6_addr + 12,
	              4) == 0;
}

/* Fill l->address, l->port from l->addr. */
static int
describe(struct baton_listener *l)
{
	char host[INET6_ADDRSTRLEN];

	switch (l->family) {
	case AF_INET: {
		const struct sockaddr_in *sin = (const void *)&l->addr;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
		l->port = ntohs(sin->sin_port);
		snprintf(l->address, sizeof l->address, "%s:%d", host, l->port);
		return 0;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *sin6 = (const void *)&l->addr;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
		l->port = ntohs(sin6->sin6_port);
		snprintf(l->address, sizeof l->address, "[%s]:%d", host,
		         l->port);
		return 0;
	}
	case AF_UNIX: {
		const struct sockaddr_un *sun = (const void *)&l->addr;
		size_t off = offsetof(struct sockaddr_un, sun_path), n;

		n = l->addrlen > off ? l->addrlen - off : 0;
		if (n > sizeof sun->sun_path)
			n = sizeof sun->sun_path;
		if (n > 0 && sun->sun_path[0] == '\0') {
			/* abstract: shown as ss(8) does, '@' for each NUL */
			l->address[0] = '@';
			for (size_t i = 1; i < n; i++)
				l->address[i] = sun->sun_path[i] != '\0'
				                    ? sun->sun_path[i]
				                    : '@';
			l->address[n] = '\0';
		} else {
			/* a path: up to the first NUL, which Linux may omit */
			size_t len = strnlen(sun->sun_path, n);

			memcpy(l->address, sun->sun_path, len);
			l->address[len] = '\0';
		}
		l->port = 0;
		return 0;
	}
	default:
		return -1;
	}
}

static const char *
label(char *buf, size_t len, const baton_listeners *ls,
      const struct baton_listener *l)
{
	char q[LABEL_MAX - 40];

	if (ls->source == BATON_SOURCE_SYSTEMD)
		snprintf(buf, len, "LISTEN_FDS fd %d (name \"%s\")", l->fd,
		         baton__quote(q, sizeof q, l->key, strlen(l->key)));
	else
		snprintf(buf, len, "SERVER_STARTER_PORT entry \"%s=%d\"",
		         baton__quote(q, sizeof q, l->key, strlen(l->key)),
		         l->fd);
	return buf;
}

static int
check_one(const baton_listeners *ls, struct baton_listener *l)
{
	char lb[LABEL_MAX], qa[160];
	socklen_t optlen;
	struct inet_key k;
	int e;

	if (fcntl(l->fd, F_GETFD) == -1)
		return baton__fail(EBADF, "%s: fd %d is not open",
		                   label(lb, sizeof lb, ls, l), l->fd);
	optlen = sizeof l->socktype;
	if (getsockopt(l->fd, SOL_SOCKET, SO_TYPE, &l->socktype, &optlen) ==
	    -1) {
		e = errno;
		if (e == ENOTSOCK)
			return baton__fail(ENOTSOCK,
			                   "%s: fd %d is not a socket",
			                   label(lb, sizeof lb, ls, l), l->fd);
		return baton__fail(e, "%s: cannot read fd %d's socket type: %s",
		                   label(lb, sizeof lb, ls, l), l->fd,
		                   strerror(e));
	}
	l->addrlen = sizeof l->addr;
	if (getsockname(l->fd, (struct sockaddr *)&l->addr, &l->addrlen) ==
	    -1) {
		e = errno;
		return baton__fail(e, "%s: cannot read fd %d's address: %s",
		                   label(lb, sizeof lb, ls, l), l->fd,
		                   strerror(e));
	}
	if (l->addrlen > sizeof l->addr)
		l->addrlen = sizeof l->addr;
	l->family = l->addr.ss_family;
	if (describe(l) < 0)
		return baton__fail(EINVAL,
		                   "%s: fd %d is a socket of address family "
		                   "%d, not inet, inet6 or unix",
		                   label(lb, sizeof lb, ls, l), l->fd,
		                   l->family);
	optlen = sizeof l->listening;
	if (getsockopt(l->fd, SOL_SOCKET, SO_ACCEPTCONN, &l->listening,
	               &optlen) == -1) {
		e = errno;
		return baton__fail(e, "%s: cannot read fd %d's state: %s",
		                   label(lb, sizeof lb, ls, l), l->fd,
		                   strerror(e));
	}
	l->listening = l->listening != 0;
	if (l->socktype != SOCK_DGRAM && !l->listening)
		return baton__fail(EINVAL,
		                   "%s: fd %d (%s) is a connection-oriented "
		                   "socket that is not listening",
		                   label(lb, sizeof lb, ls, l), l->fd,
		                   baton__quote(qa, sizeof qa, l->address,
		                                strlen(l->address)));
	if (ls->source != BATON_SOURCE_SERVER_STARTER)
		return 0;

	/* The key must describe the socket it names. */
	if (l->family == AF_UNIX) {
		if (strcmp(l->key, l->address) == 0)
			return 0;
	} else if (parse_inet_key(l->key, &k) == 0) {
		if (k.udp && l->socktype != SOCK_DGRAM)
			return baton__fail(EINVAL,
			                   "%s: the key names a UDP port but "
			                   "fd %d is not a datagram socket",
			                   label(lb, sizeof lb, ls, l), l->fd);
		if (inet_key_matches(&k, l))
			return 0;
	}
	return baton__fail(
	    EINVAL,
	    "%s: fd %d is bound to %s, which does not match "
	    "the key",
	    label(lb, sizeof lb, ls, l), l->fd,
	    baton__quote(qa, sizeof qa, l->address, strlen(l->address)));
}

int
baton__verify(baton_listeners *ls, unsigned flags)
{
	char lb[LABEL_MAX];

	for (size_t i = 0; i < ls->count; i++)
		if (check_one(ls, &ls->v[i]) < 0)
			return -1;
	if (flags & BATON_INHERITABLE)
		return 0;
	/* Only now, so that a failed call changes nothing. FD_CLOEXEC is a
	 * per-descriptor flag: other generations holding the same socket
	 * are not affected. */
	for (size_t i = 0; i < ls->count; i++) {
		struct baton_listener *l = &ls->v[i];
		int fl = fcntl(l->fd, F_GETFD);

		if (fl == -1 || fcntl(l->fd, F_SETFD, fl | FD_CLOEXEC) == -1) {
			int e = errno;

			return baton__fail(e,
			                   "%s: cannot make fd %d "
			                   "close-on-exec: %s",
			                   label(lb, sizeof lb, ls, l), l->fd,
			                   strerror(e));
		}
	}
	return 0;
}
