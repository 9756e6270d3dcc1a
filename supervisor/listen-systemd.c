/* SPDX-License-Identifier: ISC */
/* listen-systemd.c: adopting the sockets baton's own service manager
 * passed it (sd_listen_fds(3)): check each one, match it to a --port or
 * --path or key it by its address, and say where its options differ. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen-systemd.h"
#include "log.h"
#include "sockopt.h"

#define SD_LISTEN_FDS_START 3

/* What a passed fd is: its address, type, and as text for messages. */
struct passed {
	int fd, type;
	struct sockaddr_storage ss;
	socklen_t sslen;
	char addr[300];
	const char *name;
};

/* The kind of socket p is, for a refusal: "netlink", "unix datagram". */
static void
kind_text(const struct passed *p, char *buf, size_t len)
{
	const char *fam = NULL, *type;

	switch (p->ss.ss_family) {
	case AF_INET:
		fam = "IPv4";
		break;
	case AF_INET6:
		fam = "IPv6";
		break;
	case AF_UNIX:
		fam = "unix";
		break;
	case AF_NETLINK:
		fam = "netlink";
		break;
	case AF_PACKET:
		fam = "packet";
		break;
#ifdef AF_VSOCK
	case AF_VSOCK:
		fam = "vsock";
		break;
#endif
	}
	type = p->type == SOCK_STREAM      ? "stream"
	       : p->type == SOCK_DGRAM     ? "datagram"
	       : p->type == SOCK_SEQPACKET ? "seqpacket"
	       : p->type == SOCK_RAW       ? "raw"
	                                   : "unknown-type";
	/* with its article: "an IPv4 stream socket", "a unix ..." */
	if (fam != NULL)
		snprintf(buf, len, "%s %s %s socket",
		         strchr("AEIOaeio", fam[0]) ? "an" : "a", fam, type);
	else
		snprintf(buf, len, "a %s socket of address family %d", type,
		         p->ss.ss_family);
}

/* Only what a worker can serve as a --port or --path is adopted: a
 * listening TCP or unix stream socket, or a UDP socket. Anything else
 * (ListenNetlink=, a vsock, a connection from Accept=yes) is refused at
 * start-up rather than handed to workers that would fail on it in a
 * loop. */
static int
passed_usable(const struct passed *p, char *err, size_t errlen)
{
	int fam = p->ss.ss_family, listening = 0;
	socklen_t len = sizeof(listening);
	struct sockaddr_storage peer;
	socklen_t peerlen = sizeof(peer);
	char kind[80];

	kind_text(p, kind, sizeof(kind));
	if (!((fam == AF_INET || fam == AF_INET6) &&
	      (p->type == SOCK_STREAM || p->type == SOCK_DGRAM)) &&
	    !(fam == AF_UNIX && p->type == SOCK_STREAM)) {
		snprintf(err, errlen,
		         "cannot adopt fd %d (name \"%s\") passed by systemd: "
		         "it is %s; baton takes TCP, UDP and unix stream "
		         "sockets",
		         p->fd, p->name, kind);
		return -1;
	}
	if (p->type != SOCK_STREAM)
		return 0;
	if (getsockopt(p->fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) <
	    0) {
		snprintf(err, errlen,
		         "cannot use fd %d (name \"%s\") passed by systemd: "
		         "SO_ACCEPTCONN: %s",
		         p->fd, p->name, strerror(errno));
		return -1;
	}
	if (listening)
		return 0;
	/* a unit with Accept=yes passes one connection per service */
	if (getpeername(p->fd, (struct sockaddr *)&peer, &peerlen) == 0)
		snprintf(err, errlen,
		         "fd %d from systemd is a connection, not a listening "
		         "socket (Accept=yes?)",
		         p->fd);
	else
		snprintf(err, errlen,
		         "fd %d from systemd is %s that does not listen "
		         "(no listen(2) was called on it)",
		         p->fd, kind);
	return -1;
}

