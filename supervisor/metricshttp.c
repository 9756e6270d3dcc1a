/* SPDX-License-Identifier: ISC */
/* metricshttp.c: the /metrics, /healthz and /readyz listener
 * (--metrics-listen): connections, requests and answers, rendered from
 * the snapshot a function given at start returns.
 *
 * Everything runs from libev callbacks. It answers probes whatever
 * other clients do (STYLE.md rule 4), and is bounded: at most CONN_MAX
 * connections at once (fewer under a low RLIMIT_NOFILE), and at the cap
 * the oldest one (once MIN_AGE old) is closed for the new one, so a
 * probe that has just connected is read; HTTPREQ_MAX bytes per request
 * (httpreq.c answers 431), taken only once the first byte comes;
 * HEADER_SECONDS from accept to the whole request, ANSWER_SECONDS to
 * send the answer; BODIES_MAX rendered /metrics bodies held for slow
 * readers. One request per connection ("Connection: close"). */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "exitcode.h"
#include "httpreq.h"
#include "log.h"
#include "metrics.h"
#include "metricshttp.h"
#include "monotime.h"
#include "ratelimit.h"
#include "tcpaddr.h"

/* 1,024 connections: about 250 bytes each when idle, 4.4 KiB once a
 * request begins, 4.5 MiB in all, besides their fds */
#define CONN_MAX 1024
/* fds left to the rest of baton: 64, or half of what the listeners
 * leave under a low limit, but never fewer than its own need (16, as
 * listen.c counts them) */
#define CONN_FD_RESERVE 64
#define CONN_FD_OWN 16
#define HEADER_SECONDS 2.0 /* accept to the request's blank line */
#define ANSWER_SECONDS 5.0 /* the request to the answer's last byte */
#define ACCEPT_BATCH 64    /* accepts per loop iteration */
/* a connect flood must not fill the queue before a probe's SYN comes:
 * the kernel caps it at net.core.somaxconn (4096 since Linux 5.4) */
#define BACKLOG 4096
/* a connection's time to send its request before it may be evicted */
#define MIN_AGE 0.05
#define BODIES_MAX 8         /* /metrics bodies held for slow readers */
#define HEAD_MAX 512         /* a response head */
#define SMALL_MAX 256        /* a short body: /healthz, /readyz, errors */
#define BUF_SIZE HTTPREQ_MAX /* the request, then the head and body */
/* Closed connections are reported at most once a minute. */
#define REPORT_WINDOW 60.0
#define TEXT_TYPE "text/plain; charset=utf-8"

/* A response is its head and a body: a short text of its own, or the
 * metrics rendered for this request alone and freed with it (about 300
 * bytes per listener: kept between scrapes, it was most of baton's
 * memory with 1,000 listeners). A connection is malloc'd while it lasts,
 * its buffer from its first byte on: the request, then the head and a
 * short body. The connections are listed oldest first. */
struct conn {
	struct conn *prev, *next;
	int fd;
	ev_io io;
	ev_timer deadline;
	size_t inlen;
	double born; /* accepted at, on the monotonic clock */
	int answering, holds_body;
	struct iovec out[2]; /* head, body: what is left to send */
	struct metrics_text text;
	char *buf; /* BUF_SIZE, or NULL until the first byte */
};
#if BUF_SIZE < HEAD_MAX + SMALL_MAX
#error "a connection's buffer must hold a head and a short body"
#endif

static struct {
	struct ev_loop *loop;
	const char *addr; /* --metrics-listen, for messages */
	int (*get)(struct snapshot *s, int listeners);
	void (*put)(struct snapshot *s);
	size_t nls;
	ev_timer tick; /* resumes accepting, reports evictions */
	int lfd;
	ev_io accept_io;
	struct conn *oldest, *newest;
	size_t nconns, max_conns, nbodies, batch;
	ev_timer resume; /* at the cap with only young connections */
	int spare; /* /dev/null, given up to shed a connection at EMFILE */
	int accept_warned;
	/* connections closed for room, at the fd limit, shed unserved */
	unsigned long evicted, emfile, shed;
	double evict_at;
} M = {.lfd = -1, .spare = -1};

static struct ratelimit rl_accept = RATELIMIT_INIT("metrics accept errors");

/* The HTTP socket: CLOEXEC, so no worker ever gets it, and not among
 * the listeners, so not in SERVER_STARTER_PORT either. */
