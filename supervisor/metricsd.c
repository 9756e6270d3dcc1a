/* SPDX-License-Identifier: ISC */
/* metricsd.c: the listen queues sampled by a libev timer, and what is made
 * of them: STATUS.json's queue objects, the .prom file, the HTTP listener
 * (/metrics, /healthz, /readyz) and the diagnosis lines in the log.
 *
 * Everything runs from libev callbacks. The HTTP side answers probes
 * whatever other clients do (STYLE.md rule 4), and is bounded: at most
 * CONN_MAX connections at once (fewer under a low RLIMIT_NOFILE), and at
 * the cap the oldest one (once MIN_AGE old) is closed for the new one,
 * so a probe that has just connected is read; HTTPREQ_MAX bytes per request
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exitcode.h"
#include "gen.h"
#include "httpreq.h"
#include "log.h"
#include "metrics.h"
#include "metricsd.h"
#include "ratelimit.h"
#include "monotime.h"

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
/* Drops are reported at once, then at most once a minute while they go
 * on, each time with the count of the last minute. */
#define DROP_WINDOW 60.0
#define TEXT_TYPE "text/plain; charset=utf-8"

/* One listener as the sampler follows it. */
struct lq {
	struct qstat_track t;
	/* the stall: non-empty and never shrinking since stall_since */
	double stall_since;
	/* the drops of the current window (win_at 0: none open) */
	double win_at;
	uint64_t win_base;
	uint32_t win_max; /* the longest queue seen in it */
	uint32_t limit;   /* the limit last seen, to see a worker change it */
	struct qstat_cookie_track cookies; /* defer-accept listeners */
	/* sampled at least once; the last read failed; stall reported */
	unsigned char ok, failed, stall_warned;
};

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
	const struct options *o;
	struct lq *lq;
	size_t n;
	ev_timer sample;
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
	int file_warned;
	long somaxconn;
	/* the namespace's SYN-cookie counters at this tick (defer_any) */
	struct qstat_cookies cookies;
	int cookies_ok, defer_any;
	int sampled; /* first_sample has run */
} M;                 /* metricsd_open sets lfd to -1 */

static enum qstat_kind
kind_of(const struct listener *l)
{
	return l->kind == LISTEN_UDP    ? QSTAT_UDP
	       : l->kind == LISTEN_UNIX ? QSTAT_UNIX
	                                : QSTAT_TCP;
}

/* ---- --metrics-listen ---------------------------------------------------- */

/* v as a passive TCP address into *res (freeaddrinfo it), or -1. */
static int
resolve(const char *v, struct addrinfo **res, char *err, size_t errlen)
{
	struct addrinfo hints;
	char host[256] = "";
	const char *port = v, *colon = strrchr(v, ':');
	int rc;

	if (v[0] == '[') {
		const char *end = strchr(v, ']');

		if (end == NULL || end[1] != ':' || (size_t)(end - v) > 255)
			goto bad;
		memcpy(host, v + 1, (size_t)(end - v - 1));
		port = end + 2;
	} else if (colon) {
		if ((size_t)(colon - v) > 255 || memchr(v, ':', colon - v))
			goto bad;
		memcpy(host, v, (size_t)(colon - v));
		port = colon + 1;
	}
	if (*port == '\0' || strspn(port, "0123456789") != strlen(port) ||
	    strlen(port) > 5 || atoi(port) < 1 || atoi(port) > 65535)
		goto bad;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = host[0] ? AF_UNSPEC : AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((rc = getaddrinfo(host[0] ? host : NULL, port, &hints, res)) != 0) {
		snprintf(err, errlen, "%s", gai_strerror(rc));
		return -1;
	}
	return 0;
bad:
	snprintf(err, errlen,
	         "use ADDR:PORT, [IPV6]:PORT or PORT (a numeric address)");
	return -1;
}

int
metricsd_check_listen(const char *v, char *err, size_t errlen)
{
	struct addrinfo *res;

	if (resolve(v, &res, err, errlen) < 0)
		return -1;
	freeaddrinfo(res);
	return 0;
}

