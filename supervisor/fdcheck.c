/* SPDX-License-Identifier: ISC */
/* fdcheck.c: does each worker hold its listeners? /proc tells. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ev.h>

#include "fdcheck.h"
#include "log.h"
#include "ratelimit.h"
#include "procstat.h"
#include "sockdiag.h"

/* Bounds: a worker tree this big is not looked at further. */
#define MAX_PROCS 4096
#define MAX_INODES 65536

struct proclist {
	pid_t pid[MAX_PROCS], ppid[MAX_PROCS];
	size_t n;
};

static int
parent_cb(pid_t pid, const struct procstat *ps, void *arg)
{
	struct proclist *pl = arg;

	pl->pid[pl->n] = pid;
	pl->ppid[pl->n++] = ps->ppid;
	return 0;
}

/* Every process's parent, from /proc/PID/stat ("pid (comm) S ppid"). */
static void
read_parents(struct proclist *pl)
{
	pl->n = 0;
	(void)procstat_walk(MAX_PROCS, parent_cb, pl);
}

/* The socket inodes held by root and its descendants; -1 when one of
 * them could not be read. */
static int
tree_inodes(const struct proclist *pl, pid_t root, uint64_t *ino, size_t *n)
{
	pid_t queue[MAX_PROCS];
	size_t head = 0, tail = 0, i;
	int rc = 0;

	queue[tail++] = root;
	while (head < tail) {
		pid_t p = queue[head++];

		/* -1: /proc/PID/fd cannot be read (another user's
		 * process): no verdict */
		if (procstat_socket_inodes(p, ino, n, MAX_INODES) < 0)
			rc = -1;
		for (i = 0; i < pl->n && tail < MAX_PROCS; i++)
			if (pl->ppid[i] == p && pl->pid[i] != p)
				queue[tail++] = pl->pid[i];
	}
	return rc;
}

static int
ino_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Is want in ino[n], sorted? (A worker tree and baton can both hold
 * thousands of sockets: a scan for each would be quadratic.) */
static int
holds(const uint64_t *ino, size_t n, uint64_t want)
{
	return n > 0 && bsearch(&want, ino, n, sizeof(*ino), ino_cmp) != NULL;
}

/* /proc/net/tcp's "0100007F:1F90" as "127.0.0.1:8080" (the address
 * is the raw network-order word printed in hex); IPv6 stays in hex. */
static const char *
hex_addr(char *s)
{
	unsigned a, port;
	struct in_addr in;
	char host[INET_ADDRSTRLEN];

	if (strlen(s) == 13 && sscanf(s, "%8X:%4X", &a, &port) == 2) {
		in.s_addr = a;
		inet_ntop(AF_INET, &in, host, sizeof(host));
		snprintf(s, 128, "%s:%u", host, port);
	}
	return s;
}

/* Both verdicts come once a generation serves, per worker and listener:
 * a HUP storm with 64 workers and 1,000 listeners would make each
 * restart tens of thousands of lines. */
static struct ratelimit rl_own =
    RATELIMIT_INIT("warnings about workers listening themselves");
static struct ratelimit rl_held =
    RATELIMIT_INIT("warnings about listeners no worker holds");
/* whoever can write to a --path directory can flap a socket file */
static struct ratelimit rl_path =
    RATELIMIT_INIT("lines about changed socket files");

static void
warn_own(unsigned long gen, pid_t pid, const char *local, unsigned long v)
{
	char more[64];

	if (ratelimit_check(&rl_own, more, sizeof(more)))
		log_warnx("generation %lu: worker %ld listens on %s itself "
		          "(socket:[%lu]), not on a socket baton passed; does "
		          "the server bind its own port? see --pass-fds-as%s",
		          gen, (long)pid, local, v, more);
}

/* The tree's sockets, for the dump's answers. */
struct own_arg {
	unsigned long gen;
	pid_t pid;
	const uint64_t *ino, *ours;
	size_t n, nours;
};

/* One socket of a dump: a listening one the tree holds and no listener
 * of baton's is gets a warning. */