static int
passed_read(struct passed *p, int fd, const char *name, char *err,
            size_t errlen)
{
	socklen_t tl = sizeof(p->type);

	memset(p, 0, sizeof(*p));
	p->fd = fd;
	p->name = name;
	p->sslen = sizeof(p->ss);
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
	    getsockname(fd, (struct sockaddr *)&p->ss, &p->sslen) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &p->type, &tl) < 0) {
		snprintf(err, errlen,
		         "cannot use fd %d (name \"%s\") passed by systemd: %s",
		         fd, name, strerror(errno));
		return -1;
	}
	listen_addr_text(&p->ss, p->addr, sizeof(p->addr));
	return passed_usable(p, err, errlen);
}

static int
is_dual_stack(int fd)
{
	int v = 1;
	socklen_t vl = sizeof(v);

	return getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, &vl) == 0 &&
	       v == 0;
}

/* Does passed fd p answer listener l? A bare PORT (0.0.0.0) also
 * takes a dual-stack [::]:PORT, which accepts IPv4 as well. */
static int
passed_matches(const struct passed *p, const struct listener *l)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	char err[256];

	if (p->type != (l->kind == LISTEN_UDP ? SOCK_DGRAM : SOCK_STREAM))
		return 0;
	if (l->kind == LISTEN_UNIX)
		return p->ss.ss_family == AF_UNIX &&
		       strcmp(((const struct sockaddr_un *)&p->ss)->sun_path,
		              l->path) == 0;
	if (listen_resolve(l, &ss, &sslen, err, sizeof(err)) < 0)
		return 0;
	if (p->ss.ss_family == AF_INET && ss.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)&p->ss,
		                         *b = (const void *)&ss;

		return a->sin_port == b->sin_port &&
		       a->sin_addr.s_addr == b->sin_addr.s_addr;
	}
	if (p->ss.ss_family == AF_INET6 && ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)&p->ss,
		                          *b = (const void *)&ss;

		return a->sin6_port == b->sin6_port &&
		       memcmp(&a->sin6_addr, &b->sin6_addr,
		              sizeof(a->sin6_addr)) == 0;
	}
	if (p->ss.ss_family == AF_INET6 && l->host == NULL) {
		const struct sockaddr_in6 *a = (const void *)&p->ss;

		return ntohs(a->sin6_port) == atoi(l->port) &&
		       IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr) &&
		       is_dual_stack(p->fd);
	}
	return 0;
}

/* The options asked for that the adopted socket does not have: baton
 * does not change a socket it was given, it says so. */
