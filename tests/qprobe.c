/* SPDX-License-Identifier: ISC */
/* qprobe.c: test helper printing one listener's kernel queues as JSON. */

/*
 * qprobe --kind tcp|unix|udp (--inode INO | --fd FD) [--syn]
 *        [--connect HOST:PORT|PATH --count N [--hold SECONDS]]
 *
 * Reads the queue of the socket with inode INO (the way an unprivileged
 * outside reader does) or of the inherited fd FD, through qstat, and
 * prints one line:
 *
 *   {"inode":N,"kind":"tcp","connected":N,"refused":N,"len":N,"limit":N,
 *    "drops":N,"syn":N}
 *
 * a figure the kernel did not give being null. With --connect it first
 * opens N non-blocking connections to the listener (TCP to HOST:PORT,
 * unix to PATH) and keeps them open while it reads: "connected" counts
 * those the kernel took, "refused" the others (EAGAIN on a full unix
 * queue). --hold keeps them open SECONDS more after the line is printed,
 * so that a script can look at them with ss(8) (it may kill qprobe
 * sooner). Exits 1 when the reading fails, 2 on a usage error.
 *
 * qprobe --held PGID --port PORT[,PORT...]
 *
 * Counts the established TCP connections on those local ports that the
 * processes of group PGID hold (procstat's walk of /proc and their
 * descriptors mapped onto one sock_diag dump), and prints
 *
 *   {"pgid":N,"processes":N,"sockets":N,"held":N}
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "procstat.h"
#include "qstat.h"
#include "sockdiag.h"

#define MAX_CONNECT 1000
#define MAX_HELD 65536

static int connected, refused;

static void
usage(void)
{
	fprintf(stderr, "usage: qprobe --kind tcp|unix|udp (--inode INO | "
	                "--fd FD) [--syn] [--connect ADDR --count N]\n"
	                "       qprobe --held PGID --port PORT[,PORT...]\n");
	exit(2);
}

static int
connect_one(const char *target, int unix_kind)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int s;

	memset(&ss, 0, sizeof(ss));
	if (unix_kind) {
		struct sockaddr_un *un = (struct sockaddr_un *)&ss;

		un->sun_family = AF_UNIX;
		snprintf(un->sun_path, sizeof(un->sun_path), "%s", target);
		len = sizeof(*un);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		char host[64];
		const char *colon = strrchr(target, ':');

		if (colon == NULL || (size_t)(colon - target) >= sizeof(host))
			usage();
		memcpy(host, target, (size_t)(colon - target));
		host[colon - target] = '\0';
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)atoi(colon + 1));
		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			usage();
		len = sizeof(*in);
	}
	s = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0) {
		perror("qprobe: socket");
		exit(1);
	}
	if (connect(s, (struct sockaddr *)&ss, len) == 0 ||
	    errno == EINPROGRESS) {
		connected++;
		return s;
	}
	refused++;
	close(s);
	return -1;
}

static void
print_u(const char *name, int have, uint64_t v)
{
	if (have)
		printf(",\"%s\":%" PRIu64, name, v);
	else
		printf(",\"%s\":null", name);
}

struct held {
	pid_t pgid;
	uint64_t ino[MAX_HELD];
	size_t n, procs;
	int unreadable;
};

static int
held_proc(pid_t pid, const struct procstat *ps, void *arg)
{
	struct held *h = arg;

	if (ps->pgrp != h->pgid || ps->state == 'Z' || ps->state == 'X')
		return 0;
	h->procs++;
	if (procstat_socket_inodes(pid, h->ino, &h->n, MAX_HELD) < 0)
		h->unreadable++;
	return 0;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
held_main(const char *pgid, const char *ports_s)
{
	static struct held h;
	uint16_t ports[SOCKDIAG_MAX_PORTS];
	size_t nports = 0;
	const char *p = ports_s;
	uint64_t count;
	char *end;

	h.pgid = (pid_t)atol(pgid);
	while (*p != '\0' && nports < SOCKDIAG_MAX_PORTS) {
		ports[nports++] = (uint16_t)strtoul(p, &end, 10);
		p = *end == ',' ? end + 1 : end;
		if (end == p && *p != '\0')
			usage();
	}
	if (h.pgid <= 0 || nports == 0)
		usage();
	if (procstat_walk(SIZE_MAX, held_proc, &h) < 0 || h.unreadable) {
		perror("qprobe: /proc");
		return 1;
	}
	qsort(h.ino, h.n, sizeof(*h.ino), u64_cmp);
	if (sockdiag_count_held(-1, ports, nports, 1u << TCP_ESTABLISHED, h.ino,
	                        h.n, &count) < 0) {
		perror("qprobe: sock_diag");
		return 1;
	}
	printf("{\"pgid\":%ld,\"processes\":%zu,\"sockets\":%zu,"
	       "\"held\":%" PRIu64 "}\n",
	       (long)h.pgid, h.procs, h.n, count);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *kind_s = NULL, *target = NULL;
	long long inode = -1;
	int fd = -1, syn = 0, count = 0, hold = 0, i, rc;
	enum qstat_kind kind;
	struct qstat q;
	struct timespec settle = {0, 100 * 1000 * 1000};

	if (argc == 5 && strcmp(argv[1], "--held") == 0 &&
	    strcmp(argv[3], "--port") == 0)
		return held_main(argv[2], argv[4]);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--syn") == 0)
			syn = 1;
		else if (i + 1 >= argc)
			usage();
		else if (strcmp(argv[i], "--kind") == 0)
			kind_s = argv[++i];
		else if (strcmp(argv[i], "--inode") == 0)
			inode = atoll(argv[++i]);
		else if (strcmp(argv[i], "--fd") == 0)
			fd = atoi(argv[++i]);
		else if (strcmp(argv[i], "--connect") == 0)
			target = argv[++i];
		else if (strcmp(argv[i], "--count") == 0)
			count = atoi(argv[++i]);
		else if (strcmp(argv[i], "--hold") == 0)
			hold = atoi(argv[++i]);
		else
			usage();
	}
	if (kind_s == NULL || (inode < 0) == (fd < 0) || count < 0 ||
	    count > MAX_CONNECT)
		usage();
	if (strcmp(kind_s, "tcp") == 0)
		kind = QSTAT_TCP;
	else if (strcmp(kind_s, "unix") == 0)
		kind = QSTAT_UNIX;
	else if (strcmp(kind_s, "udp") == 0)
		kind = QSTAT_UDP;
	else
		usage();
	if (target != NULL) {
		for (i = 0; i < count; i++)
			connect_one(target, kind == QSTAT_UNIX);
		/* loopback handshakes are done by now; let the kernel's
		 * softirq work settle before reading */
		nanosleep(&settle, NULL);
	}
	if (fd >= 0)
		rc = qstat_read_fd(fd, kind, syn, &q);
	else
		rc = qstat_read_inode((uint64_t)inode, kind, syn, &q);
	if (rc < 0) {
		fprintf(stderr,
		        "qprobe: cannot read the queue of %s %s %lld: %s\n",
		        kind_s, fd >= 0 ? "fd" : "inode",
		        fd >= 0 ? (long long)fd : inode, strerror(errno));
		return 1;
	}
	printf("{\"inode\":%" PRIu64 ",\"kind\":\"%s\",\"connected\":%d,"
	       "\"refused\":%d",
	       q.inode, kind_s, connected, refused);
	print_u("len", q.flags & QSTAT_HAS_QUEUE, q.len);
	print_u("limit", q.flags & QSTAT_HAS_QUEUE, q.limit);
	print_u("drops", q.flags & QSTAT_HAS_DROPS, q.drops);
	print_u("syn", q.flags & QSTAT_HAS_SYN, q.syn);
	printf("}\n");
	fflush(stdout);
	if (hold > 0)
		sleep((unsigned)hold);
	return 0;
}
