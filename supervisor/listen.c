/* SPDX-License-Identifier: ISC */
/* listen.c: listener specs as start_server spells them, and binding them. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"

char *
listen_strndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		abort();
	return p;
}

char *
listen_strdup(const char *s)
{
	return listen_strndup(s, strlen(s));
}

static const char *
skip_ws(const char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return p;
}

/* Parse "digits" at *pp into out (as written); returns 0 on success. */
static int
take_digits(const char **pp, char **out)
{
	const char *p = *pp, *start = p;

	while (isdigit((unsigned char)*p))
		p++;
	if (p == start)
		return -1;
	*out = listen_strndup(start, (size_t)(p - start));
	*pp = p;
	return 0;
}

/* The tail shared by both forms: "[u]PORT[ =FD]" and trailing spaces. */
static int
parse_port_tail(const char *p, struct listener *l, char *err, size_t errlen)
{
	long n;
	char *fd = NULL;
	const char *digits;

	if (*p == 'u') {
		l->kind = LISTEN_UDP;
		p++;
	}
	if (take_digits(&p, &l->port) < 0) {
		snprintf(err, errlen, "port is not a number");
		return -1;
	}
	/* leading zeros are allowed and kept in the key, as start_server
	 * keeps them ("08080"); the number is what is left */
	digits = l->port + strspn(l->port, "0");
	n = strlen(digits) > 5 ? 65536 : strtol(digits, NULL, 10);
	if (n > 65535) {
		snprintf(err, errlen, "port %s is out of range (0-65535)",
		         l->port);
		return -1;
	}
	p = skip_ws(p);
	if (*p == '=') {
		p = skip_ws(p + 1);
		if (take_digits(&p, &fd) < 0) {
			snprintf(err, errlen, "fd after '=' is not a number");
			return -1;
		}
		n = strtol(fd, NULL, 10);
		free(fd);
		if (n > 65535) {
			snprintf(err, errlen, "fd %ld is out of range", n);
			return -1;
		}
		l->pin_fd = (int)n;
	}
	p = skip_ws(p);
	if (*p != '\0') {
		char quoted[256];

		log_escape(quoted, sizeof(quoted), p);
		snprintf(err, errlen, "unexpected \"%s\"", quoted);
		return -1;
	}
	return 0;
}

void
listen_init(struct listener *l, const char *spec)
{
	memset(l, 0, sizeof(*l));
	l->kind = LISTEN_TCP;
	l->pin_fd = -1;
	l->target_fd = -1;
	l->fd = -1;
	l->spec = listen_strdup(spec);
}

int
listen_parse_port(const char *spec, struct listener *l, char *err,
                  size_t errlen)
{
	const char *p = skip_ws(spec), *colon;
	size_t keylen;

	listen_init(l, spec);
	if (strchr(p, ':') == NULL &&
	    (isdigit((unsigned char)*p) ||
	     (*p == 'u' && isdigit((unsigned char)p[1])))) {
		/* PORT: 0.0.0.0, IPv4 only, as start_server does */
		if (parse_port_tail(p, l, err, errlen) < 0)
			goto fail;
		l->key = listen_strdup(l->port);
		listen_set_options(l, NULL, SOMAXCONN);
		return 0;
	}
	if (*p == '[') {
		const char *close = strchr(p, ']');

		if (close == NULL) {
			snprintf(err, errlen, "missing ']'");
			goto fail;
		}
		l->host = listen_strndup(skip_ws(p + 1),
		                         (size_t)(close - skip_ws(p + 1)));
		p = skip_ws(close + 1);
		if (*p != ':') {
			snprintf(err, errlen, "expected ':' after ']'");
			goto fail;
		}
		colon = p;
	} else {
		colon = strrchr(p, ':');
		if (colon == NULL) {
			snprintf(err, errlen,
			         "expected PORT, HOST:PORT or [HOST]:PORT");
			goto fail;
		}
		l->host = listen_strndup(p, (size_t)(colon - p));
	}
	/* trailing spaces inside the host are not part of it */
	keylen = strlen(l->host);
	while (keylen > 0 && isspace((unsigned char)l->host[keylen - 1]))
		l->host[--keylen] = '\0';
	if (keylen == 0 || strcmp(l->host, "*") == 0) {
		snprintf(err, errlen,
		         "missing host before ':' (use PORT for "
		         "all IPv4 addresses, or [::]:PORT)");
		goto fail;
	}
	if (parse_port_tail(skip_ws(colon + 1), l, err, errlen) < 0)
		goto fail;
	l->ipv6 = strchr(l->host, ':') != NULL;
	if (asprintf(&l->key, l->ipv6 ? "[%s]:%s" : "%s:%s", l->host, l->port) <
	    0)
		abort();
	listen_set_options(l, NULL, SOMAXCONN);
	return 0;
fail:
	listen_free(l);
	return -1;
}

