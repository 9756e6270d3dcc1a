/* SPDX-License-Identifier: ISC */
/* Bounded HTTP load client for the black-box tests (hot-restart under load). */

/*
 * loadgen HOST PORT [--seconds S] [--max-requests N] [--concurrency C]
 *         [--unix PATH] [--pause-ms MS] [--timeout-ms MS] [--udp]
 *         [--stop-file PATH]
 *
 * Keeps C requests in flight, each on a fresh connection: connect, send
 * "GET / HTTP/1.0\r\n\r\n", read the answer to EOF, require a 200 status.
 * It stops starting requests after S seconds or N requests, whichever comes
 * first (or once --stop-file exists), and gives every request at most
 * --timeout-ms: so it always ends.
 * With --udp it sends N datagrams one at a time and requires an answer to
 * each ("gen=..."), still bounded by S.
 *
 * Prints one line:
 *   requests=N ok=N failed=N refused=N reset=N timeout=N other=N
 *   connect_timeout=N max_latency_ms=X min_gen=G max_gen=G last_gen=G
 * (connect_timeout: the timeouts of requests still connecting, among
 * timeout: the listener dropped their SYN, or nobody answers)
 * and exits 1 if any request failed (2 on a usage error).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONC 256

enum state { IDLE, CONNECTING, SENDING, READING };

struct slot {
	enum state st;
	int fd;
	double started;
	double next_start;
	size_t sent;
	size_t got;
	char buf[1024];
};

static const char request[] = "GET / HTTP/1.0\r\n\r\n";

static struct sockaddr_storage addr;
static socklen_t addrlen;
static int family;

static long n_requests, n_ok, n_refused, n_reset, n_timeout, n_other;
static long n_connect_timeout;
static double max_latency;
static long min_gen = -1, max_gen = -1, last_gen = -1;
static int verbose;

static void
usage(void)
{
	fprintf(
	    stderr,
	    "usage: loadgen HOST PORT [--seconds S] [--max-requests N]\n"
	    "               [--concurrency C] [--unix PATH] [--pause-ms MS]\n"
	    "               [--timeout-ms MS] [--udp] [--verbose]\n");
	exit(2);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
num(const char *opt, const char *s, double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "loadgen: bad value for %s: \"%s\"\n", opt, s);
		exit(2);
	}
	return v;
}

static void
note_gen(const char *body)
{
	const char *g = strstr(body, "gen=");
	long gen;

	if (g == NULL)
		return;
	gen = strtol(g + 4, NULL, 10);
	if (min_gen < 0 || gen < min_gen)
		min_gen = gen;
	if (gen > max_gen)
		max_gen = gen;
	last_gen = gen;
}

static void
finish(struct slot *s, const char *outcome, int err, double t)
{
	double lat = (t - s->started) * 1000.0;

	if (lat > max_latency)
		max_latency = lat;
	if (outcome == NULL) {
		n_ok++;
	} else {
		if (err == ECONNREFUSED)
			n_refused++;
		else if (err == ECONNRESET || err == EPIPE)
			n_reset++;
		else if (err == ETIMEDOUT)
			n_timeout++;
		else
			n_other++;
		if (verbose)
			fprintf(stderr, "loadgen: request failed: %s: %s\n",
			        outcome, err ? strerror(err) : "bad answer");
	}
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->st = IDLE;
}

static void
start(struct slot *s, double t)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	s->started = t;
	s->sent = 0;
	s->got = 0;
	s->fd = fd;
	n_requests++;
	if (fd < 0) {
		finish(s, "socket", errno, t);
		return;
	}
	if (connect(fd, (struct sockaddr *)&addr, addrlen) == 0) {
		s->st = SENDING;
	} else if (errno == EINPROGRESS) {
		s->st = CONNECTING;
	} else {
		/* including EAGAIN: a unix socket whose backlog is full */
		finish(s, "connect", errno, t);
	}
}

