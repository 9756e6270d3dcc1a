/* SPDX-License-Identifier: ISC */
/* metricsd.c: the listen queues sampled by a libev timer, and what is made
 * of them: STATUS.json's queue objects, the .prom file, the HTTP listener
 * (/metrics, /healthz, /readyz) and the diagnosis lines in the log.
 *
 * Everything runs from libev callbacks. The HTTP side is bounded three
 * ways: MAX_CONNS connections at once (beyond, the accept watcher stops
 * and the kernel's backlog holds the rest), HTTPREQ_MAX bytes per request
 * (httpreq.c answers 431), and CONN_SECONDS per connection, request and
 * response together. One request per connection ("Connection: close"). */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
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
#include "monotime.h"

#define MAX_CONNS 16
#define CONN_SECONDS 5.0
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
	/* sampled at least once; the last read failed; stall reported */
	unsigned char ok, failed, stall_warned;
};

/* A response is its head and a body: a short text of its own, or the
 * metrics rendered for this request alone and freed with it (about 300
 * bytes per listener: kept between scrapes, it was most of baton's
 * memory with 1,000 listeners). A connection is malloc'd while it lasts:
 * as 16 static slots, its buffers took 80 kB from exec on. */
struct conn {
	int fd;
	ev_io io;
	ev_timer deadline;
	size_t inlen;
	int answering;
	struct iovec out[2]; /* head, body: what is left to send */
	char head[512];
	char small[256];
	struct metrics_text text;
	char in[HTTPREQ_MAX];
};

