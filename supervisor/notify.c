/* SPDX-License-Identifier: ISC */
/* notify.c: receive sd_notify messages (READY=1, STATUS=...) from workers.
 * The sender is identified by the kernel (SCM_CREDENTIALS), never by what
 * the message claims. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"
#include "procstat.h"
#include "ratelimit.h"
#include "utf8.h"

static int notify_fd = -1;
static char address[108];
static ev_io watcher;
static notify_cb *callback;
static uid_t worker_uid = (uid_t)-1; /* -1: baton's own */

/* The ancestors of each sender within one batch of datagrams, read from
 * /proc once: matching a sender to a worker asks notify_descends() once
 * per live worker (64 with --num-workers=64, twice that during a
 * restart), and each answer then costs a look-up, not a /proc walk. A
 * batch is at most BATCH datagrams, so BATCH entries hold every sender
 * of it, whatever the number of workers. Cleared per batch, so a reused
 * pid is never judged by its predecessor. */
#define BATCH 64
#define DEPTH 8 /* how far up a descendant may be */
struct lineage {
	pid_t pid;
	int n;               /* ancestors found, pid itself first */
	pid_t up[DEPTH + 1]; /* pid, its parent, ... */
};
static struct lineage cache[BATCH];
static size_t ncached;
static int in_batch;
static unsigned long walks; /* /proc walks so far, for the unit tests */

void
notify_set_worker_uid(uid_t uid)
{
	worker_uid = uid;
}

uid_t
notify_worker_uid(void)
{
	return worker_uid == (uid_t)-1 ? geteuid() : worker_uid;
}

/* Only the workers' uid and baton's own may speak: anyone else who can
 * reach the abstract socket is dropped before the /proc walk that
 * matching a sender to a worker costs. */
static int
uid_allowed(uid_t uid)
{
	/* one line per interval for all foreign uids together: two uids
	 * taking turns made one line per datagram of a per-uid check */
	static struct ratelimit rl =
	    RATELIMIT_INIT("warnings about notify datagrams from other uids");
	uid_t self = geteuid();
	char more[64];

	if (uid == self || uid == (worker_uid == (uid_t)-1 ? self : worker_uid))
		return 1;
	if (ratelimit_check(&rl, more, sizeof(more)))
		log_warnx("ignoring notify datagrams from uid %ld: not the "
		          "workers' uid%s",
		          (long)uid, more);
	return 0;
}

static void
receive_batch(ev_io *w)
{
	char buf[4096], cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = {buf, sizeof(buf) - 1};
	struct msghdr mh;
	static struct ratelimit rl =
	    RATELIMIT_INIT("errors reading the notify socket");
	char more[64];
	struct cmsghdr *c;
	ssize_t n;
	int i;

	/* bounded: a flood of datagrams cannot starve the loop */
	for (i = 0; i < BATCH; i++) {
		pid_t pid = 0;
		uid_t uid = (uid_t)-1;

		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		n = recvmsg(w->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    ratelimit_check(&rl, more, sizeof(more)))
				log_warnx("cannot read notify socket %s: %s%s",
				          address, strerror(errno), more);
			return;
		}
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SCM_CREDENTIALS) {
				struct ucred uc;

				memcpy(&uc, CMSG_DATA(c), sizeof(uc));
				pid = uc.pid;
				uid = uc.uid;
			} else if (c->cmsg_level == SOL_SOCKET &&
			           c->cmsg_type == SCM_RIGHTS) {
				/* fds are not part of what we accept */
				int *fds = (int *)CMSG_DATA(c);
				size_t k, nfd = (c->cmsg_len - CMSG_LEN(0)) /
				                sizeof(int);

				for (k = 0; k < nfd; k++)
					close(fds[k]);
			}
		}
		buf[n] = '\0';
		if (pid > 0 && callback && uid_allowed(uid))
			callback(pid, buf);
	}
}