static int
compare_options(struct listener *l)
{
	char name[300], want[64], got[64], err[256];
	int id, diffs = 0;

	if (listen_read_options(l, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return 0;
	}
	listen_name(l, name, sizeof(name));
	for (id = 0; id < SOCKOPT_COUNT; id++) {
		const struct sockopts *eff = listen_eff(l);
		const struct sockopts_read *r = listen_got(l);

		if (!(eff->given & 1u << id) || !(r->got & 1u << id) ||
		    r->val[id] == eff->val[id])
			continue;
		/* a unix socket's backlog is not read back, only computed */
		if (l->kind == LISTEN_UNIX && id == SOCKOPT_BACKLOG)
			continue;
		sockopt_value_text((enum sockopt_id)id, eff->val[id], want,
		                   sizeof(want));
		sockopt_value_text((enum sockopt_id)id, r->val[id], got,
		                   sizeof(got));
		log_warnx("listener %s from systemd has %s %s, not %s as "
		          "asked: baton does not change a socket it adopts "
		          "(set it in the .socket unit)",
		          name, sockopt_key((enum sockopt_id)id), got, want);
		diffs++;
	}
	return diffs;
}

/* l takes over passed fd p. */
static void
adopt(struct listener *l, const struct passed *p)
{
	l->fd = p->fd;
	/* getsockname(2) said it: the port the listener is on (0: unix) */
	if (p->ss.ss_family == AF_INET)
		l->bound_port =
		    ntohs(((const struct sockaddr_in *)&p->ss)->sin_port);
	else if (p->ss.ss_family == AF_INET6)
		l->bound_port =
		    ntohs(((const struct sockaddr_in6 *)&p->ss)->sin6_port);
	else
		l->bound_port = 0;
	l->origin = LISTEN_SYSTEMD;
	free(l->fdname);
	l->fdname = listen_strdup(p->name);
	/* never unlinked: the socket file is systemd's */
	l->path_ino = 0;
}

/* With no --port or --path: a listener for p, keyed by its address. */
static void
adopt_new(struct listener **ls, size_t *n, const struct passed *p)
{
	struct listener *l;

	*ls = realloc(*ls, (*n + 1) * sizeof(**ls));
	if (*ls == NULL)
		abort();
	l = &(*ls)[(*n)++];
	listen_init(l, p->addr);
	l->key = listen_strdup(p->addr);
	if (p->ss.ss_family == AF_UNIX) {
		l->kind = LISTEN_UNIX;
		l->path = listen_strdup(p->addr);
	} else {
		const char *colon = strrchr(p->addr, ':');

		l->kind = p->type == SOCK_DGRAM ? LISTEN_UDP : LISTEN_TCP;
		l->ipv6 = p->ss.ss_family == AF_INET6;
		l->port = listen_strdup(colon + 1);
		l->host =
		    l->ipv6
		        ? listen_strndup(p->addr + 1,
		                         (size_t)(colon - p->addr - 2))
		        : listen_strndup(p->addr, (size_t)(colon - p->addr));
	}
	listen_set_options(l, NULL, SOMAXCONN);
	adopt(l, p);
}

void
listen_readopt(struct listener *l, const char *fdname)
{
	l->origin = LISTEN_SYSTEMD;
	free(l->fdname);
	l->fdname = fdname != NULL ? listen_strdup(fdname) : NULL;
	/* never unlinked: the socket file is systemd's */
	l->path_ino = 0;
}

int
listen_readopt_fd(struct listener **ls, size_t *n, int fd, const char *fdname,
                  char *err, size_t errlen)
{
	socklen_t tl;
	struct passed p;

	memset(&p, 0, sizeof(p));
	p.fd = fd;
	p.name = fdname ? fdname : "unknown";
	p.sslen = sizeof(p.ss);
	tl = sizeof(p.type);
	if (getsockname(fd, (struct sockaddr *)&p.ss, &p.sslen) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &p.type, &tl) < 0) {
		snprintf(err, errlen,
		         "listener on fd %d (name \"%s\") lost across re-exec: "
		         "%s",
		         fd, p.name, strerror(errno));
		return -1;
	}
	listen_addr_text(&p.ss, p.addr, sizeof(p.addr));
	/* adopt_new reads a host and a port, or a path, from the address */
	if (p.ss.ss_family != AF_INET && p.ss.ss_family != AF_INET6 &&
	    p.ss.ss_family != AF_UNIX) {
		snprintf(err, errlen,
		         "listener on fd %d is %s after re-exec, no socket "
		         "baton adopts",
		         fd, p.addr);
		return -1;
	}
	adopt_new(ls, n, &p);
	listen_readopt(&(*ls)[*n - 1], fdname);
	return 0;
}

/* The LISTEN_FDNAMES entry of fd i, or "unknown" as sd_listen_fds
 * names an fd without one. names is modified (split at ':'). */
static const char *
nth_name(char *names, int i)
{
	char *p = names;

	for (; p && i > 0; i--) {
		p = strchr(p, ':');
		if (p)
			p++;
	}
	if (p == NULL || *p == '\0' || *p == ':')
		return "unknown";
	return p;
}