static void
bind_http(const char *v)
{
	struct addrinfo *res;
	char err[256];
	int one = 1;

	if (tcpaddr_resolve(v, &res, err, sizeof(err)) < 0)
		fatalx(EXIT_USAGE, "invalid --metrics-listen value \"%s\": %s",
		       v, err);
	M.lfd = socket(res->ai_family,
	               SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (M.lfd < 0 ||
	    setsockopt(M.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) <
	        0 ||
	    bind(M.lfd, res->ai_addr, res->ai_addrlen) < 0 ||
	    listen(M.lfd, BACKLOG) < 0) {
		freeaddrinfo(res);
		fatal(EXIT_LISTEN, "cannot bind metrics listener %s", v);
	}
	freeaddrinfo(res);
	log_info("serving /metrics, /healthz and /readyz on %s", v);
}

/* ---- HTTP ------------------------------------------------------------------- */

static void
accept_on(void)
{
	if (M.lfd >= 0 && !ev_is_active(&M.accept_io)) {
		ev_io_start(M.loop, &M.accept_io);
		/* like the sampler: no reason to keep the loop alive */
		ev_unref(M.loop);
	}
}

static void
accept_off(void)
{
	if (ev_is_active(&M.accept_io)) {
		ev_ref(M.loop);
		ev_io_stop(M.loop, &M.accept_io);
	}
}

static void
resume_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	accept_on();
}

static void
conn_close(struct conn *c)
{
	ev_io_stop(M.loop, &c->io);
	ev_timer_stop(M.loop, &c->deadline);
	close(c->fd);
	if (c->holds_body)
		M.nbodies--;
	metrics_text_free(&c->text);
	if (c->prev)
		c->prev->next = c->next;
	else
		M.oldest = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		M.newest = c->prev;
	free(c->buf);
	free(c);
	M.nconns--;
	/* room again: a pause for young connections ends here */
	if (ev_is_active(&M.resume)) {
		ev_timer_stop(M.loop, &M.resume);
		accept_on();
	}
}

/* Close the oldest connection to make room for a new one: counted, and
 * reported by the sampler (at most once a minute). The newest are the
 * ones a probe has just opened; the oldest have had their time. */
static void
evict(struct conn *c)
{
	M.evicted++;
	conn_close(c);
}

static void
conn_write(struct conn *c)
{
	ssize_t n = writev(c->fd, c->out, 2);
	size_t done, i;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		n = 0;
	else if (n <= 0) {
		conn_close(c);
		return;
	}
	for (done = (size_t)n, i = 0; i < 2; i++) {
		size_t k = done < c->out[i].iov_len ? done : c->out[i].iov_len;

		c->out[i].iov_base = (char *)c->out[i].iov_base + k;
		c->out[i].iov_len -= k;
		done -= k;
	}
	if (c->out[0].iov_len == 0 && c->out[1].iov_len == 0) {
		conn_close(c);
		return;
	}
	/* a reader too slow for the kernel's buffer keeps its rendered
	 * body: only BODIES_MAX of them at once, the oldest goes first */
	if (c->text.buf != NULL && !c->holds_body) {
		struct conn *o;

		c->holds_body = 1;
		if (++M.nbodies > BODIES_MAX)
			for (o = M.oldest; o != NULL; o = o->next)
				if (o->holds_body && o != c) {
					evict(o);
					break;
				}
	}
}

/* Render the metrics into c's own text. */
static int
render(struct conn *c)
{
	struct snapshot s;
	int r;

	metrics_text_init(&c->text);
	if ((r = M.get(&s, 1)) == 0) {
		/* about 300 bytes per listener: one mapped block (main.c's
		 * setup_malloc), given back whole when the connection
		 * ends */
		r = metrics_text_reserve(&c->text, 4096 + M.nls * 320);
		if (r == 0)
			r = metrics_render(&c->text, &s);
		M.put(&s);
	}
	if (r < 0) {
		static struct ratelimit rl = RATELIMIT_INIT("render errors");
		char more[64];

		if (ratelimit_check(&rl, more, sizeof(more)))
			log_warnx("cannot render the metrics: %s%s",
			          strerror(errno), more);
		metrics_text_free(&c->text);
		return -1;
	}
	return 0;
}

/* 1 when a generation serves and baton is not stopping; else 0 and why. */
static int
ready(char *why, size_t len)
{
	struct snapshot s;
	int r;

	if (M.get(&s, 0) < 0) {
		snprintf(why, len, "%s", strerror(errno));
		return 0;
	}
	r = snapshot_ready(&s, why, len);
	M.put(&s);
	return r;
}

/* The answer to path (status 0) or to a bad request (its status); for a
 * HEAD, the head GET would have, and no body (RFC 9110 §9.3.2). The
 * request is no longer needed: its buffer takes the head and a short
 * body. */
