/* SPDX-License-Identifier: ISC */
/* bench/packets.c: the server and the client of bench/packets.sh, which
 * counts TCP segments per HTTP exchange. */

/*
 *   packets serve [-c] [-q]     under baton: the first listener of
 *                               SERVER_STARTER_PORT, one connection at a
 *                               time; each response is written in two
 *                               pieces (headers, then body), as most
 *                               servers do. -c corks around the two writes
 *                               (what baton_cork() does), -q sets quick-ack
 *                               after every read (baton_quickack()).
 *                               HTTP/1.0 closes after the response; a request
 *                               with "Connection: keep-alive" keeps it open.
 *   packets client PORT N close|keepalive
 *                               N exchanges on 127.0.0.1:PORT: a connection
 *                               each (HTTP/1.0, the server closes), or one
 *                               connection for all N; prints the mean and
 *                               the median latency in microseconds.
 *
 * The client writes each request in one piece and reads the response to
 * its end (Content-Length, or EOF), so no exchange overlaps the next.
 */
#define _GNU_SOURCE 1

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char body[] = "ok\n";

static void
die(const char *what)
{
	fprintf(stderr, "packets: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
set_tcp(int fd, int name, int v)
{
	if (setsockopt(fd, IPPROTO_TCP, name, &v, sizeof(v)) < 0)
		die("setsockopt");
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
serve_conn(int c, int cork, int quickack)
{
	char buf[4096], head[256];
	size_t got = 0;

	for (;;) {
		ssize_t n = recv(c, buf + got, sizeof(buf) - 1 - got, 0);
		char *end;
		int keep, hl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		if (quickack)
			set_tcp(c, TCP_QUICKACK, 1);
		got += (size_t)n;
		buf[got] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) == NULL) {
			if (got >= sizeof(buf) - 1)
				return;
			continue;
		}
		keep = strcasestr(buf, "connection: keep-alive") != NULL;
		hl = snprintf(head, sizeof(head),
		              "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
		              "Content-Length: %zu\r\n%s\r\n",
		              sizeof(body) - 1,
		              keep ? "Connection: keep-alive\r\n" : "");
		if (cork)
			set_tcp(c, TCP_CORK, 1);
		if (write_all(c, head, (size_t)hl) < 0 ||
		    write_all(c, body, sizeof(body) - 1) < 0)
			return;
		if (cork)
			set_tcp(c, TCP_CORK, 0);
		if (!keep)
			return;
		/* one request at a time: nothing follows the headers */
		got = 0;
	}
}

static int
serve(int argc, char **argv)
{
	const char *e = getenv("SERVER_STARTER_PORT"), *eq;
	int i, cork = 0, quickack = 0, lfd;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0)
			cork = 1;
		else if (strcmp(argv[i], "-q") == 0)
			quickack = 1;
	}
	if (e == NULL || (eq = strchr(e, '=')) == NULL) {
		fprintf(stderr, "packets: no SERVER_STARTER_PORT\n");
		return 1;
	}
	lfd = atoi(eq + 1);
	for (;;) {
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die("accept");
		}
		serve_conn(c, cork, quickack);
		close(c);
	}
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
connect_to(int port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die("connect");
	return fd;
}

/* Read one response: headers, then Content-Length bytes; with close, on
 * to EOF. */
static void
read_response(int fd, int to_eof)
{
	char buf[4096];
	size_t got = 0, want = 0;

	for (;;) {
		ssize_t n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
		char *end;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("recv");
		if (n == 0) {
			if (to_eof)
				return;
			fprintf(stderr, "packets: early EOF\n");
			exit(1);
		}
		got += (size_t)n;
		buf[got] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) == NULL)
			continue;
		if (want == 0) {
			char *cl = strcasestr(buf, "content-length:");

			want = (size_t)(end + 4 - buf) +
			       (cl ? strtoul(cl + 15, NULL, 10) : 0);
		}
		if (got >= want && !to_eof)
			return;
		if (got >= sizeof(buf) - 1)
			got = 0; /* only the EOF matters now */
	}
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
client(int argc, char **argv)
{
	static const char req_close[] = "GET / HTTP/1.0\r\nHost: b\r\n\r\n";
	static const char req_ka[] =
	    "GET / HTTP/1.0\r\nHost: b\r\nConnection: keep-alive\r\n\r\n";
	int port, n, i, ka, fd = -1;
	double *lat, sum = 0;

	if (argc != 5)
		return 2;
	port = atoi(argv[2]);
	n = atoi(argv[3]);
	ka = strcmp(argv[4], "keepalive") == 0;
	if (n <= 0 || (lat = calloc((size_t)n, sizeof(*lat))) == NULL)
		return 2;
	if (ka)
		fd = connect_to(port);
	for (i = 0; i < n; i++) {
		double t0 = now_us();

		if (!ka)
			fd = connect_to(port);
		if (write_all(fd, ka ? req_ka : req_close,
		              ka ? sizeof(req_ka) - 1 : sizeof(req_close) - 1) <
		    0)
			die("send");
		read_response(fd, !ka);
		if (!ka)
			close(fd);
		lat[i] = now_us() - t0;
		sum += lat[i];
	}
	if (ka)
		close(fd);
	qsort(lat, (size_t)n, sizeof(*lat), cmp_double);
	printf("%.0f %.0f\n", sum / n, lat[n / 2]);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return serve(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "client") == 0)
		return client(argc, argv);
	fprintf(stderr, "usage: packets serve [-c] [-q] | packets client PORT "
	                "N close|keepalive\n");
	return 2;
}
