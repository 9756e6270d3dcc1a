/* SPDX-License-Identifier: ISC */
/* unit-sockdiag.c: Check tests of the /proc walker (procstat) and the
 * sock_diag client (sockdiag) on this process and real loopback sockets:
 * the pieces that map a process's socket inodes onto a dump. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procstat.h"
#include "sockdiag.h"
#include "run-tests.h"

#define NCONN 8

/* ---- procstat --------------------------------------------------------- */

static const struct {
	const char *target;
	uint64_t inode;
} sock_targets[] = {
    {"socket:[123]", 123}, {"socket:[4294967296]", 4294967296ull},
    {"socket:[]", 0},      {"socket:[12", 0},
    {"socket:[12]x", 0},   {"socket:[-1]", 0},
    {"socket:[ 5]", 0},    {"pipe:[5]", 0},
    {"/dev/null", 0},      {"", 0},
};

START_TEST(test_sock_inode)
{
	ck_assert_uint_eq(procstat_sock_inode(sock_targets[_i].target),
	                  sock_targets[_i].inode);
}
END_TEST

struct find_arg {
	pid_t want;
	struct procstat ps;
	int found;
};

static int
find_cb(pid_t pid, const struct procstat *ps, void *arg)
{
	struct find_arg *a = arg;

	if (pid != a->want)
		return 0;
	a->ps = *ps;
	a->found = 1;
	return 1;
}

START_TEST(test_walk)
{
	struct find_arg a = {.want = getpid()};
	struct procstat ps;
	long n;

	ck_assert_int_eq(procstat_read(getpid(), &ps), 0);
	ck_assert_int_eq(ps.ppid, getppid());
	ck_assert_int_eq(ps.pgrp, getpgrp());
	ck_assert_uint_gt(ps.starttime, 0);
	n = procstat_walk(SIZE_MAX, find_cb, &a);
	ck_assert_int_ge(n, 1);
	ck_assert_int_eq(a.found, 1);
	ck_assert_int_eq(a.ps.ppid, getppid());
	ck_assert_int_eq(a.ps.pgrp, getpgrp());
	ck_assert_uint_eq(a.ps.starttime, ps.starttime);
	ck_assert_int_eq(a.ps.state, 'R');
	/* the bound holds */
	a.found = 0;
	a.want = 0;
	ck_assert_int_eq(procstat_walk(1, find_cb, &a), 1);
}
END_TEST

/* A child that has exited and been reaped: a pid that is gone. */
static pid_t
gone_pid(void)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	return pid;
}

static int
has(const uint64_t *ino, size_t n, uint64_t want)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ino[i] == want)
			return 1;
	return 0;
}

START_TEST(test_socket_inodes)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int u = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int p[2];
	uint64_t ino[4096];
	struct stat st, su, sp;
	size_t n = 0, i;

	ck_assert_int_ge(s, 0);
	ck_assert_int_ge(u, 0);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(fstat(s, &st), 0);
	ck_assert_int_eq(fstat(u, &su), 0);
	ck_assert_int_eq(fstat(p[0], &sp), 0);
	ck_assert_int_eq(procstat_socket_inodes(getpid(), ino, &n, 4096), 0);
	ck_assert(has(ino, n, st.st_ino));
	ck_assert(has(ino, n, su.st_ino));
	ck_assert(!has(ino, n, sp.st_ino)); /* a pipe is no socket */
	for (i = 0; i < n; i++)
		ck_assert_uint_ne(ino[i], 0);
	/* appended, up to the bound */
	n = 4095;
	ck_assert_int_eq(procstat_socket_inodes(getpid(), ino, &n, 4096), 0);
	ck_assert_uint_eq(n, 4096);
	/* a pid that is gone: none, no error */
	n = 0;
	ck_assert_int_eq(procstat_socket_inodes(gone_pid(), ino, &n, 4096), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(procstat_read(gone_pid(), &(struct procstat){0}), -1);
	ck_assert_int_eq(errno, ENOENT);
	close(s);
	close(u);
	close(p[0]);
	close(p[1]);
}
END_TEST