static void
respond(struct conn *c, const char *path, int status, int head_only)
{
	char *hbuf = c->buf, *body = c->buf + HEAD_MAX, why[200];
	const char *type = TEXT_TYPE, *b = body;
	size_t blen, hlen;

	body[0] = '\0';
	if (status == 0 && strcmp(path, "/metrics") == 0 && render(c) == 0) {
		status = 200;
		type = HTTPREQ_PROM_TYPE;
		b = c->text.buf ? c->text.buf : "";
	} else if (status == 0 && strcmp(path, "/metrics") == 0)
		status = 500;
	else if (status == 0 && strcmp(path, "/healthz") == 0) {
		status = 200;
		snprintf(body, SMALL_MAX, "ok\n");
	} else if (status == 0 && strcmp(path, "/readyz") == 0) {
		status = ready(why, sizeof(why)) ? 200 : 503;
		snprintf(body, SMALL_MAX, "%s: %s\n",
		         status == 200 ? "ready" : "not ready", why);
	} else if (status == 0)
		status = 404;
	if (b == body && status != 200 && strncmp(path, "/readyz", 8) != 0)
		snprintf(body, SMALL_MAX, "%s\n", httpreq_reason(status));
	blen = b == c->text.buf ? c->text.len : strlen(b);
	hlen = httpreq_response_head(hbuf, HEAD_MAX, status, type, blen);
	if (hlen == 0) {
		conn_close(c);
		return;
	}
	if (head_only) {
		b = "";
		blen = 0;
		metrics_text_free(&c->text);
	}
	c->answering = 1;
	c->out[0].iov_base = hbuf;
	c->out[0].iov_len = hlen;
	c->out[1].iov_base = (char *)(uintptr_t)b;
	c->out[1].iov_len = blen;
	/* the request is in: from now on the answer's own deadline */
	ev_timer_stop(M.loop, &c->deadline);
	ev_timer_set(&c->deadline, ANSWER_SECONDS, 0);
	ev_timer_start(M.loop, &c->deadline);
	ev_io_stop(M.loop, &c->io);
	ev_io_set(&c->io, c->fd, EV_WRITE);
	ev_io_start(M.loop, &c->io);
	conn_write(c);
}

static void
conn_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;
	struct httpreq req;
	ssize_t n;

	if (c->answering) {
		conn_write(c);
		return;
	}
	/* the buffer comes with the first byte: an idle connection costs
	 * its struct conn and its fd, no more */
	if (c->buf == NULL && (c->buf = malloc(BUF_SIZE)) == NULL) {
		conn_close(c);
		return;
	}
	n = read(c->fd, c->buf + c->inlen, HTTPREQ_MAX - c->inlen);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->inlen += (size_t)n;
	switch (httpreq_parse(c->buf, c->inlen, &req)) {
	case HTTPREQ_OK:
		respond(c, req.path, 0, req.head);
		break;
	case HTTPREQ_BAD:
		respond(c, "", req.status, req.head);
		break;
	default: /* the parser answers 431 at HTTPREQ_MAX: defence only */
		if (c->inlen == HTTPREQ_MAX)
			respond(c, "", 431, 0);
		break;
	}
}

static void
deadline_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	conn_close(t->data);
}

/* Out of fds (EMFILE, ENFILE) with no connection of ours to close: take
 * the waiting connection with the spare fd kept for this and close it at
 * once, so that the client hears a close rather than waiting in the
 * backlog, and the listener does not wake the loop for ever (libuv's
 * trick). 0 when one was shed. */
static int
shed(void)
{
	int fd;

	if (M.spare < 0)
		return -1;
	close(M.spare);
	fd = accept4(M.lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		close(fd);
	M.spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	M.shed++;
	return 0;
}

static void
conn_new(struct ev_loop *loop, int fd)
{
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		static struct ratelimit rl = RATELIMIT_INIT("answer errors");
		char more[64];

		if (ratelimit_check(&rl, more, sizeof(more)))
			log_warnx("cannot answer on metrics listener %s: %s%s",
			          M.addr, strerror(errno), more);
		close(fd);
		return;
	}
	c->fd = fd;
	metrics_text_init(&c->text);
	ev_io_init(&c->io, conn_cb, fd, EV_READ);
	c->io.data = c;
	ev_io_start(loop, &c->io);
	ev_timer_init(&c->deadline, deadline_cb, HEADER_SECONDS, 0);
	c->deadline.data = c;
	ev_timer_start(loop, &c->deadline);
	c->born = monotime_now();
	c->prev = M.newest;
	if (M.newest)
		M.newest->next = c;
	else
		M.oldest = c;
	M.newest = c;
	M.nconns++;
}