static void
notify_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	notify_batch(1);
	receive_batch(w);
	notify_batch(0);
}

int
notify_open(struct ev_loop *loop, notify_cb *cb)
{
	struct sockaddr_un sun;
	socklen_t len;
	int fd, on = 1;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) < 0)
		goto fail;
	/* Linux autobind: the kernel picks a unique abstract name */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sa_family_t)) < 0)
		goto fail;
	len = sizeof(sun);
	if (getsockname(fd, (struct sockaddr *)&sun, &len) < 0)
		goto fail;
	len -= (socklen_t)offsetof(struct sockaddr_un, sun_path);
	if (len < 2 || len >= sizeof(address))
		goto fail;
	address[0] = '@';
	memcpy(address + 1, sun.sun_path + 1, len - 1);
	address[len] = '\0';
	notify_fd = fd;
	callback = cb;
	ev_io_init(&watcher, notify_io_cb, fd, EV_READ);
	ev_io_start(loop, &watcher);
	/* the readiness socket alone must not keep the loop running */
	ev_unref(loop);
	return 0;
fail : {
	int saved = errno;

	close(fd);
	errno = saved;
}
	return -1;
}

void
notify_deliver(pid_t pid, const char *msg)
{
	if (callback && pid > 0)
		callback(pid, msg);
}

const char *
notify_address(void)
{
	return notify_fd >= 0 ? address : NULL;
}

char *
notify_field(const char *msg, const char *key)
{
	size_t klen = strlen(key);
	const char *p = msg;

	while (p && *p) {
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			const char *v = p + klen + 1;

			return notify_sanitize(v, strcspn(v, "\n"),
			                       NOTIFY_VALUE_MAX);
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

char *
notify_sanitize(const char *in, size_t n, size_t max)
{
	static const char fffd[] = UTF8_REPLACEMENT;
	const unsigned char *s = (const unsigned char *)in;
	char *out = malloc(max + 1);
	size_t i = 0, o = 0, len;

	if (out == NULL)
		return NULL;
	while (i < n) {
		const char *piece = in + i;
		const unsigned char *c = s + i;

		len = utf8_len(c, n - i);
		i += len ? len : 1;
		if (len == 0) { /* one bad byte: one replacement character */
			piece = fffd;
			len = sizeof(fffd) - 1;
		} else if ((len == 1 && (c[0] < 0x20 || c[0] == 0x7f)) ||
		           (len == 2 && c[0] == 0xc2 && c[1] < 0xa0)) {
			/* control characters (C0, DEL, C1) would reach
			 * terminals and logs through the status */
			continue;
		}
		if (o + len > max) /* whole characters only */
			break;
		memcpy(out + o, piece, len);
		o += len;
	}
	out[o] = '\0';
	return out;
}

/* pid's ancestors, pid first, up to DEPTH levels or init, into l. */
static void
lineage_read(pid_t pid, struct lineage *l)
{
	int depth;

	walks++;
	l->pid = pid;
	l->n = 0;
	for (depth = 0; depth <= DEPTH && pid > 1; depth++) {
		struct procstat ps;

		l->up[l->n++] = pid;
		if (depth == DEPTH || procstat_read(pid, &ps) < 0)
			break;
		pid = ps.ppid;
	}
}

int
notify_descends(pid_t pid, pid_t root)
{
	struct lineage one, *l = NULL;
	size_t i;
	int k;

	if (pid == root)
		return pid > 1;
	for (i = 0; i < ncached && l == NULL; i++)
		if (cache[i].pid == pid)
			l = &cache[i];
	if (l == NULL) {
		l = in_batch && ncached < BATCH ? &cache[ncached++] : &one;
		lineage_read(pid, l);
	}
	for (k = 0; k < l->n; k++)
		if (l->up[k] == root)
			return 1;
	return 0;
}

void
notify_batch(int begin)
{
	ncached = 0;
	in_batch = begin;
}

unsigned long
notify_walks(void)
{
	return walks;
}
