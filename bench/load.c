/* SPDX-License-Identifier: ISC */
/* bench/load.c: a closed-loop HTTP load generator that counts every failure and keeps every latency. */

/*
 * load -p PORT [-c CONNS] [-d SECONDS] [-t TIMEOUT_MS] [-k]
 *
 * CONNS connections to 127.0.0.1:PORT each send "GET /" and send the next one
 * when the answer is complete (keep-alive; with -k every request is on a fresh
 * connection). A server's "Connection: close" is honoured by reconnecting, which
 * is not a failure. It stops after SECONDS or at SIGTERM/SIGINT and prints
 * key=value lines:
 *
 *   requests seconds rps          completed 2xx answers, elapsed, rate
 *   err_connect                   connect() failed (refused, reset)
 *   err_read                      the connection closed or reset before the answer was complete
 *   err_write                     the request could not be written
 *   err_timeout                   no answer within TIMEOUT_MS (default 10000)
 *   non2xx                        answers with another status
 *   failed                        the sum of the five above
 *   slow_1s slow_2s               answers that took longer than 1 s / 2 s
 *   p50_ms p99_ms p999_ms max_ms  latency of the answered requests, from the
 *                                 start of connect (fresh connection) or of the write
 *
 * Unlike wrk, a request slower than the timeout is not dropped from the
 * latency figures, which is the point when measuring restarts of a slow worker.
 * A connection whose connect failed waits 10 ms before it tries again, so a
 * refusing server costs ~100 attempts per connection per second.
 */

#define _GNU_SOURCE 1 /* memmem, accept4, pselect, strncasecmp */

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

enum state { IDLE, CONNECTING, WRITING, READING };

struct conn {
	int fd;
	enum state st;
	int64_t start_us; /* when the current request began */
	int64_t retry_us; /* IDLE: when to connect again */
	int fresh;        /* this request opened the connection */
	size_t len;
	char buf[8192];
};

static volatile sig_atomic_t stop;
static struct sockaddr_in addr;
static int keepalive = 1;
static const char *req_ka = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
static const char *req_close =
    "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

static uint64_t n_ok, e_connect, e_read, e_write, e_timeout, n_non2xx, slow1,
    slow2;
static uint32_t *lat;
static size_t nlat, caplat;

static void
on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static int64_t
now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
record(int64_t us)
{
	if (us > 1000000)
		slow1++;
	if (us > 2000000)
		slow2++;
	if (nlat == caplat) {
		if (caplat >= (size_t)64 << 20)
			return; /* 64 M samples is plenty; the counters still
			           count */
		caplat = caplat ? caplat * 2 : 1 << 16;
		uint32_t *p = realloc(lat, caplat * sizeof *lat);
		if (p == NULL) {
			perror("load: realloc");
			exit(1);
		}
		lat = p;
	}
	lat[nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static void
conn_drop(int epfd, struct conn *c, int64_t now, int64_t delay_us)
{
	if (c->fd >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->st = IDLE;
	c->retry_us = now + delay_us;
}

static void send_request(int epfd, struct conn *c, int64_t now);

static void
conn_open(int epfd, struct conn *c, int64_t now)
{
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		perror("load: socket");
		exit(1);
	}
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->start_us = now;
	c->fresh = 1;
	c->len = 0;
	struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		perror("load: epoll_ctl");
		exit(1);
	}
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) == 0) {
		send_request(epfd, c, now);
		return;
	}
	if (errno == EINPROGRESS) {
		c->st = CONNECTING;
		return;
	}
	e_connect++;
	conn_drop(epfd, c, now, 10000);
}

