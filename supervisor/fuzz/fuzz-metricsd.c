/* SPDX-License-Identifier: ISC */
/* fuzz-metricsd.c: libFuzzer target for the metrics listener as a server:
 * idle, slow, half-closed and garbage-sending clients, then a probe. */

/*
 * The real metricsd (metricsd_open on a loopback port, its libev loop)
 * and real sockets. The input is a script for up to MAX_CLIENTS clients,
 * one op per byte:
 *   0 open a client (it may stay idle for good)
 *   1 K L BYTES: client K sends L (1..64) bytes of the input: a slow
 *     client, a request cut anywhere, or garbage
 *   2 K: client K closes abruptly
 *   3 K: client K shuts down its side (half close)
 *   4: the loop runs once without waiting
 *   5 K: client K reads what it was sent
 * Then a probe connects and sends "GET /healthz": whatever the others
 * did, it must be answered 200 within 1 s (STYLE.md rule 4). Then every client
 * closes, and baton must be back to the fds it had: nothing held for a
 * client that is gone. Beyond "no crash, no leak, no UB, no hang".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>
#include <ev.h>

#include "log.h"
#include "metricsd.h"
#include "options.h"

#define MAX_CLIENTS 40
#define MAX_OPS 4096
#define PROBE_SECONDS 1.0

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ev_loop *loop;
static struct options opts;
static struct sockaddr_in addr;
static int base_fds;

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		abort();
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own fd */
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char listen_at[32];
	socklen_t len = sizeof(addr);
	int s;

	(void)argc;
	(void)argv;
	log_init("baton");
	/* a port the kernel hands out, given back for metricsd to bind */
	s = socket(AF_INET, SOCK_STREAM, 0);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    getsockname(s, (struct sockaddr *)&addr, &len) < 0)
		abort();
	close(s);
	snprintf(listen_at, sizeof(listen_at), "127.0.0.1:%u",
	         ntohs(addr.sin_port));
	opts.metrics_listen = listen_at;
	opts.metrics_interval = 3600; /* no sampling during a run */
	loop = ev_default_loop(0);
	metricsd_open(loop, &opts);
	metricsd_start();
	base_fds = count_fds();
	return 0;
}

static int
client(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		abort();
	return fd;
}

static void
drain(int fd)
{
	char buf[4096];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Run the loop until fd has been answered and closed by baton, for at
 * most PROBE_SECONDS (Kubernetes' probe timeout; baton runs in this very
 * thread, so only its own work takes time); the answer's first bytes
 * into out. */
static size_t
answer(int fd, char *out, size_t outlen)
{
	double end = mono() + PROBE_SECONDS;
	size_t got = 0;

	while (mono() < end) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t n;

		ev_run(loop, EVRUN_NOWAIT);
		if (poll(&p, 1, 1) <= 0)
			continue;
		n = recv(fd, out + got, outlen - 1 - got, MSG_DONTWAIT);
		if (n == 0)
			break;
		if (n < 0 && errno != EAGAIN)
			break;
		if (n > 0)
			got += (size_t)n;
		if (got == outlen - 1)
			drain(fd);
	}
	out[got] = '\0';
	return got;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char probe_req[] =
	    "GET /healthz HTTP/1.1\r\nHost: f\r\n\r\n";
	int fds[MAX_CLIENTS], n = 0, probe, i;
	double end;
	size_t p = 0, ops = 0;
	char out[1024];

	while (p < size && ops++ < MAX_OPS) {
		uint8_t op = data[p++] % 6, k = p < size ? data[p] : 0;

		switch (op) {
		case 0:
			if (n < MAX_CLIENTS)
				fds[n++] = client();
			break;
		case 1:
			if (p + 2 > size || n == 0) {
				p = size;
				break;
			}
			{
				size_t len = data[p + 1] % 64 + 1;

				p += 2;
				if (len > size - p)
					len = size - p;
				if (fds[k % n] >= 0)
					(void)send(fds[k % n], data + p, len,
					           MSG_NOSIGNAL | MSG_DONTWAIT);
				p += len;
			}
			break;
		case 2:
		case 3:
		case 5:
			p++;
			if (n == 0 || fds[k % n] < 0)
				break;
			if (op == 2) {
				close(fds[k % n]);
				fds[k % n] = -1;
			} else if (op == 3)
				shutdown(fds[k % n], SHUT_WR);
			else
				drain(fds[k % n]);
			break;
		case 4:
			ev_run(loop, EVRUN_NOWAIT);
			break;
		}
	}
	/* whatever the others did, a probe is answered */
	probe = client();
	if (send(probe, probe_req, sizeof(probe_req) - 1, MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(probe_req) - 1)
		abort();
	answer(probe, out, sizeof(out));
	if (strncmp(out, "HTTP/1.1 200 OK\r\n", 17) != 0 ||
	    strstr(out, "\r\n\r\nok\n") == NULL) {
		fprintf(stderr, "baton fuzz: the probe got: %.200s\n", out);
		__builtin_trap();
	}
	close(probe);
	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	/* every client gone: baton holds nothing for them, once it has
	 * read their ends (a second at most) */
	for (end = mono() + 1; mono() < end && count_fds() != base_fds;) {
		struct pollfd none;

		ev_run(loop, EVRUN_NOWAIT);
		poll(&none, 0, 1);
	}
	if (count_fds() != base_fds) {
		fprintf(stderr, "baton fuzz: %d fds, %d before\n", count_fds(),
		        base_fds);
		__builtin_trap();
	}
	return 0;
}
