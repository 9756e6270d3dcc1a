/* SPDX-License-Identifier: ISC */
/* bench/probe-cost.c: the CPU one sample of the connection count costs:
 * a walk of /proc, the socket inodes of a process holding N connections,
 * and sock_diag dumps of them (filtered by port, and not), in CPU
 * microseconds per call (user + system, this process).
 *
 * build: cc -O2 -I. -Isupervisor bench/probe-cost.c \
 *            supervisor/procstat.c supervisor/sockdiag.c -o /tmp/probe-cost
 * usage: /tmp/probe-cost [CONNECTIONS] [ITERATIONS]   (default 1000, 200)
 * Needs 2 * CONNECTIONS + 20 descriptors (the clients live in a child). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procstat.h"
#include "sockdiag.h"

static double
cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	       ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static int
none_cb(pid_t pid, const struct procstat *ps, void *arg)
{
	(void)pid;
	(void)ps;
	(void)arg;
	return 0;
}

static int
count_cb(const struct sockdiag_inet *sk, void *arg)
{
	(void)sk;
	++*(size_t *)arg;
	return 0;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* A child that opens n connections to port and waits to be killed. */
static pid_t
clients(uint16_t port, int n, int *ready)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	int p[2], i;
	pid_t pid;

	if (pipe(p) < 0 || (pid = fork()) < 0) {
		perror("probe-cost: pipe/fork");
		exit(1);
	}
	if (pid > 0) {
		close(p[1]);
		*ready = p[0];
		return pid;
	}
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(port);
	for (i = 0; i < n; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0);

		if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) < 0) {
			perror("probe-cost: connect");
			_exit(1);
		}
	}
	(void)write(p[1], "x", 1);
	pause();
	_exit(0);
}

int
main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000;
	int iters = argc > 2 ? atoi(argv[2]) : 200;
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	uint64_t *ino = malloc((size_t)(n + 64) * sizeof(*ino)), count;
	size_t nino = 0, seen;
	int l, i, ready, accepted = 0;
	uint16_t port, ports[4];
	double t;
	pid_t child;
	char c;

	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (ino == NULL || l < 0 ||
	    bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(l, 4096) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &len) < 0) {
		perror("probe-cost: listener");
		return 1;
	}
	port = ntohs(a.sin_port);
	ports[0] = 9;
	ports[1] = port;
	child = clients(port, n, &ready);
	while (accepted < n && accept4(l, NULL, NULL, SOCK_CLOEXEC) >= 0)
		accepted++;
	if (read(ready, &c, 1) != 1) {
		fprintf(stderr, "probe-cost: the clients failed\n");
		return 1;
	}

	t = cpu_us();
	for (i = 0; i < iters; i++)
		(void)procstat_walk(SIZE_MAX, none_cb, NULL);
	printf("walk of /proc (%ld processes): %.0f us\n",
	       procstat_walk(SIZE_MAX, none_cb, NULL), (cpu_us() - t) / iters);

	for (i = 0, t = cpu_us(); i < iters; i++) {
		struct sockdiag_inet_req r = {
		    AF_INET, IPPROTO_TCP, 1u << TCP_ESTABLISHED,
		    0,       ports + 1,   1};

		seen = 0;
		(void)sockdiag_inet_dump(-1, &r, count_cb, &seen);
		r.family = AF_INET6;
		(void)sockdiag_inet_dump(-1, &r, count_cb, &seen);
	}
	printf("dumps of AF_INET and AF_INET6, 1 port (%zu sockets): %.0f us\n",
	       seen, (cpu_us() - t) / iters);

	for (i = 0, t = cpu_us(); i < iters; i++) {
		struct sockdiag_inet_req r = {
		    AF_UNSPEC, IPPROTO_TCP, 1u << TCP_ESTABLISHED,
		    0,         ports + 1,   1};

		seen = 0;
		(void)sockdiag_inet_dump(-1, &r, count_cb, &seen);
	}
	printf("one dump of AF_UNSPEC, 1 port (%zu sockets): %.0f us\n", seen,
	       (cpu_us() - t) / iters);

	t = cpu_us();
	for (i = 0; i < iters; i++) {
		nino = 0;
		(void)procstat_socket_inodes(getpid(), ino, &nino, n + 64);
	}
	printf("socket inodes of a process with %zu sockets: %.0f us\n", nino,
	       (cpu_us() - t) / iters);
	qsort(ino, nino, sizeof(*ino), u64_cmp);

	t = cpu_us();
	for (i = 0; i < iters; i++) {
		struct sockdiag_inet_req r = {
		    AF_INET, IPPROTO_TCP, 1u << TCP_ESTABLISHED,
		    0,       ports + 1,   1};

		seen = 0;
		(void)sockdiag_inet_dump(-1, &r, count_cb, &seen);
	}
	printf("dump, established, 1 port (%zu sockets): %.0f us\n", seen,
	       (cpu_us() - t) / iters);

	t = cpu_us();
	for (i = 0; i < iters; i++) {
		struct sockdiag_inet_req r = {
		    AF_INET, IPPROTO_TCP, 1u << TCP_ESTABLISHED, 0, ports, 2};

		seen = 0;
		(void)sockdiag_inet_dump(-1, &r, count_cb, &seen);
	}
	printf("dump, established, 2 ports by bytecode (%zu sockets): %.0f "
	       "us\n",
	       seen, (cpu_us() - t) / iters);

	t = cpu_us();
	for (i = 0; i < iters; i++) {
		struct sockdiag_inet_req r = {
		    AF_INET, IPPROTO_TCP, 1u << TCP_ESTABLISHED, 0, NULL, 0};

		seen = 0;
		(void)sockdiag_inet_dump(-1, &r, count_cb, &seen);
	}
	printf("dump, established, every port (%zu sockets): %.0f us\n", seen,
	       (cpu_us() - t) / iters);

	t = cpu_us();
	for (i = 0; i < iters; i++) {
		nino = 0;
		(void)procstat_socket_inodes(getpid(), ino, &nino, n + 64);
		qsort(ino, nino, sizeof(*ino), u64_cmp);
		(void)sockdiag_count_held(-1, ports, 2, 1u << TCP_ESTABLISHED,
		                          ino, nino, &count);
	}
	printf("one count (inodes, sort, one dump): %llu connections, "
	       "%.0f us\n",
	       (unsigned long long)count, (cpu_us() - t) / iters);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return 0;
}