int
listen_parse_path(const char *path, struct listener *l, char *err,
                  size_t errlen)
{
	struct sockaddr_un sun;

	listen_init(l, path);
	l->kind = LISTEN_UNIX;
	if (*path == '\0') {
		snprintf(err, errlen, "empty path");
		goto fail;
	}
	/* SERVER_STARTER_PORT is "key=fd;key=fd": every parser of it
	 * (Perl's, Go's, h2o's, libbaton's) would split such a key */
	if (strpbrk(path, ";=") != NULL) {
		snprintf(err, errlen,
		         "a path cannot contain ';' or '=' (they separate "
		         "the entries of SERVER_STARTER_PORT)");
		goto fail;
	}
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "path is longer than %zu bytes",
		         sizeof(sun.sun_path) - 1);
		goto fail;
	}
	l->path = listen_strdup(path);
	l->key = listen_strdup(path);
	listen_set_options(l, NULL, SOMAXCONN);
	return 0;
fail:
	listen_free(l);
	return -1;
}

void
listen_free(struct listener *l)
{
	free(l->spec);
	free(l->key);
	free(l->host);
	free(l->port);
	free(l->path);
	free(l->fdname);
	l->spec = l->key = l->host = l->port = l->path = l->fdname = NULL;
	if (l->opts != NULL)
		sockopt_free(l->opts);
	free(l->opts);
	l->opts = NULL;
}

struct sockopts *
listen_own_opts(struct listener *l)
{
	if (l->opts == NULL && (l->opts = calloc(1, sizeof(*l->opts))) == NULL)
		abort();
	return l->opts;
}

const struct sockopts *
listen_eff(const struct listener *l)
{
	return &l->eff;
}

const struct sockopts_read *
listen_got(const struct listener *l)
{
	return &l->got;
}

int
listen_assign_fds(struct listener *ls, size_t n, char *err, size_t errlen)
{
	size_t i, j;
	int next = 3;

	for (i = 0; i < n; i++) {
		ls[i].target_fd = ls[i].pin_fd;
		for (j = 0; j < i; j++)
			if (ls[i].pin_fd >= 0 && ls[j].pin_fd == ls[i].pin_fd) {
				snprintf(err, errlen,
				         "%s and %s both ask for fd %d",
				         ls[j].spec, ls[i].spec, ls[i].pin_fd);
				return -1;
			}
	}
	for (i = 0; i < n; i++) {
		if (ls[i].target_fd >= 0)
			continue;
		for (;;) {
			for (j = 0; j < n; j++)
				if (ls[j].pin_fd == next)
					break;
			if (j == n)
				break;
			next++;
		}
		ls[i].target_fd = next++;
	}
	return 0;
}

