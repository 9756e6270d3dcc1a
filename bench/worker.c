/* SPDX-License-Identifier: ISC */
/* bench/worker.c: the tiny HTTP worker the benchmarks run under baton and start_server. */

/*
 * It takes its listener from SERVER_STARTER_PORT (the first key=fd pair) and
 * answers every request with "200 ok". Two shapes:
 *
 *   worker [-b MS] [-n]          one process, epoll, keep-alive (default)
 *   worker -B [-p N]             N processes (default 4) that accept and read
 *                                blocking, one connection at a time, and close
 *                                after each response: a classic prefork server,
 *                                the one an idle connection can stall. It
 *                                waits for the client to close first and then
 *                                resets, so no TIME_WAIT socket is left over
 *
 *   -b MS   sleep MS milliseconds before serving ("slow boot")
 *   -n      after booting, send READY=1 on $NOTIFY_SOCKET (sd_notify protocol)
 *
 * On SIGTERM (or SIGQUIT/SIGINT) the epoll worker stops accepting, answers the
 * next request on every open connection with "Connection: close" and exits when
 * they are all gone (at most 5 s), so a restart costs a client nothing: this is
 * what a well-behaved production worker does, and it is the behaviour the
 * supervisors are compared on. The prefork worker's parent forwards TERM to its
 * children, which die at once.
 */

#define _GNU_SOURCE 1 /* memmem, accept4, pselect, strncasecmp */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXCONN 65536
#define BUFSZ 4096
#define DRAIN_MS 5000

static volatile sig_atomic_t stopping;
static char gen[32] = "0";

static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static void
die(const char *what)
{
	fprintf(stderr, "bench worker %d: %s: %s\n", (int)getpid(), what,
	        strerror(errno));
	exit(1);
}

static long long
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The first fd in SERVER_STARTER_PORT ("key=fd;key=fd"); the key may hold '='
 * only in a unix path, so the fd is after the last '=' of the first pair. */
static int
listener_fd(void)
{
	const char *env = getenv("SERVER_STARTER_PORT");
	if (env == NULL || *env == '\0') {
		fprintf(stderr,
		        "bench worker: SERVER_STARTER_PORT is not set\n");
		exit(2);
	}
	char buf[512];
	snprintf(buf, sizeof buf, "%s", env);
	char *semi = strchr(buf, ';');
	if (semi != NULL)
		*semi = '\0';
	char *eq = strrchr(buf, '=');
	if (eq == NULL) {
		fprintf(stderr,
		        "bench worker: bad SERVER_STARTER_PORT \"%s\"\n", env);
		exit(2);
	}
	return atoi(eq + 1);
}

static void
notify_ready(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (path == NULL || *path == '\0')
		return;
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	size_t len = strlen(path);
	if (len >= sizeof sa.sun_path) {
		fprintf(stderr, "bench worker: NOTIFY_SOCKET too long\n");
		return;
	}
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket(AF_UNIX)");
	static const char msg[] = "READY=1";
	if (sendto(fd, msg, sizeof msg - 1, 0, (struct sockaddr *)&sa,
	           (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) <
	    0)
		fprintf(stderr, "bench worker: sendto NOTIFY_SOCKET %s: %s\n",
		        path, strerror(errno));
	close(fd);
}

static int
response(char *out, size_t cap, int close_it)
{
	return snprintf(out, cap,
	                "HTTP/1.1 200 OK\r\nContent-Type: "
	                "text/plain\r\nContent-Length: 3\r\n"
	                "X-Generation: %s\r\n%s\r\nok\n",
	                gen, close_it ? "Connection: close\r\n" : "");
}

/* case-insensitive search for "connection: close" in the header block */
static int
wants_close(const char *req, size_t len)
{
	static const char needle[] = "connection: close";
	size_t n = sizeof needle - 1;
	for (size_t i = 0; i + n <= len; i++) {
		size_t j = 0;
		while (j < n) {
			char c = req[i + j];
			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (c != needle[j])
				break;
			j++;
		}
		if (j == n)
			return 1;
	}
	return 0;
}

/* ---- epoll worker ---------------------------------------------------------
 */

struct conn {
	int fd;
	size_t len;
	char buf[BUFSZ];
};

static struct conn *conns[MAXCONN];

static void
conn_close(int epfd, struct conn *c, int *open_count)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	conns[c->fd] = NULL;
	free(c);
	(*open_count)--;
}

/* Serve every complete request in c->buf; returns -1 when the connection is
 * done. */
static int
conn_serve(struct conn *c)
{
	for (;;) {
		char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
		if (end == NULL)
			return c->len == BUFSZ ? -1 : 0;
		size_t reqlen = (size_t)(end - c->buf) + 4;
		int close_it = stopping || wants_close(c->buf, reqlen);
		char out[256];
		int n = response(out, sizeof out, close_it);
		/* a 200-byte answer always fits an empty socket buffer */
		if (write(c->fd, out, (size_t)n) != n)
			return -1;
		memmove(c->buf, c->buf + reqlen, c->len - reqlen);
		c->len -= reqlen;
		if (close_it)
			return -1;
	}
}