static struct {
	struct ev_loop *loop;
	const struct options *o;
	struct lq *lq;
	size_t n;
	ev_timer sample;
	int lfd;
	ev_io accept_io;
	size_t nconns;
	int file_warned;
	long somaxconn;
} M; /* metricsd_start sets lfd to -1 */

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
	    listen(M.lfd, 64) < 0) {
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
	ml->has_queue = lq->ok && (q->flags & QSTAT_HAS_QUEUE);
	ml->len = q->len;
	ml->peak = lq->t.peak;
	ml->backlog = q->limit;
	ml->has_drops = lq->ok && (q->flags & QSTAT_HAS_DROPS);
	ml->drops = q->drops;
	ml->has_syn = lq->ok && (q->flags & QSTAT_HAS_SYN);
	ml->syn = q->syn;
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

static void
diagnose_stall(struct lq *q, const char *name, uint32_t prev_len, double now)
{
	const struct qstat *r = &q->t.last;
	char dropped[48] = "";

	if (!(r->flags & QSTAT_HAS_QUEUE) || M.o->accept_stall <= 0)
		return;
	if (r->len == 0 || r->len < prev_len) {
		if (q->stall_warned)
			log_info("%s accepts again (queue %u/%u)", name, r->len,
			         r->limit);
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
	log_warnx("nothing has accepted on %s for %g s (queue %u/%u%s)", name,
	          M.o->accept_stall, r->len, r->limit, dropped);
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
	log_warnx("%s dropped %llu connections in the last minute (queue %s "
	          "%u/%u); %s",
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
		return 1;
	}
	if ((r.flags & QSTAT_HAS_QUEUE) && r.limit != q->limit) {
		log_warnx("the backlog of %s changed from %u to %u: a worker "
		          "called listen() on it again",
		          name, q->limit, r.limit);
		q->limit = r.limit;
	}
	diagnose_stall(q, name, old.last.len, now);
	diagnose_drops(q, l, name, old.last.drops, now);
	return old.peak != q->t.peak || old.last.drops != r.drops ||
	       old.last.limit != r.limit;
}

static void accept_on(void);

static void
sample_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	int64_t wall = (int64_t)time(NULL);
	int moved = 0;
	size_t i;

	for (i = 0; i < M.n; i++)
		moved |= sample_one(i, wall, monotime_now());
	if (moved)
		gen_status_touch();
	if (M.o->metrics_file)
		write_file();
	/* an accept error (EMFILE) paused the listener: try again */
	accept_on();
}

/* ---- HTTP ------------------------------------------------------------------- */

static void
accept_on(void)
{
	if (M.lfd >= 0 && !ev_is_active(&M.accept_io) && M.nconns < MAX_CONNS) {
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
conn_close(struct conn *c)
{
	ev_io_stop(M.loop, &c->io);
	ev_timer_stop(M.loop, &c->deadline);
	close(c->fd);
	metrics_text_free(&c->text);
	free(c);
	M.nconns--;
	accept_on();
}

static void
conn_write(struct conn *c)
{
	ssize_t n = writev(c->fd, c->out, 2);
	size_t done, i;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	for (done = (size_t)n, i = 0; i < 2; i++) {
		size_t k = done < c->out[i].iov_len ? done : c->out[i].iov_len;

		c->out[i].iov_base = (char *)c->out[i].iov_base + k;
		c->out[i].iov_len -= k;
		done -= k;
	}
	if (c->out[0].iov_len == 0 && c->out[1].iov_len == 0)
		conn_close(c);
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
		log_warn("cannot render the metrics");
		return -1;
	}
	return 0;
}

/* The answer to path (status 0) or to a bad request (its status). */
static void
respond(struct conn *c, const char *path, int status)
{
	char *body = c->small, why[200];
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
		snprintf(body, sizeof(c->small), "ok\n");
	} else if (status == 0 && strcmp(path, "/readyz") == 0) {
		status = ready(why, sizeof(why)) ? 200 : 503;
		snprintf(body, sizeof(c->small), "%s: %s\n",
		         status == 200 ? "ready" : "not ready", why);
	} else if (status == 0)
		status = 404;
	if (b == body && status != 200 && strncmp(path, "/readyz", 8) != 0)
		snprintf(body, sizeof(c->small), "%s\n",
		         httpreq_reason(status));
	blen = b == c->text.buf ? c->text.len : strlen(b);
	hlen =
	    httpreq_response_head(c->head, sizeof(c->head), status, type, blen);
	if (hlen == 0) {
		conn_close(c);
		return;
	}
	c->answering = 1;
	c->out[0].iov_base = c->head;
	c->out[0].iov_len = hlen;
	c->out[1].iov_base = (char *)(uintptr_t)b;
	c->out[1].iov_len = blen;
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
	n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->inlen += (size_t)n;
	switch (httpreq_parse(c->in, c->inlen, &req)) {
	case HTTPREQ_OK:
		respond(c, req.path, 0);
		break;
	case HTTPREQ_BAD:
		respond(c, "", req.status);
		break;
	default: /* the parser answers 431 at HTTPREQ_MAX: defence only */
		if (c->inlen == sizeof(c->in))
			respond(c, "", 431);
		break;
	}
}

static void
deadline_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	conn_close(t->data);
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c;
	int fd;

	while (M.nconns < MAX_CONNS) {
		fd = accept4(M.lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ECONNABORTED)
				return;
			log_warn("cannot accept on metrics listener %s",
			         M.o->metrics_listen);
			accept_off(); /* the sampler tries again */
			return;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			log_warn("cannot answer on metrics listener %s",
			         M.o->metrics_listen);
			close(fd);
			continue;
		}
		c->fd = fd;
		metrics_text_init(&c->text);
		ev_io_init(&c->io, conn_cb, fd, EV_READ);
		c->io.data = c;
		ev_io_start(loop, &c->io);
		ev_timer_init(&c->deadline, deadline_cb, CONN_SECONDS, 0);
		c->deadline.data = c;
		ev_timer_start(loop, &c->deadline);
		M.nconns++;
	}
	accept_off(); /* full: the kernel's backlog holds the next ones */
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

void
metricsd_start(struct ev_loop *loop, const struct options *o)
{
	size_t i;

	M.loop = loop;
	M.o = o;
	M.lfd = -1;
	M.n = o->nls;
	M.somaxconn = read_somaxconn();
	M.lq = calloc(M.n + 1, sizeof(*M.lq));
	if (M.lq == NULL)
		fatalx(EXIT_SOFTWARE, "out of memory");
	for (i = 0; i < M.n; i++)
		sample_one(i, (int64_t)time(NULL), monotime_now());
	/* as the status file: one that cannot be written is a set-up
	 * error, not a warning every second */
	if (o->metrics_file) {
		struct metrics_workers w[GEN_VIEW_STATES];
		struct metrics_snapshot s;
		char err[1024];

		snapshot(&s, w);
		if (metrics_file_write(o->metrics_file, &s, err, sizeof(err)) <
		    0)
			fatalx(EXIT_FILE, "%s", err);
	}
	if (o->metrics_listen) {
		bind_http(o->metrics_listen);
		ev_io_init(&M.accept_io, accept_cb, M.lfd, EV_READ);
		accept_on();
	}
	ev_timer_init(&M.sample, sample_cb, o->metrics_interval,
	              o->metrics_interval);
	ev_timer_start(loop, &M.sample);
	/* sampling must not keep the loop alive (gen.c's tick does not) */
	ev_unref(loop);
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