/* The HTTP socket: CLOEXEC, so no worker ever gets it, and not among
 * the listeners, so not in SERVER_STARTER_PORT either. */
static void
bind_http(const char *v)
{
	struct addrinfo *res;
	char err[256];
	int one = 1;

	if (resolve(v, &res, err, sizeof(err)) < 0)
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

/* ---- the figures ---------------------------------------------------------- */

/* 1 when a generation serves and baton is not stopping; else 0 and why. */
static int
ready(char *why, size_t len)
{
	struct gen_view v;

	gen_view(&v);
	if (v.stopping)
		snprintf(why, len, "stopping");
	else if (v.serving)
		snprintf(why, len, "generation %lu serves", v.serving);
	else if (v.starting)
		snprintf(why, len,
		         "no generation serves yet (generation %lu "
		         "is starting)",
		         v.starting);
	else
		snprintf(why, len, "no generation serves");
	return !v.stopping && v.serving;
}

/* Listener i as the renderer wants it, from the last sample. */
static void
listener_of(size_t i, struct metrics_listener *ml, const void *arg)
{
	const struct lq *lq = &M.lq[i];
	const struct qstat *q = &lq->t.last;

	(void)arg;
	ml->key = M.o->ls[i].key;
	ml->proto = qstat_kind_name(kind_of(&M.o->ls[i]));
	ml->fd = M.o->ls[i].target_fd;
	ml->has_queue = lq->ok && (q->flags & QSTAT_HAS_QUEUE);
	ml->len = q->len;
	ml->peak = lq->t.peak;
	ml->backlog = q->limit;
	ml->has_drops = lq->ok && (q->flags & QSTAT_HAS_DROPS);
	ml->drops = q->drops;
	ml->has_syn = lq->ok && (q->flags & QSTAT_HAS_SYN);
	ml->syn = q->syn;
	ml->port = (uint32_t)M.o->ls[i].bound_port;
}

/* The figures now; w holds the worker counts s points to. */
static void
snapshot(struct metrics_snapshot *s, struct metrics_workers *w)
{
	struct gen_view v;
	size_t i;

	gen_view(&v);
	for (i = 0; i < GEN_VIEW_STATES; i++) {
		w[i].state = v.state[i];
		w[i].count = v.workers[i];
	}
	memset(s, 0, sizeof(*s));
	s->listener = listener_of;
	s->nlisteners = M.n;
	s->generation = v.serving;
	s->workers = w;
	s->nworkers = GEN_VIEW_STATES;
	s->restarts_served = v.served;
	s->restarts_rolled_back = v.rolled_back;
}

static int
write_file(void)
{
	struct metrics_workers w[GEN_VIEW_STATES];
	struct metrics_snapshot s;
	char err[1024];

	snapshot(&s, w);
	if (metrics_file_write(M.o->metrics_file, &s, err, sizeof(err)) < 0) {
		if (!M.file_warned)
			log_warnx("%s", err);
		M.file_warned = 1;
		return -1;
	}
	if (M.file_warned)
		log_info("metrics file %s written again", M.o->metrics_file);
	M.file_warned = 0;
	return 0;
}

/* ---- diagnosis -------------------------------------------------------------- */

/* Clients can make a queue fill and drain at will, so the stall lines
 * are limited per cause (STYLE.md rule 5): one of each per 10 s, the
 * rest counted. */
static struct ratelimit rl_stall = RATELIMIT_INIT("accept-stall warnings");
static struct ratelimit rl_again = RATELIMIT_INIT("accepts-again lines");
static struct ratelimit rl_accept = RATELIMIT_INIT("metrics accept errors");

static void
diagnose_stall(struct lq *q, const char *name, uint32_t prev_len, double now)
{
	const struct qstat *r = &q->t.last;
	char dropped[48] = "", more[64];

	if (!(r->flags & QSTAT_HAS_QUEUE) || M.o->accept_stall <= 0)
		return;
	if (r->len == 0 || r->len < prev_len) {
		if (q->stall_warned &&
		    ratelimit_check(&rl_again, more, sizeof(more)))
			log_info("%s accepts again (queue %u/%u)%s", name,
			         r->len, r->limit, more);
		q->stall_since = r->len ? now : 0;
		q->stall_warned = 0;
		return;
	}
	if (q->stall_since == 0)
		q->stall_since = now;
	if (q->stall_warned || now - q->stall_since < M.o->accept_stall - 1e-3)
		return;
	if (r->flags & QSTAT_HAS_DROPS)
		snprintf(dropped, sizeof(dropped), ", %llu dropped",
		         (unsigned long long)r->drops);
	if (ratelimit_check(&rl_stall, more, sizeof(more)))
		log_warnx(
		    "nothing has accepted on %s for %g s (queue %u/%u%s)%s",
		    name, M.o->accept_stall, r->len, r->limit, dropped, more);
	q->stall_warned = 1;
}

static void
report_drops(const struct lq *q, const struct listener *l, const char *name,
             uint64_t n)
{
	const struct qstat *r = &q->t.last;
	char fix[128];

	if (!(r->flags & QSTAT_HAS_QUEUE)) {
		log_warnx("%s dropped %llu datagrams in the last minute "
		          "(receive buffer full); raise --rcvbuf",
		          name, (unsigned long long)n);
		return;
	}
	/* a defer-accept listener counts its silent clients as drops
	 * (qstat.h): only a queue seen full says the backlog is short */
	if (listen_eff(l)->val[SOCKOPT_DEFER_ACCEPT] > 0 &&
	    q->win_max <= r->limit)
		return;
	if (M.somaxconn > 0 && r->limit < (uint32_t)M.somaxconn)
		snprintf(fix, sizeof(fix),
		         "raise --backlog (net.core.somaxconn caps it at %ld)",
		         M.somaxconn);
	else
		snprintf(fix, sizeof(fix),
		         "raise net.core.somaxconn (now %ld) and --backlog",
		         M.somaxconn);
	/* sk_drops counts packets (a SYN, or the final ACK of a handshake,
	 * that found the queue full), and a client sends its SYN again:
	 * not connections */
	log_warnx("%s dropped %llu handshake packets (SYN or final ACK) in "
	          "the last minute (queue %s %u/%u); %s",
	          name, (unsigned long long)n,
	          q->win_max > r->limit ? "full at" : "at", q->win_max,
	          r->limit, fix);
}

static void
diagnose_drops(struct lq *q, const struct listener *l, const char *name,
               uint64_t prev, double now)
{
	const struct qstat *r = &q->t.last;

	if (!(r->flags & QSTAT_HAS_DROPS))
		return;
	if ((r->flags & QSTAT_HAS_QUEUE) && r->len > q->win_max)
		q->win_max = r->len;
	if (q->win_at == 0) {
		if (r->drops > prev) {
			report_drops(q, l, name, r->drops - prev);
			q->win_at = now;
		}
		q->win_base = r->drops;
		q->win_max = r->len;
		return;
	}
	if (now - q->win_at < DROP_WINDOW - 1e-3)
		return;
	if (r->drops > q->win_base) {
		report_drops(q, l, name, r->drops - q->win_base);
		q->win_at = now;
	} else
		q->win_at = 0;
	q->win_base = r->drops;
	q->win_max = r->len;
}

/* A defer-accept listener whose queue filled while connections came in
 * through SYN cookies (qstat.h): defer-accept cannot hold those back. */
static void
diagnose_cookies(struct lq *q, const struct listener *l, const char *name)
{
	static struct ratelimit rl =
	    RATELIMIT_INIT("warnings about SYN cookies filling queues");
	const struct qstat *r = &q->t.last;
	char more[64];
	uint64_t n;

	if (!M.cookies_ok || kind_of(l) != QSTAT_TCP ||
	    listen_eff(l)->val[SOCKOPT_DEFER_ACCEPT] <= 0)
		return;
	n = qstat_cookie_check(&q->cookies, r, M.cookies.recv);
	if (n > 0 && ratelimit_check(&rl, more, sizeof(more)))
		log_warnx("%s filled its queue (%u/%u) while %llu connections "
		          "completed through SYN cookies, which skip "
		          "--defer-accept: an idle-connection flood? raise "
		          "--backlog and net.ipv4.tcp_max_syn_backlog%s",
		          name, r->len, r->limit, (unsigned long long)n, more);
}

/* ---- sampling ----------------------------------------------------------------- */

/* Sample listener i; 1 when a figure STATUS.json shows moved. */
static int
sample_one(size_t i, int64_t wall, double now)
{
	const struct listener *l = &M.o->ls[i];
	struct lq *q = &M.lq[i];
	struct qstat r;
	struct qstat_track old = q->t;
	char name[300];
	enum qstat_kind k = kind_of(l);

	if (l->fd < 0)
		return 0;
	listen_name(l, name, sizeof(name));
	if (qstat_read_fd(l->fd, k, M.o->metrics_syn_queue && k == QSTAT_TCP,
	                  &r) < 0) {
		if (!q->failed)
			log_warn("cannot read the queue of %s", name);
		q->failed = 1;
		return 0;
	}
	q->failed = 0;
	qstat_sample(&q->t, &r, wall);
	if (!q->ok) {
		q->ok = 1;
		q->limit = r.limit;
		q->win_base = r.drops;
		/* the cookie counter from before any client came */
		diagnose_cookies(q, l, name);
		return 1;
	}
	if ((r.flags & QSTAT_HAS_QUEUE) && r.limit != q->limit) {
		/* a worker may call listen() with another backlog at every
		 * sample: a cause an outside party drives (rule 5) */
		static struct ratelimit rl_backlog =
		    RATELIMIT_INIT("backlog changes");
		char more[64];

		if (ratelimit_check(&rl_backlog, more, sizeof(more)))
			log_warnx("the backlog of %s changed from %u to %u: a "
			          "worker called listen() on it again%s",
			          name, q->limit, r.limit, more);
		q->limit = r.limit;
	}
	diagnose_stall(q, name, old.last.len, now);
	diagnose_drops(q, l, name, old.last.drops, now);
	diagnose_cookies(q, l, name);
	/* the length too: a draining queue must not stay at its peak in
	 * STATUS.json */
	return qstat_moved(&old, &q->t);
}

static void accept_on(void);
static void report_evictions(double now);

static void
read_cookies(void)
{
	static struct ratelimit rl =
	    RATELIMIT_INIT("errors reading /proc/net/netstat");
	char more[64];

	M.cookies_ok = qstat_read_cookies(&M.cookies) == 0;
	if (!M.cookies_ok && ratelimit_check(&rl, more, sizeof(more)))
		log_warnx("cannot read SYN-cookie counters from "
		          "/proc/net/netstat: %s%s",
		          strerror(errno), more);
}

static void
sample_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	int64_t wall = (int64_t)time(NULL);
	int moved = 0;
	size_t i;

	if (M.defer_any)
		read_cookies();
	for (i = 0; i < M.n; i++)
		moved |= sample_one(i, wall, monotime_now());
	if (moved)
		gen_status_touch();
	if (M.o->metrics_file)
		write_file();
	/* an accept error paused the listener: try again */
	accept_on();
	report_evictions(monotime_now());
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
	struct metrics_workers w[GEN_VIEW_STATES];
	struct metrics_snapshot s;

	snapshot(&s, w);
	metrics_text_init(&c->text);
	/* about 300 bytes per listener: one mapped block (main.c's
	 * setup_malloc), given back whole when the connection ends */
	if (metrics_text_reserve(&c->text, 4096 + M.n * 320) < 0 ||
	    metrics_render(&c->text, &s) < 0) {
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
			          M.o->metrics_listen, strerror(errno), more);
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
				          M.o->metrics_listen, strerror(errno),
				          more);
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
	if (M.evicted + M.shed == 0 || now - M.evict_at < DROP_WINDOW - 1e-3)
		return;
	if (M.evicted)
		log_warnx("metrics listener %s: %lu connections closed to "
		          "make room (%lu of them at the fd limit); at most "
		          "%zu are served at once",
		          M.o->metrics_listen, M.evicted, M.emfile,
		          M.max_conns);
	if (M.shed)
		log_warnx("metrics listener %s: %lu connections closed "
		          "unserved: baton is out of fds",
		          M.o->metrics_listen, M.shed);
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
	left = rl.rlim_cur > M.n ? rl.rlim_cur - M.n : 0;
	reserve = left / 2 < CONN_FD_RESERVE ? left / 2 : CONN_FD_RESERVE;
	if (reserve < CONN_FD_OWN)
		reserve = CONN_FD_OWN;
	if (left <= reserve + 1)
		return 1;
	return left - reserve < CONN_MAX ? (size_t)(left - reserve) : CONN_MAX;
}

