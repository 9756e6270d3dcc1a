/* SPDX-License-Identifier: ISC */
/* einhorn.c: the command socket of the einhorn dialect (EINHORN_SOCK_PATH),
 * where einhorn's worker libraries send {"command":"worker:ack"} once the
 * worker is up. The sender is the kernel's SO_PEERCRED, never the "pid" the
 * message claims. Bounded for hostile clients: MAX_CONNS at once, the
 * oldest closed to make room for a new one (a worker's client sends its
 * line as soon as it connects, so idle connections cannot keep it out),
 * EINHORN_LINE_MAX bytes and CONN_SECONDS per connection, other uids
 * closed at once, every warning rate-limited. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "einhorn.h"
#include "log.h"
#include "ratelimit.h"

#define MAX_CONNS 16
#define EINHORN_LINE_MAX 1024
#define CONN_SECONDS 5.0

struct conn {
	struct conn *prev, *next; /* oldest first */
	int fd;
	pid_t pid;
	ev_io io;
	ev_timer deadline;
	size_t len;
	char line[EINHORN_LINE_MAX + 1];
};

static struct {
	struct ev_loop *loop;
	notify_cb *cb;
	int fd;
	ev_io accept_io;
	ev_timer retry;
	size_t nconns;
	struct conn *oldest, *newest;
	char dir[256], path[280];
} E = {.fd = -1};

static struct ratelimit rl_uid =
    RATELIMIT_INIT("warnings about einhorn connections from other uids");
static struct ratelimit rl_bad =
    RATELIMIT_INIT("warnings about einhorn commands not understood");
static struct ratelimit rl_err =
    RATELIMIT_INIT("errors on the einhorn command socket");

static void
accept_on(void)
{
	if (E.fd >= 0 && !ev_is_active(&E.accept_io)) {
		ev_io_start(E.loop, &E.accept_io);
		/* the socket alone must not keep the loop running */
		ev_unref(E.loop);
	}
}

static void
accept_off(void)
{
	if (ev_is_active(&E.accept_io)) {
		ev_ref(E.loop);
		ev_io_stop(E.loop, &E.accept_io);
	}
}

static void
retry_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)t;
	(void)revents;
	accept_on();
}

static void
conn_close(struct conn *c)
{
	ev_io_stop(E.loop, &c->io);
	ev_timer_stop(E.loop, &c->deadline);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		E.oldest = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		E.newest = c->prev;
	free(c);
	E.nconns--;
	accept_on();
}

/* After "command" in a JSON or YAML text: optional quote, blanks, ':',
 * blanks, optional quote, then "worker:ack" and the end of the value. */
static int
value_is_ack(const char *p)
{
	static const char want[] = "worker:ack";

	if (*p == '"' || *p == '\'')
		p++;
	p += strspn(p, " \t");
	if (*p++ != ':')
		return 0;
	p += strspn(p, " \t");
	if (*p == '"' || *p == '\'')
		p++;
	if (strncmp(p, want, sizeof(want) - 1) != 0)
		return 0;
	p += sizeof(want) - 1;
	return *p == '\0' || strchr("\"' \t,}\n\r", *p) != NULL;
}

int
einhorn_is_ack(const char *line)
{
	char buf[EINHORN_LINE_MAX + 1];
	const char *p;
	size_t o = 0;

	/* the Ruby client's transport: YAML with '%' and '\n' %-escaped */
	for (p = line; *p && o < EINHORN_LINE_MAX; p++) {
		if (p[0] == '%' && p[1] == '0' &&
		    (p[2] == 'A' || p[2] == 'a')) {
			buf[o++] = '\n';
			p += 2;
		} else if (p[0] == '%' && p[1] == '2' && p[2] == '5') {
			buf[o++] = '%';
			p += 2;
		} else
			buf[o++] = *p;
	}
	buf[o] = '\0';
	/* a key "command" at the start of a YAML line or quoted in JSON */
	for (p = buf; (p = strstr(p, "command")) != NULL; p += 7) {
		int key = p == buf || strchr("\"'\n {,", p[-1]) != NULL;

		if (key && value_is_ack(p + 7))
			return 1;
	}
	return 0;
}

static void
conn_line(struct conn *c)
{
	char more[64];

	c->line[c->len] = '\0';
	if (einhorn_is_ack(c->line)) {
		if (E.cb)
			E.cb(c->pid, "READY=1");
		return;
	}
	if (ratelimit_check(&rl_bad, more, sizeof(more))) {
		/* vlog escapes control bytes: one line, cut short */
		log_warnx("ignoring einhorn command from pid %ld: not "
		          "worker:ack (\"%.80s\")%s",
		          (long)c->pid, c->line, more);
	}
}