static int
run_epoll(int lfd)
{
	int fl = fcntl(lfd, F_GETFL);
	/* shared with every generation through the open file description: they
	 * all run this worker, which wants it non-blocking (see README) */
	if (fl < 0 || fcntl(lfd, F_SETFL, fl | O_NONBLOCK) < 0)
		die("fcntl(listener)");
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1");
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev) < 0)
		die("epoll_ctl(listener)");
	int open_count = 0, listening = 1;
	long long drain_deadline = 0;
	struct epoll_event evs[256];
	/* the stop signals are only delivered inside epoll_pwait, so one cannot
	 * slip in between the check of `stopping` and the wait */
	sigset_t stopset, waitmask;
	sigemptyset(&stopset);
	sigaddset(&stopset, SIGTERM);
	sigaddset(&stopset, SIGINT);
	sigaddset(&stopset, SIGQUIT);
	sigprocmask(SIG_BLOCK, &stopset, &waitmask);

	for (;;) {
		if (stopping && listening) {
			epoll_ctl(epfd, EPOLL_CTL_DEL, lfd, NULL);
			close(lfd);
			listening = 0;
			drain_deadline = now_ms() + DRAIN_MS;
		}
		if (!listening &&
		    (open_count == 0 || now_ms() >= drain_deadline))
			break;
		int n =
		    epoll_pwait(epfd, evs, 256, listening ? -1 : 50, &waitmask);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (listening && fd == lfd) {
				for (int k = 0; k < 64; k++) {
					int cfd = accept4(lfd, NULL, NULL,
					                  SOCK_NONBLOCK |
					                      SOCK_CLOEXEC);
					if (cfd < 0)
						break;
					if (cfd >= MAXCONN) {
						close(cfd);
						continue;
					}
					struct conn *c = calloc(1, sizeof *c);
					if (c == NULL)
						die("calloc");
					c->fd = cfd;
					conns[cfd] = c;
					open_count++;
					struct epoll_event cev = {
					    .events = EPOLLIN | EPOLLRDHUP,
					    .data.fd = cfd};
					if (epoll_ctl(epfd, EPOLL_CTL_ADD, cfd,
					              &cev) < 0)
						die("epoll_ctl(conn)");
				}
				continue;
			}
			struct conn *c = conns[fd];
			if (c == NULL)
				continue;
			int done = 0;
			for (;;) {
				ssize_t r =
				    read(fd, c->buf + c->len, BUFSZ - c->len);
				if (r > 0) {
					c->len += (size_t)r;
					if (conn_serve(c) < 0) {
						done = 1;
						break;
					}
					continue;
				}
				if (r == 0 ||
				    (errno != EAGAIN && errno != EINTR))
					done = 1;
				break;
			}
			if (done)
				conn_close(epfd, c, &open_count);
		}
	}
	return 0;
}

/* ---- blocking prefork worker ------------------------------------------------
 */

/* Wait (up to 1 s) for the client to close first, then close with an RST:
 * neither side is left in TIME_WAIT, so measuring the rate of fresh
 * connections does not leave tens of thousands of sockets behind (which
 * slows every reader of /proc/net/tcp on the machine for a minute). */
static void
close_after_client(int cfd)
{
	struct pollfd p = {.fd = cfd, .events = POLLIN};
	char tmp[256];
	if (poll(&p, 1, 1000) == 1 && read(cfd, tmp, sizeof tmp) == 0) {
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	}
}

static void
block_child(int lfd)
{
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	for (;;) {
		int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EAGAIN)
				continue;
			die("accept");
		}
		char buf[BUFSZ];
		size_t len = 0;
		for (;;) { /* read blocking until the header ends: an idle
			      client stalls us */
			ssize_t r = read(cfd, buf + len, sizeof buf - len);
			if (r <= 0)
				break;
			len += (size_t)r;
			if (memmem(buf, len, "\r\n\r\n", 4) != NULL) {
				char out[256];
				int n = response(out, sizeof out, 1);
				if (write(cfd, out, (size_t)n) == n)
					close_after_client(cfd);
				break;
			}
			if (len == sizeof buf)
				break;
		}
		close(cfd);
	}
}

static int
run_block(int lfd, int nproc)
{
	pid_t kids[64];
	int nk = 0;
	for (int i = 0; i < nproc && i < 64; i++) {
		pid_t p = fork();
		if (p < 0)
			die("fork");
		if (p == 0) {
			block_child(lfd);
			_exit(0);
		}
		kids[nk++] = p;
	}
	close(lfd);
	sigset_t stopset, waitmask;
	sigemptyset(&stopset);
	sigaddset(&stopset, SIGTERM);
	sigaddset(&stopset, SIGINT);
	sigaddset(&stopset, SIGQUIT);
	sigprocmask(SIG_BLOCK, &stopset, &waitmask);
	while (!stopping) {
		/* poll for dead children; the stop signals arrive only inside
		 * pselect */
		struct timespec tick = {0, 100 * 1000000L};
		pselect(0, NULL, NULL, NULL, &tick, &waitmask);
		if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
			return 1;
	}
	for (int i = 0; i < nk; i++)
		kill(kids[i], SIGTERM);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
}

int
main(int argc, char **argv)
{
	int boot_ms = 0, notify = 0, blocking = 0, nproc = 4, opt;
	while ((opt = getopt(argc, argv, "b:nBp:")) != -1) {
		switch (opt) {
		case 'b':
			boot_ms = atoi(optarg);
			break;
		case 'n':
			notify = 1;
			break;
		case 'B':
			blocking = 1;
			break;
		case 'p':
			nproc = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: worker [-b BOOT_MS] [-n] [-B "
			                "[-p NPROC]]\n");
			return 2;
		}
	}
	const char *g = getenv("SERVER_STARTER_GENERATION");
	if (g != NULL)
		snprintf(gen, sizeof gen, "%s", g);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler =
	    on_stop; /* no SA_RESTART: epoll_wait and wait return EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	int lfd = listener_fd();
	if (boot_ms > 0) {
		struct timespec ts = {boot_ms / 1000,
		                      (long)(boot_ms % 1000) * 1000000L};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !stopping)
			;
	}
	if (stopping)
		return 0;
	if (notify)
		notify_ready();
	return blocking ? run_block(lfd, nproc) : run_epoll(lfd);
}
