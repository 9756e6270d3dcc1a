/* SPDX-License-Identifier: ISC */
/* sdk-unit.c: Check tests of libbaton: parser tables, fd checks on real
 * sockets, look-ups, readiness messages. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "baton.h"
#include "internal.h"

/* ---- helpers ------------------------------------------------------------ */

/* Set-up steps abort rather than ck_assert: they also run in grandchildren
 * whose fd 3 (Check's report file) has been replaced (see run_in_child). */
#define SETUP(c)                                                               \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr, "%s:%d: set-up failed: %s: %s\n",      \
			        __FILE__, __LINE__, #c, strerror(errno));      \
			abort();                                               \
		}                                                              \
	} while (0)

/* A socket of @p family/@p type bound to @p host port 0 (listening if a
 * stream), moved to fd @p at. Returns the port. */
static int
make_inet(int at, int family, int type, const char *host)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(family, type, 0), one = 1;

	SETUP(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&ss, 0, sizeof ss);
	if (family == AF_INET) {
		struct sockaddr_in *sin = (void *)&ss;

		sin->sin_family = AF_INET;
		SETUP(inet_pton(AF_INET, host, &sin->sin_addr) == 1);
		len = sizeof *sin;
	} else {
		struct sockaddr_in6 *sin6 = (void *)&ss;
		int on = 1;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
		sin6->sin6_family = AF_INET6;
		SETUP(inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1);
		len = sizeof *sin6;
	}
	SETUP(bind(fd, (struct sockaddr *)&ss, len) == 0);
	if (type == SOCK_STREAM)
		SETUP(listen(fd, 8) == 0);
	len = sizeof ss;
	SETUP(getsockname(fd, (struct sockaddr *)&ss, &len) == 0);
	if (fd != at) {
		SETUP(dup2(fd, at) == at);
		close(fd);
	}
	return ntohs(family == AF_INET
	                 ? ((struct sockaddr_in *)&ss)->sin_port
	                 : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* A listening unix socket at @p path ("@x": abstract) on fd @p at. */
static void
make_unix(int at, const char *path, int type)
{
	struct sockaddr_un sun;
	size_t n = strlen(path);
	int fd = socket(AF_UNIX, type, 0);

	SETUP(fd >= 0);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	else
		unlink(path);
	SETUP(bind(fd, (struct sockaddr *)&sun,
	           (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	                       (path[0] != '@'))) == 0);
	if (type != SOCK_DGRAM)
		SETUP(listen(fd, 8) == 0);
	if (fd != at) {
		SETUP(dup2(fd, at) == at);
		close(fd);
	}
}

static int
cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	ck_assert_int_ge(fl, 0);
	return (fl & FD_CLOEXEC) != 0;
}

static void
clear_env(void)
{
	unsetenv("SERVER_STARTER_PORT");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	unsetenv("NOTIFY_SOCKET");
	unsetenv("SERVER_STARTER_GENERATION");
}

static void
assert_printable(const char *m)
{
	for (; *m != '\0'; m++)
		ck_assert_msg(*m >= 0x20 && *m <= 0x7e,
		              "unprintable byte 0x%02x in the message",
		              (unsigned char)*m);
}

/* Check's forked test process keeps its report file on fd 3, which the
 * systemd protocol (and start_server's layout, from 4) need: such tests run
 * in a grandchild that reports through a pipe on a high fd, with REQUIRE in
 * place of ck_assert. */
static char child_err[512];