/* Accept what waits, a batch at a time (a quarter of the cap, at most
 * ACCEPT_BATCH): the loop reads the ones accepted before it takes more.
 * At the cap the oldest connection makes room, so a new one is always
 * served; but not before it is MIN_AGE old: a probe accepted just now
 * has that long to send its request before a flood behind it can push
 * it out. Until then the listener pauses and the kernel's queue holds
 * the next ones. */
static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	double now = monotime_now();
	char more[64];
	size_t k;
	int fd;

	for (k = 0; k < M.batch; k++) {
		if (M.nconns >= M.max_conns && now - M.oldest->born < MIN_AGE) {
			accept_off();
			ev_timer_stop(loop, &M.resume);
			ev_timer_set(&M.resume, M.oldest->born + MIN_AGE - now,
			             0);
			ev_timer_start(loop, &M.resume);
			return;
		}
		fd = accept4(M.lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EPROTO)
				continue;
			if ((errno == EMFILE || errno == ENFILE) && M.oldest) {
				M.emfile++;
				evict(M.oldest);
				continue;
			}
			if ((errno == EMFILE || errno == ENFILE) && shed() == 0)
				continue;
			/* once per episode, and the episodes limited:
			 * clients can make the fds run out and come back */
			if (!M.accept_warned &&
			    ratelimit_check(&rl_accept, more, sizeof(more)))
				log_warnx("cannot accept on metrics listener "
				          "%s: %s%s",
				          M.addr, strerror(errno), more);
			M.accept_warned = 1;
			accept_off(); /* the sampler tries again */
			return;
		}
		M.accept_warned = 0;
		if (M.nconns >= M.max_conns)
			evict(M.oldest);
		conn_new(loop, fd);
	}
}

/* What the cap cost since the last report, once a minute at most. */
static void
report_evictions(double now)
{
	if (M.evicted + M.shed == 0 || now - M.evict_at < REPORT_WINDOW - 1e-3)
		return;
	if (M.evicted)
		log_warnx("metrics listener %s: %lu connections closed to "
		          "make room (%lu of them at the fd limit); at most "
		          "%zu are served at once",
		          M.addr, M.evicted, M.emfile, M.max_conns);
	if (M.shed)
		log_warnx("metrics listener %s: %lu connections closed "
		          "unserved: baton is out of fds",
		          M.addr, M.shed);
	M.evicted = M.emfile = M.shed = 0;
	M.evict_at = now;
}

/* The most connections served at once: CONN_MAX, fewer when baton's
 * RLIMIT_NOFILE would not leave the reserve beside them and the
 * listeners (workers inherit the limit, so baton does not raise it);
 * at least 1, which eviction then shares. */
static size_t
max_conns(void)
{
	struct rlimit rl;
	rlim_t left, reserve;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return CONN_MAX;
	left = rl.rlim_cur > M.nls ? rl.rlim_cur - M.nls : 0;
	reserve = left / 2 < CONN_FD_RESERVE ? left / 2 : CONN_FD_RESERVE;
	if (reserve < CONN_FD_OWN)
		reserve = CONN_FD_OWN;
	if (left <= reserve + 1)
		return 1;
	return left - reserve < CONN_MAX ? (size_t)(left - reserve) : CONN_MAX;
}

static void
tick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)t;
	(void)revents;
	/* an accept error paused the listener: try again */
	accept_on();
	report_evictions(monotime_now());
}

/* ---- the public side ---------------------------------------------------- */

void
metricshttp_start(struct ev_loop *loop, const char *addr, double interval,
                  size_t nls, int (*get)(struct snapshot *s, int listeners),
                  void (*put)(struct snapshot *s))
{
	M.loop = loop;
	M.addr = addr;
	M.get = get;
	M.put = put;
	M.nls = nls;
	bind_http(addr);
	M.max_conns = max_conns();
	M.batch =
	    M.max_conns / 4 < ACCEPT_BATCH ? M.max_conns / 4 : ACCEPT_BATCH;
	if (M.batch == 0)
		M.batch = 1;
	M.spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (M.spare < 0)
		log_warn("cannot open /dev/null");
	ev_io_init(&M.accept_io, accept_cb, M.lfd, EV_READ);
	ev_timer_init(&M.resume, resume_cb, MIN_AGE, 0);
	accept_on();
	ev_timer_init(&M.tick, tick_cb, interval, interval);
	ev_timer_start(loop, &M.tick);
	/* like the sampler: no reason to keep the loop alive */
	ev_unref(loop);
}