static int
own_answer(const struct sockdiag_inet *sk, void *arg)
{
	const struct own_arg *a = arg;
	char host[INET6_ADDRSTRLEN], local[INET6_ADDRSTRLEN + 8];

	if (!holds(a->ino, a->n, sk->inode) ||
	    holds(a->ours, a->nours, sk->inode))
		return 0;
	if (inet_ntop(sk->family, sk->src, host, sizeof(host)) == NULL)
		snprintf(host, sizeof(host), "?");
	snprintf(local, sizeof(local),
	         sk->family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, sk->sport);
	warn_own(a->gen, a->pid, local, (unsigned long)sk->inode);
	return 0;
}

/* The listening TCP sockets of one family, from an inet_diag dump asking
 * for the LISTEN state only: the kernel then walks its listening hash
 * alone. /proc/net/tcp walks the established hash too, every TIME_WAIT
 * socket of the host included (68,000 of them on a loaded test machine:
 * 0.1 s of CPU per read, seconds of wall time). Returns 0 or -1 with
 * errno when netlink fails. */
static int
own_dump(int family, const struct own_arg *a)
{
	struct sockdiag_inet_req r = {family, IPPROTO_TCP, 1u << TCP_LISTEN,
	                              0,      NULL,        0};

	return sockdiag_inet_dump(-1, &r, own_answer, (void *)a);
}

/* The same from /proc/net/tcp and tcp6, when netlink cannot be used. */
static void
own_procfs(const struct own_arg *a)
{
	static const char *const files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
	char line[512], local[128];
	unsigned st;
	unsigned long v;
	size_t i;
	FILE *f;

	for (i = 0; i < 2; i++) {
		if ((f = fopen(files[i], "re")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line,
			           " %*s %127s %*s %x %*s %*s %*s %*s %*s %lu",
			           local, &st, &v) == 3 &&
			    st == 0x0A && holds(a->ino, a->n, (uint64_t)v) &&
			    !holds(a->ours, a->nours, (uint64_t)v))
				warn_own(a->gen, a->pid, hex_addr(local), v);
		fclose(f);
	}
}

/* A TCP socket in LISTEN state with one of the tree's inodes that no
 * listener has: the server bound a port itself. */
static void
own_listeners(unsigned long gen, pid_t pid, const uint64_t *ino, size_t n,
              const uint64_t *ours, size_t nours)
{
	struct own_arg a = {gen, pid, ino, ours, n, nours};

	if (n == 0)
		return;
	/* no netlink at all: the files; no IPv6 (the kernel has no
	 * tcp6 diag then): no IPv6 listener either */
	if (own_dump(AF_INET, &a) < 0)
		own_procfs(&a);
	else
		(void)own_dump(AF_INET6, &a);
}

/* ---- socket files that disappear ------------------------------------ */

/* Every 2 s, one lstat per socket file baton created. This was an ev_stat
 * watcher per file: 420 bytes each, 416 kB with 1,000 --path listeners,
 * for a check that can wait 2 s (1,000 lstat calls take about 1 ms). */
#define PATH_CHECK_SECONDS 2.

static struct {
	ev_timer timer;
	const struct listener *ls;
	size_t nls;
	unsigned char *state; /* per listener: path_state last seen */
} PW;

/* What became of l's socket file: 0 there, 1 removed or replaced, 2
 * cannot be told (lstat failed otherwise: no verdict). */
static int
path_state(const struct listener *l)
{
	struct stat st;

	if (lstat(l->path, &st) < 0)
		return errno == ENOENT || errno == ENOTDIR ? 1 : 2;
	return st.st_ino != l->path_ino || st.st_dev != l->path_dev;
}