int
listen_resolve(const struct listener *l, struct sockaddr_storage *ss,
               socklen_t *sslen, char *err, size_t errlen)
{
	struct addrinfo hints, *res;
	int rc;

	memset(ss, 0, sizeof(*ss));
	if (l->host == NULL) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		sin->sin_port = htons((uint16_t)atoi(l->port));
		*sslen = sizeof(*sin);
		return 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = l->ipv6 ? AF_INET6 : AF_INET;
	hints.ai_socktype = l->kind == LISTEN_UDP ? SOCK_DGRAM : SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (l->ipv6 ? AI_NUMERICHOST : 0);
	rc = getaddrinfo(l->host, l->port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", l->host,
		         rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* A socket file nobody accepts on is stale (ECONNREFUSED) and may be
 * replaced; a live one, or anything that is not a socket, is refused. */
static int
check_path(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, rc, saved;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot use %s for --path: %s", path,
		         strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen,
		         "cannot use %s for --path: exists and is not a socket",
		         path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a socket to probe %s: %s",
		         path, strerror(errno));
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strncpy(sun.sun_path, path, sizeof(sun.sun_path) - 1);
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	saved = errno;
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen,
		         "cannot use %s for --path: already in use (a process "
		         "accepts on it)",
		         path);
		return -1;
	}
	if (saved != ECONNREFUSED) {
		snprintf(err, errlen, "cannot use %s for --path: %s", path,
		         strerror(saved));
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove stale socket %s: %s", path,
		         strerror(errno));
		return -1;
	}
	return 0;
}

/* The socket file's mode, owner and group, and the backlog listen(2)
 * applied (min(backlog, somaxconn): the kernel does not report it for
 * unix sockets). */
static int
read_unix(const struct listener *l, int fd, struct sockopts_read *r, char *err,
          size_t errlen)
{
	struct sockopt_kernel k;
	struct stat st;

	/* the options that are the fd's (O_NONBLOCK); it clears r */
	if (sockopt_read(fd, SOCKOPT_UNIX, r, l->path, err, errlen) < 0)
		return -1;
	if (stat(l->path, &st) < 0) {
		snprintf(err, errlen, "cannot stat %s: %s", l->path,
		         strerror(errno));
		return -1;
	}
	r->val[SOCKOPT_MODE] = (int)(st.st_mode & 07777);
	r->val[SOCKOPT_OWNER] = (int)st.st_uid;
	r->val[SOCKOPT_GROUP] = (int)st.st_gid;
	r->got |=
	    1u << SOCKOPT_MODE | 1u << SOCKOPT_OWNER | 1u << SOCKOPT_GROUP;
	sockopt_kernel_read(&k);
	r->val[SOCKOPT_BACKLOG] = l->backlog;
	if (k.somaxconn >= 0 && l->backlog > k.somaxconn)
		r->val[SOCKOPT_BACKLOG] = (int)k.somaxconn;
	r->got |= 1u << SOCKOPT_BACKLOG;
	return 0;
}

/* What the kernel has of l's options, into r (l is not changed). */
static int
read_options(const struct listener *l, struct sockopts_read *r, char *err,
             size_t errlen)
{
	char name[300];

	if (l->kind == LISTEN_UNIX)
		return read_unix(l, l->fd, r, err, errlen);
	return sockopt_read(l->fd, listen_class(l), r,
	                    listen_name(l, name, sizeof(name)), err, errlen);
}

static int
bind_unix(struct listener *l, char *err, size_t errlen)
{
	const struct sockopts *so = &l->eff;
	struct sockopts_read got;
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int fd, rc;

	if (check_path(l->path, err, errlen) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create socket for %s: %s",
		         l->path, strerror(errno));
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strncpy(sun.sun_path, l->path, sizeof(sun.sun_path) - 1);
	/* start_server binds under umask 0: the socket is srwxrwxrwx. A
	 * --socket-mode goes through the umask too, so that the file never
	 * exists with more permissions than asked for. */
	/* the options that are the fd's (O_NONBLOCK) */
	if (sockopt_apply(fd, so, SOCKOPT_UNIX, SOCKOPT_BEFORE_BIND, l->path,
	                  err, errlen) < 0) {
		close(fd);
		return -1;
	}
	old = umask((mode_t)(~so->val[SOCKOPT_MODE] & 0777));
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc < 0) {
		snprintf(err, errlen, "cannot bind %s: %s", l->path,
		         strerror(errno));
		close(fd);
		return -1;
	}
	if (stat(l->path, &st) == 0) {
		l->path_dev = st.st_dev;
		l->path_ino = st.st_ino;
	}
	if (so->given & (1u << SOCKOPT_OWNER | 1u << SOCKOPT_GROUP)) {
		uid_t uid = so->given & 1u << SOCKOPT_OWNER
		                ? (uid_t)so->val[SOCKOPT_OWNER]
		                : (uid_t)-1;
		gid_t gid = so->given & 1u << SOCKOPT_GROUP
		                ? (gid_t)so->val[SOCKOPT_GROUP]
		                : (gid_t)-1;

		/* lchown: never follow a symlink someone put there */
		if (lchown(l->path, uid, gid) < 0) {
			char who[160];

			snprintf(err, errlen,
			         "cannot change the owner of %s to %s: %s",
			         l->path,
			         sockopt_owner_text(so, who, sizeof(who)),
			         strerror(errno));
			goto fail;
		}
	}
	if (listen(fd, l->backlog) < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", l->path,
		         strerror(errno));
		goto fail;
	}
	if (read_unix(l, fd, &got, err, errlen) < 0)
		goto fail;
	l->got = got;
	l->fd = fd;
	return 0;