static void
step(struct slot *s, short revents, double t)
{
	if (s->st == CONNECTING) {
		int err = 0;
		socklen_t sl = sizeof(err);

		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
			err = errno;
		if (err != 0) {
			finish(s, "connect", err, t);
			return;
		}
		if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
			return;
		s->st = SENDING;
	}
	if (s->st == SENDING) {
		ssize_t w = send(s->fd, request + s->sent,
		                 sizeof(request) - 1 - s->sent, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno != EAGAIN && errno != EINTR)
				finish(s, "send", errno, t);
			return;
		}
		s->sent += (size_t)w;
		if (s->sent == sizeof(request) - 1)
			s->st = READING;
		return;
	}
	if (s->st == READING) {
		ssize_t r = recv(s->fd, s->buf + s->got,
		                 sizeof(s->buf) - 1 - s->got, 0);

		if (r < 0) {
			if (errno != EAGAIN && errno != EINTR)
				finish(s, "recv", errno, t);
			return;
		}
		s->got += (size_t)r;
		s->buf[s->got] = '\0';
		if (r > 0 && s->got < sizeof(s->buf) - 1)
			return;
		/* EOF (or a full buffer): judge the answer */
		if (strncmp(s->buf, "HTTP/1.0 200 ", 13) == 0 ||
		    strncmp(s->buf, "HTTP/1.1 200 ", 13) == 0) {
			const char *body = strstr(s->buf, "\r\n\r\n");

			note_gen(body ? body : s->buf);
			finish(s, NULL, 0, t);
		} else if (s->got == 0) {
			finish(s, "recv", ECONNRESET,
			       t); /* closed unanswered */
		} else {
			finish(s, "answer", 0, t);
		}
	}
}

static int
run_udp(double seconds, long max_requests, double timeout_ms)
{
	double end = now() + seconds;
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, addrlen) < 0) {
		perror("loadgen: udp socket");
		return 2;
	}
	while (n_requests < max_requests && now() < end) {
		double t = now();
		struct pollfd p = {fd, POLLIN, 0};
		char buf[512];
		ssize_t r;
		struct slot s;

		memset(&s, 0, sizeof(s));
		s.fd = -1;
		s.started = t;
		n_requests++;
		if (send(fd, "ping", 4, 0) < 0) {
			finish(&s, "send", errno, now());
			continue;
		}
		if (poll(&p, 1, (int)timeout_ms) <= 0) {
			finish(&s, "recv", ETIMEDOUT, now());
			continue;
		}
		r = recv(fd, buf, sizeof(buf) - 1, 0);
		if (r < 0) {
			finish(&s, "recv", errno, now());
			continue;
		}
		buf[r] = '\0';
		if (strncmp(buf, "gen=", 4) == 0) {
			note_gen(buf);
			finish(&s, NULL, 0, now());
		} else {
			finish(&s, "answer", 0, now());
		}
	}
	close(fd);
	return 0;
}

static void
resolve(const char *host, const char *port, const char *upath, int udp)
{
	struct addrinfo hints, *res;
	int rc;

	memset(&addr, 0, sizeof(addr));
	if (upath != NULL) {
		struct sockaddr_un *un = (struct sockaddr_un *)&addr;
		size_t len = strlen(upath);

		if (len >= sizeof(un->sun_path)) {
			fprintf(stderr, "loadgen: unix path too long\n");
			exit(2);
		}
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, upath, len + 1);
		addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		                      len + 1);
		family = AF_UNIX;
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "loadgen: cannot resolve %s:%s: %s\n", host,
		        port, gai_strerror(rc));
		exit(2);
	}
	memcpy(&addr, res->ai_addr, res->ai_addrlen);
	addrlen = res->ai_addrlen;
	family = res->ai_family;
	freeaddrinfo(res);
}