/* sd_listen_fds_with_names(3) refuses a LISTEN_FDNAMES that names more
 * or fewer fds than LISTEN_FDS passes (EINVAL): the names would be
 * matched to the wrong sockets. An empty or missing one names none
 * (each fd is then "unknown"). */
static int
count_names(const char *names, long nfds, char *err, size_t errlen)
{
	long count = 1;
	const char *p;

	if (*names == '\0' || nfds == 0)
		return 0;
	for (p = names; (p = strchr(p, ':')) != NULL; p++)
		count++;
	if (count == nfds)
		return 0;
	snprintf(err, errlen,
	         "cannot adopt the sockets passed by systemd: LISTEN_FDNAMES "
	         "has %ld names for %ld fds (LISTEN_FDS=%ld)",
	         count, nfds, nfds);
	return -1;
}

/* Remove every LISTEN_* variable: they were for baton, never for its
 * workers (each dialect sets its own). */
static void
unset_listen_vars(void)
{
	extern char **environ;
	char name[128];
	size_t i, len;

	for (i = 0; environ[i];) {
		len = strcspn(environ[i], "=");
		if (strncmp(environ[i], "LISTEN_", 7) == 0 &&
		    len < sizeof(name)) {
			memcpy(name, environ[i], len);
			name[len] = '\0';
			unsetenv(name);
			i = 0;
			continue;
		}
		i++;
	}
}

static int
take_one(struct listener **ls, size_t *n, size_t given, struct passed *p,
         char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < given; i++)
		if ((*ls)[i].origin == LISTEN_BOUND &&
		    passed_matches(p, &(*ls)[i]))
			break;
	if (i < given) {
		adopt(&(*ls)[i], p);
		log_info("adopting %s (fd %d, name \"%s\") from systemd for %s",
		         p->addr, p->fd, p->name, (*ls)[i].spec);
		return compare_options(&(*ls)[i]);
	}
	if (given > 0) {
		snprintf(err, errlen,
		         "cannot adopt %s (fd %d, name \"%s\") passed by "
		         "systemd: no --port or --path matches it",
		         p->addr, p->fd, p->name);
		return -1;
	}
	adopt_new(ls, n, p);
	log_info("adopting %s (fd %d, name \"%s\") from systemd", p->addr,
	         p->fd, p->name);
	return 0;
}

int
listen_take_systemd_fds(struct listener **ls, size_t *n, char *err,
                        size_t errlen)
{
	const char *pid_s = getenv("LISTEN_PID"), *fds_s = getenv("LISTEN_FDS");
	char *names = getenv("LISTEN_FDNAMES"), *names_copy;
	long pid, nfds, i;
	size_t given = *n;
	int diffs = 0, rc;
	struct passed p;

	if (pid_s == NULL || fds_s == NULL ||
	    sockopt_parse_long(pid_s, 1, 0x7fffffff, &pid) < 0 ||
	    pid != (long)getpid() ||
	    sockopt_parse_long(fds_s, 0, 65536, &nfds) < 0) {
		unset_listen_vars();
		return 0;
	}
	names_copy = strdup(names ? names : "");
	if (names_copy == NULL)
		abort();
	unset_listen_vars();
	if (count_names(names_copy, nfds, err, errlen) < 0) {
		free(names_copy);
		return -1;
	}
	for (i = 0; i < nfds; i++) {
		char *one = strdup(names_copy), *colon;

		if (one == NULL)
			abort();
		p.name = nth_name(one, (int)i);
		if ((colon = strchr(p.name, ':')) != NULL)
			*colon = '\0';
		rc = passed_read(&p, SD_LISTEN_FDS_START + (int)i, p.name, err,
		                 errlen);
		if (rc == 0)
			rc = take_one(ls, n, given, &p, err, errlen);
		free(one);
		if (rc < 0) {
			free(names_copy);
			return -1;
		}
		diffs += rc;
	}
	free(names_copy);
	if (*n > given && listen_assign_fds(*ls, *n, err, errlen) < 0)
		return -1;
	return diffs;
}