/* ---- the public side ----------------------------------------------------------- */

static long
read_somaxconn(void)
{
	FILE *f = fopen("/proc/sys/net/core/somaxconn", "re");
	long v = 0;

	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

/* The first sample of every listener, and what it needs to be read:
 * somaxconn and, with defer-accept, the SYN-cookie counters. */
static void
first_sample(void)
{
	size_t i;

	M.sampled = 1;
	M.somaxconn = read_somaxconn();
	for (i = 0; i < M.n; i++)
		if (M.o->ls[i].kind == LISTEN_TCP &&
		    listen_eff(&M.o->ls[i])->val[SOCKOPT_DEFER_ACCEPT] > 0)
			M.defer_any = 1;
	if (M.defer_any)
		read_cookies();
	for (i = 0; i < M.n; i++)
		sample_one(i, (int64_t)time(NULL), monotime_now());
}

void
metricsd_open(struct ev_loop *loop, const struct options *o)
{
	M.loop = loop;
	M.o = o;
	M.lfd = -1;
	M.spare = -1;
	M.n = o->nls;
	M.lq = calloc(M.n + 1, sizeof(*M.lq));
	if (M.lq == NULL)
		fatalx(EXIT_SOFTWARE, "out of memory");
	/* as the status file: one that cannot be written is a set-up
	 * error, not a warning every second */
	if (o->metrics_file) {
		struct metrics_workers w[GEN_VIEW_STATES];
		struct metrics_snapshot s;
		char err[1024];

		first_sample();
		snapshot(&s, w);
		if (metrics_file_write(o->metrics_file, &s, err, sizeof(err)) <
		    0)
			fatalx(EXIT_FILE, "%s", err);
	}
	if (o->metrics_listen) {
		bind_http(o->metrics_listen);
		M.max_conns = max_conns();
		M.batch = M.max_conns / 4 < ACCEPT_BATCH ? M.max_conns / 4
		                                         : ACCEPT_BATCH;
		if (M.batch == 0)
			M.batch = 1;
		M.spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (M.spare < 0)
			log_warn("cannot open /dev/null");
		ev_io_init(&M.accept_io, accept_cb, M.lfd, EV_READ);
		ev_timer_init(&M.resume, resume_cb, MIN_AGE, 0);
		accept_on();
	}
}

void
metricsd_start(void)
{
	if (!M.sampled)
		first_sample();
	ev_timer_init(&M.sample, sample_cb, M.o->metrics_interval,
	              M.o->metrics_interval);
	ev_timer_start(M.loop, &M.sample);
	/* sampling must not keep the loop alive (gen.c's tick does not) */
	ev_unref(M.loop);
}

int
metricsd_queue(size_t i, uint64_t *inode, struct qstat_track *t)
{
	if (M.lq == NULL || i >= M.n || !M.lq[i].ok)
		return -1;
	*inode = M.lq[i].t.last.inode;
	*t = M.lq[i].t;
	return 0;
}

void
metricsd_cleanup(void)
{
	if (M.o && M.o->metrics_file &&
	    metrics_file_remove(M.o->metrics_file) < 0)
		log_warn("cannot remove metrics file %s", M.o->metrics_file);
}