static void
conn_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;
	ssize_t n;
	char *nl;

	(void)loop;
	(void)revents;
	n = read(c->fd, c->line + c->len, EINHORN_LINE_MAX - c->len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		c->len += (size_t)n;
		nl = memchr(c->line, '\n', c->len);
		if (nl == NULL && c->len < EINHORN_LINE_MAX)
			return;
		if (nl != NULL)
			c->len = (size_t)(nl - c->line);
	}
	/* a line, the end of the stream, too long or an error: one command
	 * per connection, as einhorn's clients send */
	if (c->len > 0)
		conn_line(c);
	conn_close(c);
}

static void
conn_deadline_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)revents;
	conn_close(t->data);
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	uid_t self = geteuid();
	char more[64];
	int i;

	(void)revents;
	/* bounded per wake-up, as the notify socket's batch */
	for (i = 0; i < 16; i++) {
		struct ucred uc;
		socklen_t len = sizeof(uc);
		struct conn *c;
		int fd =
		    accept4(w->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ECONNABORTED)
				return;
			if (ratelimit_check(&rl_err, more, sizeof(more)))
				log_warnx("cannot accept on einhorn socket "
				          "%s: %s%s",
				          E.path, strerror(errno), more);
			/* EMFILE and the like: a level-triggered watcher
			 * would spin; try again in a second */
			accept_off();
			ev_timer_start(loop, &E.retry);
			return;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0 ||
		    uc.pid <= 0) {
			close(fd);
			continue;
		}
		if (uc.uid != self && uc.uid != notify_worker_uid()) {
			if (ratelimit_check(&rl_uid, more, sizeof(more)))
				log_warnx("ignoring einhorn connections from "
				          "uid %ld: not the workers' uid%s",
				          (long)uc.uid, more);
			close(fd);
			continue;
		}
		/* full: the oldest has had its chance */
		if (E.nconns >= MAX_CONNS)
			conn_close(E.oldest);
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			return;
		}
		c->fd = fd;
		c->pid = uc.pid;
		ev_io_init(&c->io, conn_read_cb, fd, EV_READ);
		c->io.data = c;
		ev_timer_init(&c->deadline, conn_deadline_cb, CONN_SECONDS, 0);
		c->deadline.data = c;
		ev_io_start(loop, &c->io);
		ev_timer_start(loop, &c->deadline);
		c->prev = E.newest;
		if (E.newest)
			E.newest->next = c;
		else
			E.oldest = c;
		E.newest = c;
		E.nconns++;
		/* the line is usually there already */
		conn_read_cb(loop, &c->io, EV_READ);
	}
}

int
einhorn_open(struct ev_loop *loop, notify_cb *cb)
{
	struct sockaddr_un sun;
	const char *tmp = getenv("TMPDIR");
	int fd, saved;

	if (tmp == NULL || tmp[0] != '/' || strlen(tmp) > 200)
		tmp = "/tmp";
	snprintf(E.dir, sizeof(E.dir), "%s/baton-einhorn.XXXXXX", tmp);
	if (mkdtemp(E.dir) == NULL)
		return -1;
	/* workers may run as another user (--user): they need to reach
	 * the socket, not to list the directory; other users get a
	 * connection closed at once (SO_PEERCRED) */
	snprintf(E.path, sizeof(E.path), "%s/sock", E.dir);
	if (chmod(E.dir, 0711) < 0)
		goto fail;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, E.path, strlen(E.path) + 1);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(E.path, 0666) < 0 || listen(fd, 128) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		goto fail;
	}
	E.loop = loop;
	E.cb = cb;
	E.fd = fd;
	ev_io_init(&E.accept_io, accept_cb, fd, EV_READ);
	ev_timer_init(&E.retry, retry_cb, 1, 0);
	accept_on();
	return 0;
fail:
	saved = errno;
	(void)unlink(E.path);
	(void)rmdir(E.dir);
	E.dir[0] = E.path[0] = '\0';
	errno = saved;
	return -1;
}

const char *
einhorn_path(void)
{
	return E.fd >= 0 ? E.path : NULL;
}

int
einhorn_reopen(void)
{
	return E.loop ? einhorn_open(E.loop, E.cb) : 0;
}

void
einhorn_close(void)
{
	if (E.fd < 0)
		return;
	accept_off();
	ev_timer_stop(E.loop, &E.retry);
	close(E.fd);
	E.fd = -1;
	while (E.oldest)
		conn_close(E.oldest);
	if (unlink(E.path) < 0 && errno != ENOENT)
		log_warn("cannot remove einhorn socket %s", E.path);
	if (rmdir(E.dir) < 0 && errno != ENOENT)
		log_warn("cannot remove directory %s", E.dir);
}