int
main(int argc, char **argv)
{
	static struct slot slots[MAX_CONC];
	struct pollfd pfd[MAX_CONC];
	int idx[MAX_CONC];
	const char *host = NULL, *port = NULL, *upath = NULL, *stop_file = NULL;
	double seconds = 5, pause_ms = 0, timeout_ms = 5000, end, t;
	long max_requests = 1000;
	int conc = 1, udp = 0, i, rc = 0;
	long failed;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--udp") == 0) {
			udp = 1;
		} else if (strcmp(a, "--verbose") == 0) {
			verbose = 1;
		} else if (a[0] == '-' && a[1] == '-') {
			const char *v = i + 1 < argc ? argv[++i] : NULL;

			if (v == NULL)
				usage();
			if (strcmp(a, "--seconds") == 0)
				seconds = num(a, v, 0, 3600);
			else if (strcmp(a, "--max-requests") == 0)
				max_requests = (long)num(a, v, 1, 1e9);
			else if (strcmp(a, "--concurrency") == 0)
				conc = (int)num(a, v, 1, MAX_CONC);
			else if (strcmp(a, "--unix") == 0)
				upath = v;
			else if (strcmp(a, "--stop-file") == 0)
				stop_file = v;
			else if (strcmp(a, "--pause-ms") == 0)
				pause_ms = num(a, v, 0, 60000);
			else if (strcmp(a, "--timeout-ms") == 0)
				timeout_ms = num(a, v, 1, 3600000);
			else
				usage();
		} else if (host == NULL) {
			host = a;
		} else if (port == NULL) {
			port = a;
		} else {
			usage();
		}
	}
	if (upath == NULL && (host == NULL || port == NULL))
		usage();
	resolve(host, port, upath, udp);

	if (udp) {
		rc = run_udp(seconds, max_requests, timeout_ms);
		goto report;
	}

	for (i = 0; i < conc; i++) {
		slots[i].st = IDLE;
		slots[i].fd = -1;
		slots[i].next_start = 0;
	}
	end = now() + seconds;
	for (;;) {
		int n = 0, active = 0, wait_ms = 50;

		t = now();
		if (stop_file != NULL && t < end &&
		    access(stop_file, F_OK) == 0)
			end = t; /* asked to stop: no new request */
		for (i = 0; i < conc; i++) {
			struct slot *s = &slots[i];

			if (s->st == IDLE && t < end &&
			    n_requests < max_requests && t >= s->next_start) {
				start(s, t);
				s->next_start = t + pause_ms / 1000.0;
			}
			if (s->st != IDLE &&
			    (t - s->started) * 1000.0 > timeout_ms) {
				if (s->st == CONNECTING)
					n_connect_timeout++;
				finish(s, "timeout", ETIMEDOUT, t);
			}
			if (s->st == IDLE)
				continue;
			active++;
			pfd[n].fd = s->fd;
			pfd[n].events =
			    s->st == READING                          ? POLLIN
			    : s->st == SENDING || s->st == CONNECTING ? POLLOUT
			                                              : 0;
			pfd[n].revents = 0;
			idx[n++] = i;
		}
		if (active == 0 && (t >= end || n_requests >= max_requests))
			break;
		if (pause_ms > 0 && pause_ms < wait_ms)
			wait_ms = (int)pause_ms;
		if (poll(pfd, (nfds_t)n, wait_ms) < 0 && errno != EINTR) {
			perror("loadgen: poll");
			return 2;
		}
		t = now();
		for (i = 0; i < n; i++)
			if (pfd[i].revents != 0)
				step(&slots[idx[i]], pfd[i].revents, t);
	}

report:
	failed = n_requests - n_ok;
	printf("requests=%ld ok=%ld failed=%ld refused=%ld reset=%ld "
	       "timeout=%ld other=%ld connect_timeout=%ld max_latency_ms=%.0f "
	       "min_gen=%ld max_gen=%ld last_gen=%ld\n",
	       n_requests, n_ok, failed, n_refused, n_reset, n_timeout, n_other,
	       n_connect_timeout, max_latency, min_gen, max_gen, last_gen);
	if (rc != 0)
		return rc;
	return failed > 0 ? 1 : 0;
}