static void
send_request(int epfd, struct conn *c, int64_t now)
{
	const char *req = keepalive ? req_ka : req_close;
	size_t n = strlen(req);
	if (!c->fresh)
		c->start_us = now;
	ssize_t w = write(c->fd, req, n);
	if (w != (ssize_t)n) {
		e_write++;
		conn_drop(epfd, c, now, 0);
		return;
	}
	c->st = READING;
	c->len = 0;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* 1 = answer complete, 0 = need more, -1 = malformed */
static int
parse(struct conn *c, int *status, int *close_it)
{
	char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
	if (end == NULL)
		return c->len == sizeof c->buf ? -1 : 0;
	if (c->len < 12 || memcmp(c->buf, "HTTP/1.", 7) != 0)
		return -1;
	*status = atoi(c->buf + 9);
	size_t hlen = (size_t)(end - c->buf) + 4;
	long clen = 0;
	*close_it = 0;
	for (char *line = c->buf; line < end;) {
		char *eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
		if (eol == NULL)
			break;
		if (strncasecmp(line, "content-length:", 15) == 0)
			clen = strtol(line + 15, NULL, 10);
		else if (strncasecmp(line, "connection:", 11) == 0) {
			char *v = line + 11;
			while (*v == ' ')
				v++;
			if (strncasecmp(v, "close", 5) == 0)
				*close_it = 1;
		}
		line = eol + 2;
	}
	return c->len >= hlen + (size_t)clen ? 1 : 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static double
pct_ms(double p)
{
	if (nlat == 0)
		return 0;
	size_t i = (size_t)(p / 100.0 * (double)nlat);
	if (i >= nlat)
		i = nlat - 1;
	return lat[i] / 1000.0;
}

int
main(int argc, char **argv)
{
	int port = 0, nconn = 16, opt;
	double seconds = 10;
	int64_t timeout_us = 10000000;
	while ((opt = getopt(argc, argv, "p:c:d:t:k")) != -1) {
		switch (opt) {
		case 'p':
			port = atoi(optarg);
			break;
		case 'c':
			nconn = atoi(optarg);
			break;
		case 'd':
			seconds = atof(optarg);
			break;
		case 't':
			timeout_us = atoll(optarg) * 1000;
			break;
		case 'k':
			keepalive = 0;
			break;
		default:
			fprintf(stderr, "usage: load -p PORT [-c CONNS] [-d "
			                "SECONDS] [-t TIMEOUT_MS] [-k]\n");
			return 2;
		}
	}
	if (port <= 0 || nconn <= 0 || nconn > 10000 || seconds <= 0 ||
	    seconds > 86400) {
		fprintf(stderr, "load: need -p PORT, 1..10000 connections, 0 < "
		                "seconds <= 86400\n");
		return 2;
	}
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	int epfd = epoll_create1(EPOLL_CLOEXEC);
	struct conn *cs = calloc((size_t)nconn, sizeof *cs);
	if (epfd < 0 || cs == NULL) {
		perror("load");
		return 1;
	}
	int64_t t0 = now_us(), deadline = t0 + (int64_t)(seconds * 1e6);
	for (int i = 0; i < nconn; i++) {
		cs[i].fd = -1;
		conn_open(epfd, &cs[i], t0);
	}
	struct epoll_event evs[256];
	int64_t now = t0;
	while (!stop && now < deadline) {
		int n = epoll_wait(epfd, evs, 256, 5);
		now = now_us();
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c->fd < 0)
				continue;
			if (c->st == CONNECTING) {
				int err = 0;
				socklen_t l = sizeof err;
				getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err,
				           &l);
				if (err != 0) {
					e_connect++;
					conn_drop(epfd, c, now, 10000);
				} else {
					send_request(epfd, c, now);
				}
				continue;
			}
			if (c->st != READING)
				continue;
			ssize_t r = read(c->fd, c->buf + c->len,
			                 sizeof c->buf - c->len);
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r <= 0) {
				e_read++;
				conn_drop(epfd, c, now, 0);
				continue;
			}
			c->len += (size_t)r;
			int status = 0, close_it = 0;
			int done = parse(c, &status, &close_it);
			if (done == 0)
				continue;
			if (done < 0) {
				e_read++;
				conn_drop(epfd, c, now, 0);
				continue;
			}
			record(now - c->start_us);
			if (status >= 200 && status < 300)
				n_ok++;
			else
				n_non2xx++;
			c->fresh = 0;
			if (close_it || !keepalive)
				conn_drop(epfd, c, now, 0);
			else
				send_request(epfd, c, now);
		}
		for (int i = 0; i < nconn; i++) {
			struct conn *c = &cs[i];
			if (c->st == IDLE) {
				if (now >= c->retry_us)
					conn_open(epfd, c, now);
			} else if (now - c->start_us > timeout_us) {
				e_timeout++;
				conn_drop(epfd, c, now, 0);
			}
		}
	}
	double secs = (double)(now - t0) / 1e6;
	qsort(lat, nlat, sizeof *lat, cmp_u32);
	uint64_t failed = e_connect + e_read + e_write + e_timeout + n_non2xx;
	printf("requests=%llu\nseconds=%.2f\nrps=%.0f\n",
	       (unsigned long long)n_ok, secs,
	       secs > 0 ? (double)n_ok / secs : 0.0);
	printf("err_connect=%llu\nerr_read=%llu\nerr_write=%llu\nerr_timeout=%"
	       "llu\nnon2xx=%llu\nfailed=%llu\n",
	       (unsigned long long)e_connect, (unsigned long long)e_read,
	       (unsigned long long)e_write, (unsigned long long)e_timeout,
	       (unsigned long long)n_non2xx, (unsigned long long)failed);
	printf("slow_1s=%llu\nslow_2s=%llu\n", (unsigned long long)slow1,
	       (unsigned long long)slow2);
	printf("p50_ms=%.2f\np99_ms=%.2f\np999_ms=%.2f\nmax_ms=%.2f\n",
	       pct_ms(50), pct_ms(99), pct_ms(99.9),
	       nlat ? lat[nlat - 1] / 1000.0 : 0.0);
	return 0;
}