#define REQUIRE(c)                                                             \
	do {                                                                   \
		if (!(c)) {                                                    \
			snprintf(child_err, sizeof child_err,                  \
			         "line %d: %s (errno %d, message \"%s\")",     \
			         __LINE__, #c, errno, baton_errmsg());         \
			return;                                                \
		}                                                              \
	} while (0)

#define REPORT_FD 250

static void
run_in_child(void (*fn)(void))
{
	char buf[600];
	size_t got = 0;
	ssize_t n;
	int p[2], status;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(p[1], REPORT_FD);
		close(p[0]);
		close(p[1]);
		child_err[0] = '\0';
		fn();
		if (write(REPORT_FD, child_err, strlen(child_err)) < 0)
			_exit(3);
		_exit(child_err[0] != '\0');
	}
	close(p[1]);
	while (got < sizeof buf - 1 &&
	       (n = read(p[0], buf + got, sizeof buf - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	              "child failed: %s", got ? buf : "(no message)");
}

/* ---- SERVER_STARTER_PORT parsing (no fds involved) ---------------------- */

static const struct ss_case {
	const char *in;
	int err;          /* 0: parses */
	size_t count;     /* when it parses */
	const char *keys; /* "key=fd," for each entry */
	const char *msg;  /* substring of the message */
} ss_cases[] = {
    {"", 0, 0, "", NULL},
    {"8080=3", 0, 1, "8080=3,", NULL},
    {"8080=4;127.0.0.1:8081=5;[::1]:8082=6;19004=7;/tmp/a.sock=8", 0, 5,
     "8080=4,127.0.0.1:8081=5,[::1]:8082=6,19004=7,/tmp/a.sock=8,", NULL},
    {"8080=0", 0, 1, "8080=0,", NULL},  /* --port=8080=0 pinning */
    {"8080=4;", 0, 1, "8080=4,", NULL}, /* Perl's split drops it */
    {";8080=4;;9090=5", 0, 2, "8080=4,9090=5,", NULL},
    {"/tmp/a=b.sock=9", 0, 1, "/tmp/a=b.sock=9,", NULL}, /* last '=' */
    {"8080=04", 0, 1, "8080=4,", NULL},
    {"8080", EINVAL, 0, NULL, "SERVER_STARTER_PORT entry \"8080\" has no '='"},
    {"8080=4;9090", EINVAL, 0, NULL, "entry \"9090\" has no '='"},
    {"=4", EINVAL, 0, NULL, "entry \"=4\" has an empty key"},
    {"8080=", EINVAL, 0, NULL, "entry \"8080=\" has no valid fd"},
    {"8080=x", EINVAL, 0, NULL, "entry \"8080=x\" has no valid fd"},
    {"8080=-1", EINVAL, 0, NULL, "has no valid fd"},
    {"8080= 4", EINVAL, 0, NULL, "has no valid fd"},
    {"8080=4 ", EINVAL, 0, NULL, "has no valid fd"},
    {"8080=2147483648", EINVAL, 0, NULL, "has no valid fd"},
    {"8080=4;8080=5", EINVAL, 0, NULL, "entry \"8080=5\" repeats a key"},
    {"8080=4;9090=4", EINVAL, 0, NULL,
     "entry \"9090=4\" names an fd that another entry names"},
    {"a\x01\"b", EINVAL, 0, NULL, "entry \"a\\x01\\\"b\" has no '='"},
};

START_TEST(test_parse_server_starter)
{
	const struct ss_case *c = &ss_cases[_i];
	baton_listeners *ls = NULL;
	int r = baton__parse_server_starter(c->in, &ls);

	if (c->err != 0) {
		ck_assert_msg(r == -1, "\"%s\" parsed", c->in);
		ck_assert_int_eq(errno, c->err);
		ck_assert_ptr_null(ls);
		ck_assert_msg(strstr(baton_errmsg(), c->msg) != NULL,
		              "\"%s\": message \"%s\" lacks \"%s\"", c->in,
		              baton_errmsg(), c->msg);
		assert_printable(baton_errmsg());
		return;
	}
	ck_assert_msg(r == 0, "\"%s\": %s", c->in, baton_errmsg());
	ck_assert_uint_eq(ls->count, c->count);
	char got[256] = "";
	for (size_t i = 0; i < ls->count; i++) {
		size_t o = strlen(got);

		snprintf(got + o, sizeof got - o, "%s=%d,", ls->v[i].key,
		         ls->v[i].fd);
	}
	ck_assert_str_eq(got, c->keys);
	baton_listeners_free(ls);
}
END_TEST

START_TEST(test_parse_too_many)
{
	size_t n = BATON__MAX_LISTENERS + 1;
	char *s = malloc(n * 2 + 1), *p = s;
	baton_listeners *ls;

	for (size_t i = 0; i < n; i++) {
		*p++ = 'a';
		*p++ = ';';
	}
	*p = '\0';
	ck_assert_int_eq(baton__parse_server_starter(s, &ls), -1);
	ck_assert_int_eq(errno, E2BIG);
	free(s);
}
END_TEST

/* ---- systemd parsing ---------------------------------------------------- */

static const struct sd_case {
	const char *pid, *fds, *names;
	int r; /* 1: ours, 0: not ours, -1: error */
	int err;
	size_t count;
	const char *keys; /* "name=fd," */
	const char *msg;
} sd_cases[] = {
    {"4242", "1", NULL, 1, 0, 1, "unknown=3,", NULL},
    {"4242", "3", "web:admin:dns", 1, 0, 3, "web=3,admin=4,dns=5,", NULL},
    {"4242", "2", "a:", 1, 0, 2, "a=3,=4,", NULL},
    {"4242", "0", NULL, 1, 0, 0, "", NULL},
    {"4242", "0", "", 1, 0, 0, "", NULL},
    {NULL, "1", NULL, 0, 0, 0, NULL, NULL},
    {"4242", NULL, NULL, 0, 0, 0, NULL, NULL},
    {"1", "1", NULL, 0, 0, 0, NULL, NULL},
    {"4243", "2", "a", 0, 0, 0, NULL, NULL}, /* not ours: names unread */
    {"abc", "1", NULL, -1, EINVAL, 0, NULL, "LISTEN_PID=\"abc\" is not a pid"},
    {"0", "1", NULL, -1, EINVAL, 0, NULL, "LISTEN_PID=\"0\""},
    {"", "1", NULL, -1, EINVAL, 0, NULL, "LISTEN_PID=\"\""},
    {"4242", "x", NULL, -1, EINVAL, 0, NULL,
     "LISTEN_FDS=\"x\" is not a number of fds"},
    {"4242", "", NULL, -1, EINVAL, 0, NULL, "LISTEN_FDS=\"\""},
    {"4242", "-1", NULL, -1, EINVAL, 0, NULL, "LISTEN_FDS=\"-1\""},
    {"4242", "4097", NULL, -1, E2BIG, 0, NULL, "at most 4096"},
    {"4242", "99999999999999999999999", NULL, -1, E2BIG, 0, NULL,
     "at most 4096"},
    {"4242", "2", "web", -1, EINVAL, 0, NULL,
     "LISTEN_FDNAMES=\"web\" has 1 names for LISTEN_FDS=2"},
    {"4242", "1", "", -1, EINVAL, 0, NULL, "has 0 names"},
};

START_TEST(test_parse_systemd)
{
	const struct sd_case *c = &sd_cases[_i];
	baton_listeners *ls = NULL;
	int r = baton__parse_systemd(c->pid, c->fds, c->names, 4242, &ls);

	ck_assert_int_eq(r, c->r);
	if (r < 0) {
		ck_assert_int_eq(errno, c->err);
		ck_assert_msg(strstr(baton_errmsg(), c->msg) != NULL,
		              "message \"%s\" lacks \"%s\"", baton_errmsg(),
		              c->msg);
	}
	if (r <= 0) {
		ck_assert_ptr_null(ls);
		return;
	}
	ck_assert_uint_eq(ls->count, c->count);
	char got[256] = "";
	for (size_t i = 0; i < ls->count; i++) {
		size_t o = strlen(got);

		snprintf(got + o, sizeof got - o, "%s=%d,", ls->v[i].key,
		         ls->v[i].fd);
	}
	ck_assert_str_eq(got, c->keys);
	baton_listeners_free(ls);
}
END_TEST

START_TEST(test_parse_systemd_long_name)
{
	char names[300];
	baton_listeners *ls;

	memset(names, 'n', 256);
	names[256] = '\0';
	ck_assert_int_eq(baton__parse_systemd("4242", "1", names, 4242, &ls),
	                 -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_nonnull(strstr(baton_errmsg(), "longer than 255"));
}
END_TEST

/* ---- keys against real sockets ------------------------------------------ */

enum kind { TCP4, TCP6, UDP4, UNIXS, ABSTRACT, CONNECTED, PIPE, CLOSED };

/* Keys hold "%p": the socket's real port. */
static const struct key_case {
	enum kind kind;
	const char *key;
	int err; /* 0: accepted */
	const char *msg;
} key_cases[] = {
    {TCP4, "%p", 0, NULL},
    {TCP4, "127.0.0.1:%p", 0, NULL},
    {TCP4, "localhost:%p", 0, NULL}, /* names are not resolved */
    {TCP4, "[127.0.0.1]:%p", 0, NULL},
    {TCP4, "0", 0, NULL}, /* --port=0: the kernel chose */
    {TCP4, "127.0.0.1:0", 0, NULL},
    {TCP4, ":%p", 0, NULL},
    {TCP6, "[::1]:%p", 0, NULL},
    {TCP6, "%p", 0, NULL},
    {UDP4, "%p", 0, NULL}, /* start_server drops the 'u' */
    {UDP4, "u%p", 0, NULL},
    {UDP4, "127.0.0.1:u%p", 0, NULL},
    {UNIXS, "%u", 0, NULL}, /* "%u": the socket's name, this process's own */
    {ABSTRACT, "%u", 0, NULL},
    {TCP4, "1", EINVAL, "is bound to 127.0.0.1:"},
    {TCP4, "10.0.0.1:%p", EINVAL, "which does not match the key"},
    {TCP4, "[::1]:%p", EINVAL, "does not match"},
    {TCP6, "127.0.0.1:%p", EINVAL, "does not match"},
    {TCP6, "[::2]:%p", EINVAL, "does not match"},
    {TCP4, "u%p", EINVAL, "names a UDP port but fd 40 is not a datagram"},
    {TCP4, "/tmp/x.sock", EINVAL, "does not match"},
    {TCP4, "65536", EINVAL, "does not match"},
    {TCP4, "host/x:%p", EINVAL, "does not match"},
    {TCP4, "[nonsense]:%p", EINVAL, "does not match"},
    {TCP4, "1:2:%p", EINVAL, "does not match"},
    {UNIXS, "/tmp/other.sock", EINVAL,
     "fd 40 is bound to /tmp/baton-sdk-unit."},
    {UNIXS, "%p", EINVAL, "does not match"},
    {ABSTRACT, "@other", EINVAL, "does not match"},
    {CONNECTED, "%p", EINVAL,
     "is a connection-oriented socket that is not "
     "listening"},
    {PIPE, "%p", ENOTSOCK, "fd 40 is not a socket"},
    {CLOSED, "%p", EBADF, "fd 40 is not open"},
};

START_TEST(test_keys)
{
	const struct key_case *c = &key_cases[_i];
	char key[128], env[160], upath[64] = "";
	baton_listeners *ls = NULL;
	int port = 0, p[2];

	clear_env();
	switch (c->kind) {
	case TCP4:
		port = make_inet(40, AF_INET, SOCK_STREAM, "127.0.0.1");
		break;
	case TCP6:
		port = make_inet(40, AF_INET6, SOCK_STREAM, "::1");
		break;
	case UDP4:
		port = make_inet(40, AF_INET, SOCK_DGRAM, "127.0.0.1");
		break;
	case UNIXS: /* named after the pid: another copy of the suite may run */
		snprintf(upath, sizeof upath, "/tmp/baton-sdk-unit.%ld.sock",
		         (long)getpid());
		make_unix(40, upath, SOCK_STREAM);
		break;
	case ABSTRACT:
		snprintf(upath, sizeof upath, "@baton-sdk-unit.%ld",
		         (long)getpid());
		make_unix(40, upath, SOCK_STREAM);
		break;
	case CONNECTED: {
		struct sockaddr_in to;
		int c2 = socket(AF_INET, SOCK_STREAM, 0);

		port = make_inet(41, AF_INET, SOCK_STREAM, "127.0.0.1");
		memset(&to, 0, sizeof to);
		to.sin_family = AF_INET;
		to.sin_port = htons(port);
		inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
		ck_assert_int_eq(connect(c2, (void *)&to, sizeof to), 0);
		dup2(c2, 40);
		break;
	}
	case PIPE:
		ck_assert_int_eq(pipe(p), 0);
		dup2(p[0], 40);
		break;
	case CLOSED:
		close(40);
		break;
	}
	/* "%p" becomes the port, "%u" the unix socket's name */
	const char *pp = strstr(c->key, "%p"), *up = strstr(c->key, "%u");
	if (up != NULL)
		snprintf(key, sizeof key, "%.*s%s%s", (int)(up - c->key),
		         c->key, upath, up + 2);
	else if (pp != NULL)
		snprintf(key, sizeof key, "%.*s%d%s", (int)(pp - c->key),
		         c->key, port, pp + 2);
	else
		snprintf(key, sizeof key, "%s", c->key);
	snprintf(env, sizeof env, "%s=40", key);
	setenv("SERVER_STARTER_PORT", env, 1);

	int r = baton_listeners_open(&ls, 0);
	if (c->err == 0) {
		ck_assert_msg(r == 0, "%s: %s", env, baton_errmsg());
		ck_assert_uint_eq(baton_listeners_count(ls), 1);
		ck_assert_str_eq(baton_listener_key(baton_listeners_get(ls, 0)),
		                 key);
		baton_listeners_free(ls);
	} else {
		ck_assert_msg(r == -1, "%s was accepted", env);
		ck_assert_int_eq(errno, c->err);
		ck_assert_ptr_null(ls);
		ck_assert_msg(strstr(baton_errmsg(), c->msg) != NULL,
		              "%s: message \"%s\" lacks \"%s\"", env,
		              baton_errmsg(), c->msg);
		ck_assert_msg(strstr(baton_errmsg(), env) != NULL,
		              "message \"%s\" does not quote \"%s\"",
		              baton_errmsg(), env);
		assert_printable(baton_errmsg());
	}
	if (c->kind == UNIXS)
		unlink(upath);
}
END_TEST

/* start_server's own example: its fds start at 4, ports mixed with a path. */
static void
child_start_server_layout(void)
{
	char env[512], key[64], want[64];
	baton_listeners *ls;
	const baton_listener *l;
	int p4, p5, p6, p7;
	socklen_t len;

	clear_env();
	p4 = make_inet(4, AF_INET, SOCK_STREAM, "0.0.0.0");
	p5 = make_inet(5, AF_INET, SOCK_STREAM, "127.0.0.1");
	p6 = make_inet(6, AF_INET6, SOCK_STREAM, "::1");
	p7 = make_inet(7, AF_INET, SOCK_DGRAM, "0.0.0.0");
	make_unix(9, "/tmp/baton-sdk-unit.sock", SOCK_STREAM);
	fcntl(4, F_SETFD, 0);
	snprintf(env, sizeof env,
	         "%d=4;127.0.0.1:%d=5;[::1]:%d=6;%d=7;"
	         "/tmp/baton-sdk-unit.sock=9",
	         p4, p5, p6, p7);
	setenv("SERVER_STARTER_PORT", env, 1);

	REQUIRE(baton_listeners_open(&ls, 0) == 0);
	REQUIRE(baton_listeners_source(ls) == BATON_SOURCE_SERVER_STARTER);
	REQUIRE(baton_listeners_count(ls) == 5);

	l = baton_listeners_get(ls, 0);
	REQUIRE(baton_listener_fd(l) == 4);
	REQUIRE(baton_listener_family(l) == AF_INET);
	REQUIRE(baton_listener_socktype(l) == SOCK_STREAM);
	REQUIRE(baton_listener_listening(l) == 1);
	REQUIRE(baton_listener_port(l) == p4);
	REQUIRE(baton_listener_path(l) == NULL);
	REQUIRE(baton_listener_sockaddr(l, &len)->sa_family == AF_INET);
	REQUIRE(len == sizeof(struct sockaddr_in));

	l = baton_listeners_get(ls, 2);
	REQUIRE(baton_listener_family(l) == AF_INET6);
	snprintf(want, sizeof want, "[::1]:%d", p6);
	REQUIRE(strcmp(baton_listener_address(l), want) == 0);

	l = baton_listeners_get(ls, 3);
	REQUIRE(baton_listener_socktype(l) == SOCK_DGRAM);
	REQUIRE(baton_listener_listening(l) == 0);

	l = baton_listeners_get(ls, 4);
	REQUIRE(baton_listener_family(l) == AF_UNIX);
	REQUIRE(strcmp(baton_listener_path(l), "/tmp/baton-sdk-unit.sock") ==
	        0);
	REQUIRE(baton_listener_port(l) == 0);

	REQUIRE(baton_listeners_get(ls, 5) == NULL && errno == ERANGE);

	/* look-ups */
	snprintf(key, sizeof key, "127.0.0.1:%d", p5);
	REQUIRE(baton_listener_fd(baton_listeners_find(ls, key)) == 5);
	REQUIRE(baton_listener_fd(baton_listeners_find_port(ls, p6)) == 6);
	REQUIRE(baton_listener_fd(baton_listeners_find_path(
	            ls, "/tmp/baton-sdk-unit.sock")) == 9);
	REQUIRE(baton_listeners_find(ls, "nope") == NULL && errno == ENOENT);
	REQUIRE(strstr(baton_errmsg(), "no inherited listener has the key "
	                               "\"nope\" (keys: \"") != NULL);
	REQUIRE(baton_listeners_find_port(ls, 1) == NULL && errno == ENOENT);
	REQUIRE(baton_listeners_find_path(ls, "/nope") == NULL &&
	        errno == ENOENT);

	/* close-on-exec by default, set on every listener */
	for (int fd = 4; fd <= 9; fd++)
		REQUIRE(fd == 8 || (fcntl(fd, F_GETFD) & FD_CLOEXEC));
	baton_listeners_free(ls);
	/* free does not close */
	REQUIRE(fcntl(4, F_GETFD) != -1);
	unlink("/tmp/baton-sdk-unit.sock");
}

START_TEST(test_open_start_server_layout)
{
	run_in_child(child_start_server_layout);
}
END_TEST

START_TEST(test_open_inheritable_and_close)
{
	char env[64];
	baton_listeners *ls;
	int p = make_inet(20, AF_INET, SOCK_STREAM, "127.0.0.1");

	clear_env();
	make_inet(21, AF_INET, SOCK_STREAM, "127.0.0.1");
	fcntl(20, F_SETFD, 0);
	snprintf(env, sizeof env, "%d=20;0=21", p);
	setenv("SERVER_STARTER_PORT", env, 1);
	ck_assert_int_eq(baton_listeners_open(&ls, BATON_INHERITABLE), 0);
	ck_assert_int_eq(cloexec(20), 0);

	/* close all but one */
	baton_listeners_close(ls, baton_listeners_find_port(ls, p));
	ck_assert_int_ne(fcntl(20, F_GETFD), -1);
	ck_assert_int_eq(fcntl(21, F_GETFD), -1);
	ck_assert_int_eq(errno, EBADF);
}
END_TEST

START_TEST(test_open_failure_changes_nothing)
{
	baton_listeners *ls;

	clear_env();
	make_inet(20, AF_INET, SOCK_STREAM, "127.0.0.1");
	fcntl(20, F_SETFD, 0);
	setenv("SERVER_STARTER_PORT", "0=20;1=21", 1);
	close(21);
	ck_assert_int_eq(baton_listeners_open(&ls, 0), -1);
	ck_assert_int_eq(errno, EBADF);
	ck_assert_int_eq(cloexec(20), 0);
}
END_TEST

START_TEST(test_open_empty)
{
	baton_listeners *ls;

	clear_env();
	setenv("SERVER_STARTER_PORT", "", 1);
	ck_assert_int_eq(baton_listeners_open(&ls, 0), 0);
	ck_assert_uint_eq(baton_listeners_count(ls), 0);
	ck_assert_ptr_null(baton_listeners_find(ls, "8080"));
	ck_assert_ptr_nonnull(strstr(baton_errmsg(), "(keys: none)"));
	baton_listeners_free(ls);
	baton_listeners_free(NULL);
	baton_listeners_close(NULL, NULL);
}
END_TEST

START_TEST(test_parse_string)
{
	char env[64];
	baton_listeners *ls;
	int p = make_inet(22, AF_INET, SOCK_STREAM, "127.0.0.1");

	clear_env();
	setenv("SERVER_STARTER_PORT", "garbage", 1); /* not read */
	snprintf(env, sizeof env, "127.0.0.1:%d=22", p);
	ck_assert_int_eq(baton_listeners_parse(&ls, env, 0), 0);
	ck_assert_uint_eq(baton_listeners_count(ls), 1);
	baton_listeners_free(ls);
	ck_assert_int_eq(baton_listeners_parse(&ls, NULL, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* ---- systemd protocol through the environment -------------------------- */

static void
child_systemd(void)
{
	char pid[32];
	baton_listeners *ls;
	int p3, p4;

	clear_env();
	p3 = make_inet(3, AF_INET, SOCK_STREAM, "127.0.0.1");
	p4 = make_inet(4, AF_INET6, SOCK_DGRAM, "::1");
	make_unix(5, "@baton-sdk-unit-sd", SOCK_SEQPACKET);
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "3", 1);
	setenv("LISTEN_FDNAMES", "web:dns:ctl", 1);
	REQUIRE(baton_listeners_open(&ls, BATON_UNSET_ENV) == 0);
	REQUIRE(baton_listeners_source(ls) == BATON_SOURCE_SYSTEMD);
	REQUIRE(baton_listeners_count(ls) == 3);
	REQUIRE(baton_listener_fd(baton_listeners_find(ls, "web")) == 3);
	REQUIRE(baton_listener_port(baton_listeners_find(ls, "dns")) == p4);
	REQUIRE(baton_listener_socktype(baton_listeners_find(ls, "ctl")) ==
	        SOCK_SEQPACKET);
	REQUIRE(baton_listener_fd(
	            baton_listeners_find_path(ls, "@baton-sdk-unit-sd")) == 5);
	REQUIRE(baton_listener_fd(baton_listeners_find_port(ls, p3)) == 3);
	REQUIRE(getenv("LISTEN_PID") == NULL);
	REQUIRE(getenv("LISTEN_FDS") == NULL);
	REQUIRE(getenv("LISTEN_FDNAMES") == NULL);
	REQUIRE(fcntl(3, F_GETFD) & FD_CLOEXEC);
	baton_listeners_free(ls);
}

START_TEST(test_open_systemd)
{
	run_in_child(child_systemd);
}
END_TEST

static void
child_systemd_other_pid(void)
{
	baton_listeners *ls;

	clear_env();
	make_inet(3, AF_INET, SOCK_STREAM, "127.0.0.1");
	setenv("LISTEN_PID", "1", 1);
	setenv("LISTEN_FDS", "1", 1);
	REQUIRE(baton_listeners_open(&ls, 0) == -1 && errno == ENOENT);
	REQUIRE(strstr(baton_errmsg(), "LISTEN_PID names another process") !=
	        NULL);
	REQUIRE(getenv("LISTEN_PID") != NULL); /* no BATON_UNSET_ENV */
}

START_TEST(test_open_systemd_other_pid)
{
	run_in_child(child_systemd_other_pid);
}
END_TEST

static void
child_systemd_not_listening(void)
{
	char pid[32];
	baton_listeners *ls;
	int sv[2];

	clear_env();
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	dup2(sv[0], 3);
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1", 1);
	REQUIRE(baton_listeners_open(&ls, 0) == -1 && errno == EINVAL);
	REQUIRE(strstr(baton_errmsg(), "LISTEN_FDS fd 3 (name \"unknown\")") !=
	        NULL);
}

START_TEST(test_open_systemd_not_listening)
{
	run_in_child(child_systemd_not_listening);
}
END_TEST

static void
child_precedence(void)
{
	char pid[32], env[64];
	baton_listeners *ls;
	int p;

	clear_env();
	p = make_inet(3, AF_INET, SOCK_STREAM, "127.0.0.1");
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1", 1);
	snprintf(env, sizeof env, "127.0.0.1:%d=3", p);
	setenv("SERVER_STARTER_PORT", env, 1);

	REQUIRE(baton_listeners_open(&ls, 0) == 0);
	REQUIRE(baton_listeners_source(ls) == BATON_SOURCE_SERVER_STARTER);
	baton_listeners_free(ls);
	REQUIRE(baton_listeners_open(&ls, BATON_SYSTEMD) == 0);
	REQUIRE(baton_listeners_source(ls) == BATON_SOURCE_SYSTEMD);
	baton_listeners_free(ls);

	unsetenv("SERVER_STARTER_PORT");
	REQUIRE(baton_listeners_open(&ls, BATON_SERVER_STARTER) == -1 &&
	        errno == ENOENT);
	REQUIRE(strcmp(baton_errmsg(), "no inherited listeners: "
	                               "SERVER_STARTER_PORT is not set") == 0);
}

START_TEST(test_open_precedence)
{
	run_in_child(child_precedence);
}
END_TEST

START_TEST(test_open_nothing)
{
	baton_listeners *ls = (void *)1;

	clear_env();
	ck_assert_int_eq(baton_listeners_open(&ls, 0), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_null(ls);
	ck_assert_ptr_nonnull(strstr(baton_errmsg(), "neither"));
	ck_assert_int_eq(baton_listeners_open(NULL, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* ---- readiness ---------------------------------------------------------- */

static int
notify_receiver(const char *name)
{
	make_unix(30, name, SOCK_DGRAM);
	return 30;
}

static void
expect_datagram(int fd, const char *want)
{
	char buf[5000];
	ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);

	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, want);
}

START_TEST(test_notify_abstract)
{
	int fd;

	clear_env();
	fd = notify_receiver("@baton-sdk-unit-notify");
	setenv("NOTIFY_SOCKET", "@baton-sdk-unit-notify", 1);
	ck_assert_int_eq(baton_notify("READY=1"), 1);
	expect_datagram(fd, "READY=1");
	ck_assert_int_eq(baton_notifyf("STATUS=%d requests\nREADY=1", 7), 1);
	expect_datagram(fd, "STATUS=7 requests\nREADY=1");
	ck_assert_int_eq(baton_notify("STOPPING=1"), 1);
	expect_datagram(fd, "STOPPING=1");
}
END_TEST

START_TEST(test_notify_path)
{
	const char *path = "/tmp/baton-sdk-unit-notify.sock";
	int fd;

	clear_env();
	fd = notify_receiver(path);
	setenv("NOTIFY_SOCKET", path, 1);
	ck_assert_int_eq(baton_notify("READY=1"), 1);
	expect_datagram(fd, "READY=1");
	unlink(path);
	ck_assert_int_eq(baton_notify("READY=1"), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_nonnull(
	    strstr(baton_errmsg(),
	           "cannot send to "
	           "NOTIFY_SOCKET=\"/tmp/baton-sdk-unit-notify.sock\""));
}
END_TEST

START_TEST(test_notify_errors)
{
	char big[5000];

	clear_env();
	ck_assert_int_eq(baton_notify("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	ck_assert_int_eq(baton_notify("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	ck_assert_int_eq(baton_notify("READY=1"), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_nonnull(strstr(baton_errmsg(), "\"relative/path\""));
	memset(big, 'x', 200);
	big[0] = '/';
	big[200] = '\0';
	setenv("NOTIFY_SOCKET", big, 1);
	ck_assert_int_eq(baton_notify("READY=1"), -1);
	ck_assert_int_eq(errno, ENAMETOOLONG);
	ck_assert_int_eq(baton_notify(""), -1);
	ck_assert_int_eq(errno, EINVAL);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ck_assert_int_eq(baton_notifyf("STATUS=%s", big), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
}
END_TEST

START_TEST(test_generation)
{
	clear_env();
	ck_assert_int_eq(baton_generation(), -1);
	ck_assert_int_eq(errno, ENOENT);
	setenv("SERVER_STARTER_GENERATION", "12", 1);
	ck_assert_int_eq(baton_generation(), 12);
	setenv("SERVER_STARTER_GENERATION", "0", 1);
	ck_assert_int_eq(baton_generation(), 0);
	setenv("SERVER_STARTER_GENERATION", "", 1);
	ck_assert_int_eq(baton_generation(), -1);
	ck_assert_int_eq(errno, EINVAL);
	setenv("SERVER_STARTER_GENERATION", "3x", 1);
	ck_assert_int_eq(baton_generation(), -1);
	ck_assert_str_eq(baton_errmsg(), "SERVER_STARTER_GENERATION=\"3x\" is "
	                                 "not a generation number");
	setenv("SERVER_STARTER_GENERATION", "99999999999999999999999", 1);
	ck_assert_int_eq(baton_generation(), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* BATON_STOP_TIMEOUT: what baton writes, and what it never would. want is
 * the seconds, or -1 with err. */
static const struct {
	const char *value; /* NULL: unset */
	double want;
	int err;
} stop_cases[] = {
    {NULL, -1, ENOENT},
    {"30", 30, 0},
    {"2.5", 2.5, 0},
    {"0.001", 0.001, 0},
    {"100000000", 100000000, 0},
    {"007", 7, 0},
    {"1.25000000000000000001", 1.25, 0},
    {"", -1, EINVAL},
    {"0", -1, EINVAL},
    {"0.000", -1, EINVAL},
    {"100000000.5", -1, EINVAL},
    {"999999999999999999999999", -1, EINVAL},
    {"-1", -1, EINVAL},
    {" 2", -1, EINVAL},
    {"2 ", -1, EINVAL},
    {"2.", -1, EINVAL},
    {".5", -1, EINVAL},
    {"2,5", -1, EINVAL},
    {"1e3", -1, EINVAL},
    {"0x10", -1, EINVAL},
    {"inf", -1, EINVAL},
    {"nan", -1, EINVAL},
    {"2.5.1", -1, EINVAL},
};

START_TEST(test_stop_timeout)
{
	double got;

	clear_env();
	unsetenv("BATON_STOP_TIMEOUT");
	if (stop_cases[_i].value != NULL)
		setenv("BATON_STOP_TIMEOUT", stop_cases[_i].value, 1);
	errno = 0;
	got = baton_stop_timeout();
	ck_assert_msg(got == stop_cases[_i].want ||
	                  (got > 0 && stop_cases[_i].want > 0 &&
	                   got / stop_cases[_i].want > 0.999999999 &&
	                   got / stop_cases[_i].want < 1.000000001),
	              "BATON_STOP_TIMEOUT=\"%s\": got %.9g, want %.9g",
	              stop_cases[_i].value ? stop_cases[_i].value : "(unset)",
	              got, stop_cases[_i].want);
	if (stop_cases[_i].err != 0)
		ck_assert_int_eq(errno, stop_cases[_i].err);
	else
		ck_assert_str_eq(baton_errmsg(), "");
	if (stop_cases[_i].err == EINVAL)
		ck_assert_msg(
		    strstr(baton_errmsg(), "BATON_STOP_TIMEOUT=\"") != NULL,
		    "the message quotes the value: %s", baton_errmsg());
}
END_TEST

#ifndef N
#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))
#endif

/* ---- TCP options on a connection --------------------------------------- */

/* A connected loopback TCP pair: *srv is the accepted end. */
static void
tcp_pair(int *cli, int *srv)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(l, 0);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(l, 1), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&sin, &sl), 0);
	*cli = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(connect(*cli, (struct sockaddr *)&sin, sizeof(sin)),
	                 0);
	*srv = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(*srv, 0);
	close(l);
}

static int
tcp_opt(int fd, int name)
{
	socklen_t sl = sizeof(int);
	int v = -1;

	ck_assert_int_eq(getsockopt(fd, IPPROTO_TCP, name, &v, &sl), 0);
	return v;
}

/* on as given, and what the kernel then reports */
static const struct tcpflag_case {
	int on, want;
} tcpflag_cases[] = {{1, 1}, {0, 0}, {7, 1}, {-1, 1}, {0, 0}};

START_TEST(test_cork)
{
	int cli, srv, i;

	tcp_pair(&cli, &srv);
	for (i = 0; i < N(tcpflag_cases); i++) {
		ck_assert_int_eq(baton_cork(srv, tcpflag_cases[i].on), 0);
		ck_assert_int_eq(tcp_opt(srv, TCP_CORK), tcpflag_cases[i].want);
		ck_assert_str_eq(baton_errmsg(), "");
	}
	close(cli);
	close(srv);
}
END_TEST

START_TEST(test_quickack)
{
	int cli, srv;

	tcp_pair(&cli, &srv);
	ck_assert_int_eq(baton_quickack(srv, 0), 0);
	ck_assert_int_eq(tcp_opt(srv, TCP_QUICKACK), 0);
	ck_assert_int_eq(baton_quickack(srv, 1), 0);
	ck_assert_int_eq(tcp_opt(srv, TCP_QUICKACK), 1);
	close(cli);
	close(srv);
}
END_TEST

/* A response written corked in two pieces arrives whole once uncorked. */
START_TEST(test_cork_uncork_sends)
{
	struct pollfd p;
	char buf[64];
	size_t got = 0;
	int cli, srv;

	tcp_pair(&cli, &srv);
	ck_assert_int_eq(baton_cork(srv, 1), 0);
	ck_assert_int_eq(write(srv, "HTTP/1.0 200 OK\r\n\r\n", 19), 19);
	ck_assert_int_eq(write(srv, "body", 4), 4);
	ck_assert_int_eq(baton_cork(srv, 0), 0);
	p.fd = cli;
	p.events = POLLIN;
	while (got < 23) {
		ssize_t n;

		ck_assert_int_eq(poll(&p, 1, 5000), 1);
		n = read(cli, buf + got, sizeof(buf) - got);
		ck_assert_int_gt(n, 0);
		got += (size_t)n;
	}
	ck_assert_int_eq(memcmp(buf, "HTTP/1.0 200 OK\r\n\r\nbody", 23), 0);
	close(cli);
	close(srv);
}
END_TEST

/* Not a TCP connection: -1, errno, a message naming the call and fd;
 * the SDK never prints. */
static const struct tcperr_case {
	int domain, type; /* -1: a closed fd */
	int err1, err2;
} tcperr_cases[] = {
    {-1, 0, EBADF, EBADF},
    {AF_UNIX, SOCK_STREAM, EOPNOTSUPP, ENOPROTOOPT},
    {AF_INET, SOCK_DGRAM, ENOPROTOOPT, EOPNOTSUPP},
};

START_TEST(test_tcp_errors)
{
	const struct tcperr_case *c = &tcperr_cases[_i];
	int (*const fns[])(int, int) = {baton_cork, baton_quickack};
	const char *const names[] = {"baton_cork: ", "baton_quickack: "};
	char want[64];
	int fd = -1, k;

	if (c->domain >= 0) {
		fd = socket(c->domain, c->type | SOCK_CLOEXEC, 0);
		ck_assert_int_ge(fd, 0);
	} else {
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		close(fd); /* a number that is surely closed now */
	}
	for (k = 0; k < 2; k++) {
		errno = 0;
		ck_assert_int_eq(fns[k](fd, 1), -1);
		ck_assert_msg(errno == c->err1 || errno == c->err2,
		              "%s: errno %d", names[k], errno);
		ck_assert_msg(
		    strncmp(baton_errmsg(), names[k], strlen(names[k])) == 0,
		    "%s", baton_errmsg());
		snprintf(want, sizeof(want), "on fd %d: ", fd);
		ck_assert_msg(strstr(baton_errmsg(), want) != NULL, "%s",
		              baton_errmsg());
	}
	if (c->domain >= 0)
		close(fd);
}
END_TEST

/* ---- quoting ------------------------------------------------------------ */

static const struct quote_case {
	const char *in;
	size_t len, room;
	const char *out;
} quote_cases[] = {
    {"8080", 4, 64, "8080"},
    {"a\"b\\c", 5, 64, "a\\\"b\\\\c"},
    {"\x01\x7f\xff", 3, 64, "\\x01\\x7f\\xff"},
    {"a\0b", 3, 64, "a\\x00b"},
    {"abcdefghij", 10, 8, "abcd..."},
    {"abc", 3, 4, "..."},
    {"\x01\x01", 2, 6, "..."},
    {"", 0, 1, ""},
};

START_TEST(test_quote)
{
	const struct quote_case *c = &quote_cases[_i];
	char buf[64];

	ck_assert_str_eq(baton__quote(buf, c->room, c->in, c->len), c->out);
	ck_assert_uint_lt(strlen(buf), c->room);
}
END_TEST

START_TEST(test_version)
{
	ck_assert_str_eq(baton_version(), PACKAGE_VERSION);
}
END_TEST

static Suite *
sdk_suite(void)
{
	Suite *s = suite_create("libbaton");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_parse_server_starter, 0, N(ss_cases));
	tcase_add_test(tc, test_parse_too_many);
	tcase_add_loop_test(tc, test_parse_systemd, 0, N(sd_cases));
	tcase_add_test(tc, test_parse_systemd_long_name);
	tcase_add_loop_test(tc, test_quote, 0, N(quote_cases));
	tcase_add_test(tc, test_version);
	suite_add_tcase(s, tc);

	tc = tcase_create("fds");
	tcase_add_loop_test(tc, test_keys, 0, N(key_cases));
	tcase_add_test(tc, test_open_start_server_layout);
	tcase_add_test(tc, test_open_inheritable_and_close);
	tcase_add_test(tc, test_open_failure_changes_nothing);
	tcase_add_test(tc, test_open_empty);
	tcase_add_test(tc, test_parse_string);
	tcase_add_test(tc, test_open_systemd);
	tcase_add_test(tc, test_open_systemd_other_pid);
	tcase_add_test(tc, test_open_systemd_not_listening);
	tcase_add_test(tc, test_open_precedence);
	tcase_add_test(tc, test_open_nothing);
	suite_add_tcase(s, tc);

	tc = tcase_create("notify");
	tcase_add_test(tc, test_notify_abstract);
	tcase_add_test(tc, test_notify_path);
	tcase_add_test(tc, test_notify_errors);
	tcase_add_test(tc, test_generation);
	tcase_add_loop_test(tc, test_stop_timeout, 0, N(stop_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("tcp");
	tcase_add_test(tc, test_cork);
	tcase_add_test(tc, test_quickack);
	tcase_add_test(tc, test_cork_uncork_sends);
	tcase_add_loop_test(tc, test_tcp_errors, 0, N(tcperr_cases));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(sdk_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