fail:
	close(fd);
	unlink(l->path);
	l->path_ino = 0;
	return -1;
}

unsigned
listen_class(const struct listener *l)
{
	unsigned cls = l->kind == LISTEN_UNIX  ? SOCKOPT_UNIX
	               : l->kind == LISTEN_UDP ? SOCKOPT_UDP
	                                       : SOCKOPT_TCP;
	struct in6_addr a;

	if (l->kind != LISTEN_UNIX && l->ipv6) {
		cls |= SOCKOPT_IPV6;
		if (inet_pton(AF_INET6, l->host, &a) == 1 &&
		    IN6_IS_ADDR_UNSPECIFIED(&a))
			cls |= SOCKOPT_IPV6_ANY;
	}
	return cls;
}

const char *
listen_name(const struct listener *l, char *buf, size_t len)
{
	/* a bare port binds 0.0.0.0: name the address, not "8080" */
	if (l->kind != LISTEN_UNIX && l->host == NULL)
		snprintf(buf, len, "0.0.0.0:%s", l->port);
	else
		snprintf(buf, len, "%s", l->key);
	return buf;
}

/* l->bound_port from the socket: after a bind to port 0, only the
 * kernel knows it. Never fails: 0 when it cannot be read. */
static void
note_bound(struct listener *l)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);

	l->bound_port = 0;
	if (l->kind == LISTEN_UNIX || l->fd < 0 ||
	    getsockname(l->fd, (struct sockaddr *)&ss, &sslen) < 0)
		return;
	if (ss.ss_family == AF_INET)
		l->bound_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	else if (ss.ss_family == AF_INET6)
		l->bound_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* For a port-0 listener once bound: its address with the port the
 * kernel chose ("127.0.0.1:41234"); NULL for any other. */
static const char *
listen_chosen(const struct listener *l, char *buf, size_t len)
{
	if (l->kind == LISTEN_UNIX || l->bound_port == 0 || atol(l->port) != 0)
		return NULL;
	if (l->host == NULL)
		snprintf(buf, len, "0.0.0.0:%d", l->bound_port);
	else
		snprintf(buf, len, l->ipv6 ? "[%s]:%d" : "%s:%d", l->host,
		         l->bound_port);
	return buf;
}

void
listen_set_options(struct listener *l, const struct sockopts *global,
                   long default_backlog)
{
	struct sockopts none;

	memset(&none, 0, sizeof(none));
	sockopt_merge(global ? global : &none, l->opts ? l->opts : &none,
	              listen_class(l), default_backlog, &l->eff);
	l->backlog = (int)l->eff.val[SOCKOPT_BACKLOG];
}

int
listen_read_options(struct listener *l, char *err, size_t errlen)
{
	struct sockopts_read r;

	note_bound(l);
	if (read_options(l, &r, err, errlen) < 0)
		return -1;
	l->got = r;
	return 0;
}