static void
path_check(const struct listener *l, unsigned char *was)
{
	int now = path_state(l);
	char more[64];

	if (now == *was)
		return;
	*was = (unsigned char)now;
	if (!ratelimit_check(&rl_path, more, sizeof(more)))
		return;
	if (now == 1)
		log_warnx("socket file %s that baton created for --path has "
		          "been removed or replaced: new connections to it "
		          "fail until baton is restarted%s",
		          l->path, more);
	else if (now == 2)
		log_warnx("cannot check socket file %s: %s%s", l->path,
		          strerror(errno), more);
	else
		log_info("socket file %s is back%s", l->path, more);
}

static void
paths_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	size_t i;

	(void)loop;
	(void)w;
	(void)revents;
	for (i = 0; i < PW.nls; i++)
		if (PW.ls[i].kind == LISTEN_UNIX && PW.ls[i].path_ino != 0)
			path_check(&PW.ls[i], &PW.state[i]);
}

static void
watch_paths(struct ev_loop *loop, const struct listener *ls, size_t nls)
{
	size_t i;

	if (PW.ls != NULL)
		return;
	for (i = 0; i < nls; i++)
		if (ls[i].kind == LISTEN_UNIX && ls[i].path_ino != 0)
			break;
	if (i == nls || (PW.state = calloc(nls, 1)) == NULL)
		return;
	PW.ls = ls;
	PW.nls = nls;
	ev_timer_init(&PW.timer, paths_cb, PATH_CHECK_SECONDS,
	              PATH_CHECK_SECONDS);
	ev_timer_start(loop, &PW.timer);
	/* the check must not keep the loop (and baton) alive */
	ev_unref(loop);
}

static void *
scratch(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void
scratch_free(void *p, size_t len)
{
	if (p)
		munmap(p, len);
}

void
fdcheck_generation(struct ev_loop *loop, unsigned long gen, const pid_t *pids,
                   size_t stride, size_t n, const struct listener *ls,
                   size_t nls)
{
	/* mapped, not malloc'd: the buffers are large but mostly untouched,
	 * and munmap gives them back, where the heap would keep the high-water
	 * mark of every restart in baton's RSS */
	struct proclist *pl = scratch(sizeof(*pl));
	uint64_t *ino = scratch(MAX_INODES * sizeof(*ino));
	/* every listener's inode (0: none), and the same sorted */
	uint64_t *mine = scratch((nls + 1) * sizeof(*mine));
	uint64_t *ours = scratch((nls + 1) * sizeof(*ours));
	struct stat st;
	char name[300], more[64];
	size_t i, k, nino, nours = 0;

	watch_paths(loop, ls, nls);
	if (pl == NULL || ino == NULL || mine == NULL || ours == NULL)
		goto out;
	read_parents(pl);
	for (k = 0; k < nls; k++)
		if (ls[k].fd >= 0 && fstat(ls[k].fd, &st) == 0)
			ours[nours++] = mine[k] = st.st_ino;
	qsort(ours, nours, sizeof(*ours), ino_cmp);
	for (i = 0; i < n; i++) {
		pid_t pid = *(const pid_t *)(const void *)((const char *)pids +
		                                           i * stride);

		nino = 0;
		if (pid <= 0 || tree_inodes(pl, pid, ino, &nino) < 0)
			continue; /* not ours to read: no verdict */
		qsort(ino, nino, sizeof(*ino), ino_cmp);
		for (k = 0; k < nls; k++) {
			if (mine[k] == 0 || holds(ino, nino, mine[k]) ||
			    !ratelimit_check(&rl_held, more, sizeof(more)))
				continue;
			log_warnx("generation %lu: no process of worker %ld "
			          "holds %s (socket:[%lu]); does the server "
			          "bind its own port? see --pass-fds-as%s",
			          gen, (long)pid,
			          listen_name(&ls[k], name, sizeof(name)),
			          (unsigned long)mine[k], more);
		}
		own_listeners(gen, pid, ino, nino, ours, nours);
	}
out:
	scratch_free(pl, sizeof(*pl));
	scratch_free(ino, MAX_INODES * sizeof(*ino));
	scratch_free(mine, (nls + 1) * sizeof(*mine));
	scratch_free(ours, (nls + 1) * sizeof(*ours));
}