/* ---- sockdiag: TCP -------------------------------------------------- */

static int lfd, cfd[NCONN], afd[NCONN];
static uint16_t lport;

static int
tcp_listener(uint16_t *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(s, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(s, NCONN), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return s;
}

/* A listener and NCONN connections to it, accepted. */
static void
tcp_setup(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	int i;

	lfd = tcp_listener(&lport);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(lport);
	for (i = 0; i < NCONN; i++) {
		cfd[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ck_assert_int_ge(cfd[i], 0);
		ck_assert_int_eq(
		    connect(cfd[i], (struct sockaddr *)&a, sizeof(a)), 0);
		afd[i] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		ck_assert_int_ge(afd[i], 0);
	}
}

static void
tcp_teardown(void)
{
	int i;

	for (i = 0; i < NCONN; i++) {
		close(cfd[i]);
		close(afd[i]);
	}
	close(lfd);
}

static uint64_t
inode_of(int fd)
{
	struct stat st;

	ck_assert_int_eq(fstat(fd, &st), 0);
	return st.st_ino;
}

struct seen {
	uint64_t inodes[64];
	size_t n, with_info, stop_after;
	uint16_t port;
};

static int
seen_cb(const struct sockdiag_inet *sk, void *arg)
{
	struct seen *s = arg;

	ck_assert_uint_eq(sk->state, TCP_ESTABLISHED);
	ck_assert_int_eq(sk->family, AF_INET);
	ck_assert_uint_eq(sk->src[0], htonl(INADDR_LOOPBACK));
	if (s->n < 64)
		s->inodes[s->n] = sk->inode;
	s->n++;
	s->port = sk->sport;
	if (sk->info != NULL && sk->info_len > 0 &&
	    sk->info->tcpi_state == TCP_ESTABLISHED)
		s->with_info++;
	return s->stop_after != 0 && s->n >= s->stop_after;
}

/* The accepted sockets, by local port: one port, several (the bytecode
 * filter) and none of ours. */
START_TEST(test_inet_ports)
{
	uint16_t other = (uint16_t)(lport == 65535 ? 1 : lport + 1);
	uint16_t one[] = {lport}, many[] = {other, 9, lport, 7};
	uint16_t none[] = {other, 9};
	struct sockdiag_inet_req r = {
	    AF_INET, IPPROTO_TCP, 1u << TCP_ESTABLISHED, SOCKDIAG_INFO, one, 1};
	struct seen s;
	int i;

	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(sockdiag_inet_dump(-1, &r, seen_cb, &s), 0);
	ck_assert_uint_eq(s.n, NCONN);
	ck_assert_uint_eq(s.port, lport);
	ck_assert_uint_eq(s.with_info, NCONN);
	for (i = 0; i < NCONN; i++)
		ck_assert(has(s.inodes, s.n, inode_of(afd[i])));
	memset(&s, 0, sizeof(s));
	r.ports = many;
	r.nports = 4;
	r.want = 0;
	ck_assert_int_eq(sockdiag_inet_dump(-1, &r, seen_cb, &s), 0);
	ck_assert_uint_eq(s.n, NCONN);
	ck_assert_uint_eq(s.with_info, 0);
	memset(&s, 0, sizeof(s));
	r.ports = none;
	r.nports = 2;
	ck_assert_int_eq(sockdiag_inet_dump(-1, &r, seen_cb, &s), 0);
	ck_assert_uint_eq(s.n, 0);
	r.nports = SOCKDIAG_MAX_PORTS + 1;
	ck_assert_int_eq(sockdiag_inet_dump(-1, &r, seen_cb, &s), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* The most ports a filter takes: the kernel accepts the bytecode. */
START_TEST(test_inet_max_ports)
{
	uint16_t ports[SOCKDIAG_MAX_PORTS];
	struct sockdiag_inet_req r = {
	    AF_INET, IPPROTO_TCP, 1u << TCP_ESTABLISHED,
	    0,       ports,       SOCKDIAG_MAX_PORTS};
	struct seen s;
	size_t i;

	for (i = 0; i < SOCKDIAG_MAX_PORTS; i++)
		ports[i] = (uint16_t)(lport == 1 + i ? 2 : 1 + i);
	ports[SOCKDIAG_MAX_PORTS / 2] = lport;
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(sockdiag_inet_dump(-1, &r, seen_cb, &s), 0);
	ck_assert_uint_eq(s.n, NCONN);
	ports[SOCKDIAG_MAX_PORTS / 2] = (uint16_t)(lport == 3 ? 4 : 3);
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(sockdiag_inet_dump(-1, &r, seen_cb, &s), 0);
	ck_assert_uint_eq(s.n, 0);
}
END_TEST

/* On a socket of the caller's: a dump stopped early does not keep the
 * next request from being answered. */
START_TEST(test_inet_reuse)
{
	uint16_t one[] = {lport};
	struct sockdiag_inet_req r = {
	    AF_INET, IPPROTO_TCP, 1u << TCP_ESTABLISHED, 0, one, 1};
	struct seen s;
	int fd = sockdiag_open(), flags;

	ck_assert_int_ge(fd, 0);
	flags = fcntl(fd, F_GETFD);
	ck_assert_int_ne(flags & FD_CLOEXEC, 0);
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	ck_assert_int_eq(sockdiag_inet_dump(fd, &r, seen_cb, &s), 0);
	ck_assert_uint_eq(s.n, 1);
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(sockdiag_inet_dump(fd, &r, seen_cb, &s), 0);
	ck_assert_uint_eq(s.n, NCONN);
	close(fd);
}
END_TEST

#define NUDP 600

static int
count_cb(const struct sockdiag_inet *sk, void *arg)
{
	size_t *n = arg;

	(void)sk;
	return ++*n == 1;
}

static int
all_cb(const struct sockdiag_inet *sk, void *arg)
{
	size_t *n = arg;

	(void)sk;
	++*n;
	return 0;
}

/* A dump longer than one read (600 sockets, some 60 kB of answers)
 * stopped after its first socket is still running in the kernel: it is
 * read to its end, so the socket takes the next dump. */
START_TEST(test_inet_reuse_long)
{
	struct sockdiag_inet_req r = {AF_INET, IPPROTO_UDP, ~0u, 0, NULL, 0};
	struct sockaddr_in a = {.sin_family = AF_INET};
	int u[NUDP], fd = sockdiag_open(), i;
	size_t n = 0;

	ck_assert_int_ge(fd, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < NUDP; i++) {
		u[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		ck_assert_int_ge(u[i], 0);
		ck_assert_int_eq(bind(u[i], (struct sockaddr *)&a, sizeof(a)),
		                 0);
	}
	ck_assert_int_eq(sockdiag_inet_dump(fd, &r, count_cb, &n), 0);
	ck_assert_uint_eq(n, 1);
	n = 0;
	ck_assert_int_eq(sockdiag_inet_dump(fd, &r, all_cb, &n), 0);
	ck_assert_uint_ge(n, NUDP);
	for (i = 0; i < NUDP; i++)
		close(u[i]);
	close(fd);
}
END_TEST

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The connections a set of inodes holds on a set of ports: the accepted
 * half of ours, not the clients' ends (their local port is another). */
START_TEST(test_count_held)
{
	uint16_t ports[] = {9, lport};
	uint64_t held[NCONN * 2];
	uint64_t count = 99;
	size_t n = 0;
	int i;

	for (i = 0; i < NCONN; i += 2)
		held[n++] = inode_of(afd[i]);
	for (i = 0; i < NCONN; i++)
		held[n++] = inode_of(cfd[i]);
	qsort(held, n, sizeof(*held), u64_cmp);
	ck_assert_int_eq(sockdiag_count_held(-1, ports, 2,
	                                     1u << TCP_ESTABLISHED, held, n,
	                                     &count),
	                 0);
	ck_assert_uint_eq(count, NCONN / 2);
	/* one port: the same */
	ck_assert_int_eq(sockdiag_count_held(-1, &ports[1], 1,
	                                     1u << TCP_ESTABLISHED, held, n,
	                                     &count),
	                 0);
	ck_assert_uint_eq(count, NCONN / 2);
	/* no connection is in CLOSE_WAIT */
	ck_assert_int_eq(sockdiag_count_held(-1, ports, 2, 1u << TCP_CLOSE_WAIT,
	                                     held, n, &count),
	                 0);
	ck_assert_uint_eq(count, 0);
	/* the clients close: the accepted ends move to CLOSE_WAIT */
	for (i = 0; i < NCONN; i++) {
		shutdown(cfd[i], SHUT_WR);
		ck_assert_int_eq(read(afd[i], &(char){0}, 1), 0);
	}
	ck_assert_int_eq(sockdiag_count_held(-1, ports, 2, 1u << TCP_CLOSE_WAIT,
	                                     held, n, &count),
	                 0);
	ck_assert_uint_eq(count, NCONN / 2);
}
END_TEST

/* Both families in one dump: IPv4 and IPv6 connections held. */
START_TEST(test_count_held_v6)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6};
	socklen_t len = sizeof(a);
	int l = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), c[2], acc[2];
	uint64_t held[3], count = 99;
	uint16_t ports[2];
	int i;

	ck_assert_int_ge(l, 0);
	a.sin6_addr = in6addr_loopback;
	ck_assert_int_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(l, 4), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&a, &len), 0);
	for (i = 0; i < 2; i++) {
		c[i] = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ck_assert_int_eq(
		    connect(c[i], (struct sockaddr *)&a, sizeof(a)), 0);
		acc[i] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		ck_assert_int_ge(acc[i], 0);
		held[i] = inode_of(acc[i]);
	}
	held[2] = inode_of(afd[0]);
	qsort(held, 3, sizeof(*held), u64_cmp);
	ports[0] = lport;
	ports[1] = ntohs(a.sin6_port);
	ck_assert_int_eq(sockdiag_count_held(-1, ports, 2,
	                                     1u << TCP_ESTABLISHED, held, 3,
	                                     &count),
	                 0);
	ck_assert_uint_eq(count, 3);
	for (i = 0; i < 2; i++) {
		close(c[i]);
		close(acc[i]);
	}
	close(l);
}
END_TEST