int
listen_bind(struct listener *l, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	unsigned cls = listen_class(l);
	struct sockopts_read got;
	char name[300];
	int fd, type;

	/* adopted from systemd (listen_take_systemd_fds): already there */
	if (l->origin == LISTEN_SYSTEMD && l->fd >= 0)
		return 0;
	/* the backlog may have been set directly (tests/spawn.c) */
	l->eff.val[SOCKOPT_BACKLOG] = l->backlog;
	if (l->kind == LISTEN_UNIX)
		return bind_unix(l, err, errlen);
	listen_name(l, name, sizeof(name));
	if (listen_resolve(l, &ss, &sslen, err, errlen) < 0)
		return -1;
	type = l->kind == LISTEN_UDP ? SOCK_DGRAM : SOCK_STREAM;
	fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create socket for %s: %s", name,
		         strerror(errno));
		return -1;
	}
	/* SO_REUSEADDR and, for IPv6, IPV6_V6ONLY as start_server; then
	 * what the user asked for */
	if (sockopt_apply(fd, &l->eff, cls, SOCKOPT_BEFORE_BIND, name, err,
	                  errlen) < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&ss, sslen) < 0) {
		snprintf(err, errlen, "cannot bind %s: %s", name,
		         strerror(errno));
		goto fail;
	}
	if (type == SOCK_STREAM) {
		if (sockopt_apply(fd, &l->eff, cls, SOCKOPT_BEFORE_LISTEN, name,
		                  err, errlen) < 0)
			goto fail;
		if (listen(fd, l->backlog) < 0) {
			snprintf(err, errlen, "cannot listen on %s: %s", name,
			         strerror(errno));
			goto fail;
		}
	}
	if (sockopt_read(fd, cls, &got, name, err, errlen) < 0)
		goto fail;
	l->got = got;
	l->fd = fd;
	note_bound(l);
	return 0;
fail:
	close(fd);
	return -1;
}

/* Do a and b name the same address? Port 0 never does (the kernel
 * gives each socket a port of its own); hosts are compared as addresses
 * when both are literals ("::1" and "0:0::1"), else as written. */
static int
same_address(const struct listener *a, const struct listener *b)
{
	const char *ha = a->host ? a->host : "0.0.0.0",
	           *hb = b->host ? b->host : "0.0.0.0";
	unsigned char aa[sizeof(struct in6_addr)], ab[sizeof(struct in6_addr)];
	int fam = a->ipv6 ? AF_INET6 : AF_INET;

	if (a->kind != b->kind)
		return 0;
	if (a->kind == LISTEN_UNIX)
		return strcmp(a->path, b->path) == 0;
	if (a->ipv6 != b->ipv6 || atol(a->port) != atol(b->port) ||
	    atol(a->port) == 0)
		return 0;
	if (inet_pton(fam, ha, aa) == 1 && inet_pton(fam, hb, ab) == 1)
		return memcmp(aa, ab, fam == AF_INET6 ? 16 : 4) == 0;
	return strcasecmp(ha, hb) == 0;
}

static int
reuseport(const struct listener *l)
{
	const struct sockopts *e = listen_eff(l);

	return (e->given & 1u << SOCKOPT_REUSEPORT) &&
	       e->val[SOCKOPT_REUSEPORT] != 0;
}

int
listen_check_twice(const struct listener *ls, size_t n, char *err,
                   size_t errlen)
{
	size_t i, j;

	for (i = 1; i < n; i++)
		for (j = 0; j < i; j++) {
			const char *opt =
			    ls[i].kind == LISTEN_UNIX ? "--path" : "--port";

			if (!same_address(&ls[j], &ls[i]) ||
			    (reuseport(&ls[j]) && reuseport(&ls[i])))
				continue;
			if (strcmp(ls[i].spec, ls[j].spec) == 0)
				snprintf(err, errlen, "%s=%s given twice", opt,
				         ls[i].spec);
			else
				snprintf(err, errlen,
				         "%s=%s given twice (first as %s=%s)",
				         opt, ls[i].spec, opt, ls[j].spec);
			return -1;
		}
	return 0;
}

