/* SPDX-License-Identifier: ISC */
/* bench/listeners-helper.c: the worker and the clocks of bench/listeners.sh. */

/*
 *   listeners-helper worker                 serve every listener of SERVER_STARTER_PORT
 *                                           (epoll): "HTTP/1.0 200 OK ... gen=N\n"
 *   listeners-helper freeports N            print N free TCP ports of 127.0.0.1
 *   listeners-helper start MS FIRST LAST -- CMD...
 *                                           exec CMD in a new session and print
 *                                           "pid=P first_ms=A last_ms=B req_us=C": ms from
 *                                           exec until FIRST, then LAST, answered gen=1, and
 *                                           one request's round trip on LAST once up
 *   listeners-helper hup PID MS ADDR GEN    SIGHUP PID; print the ms until ADDR answers gen=GEN
 *
 * ADDR is unix:PATH or tcp:PORT (127.0.0.1). Loopback only; every wait has
 * the deadline MS and fails (exit 1) past it.
 */
#define _GNU_SOURCE 1

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
die(const char *what)
{
	fprintf(stderr, "listeners-helper: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* One GET on addr; 0 and the body in buf, or -1 (not answering yet). */
static int
get(const char *addr, char *buf, size_t len)
{
	struct timeval tv = {1, 0};
	struct sockaddr_storage ss;
	socklen_t sl;
	size_t got = 0;
	ssize_t n;
	int fd;

	memset(&ss, 0, sizeof ss);
	if (strncmp(addr, "unix:", 5) == 0) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&ss;

		sun->sun_family = AF_UNIX;
		snprintf(sun->sun_path, sizeof sun->sun_path, "%s", addr + 5);
		sl = sizeof *sun;
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)atoi(addr + 4));
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof *sin;
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	}
	if (fd < 0)
		die("socket");
	/* a socket nobody accepts on yet takes the connection into its
	 * backlog: bound the wait for the answer */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
		die("SO_RCVTIMEO");
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 ||
	    write(fd, "GET / HTTP/1.0\r\n\r\n", 18) != 18) {
		close(fd);
		return -1;
	}
	while (got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	return strstr(buf, " 200 ") != NULL ? 0 : -1;
}

/* Poll addr until its answer holds want; the ms it took from t0, or exit
 * 1 past the deadline. */
static double
await(const char *addr, const char *want, double t0, double deadline)
{
	char buf[512];
	struct timespec ms = {0, 1000000};

	for (;;) {
		if (get(addr, buf, sizeof buf) == 0 && strstr(buf, want))
			return now_ms() - t0;
		if (now_ms() > deadline) {
			fprintf(stderr,
			        "listeners-helper: %s: no %.*s in time\n", addr,
			        (int)strcspn(want, "\n"), want);
			exit(1);
		}
		nanosleep(&ms, NULL);
	}
}

static int
worker(void)
{
	const char *env = getenv("SERVER_STARTER_PORT");
	const char *g = getenv("SERVER_STARTER_GENERATION");
	char resp[256], req[1024], body[64];
	int ep = epoll_create1(EPOLL_CLOEXEC), n = 0, rl;

	if (env == NULL || ep < 0)
		return 2;
	snprintf(body, sizeof body, "gen=%s\n", g ? g : "?");
	rl = snprintf(resp, sizeof resp,
	              "HTTP/1.0 200 OK\r\nContent-Length: %zu\r\n"
	              "Connection: close\r\n\r\n%s",
	              strlen(body), body);
	signal(SIGTERM, SIG_DFL);
	/* "key=fd;key=fd": the fd follows the last '=' of each entry */
	for (const char *p = env; *p != '\0';) {
		const char *end = strchr(p, ';'), *eq;
		size_t len = end ? (size_t)(end - p) : strlen(p);
		struct epoll_event ev = {.events = EPOLLIN};
		int fd = -1;

		for (eq = p + len; eq > p && eq[-1] != '='; eq--)
			;
		if (eq > p)
			fd = atoi(eq);
		/* several generations share the socket: never block in
		 * accept when another one took the connection */
		if (fd >= 0 && fcntl(fd, F_SETFL, O_NONBLOCK) == 0) {
			ev.data.fd = fd;
			if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0)
				n++;
		}
		p += len + (end != NULL);
	}
	if (n == 0)
		return 2;
	for (;;) {
		struct epoll_event evs[64];
		int k = epoll_wait(ep, evs, 64, -1);

		for (int i = 0; i < k; i++) {
			int c =
			    accept4(evs[i].data.fd, NULL, NULL, SOCK_CLOEXEC);

			if (c < 0)
				continue;
			(void)!read(c, req, sizeof req);
			(void)!write(c, resp, (size_t)rl);
			close(c);
		}
	}
}

static int
freeports(int n)
{
	int *fds = calloc((size_t)n, sizeof *fds);

	for (int i = 0; i < n; i++) {
		struct sockaddr_in sin = {.sin_family = AF_INET};
		socklen_t sl = sizeof sin;

		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (fds[i] < 0 || bind(fds[i], (void *)&sin, sl) < 0 ||
		    getsockname(fds[i], (void *)&sin, &sl) < 0)
			die("cannot bind 127.0.0.1:0");
		printf("%d\n", ntohs(sin.sin_port));
	}
	for (int i = 0; i < n; i++)
		close(fds[i]);
	return 0;
}

static int
start(double limit, const char *first, const char *last, char **cmd)
{
	double t0 = now_ms(), a, b, r;
	char buf[512];
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		/* the caller reads our stdout to its end: the supervisor must
		 * not hold it open */
		if (null < 0 || dup2(null, 0) < 0 || dup2(2, 1) < 0)
			die("/dev/null");
		setsid();
		execvp(cmd[0], cmd);
		die(cmd[0]);
	}
	a = await(first, "gen=1\n", t0, t0 + limit);
	b = await(last, "gen=1\n", t0, t0 + limit);
	r = now_ms();
	if (get(last, buf, sizeof buf) < 0)
		return 1;
	r = now_ms() - r;
	printf("pid=%d first_ms=%.1f last_ms=%.1f req_us=%.0f\n", (int)pid, a,
	       b, r * 1e3);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "worker") == 0)
		return worker();
	if (argc == 3 && strcmp(argv[1], "freeports") == 0)
		return freeports(atoi(argv[2]));
	if (argc >= 7 && strcmp(argv[1], "start") == 0 &&
	    strcmp(argv[5], "--") == 0)
		return start(atof(argv[2]), argv[3], argv[4], argv + 6);
	if (argc == 6 && strcmp(argv[1], "hup") == 0) {
		double t0 = now_ms();
		char want[32];

		snprintf(want, sizeof want, "gen=%s\n", argv[5]);
		if (kill((pid_t)atoi(argv[2]), SIGHUP) < 0)
			die("kill");
		printf("%.1f\n", await(argv[4], want, t0, t0 + atof(argv[3])));
		return 0;
	}
	fprintf(stderr, "usage: see the comment at the top of "
	                "bench/listeners-helper.c\n");
	return 2;
}