static int
owned_cmp(const void *a, const void *b)
{
	const struct sockdiag_owned *x = a, *y = b;

	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

/* Three owners in one dump: the even accepted ends to owner 0, the odd
 * ones to owner 1, one of them to owner 2 as well (a socket two
 * processes share), the clients' ends to owner 1 (not on the port). */
START_TEST(test_count_owned)
{
	struct sockdiag_owned own[NCONN * 2 + 1];
	uint64_t counts[3] = {9, 9, 9};
	uint16_t ports[] = {lport, 9};
	size_t n = 0;
	int i;

	for (i = 0; i < NCONN; i++) {
		own[n].inode = inode_of(afd[i]);
		own[n++].owner = (size_t)(i % 2);
		own[n].inode = inode_of(cfd[i]);
		own[n++].owner = 1;
	}
	own[n].inode = inode_of(afd[1]);
	own[n++].owner = 2;
	qsort(own, n, sizeof(*own), owned_cmp);
	ck_assert_int_eq(sockdiag_count_owned(-1, ports, 2,
	                                      1u << TCP_ESTABLISHED, own, n,
	                                      counts, 3),
	                 0);
	ck_assert_uint_eq(counts[0], NCONN / 2);
	ck_assert_uint_eq(counts[1], NCONN / 2);
	ck_assert_uint_eq(counts[2], 1);
	/* an owner past the counts is left out */
	ck_assert_int_eq(sockdiag_count_owned(-1, ports, 2,
	                                      1u << TCP_ESTABLISHED, own, n,
	                                      counts, 2),
	                 0);
	ck_assert_uint_eq(counts[0] + counts[1], NCONN);
}
END_TEST

/* ---- sockdiag: unix --------------------------------------------------- */

struct unix_seen {
	struct sockdiag_unix sk;
	char name[108];
	int n;
	uint64_t want_peer;
};

static int
unix_seen_cb(const struct sockdiag_unix *sk, void *arg)
{
	struct unix_seen *s = arg;

	if (s->want_peer != 0 && sk->peer != s->want_peer)
		return 0;
	s->sk = *sk;
	s->n++;
	if (sk->name != NULL && sk->name_len < sizeof(s->name)) {
		memcpy(s->name, sk->name, sk->name_len);
		s->name[sk->name_len] = '\0';
	}
	return 0;
}

START_TEST(test_unix)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	char dir[] = "/tmp/unit-sockdiag.XXXXXX";
	struct unix_seen s;
	int l, c, acc;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(a.sun_path, sizeof(a.sun_path), "%s/s.sock", dir);
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(l, 0);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(l, 3), 0);
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
	/* the exact lookup: a listener with one connection queued */
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(sockdiag_unix_get(-1, inode_of(l), SOCKDIAG_RQLEN,
	                                   unix_seen_cb, &s),
	                 0);
	ck_assert_int_eq(s.n, 1);
	ck_assert_uint_eq(s.sk.state, TCP_LISTEN);
	ck_assert_int_eq(s.sk.has_rqlen, 1);
	ck_assert_uint_eq(s.sk.rqueue, 1);
	ck_assert_uint_eq(s.sk.wqueue, 3);
	acc = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(acc, 0);
	/* the dump: the accepted end carries the listener's path, and its
	 * peer is the client */
	memset(&s, 0, sizeof(s));
	s.want_peer = inode_of(c);
	ck_assert_int_eq(sockdiag_unix_dump(-1, 1u << TCP_ESTABLISHED,
	                                    SOCKDIAG_PEER | SOCKDIAG_NAME,
	                                    unix_seen_cb, &s),
	                 0);
	ck_assert_int_eq(s.n, 1);
	ck_assert_uint_eq(s.sk.inode, inode_of(acc));
	ck_assert_str_eq(s.name, a.sun_path);
	/* no such socket */
	ck_assert_int_eq(sockdiag_unix_get(-1, inode_of(acc) + 1000000,
	                                   SOCKDIAG_RQLEN, unix_seen_cb, &s),
	                 -1);
	ck_assert_int_eq(errno, ENOENT);
	close(acc);
	close(c);
	close(l);
	unlink(a.sun_path);
	rmdir(dir);
}
END_TEST

void
tests_sockdiag(void)
{
	TCase *tp = unit_case("procstat"), *tt = unit_case("sockdiag");

	tcase_add_loop_test(tp, test_sock_inode, 0,
	                    sizeof(sock_targets) / sizeof(sock_targets[0]));
	tcase_add_test(tp, test_walk);
	tcase_add_test(tp, test_socket_inodes);
	tcase_add_checked_fixture(tt, tcp_setup, tcp_teardown);
	tcase_add_test(tt, test_inet_ports);
	tcase_add_test(tt, test_inet_max_ports);
	tcase_add_test(tt, test_inet_reuse);
	tcase_add_test(tt, test_inet_reuse_long);
	tcase_add_test(tt, test_count_held);
	tcase_add_test(tt, test_count_held_v6);
	tcase_add_test(tt, test_count_owned);
	tcase_add_test(tt, test_unix);
}