char *
listen_env(const struct listener *ls, size_t n)
{
	size_t i, len = 1, off = 0;
	char *s;

	for (i = 0; i < n; i++)
		len += strlen(ls[i].key) + 16;
	s = malloc(len);
	if (s == NULL)
		abort();
	s[0] = '\0';
	for (i = 0; i < n; i++)
		off +=
		    (size_t)snprintf(s + off, len - off, "%s%s=%d",
		                     i ? ";" : "", ls[i].key, ls[i].target_fd);
	return s;
}

/* fds a worker's side of fork may need beyond the listeners: 0-2,
 * baton's own (pid file, loop, notify, log) and spawn.c's one spare */
#define LISTEN_FD_RESERVE 16

int
listen_check_pins(const struct listener *ls, size_t n, char *err, size_t errlen)
{
	struct rlimit rl;
	size_t i;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return 0;
	/* the worker's side of fork needs the listeners, baton's own fds
	 * and one spare number (spawn.c): 16 is room for all of that */
	if ((rlim_t)n + LISTEN_FD_RESERVE > rl.rlim_cur) {
		snprintf(err, errlen,
		         "cannot pass %zu listeners: the fd limit is %ld "
		         "(ulimit -n); raise it to at least %zu",
		         n, (long)rl.rlim_cur, n + LISTEN_FD_RESERVE);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (ls[i].pin_fd >= 0 && (rlim_t)ls[i].pin_fd >= rl.rlim_cur) {
			snprintf(err, errlen,
			         "cannot pin %s to fd %d: the fd limit is %ld "
			         "(ulimit -n)",
			         ls[i].key, ls[i].pin_fd, (long)rl.rlim_cur);
			return -1;
		}
	return 0;
}

void
listen_adopt_path(struct listener *l)
{
	struct stat st;

	if (l->kind == LISTEN_UNIX && stat(l->path, &st) == 0) {
		l->path_dev = st.st_dev;
		l->path_ino = st.st_ino;
	}
}

void
listen_unlink_paths(const struct listener *ls, size_t n)
{
	struct stat st;
	size_t i;

	for (i = 0; i < n; i++) {
		if (ls[i].kind != LISTEN_UNIX || ls[i].path_ino == 0)
			continue;
		if (stat(ls[i].path, &st) == 0 && st.st_dev == ls[i].path_dev &&
		    st.st_ino == ls[i].path_ino)
			unlink(ls[i].path);
	}
}

static void
log_note(int warn, const char *msg, void *arg)
{
	(void)arg;
	if (warn)
		log_warnx("%s", msg);
	else
		log_info("%s", msg);
}

/* --defer-accept where the server speaks first: the client waits for the
 * greeting and the kernel waits for the client, until the defer period
 * ends. The period said is the kernel's (30 s asked is 31 s). */
static void
warn_speaks_first(const struct listener *l, const char *name)
{
	const struct sockopts *eff = listen_eff(l);
	const struct sockopts_read *got = listen_got(l);
	const char *proto;
	long secs;

	if (l->kind != LISTEN_TCP ||
	    !(eff->given & 1u << SOCKOPT_DEFER_ACCEPT) ||
	    eff->val[SOCKOPT_DEFER_ACCEPT] <= 0 ||
	    (proto = sockopt_speaks_first(l->bound_port)) == NULL)
		return;
	secs = got->got & 1u << SOCKOPT_DEFER_ACCEPT
	           ? got->val[SOCKOPT_DEFER_ACCEPT]
	           : eff->val[SOCKOPT_DEFER_ACCEPT];
	log_warnx("--defer-accept on %s: the server speaks first on this port "
	          "(%s); each connection waits up to %ld s for the client's "
	          "first byte",
	          name, proto, secs);
}

void
listen_log_options(const struct listener *l, int quiet)
{
	struct sockopt_kernel k;
	char name[300], desc[1024];

	listen_name(l, name, sizeof(name));
	/* --port=HOST:0: the port exists nowhere else but in ss(8) */
	if (!quiet && listen_chosen(l, desc, sizeof(desc)) != NULL)
		log_info("listening on %s: the kernel chose port %d (%s)", name,
		         l->bound_port, desc);
	sockopt_describe(listen_eff(l), listen_got(l), listen_class(l), desc,
	                 sizeof(desc));
	if (!quiet && desc[0] != '\0')
		log_info("listening on %s: %s", name, desc);
	sockopt_kernel_read(&k);
	sockopt_notes(listen_eff(l), listen_got(l), listen_class(l), &k, name,
	              log_note, NULL);
	warn_speaks_first(l, name);
}

size_t
listen_check_name(const struct listener *l, char *buf, size_t len)
{
	char chosen[300], key[512];
	int n;

	log_escape(key, sizeof(key), l->key);
	if (listen_chosen(l, chosen, sizeof(chosen)) != NULL)
		n = snprintf(buf, len, "%s (port %d)", key, l->bound_port);
	else
		n = snprintf(buf, len, "%s", key);
	return n < 0 ? 0 : (size_t)n;
}

void
listen_print_table(FILE *f, const struct listener *ls, size_t n)
{
	static const char *const kinds[] = {"tcp", "udp", "unix"};
	struct sockopt_kernel k;
	size_t i, w = 8;

	for (i = 0; i < n; i++)
		if (listen_check_name(&ls[i], NULL, 0) > w)
			w = listen_check_name(&ls[i], NULL, 0);
	fprintf(f, "%-*s  %-4s  %3s  %-14s  %s\n", (int)w, "LISTENER", "TYPE",
	        "FD", "BACKLOG", "OPTIONS");
	for (i = 0; i < n; i++) {
		const struct listener *l = &ls[i];
		char backlog[64], words[1024], lname[600];

		if (l->kind == LISTEN_UDP)
			snprintf(backlog, sizeof(backlog), "-");
		else if ((listen_got(l)->got & 1u << SOCKOPT_BACKLOG) &&
		         listen_got(l)->val[SOCKOPT_BACKLOG] != l->backlog)
			snprintf(backlog, sizeof(backlog), "%d(asked=%d)",
			         listen_got(l)->val[SOCKOPT_BACKLOG],
			         l->backlog);
		else
			snprintf(backlog, sizeof(backlog), "%d", l->backlog);
		sockopt_words(listen_eff(l), listen_got(l), listen_class(l),
		              words, sizeof(words));
		listen_check_name(l, lname, sizeof(lname));
		fprintf(f, "%-*s  %-4s  %3d  %-14s  %s\n", (int)w, lname,
		        kinds[l->kind], l->target_fd, backlog, words);
	}
	sockopt_kernel_read(&k);
	fputc('\n', f);
	sockopt_print_kernel(f, &k);
}

void
listen_json_options(FILE *f, const struct listener *l)
{
	struct sockopts_read got = *listen_got(l);
	char err[256];

	/* after a re-exec the listener was adopted, not bound: ask now */
	if (got.got == 0 && l->fd >= 0 &&
	    read_options(l, &got, err, sizeof(err)) < 0)
		memset(&got, 0, sizeof(got));
	sockopt_json(f, listen_eff(l), &got, listen_class(l));
}

const char *
listen_origin_name(const struct listener *l)
{
	return l->origin == LISTEN_SYSTEMD ? "systemd" : "bound";
}

const char *
listen_fdname(const struct listener *l, char *buf, size_t len)
{
	const char *own = l->opts != NULL ? l->opts->name : NULL;
	const char *src = own != NULL         ? own
	                  : l->fdname != NULL ? l->fdname
	                                      : l->key;
	size_t i;

	snprintf(buf, len, "%s", src);
	for (i = 0; buf[i]; i++)
		if (buf[i] == ':' || (unsigned char)buf[i] < 0x20 ||
		    (unsigned char)buf[i] > 0x7e)
			buf[i] = '_';
	return buf;
}

void
listen_addr_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(in->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else if (ss->ss_family == AF_UNIX) {
		const struct sockaddr_un *un = (const void *)ss;

		snprintf(buf, len, "%s", un->sun_path[0] ? un->sun_path : "@");
	} else
		snprintf(buf, len, "(address family %d)", ss->ss_family);
}
