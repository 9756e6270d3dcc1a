/* SPDX-License-Identifier: ISC */
/* publish.c: the snapshot of what baton publishes, built in one place
 * (gen.c gives the generations and counters, the sampler the queues,
 * the options the listeners' own fields), and every file written from
 * it: STATUS.json, then the start_server status file, and the .prom
 * file.
 *
 * A state change is written at once (gen.c tells once per step, so that
 * a promotion is never seen half-way); a worker's STATUS= text or a
 * queue figure is written once its burst is over (STATUS_DELAY). A
 * failed write is tried again every second until it succeeds. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "gen.h"
#include "log.h"
#include "metrics.h"
#include "publish.h"
#include "receipts.h"
#include "sampler.h"
#include "status.h"
#include "statusjson.h"

/* STATUS= messages rewrite the status files at most this often: a worker
 * reporting progress in a loop must not turn baton into a disk writer. */
#define STATUS_DELAY 0.1
#define STATUS_RETRY 1.0 /* seconds between attempts at a failed write */

static struct {
	struct ev_loop *loop;
	const struct options *o;
	char *json_path;
	int wrote_status;
	ev_timer later;       /* the deferred write */
	ev_timer retry;       /* a failed write, tried again */
	unsigned fails;       /* failed attempts in a row */
	int prom_warned;      /* the .prom file could not be written */
	int held, held_dirty; /* publish_hold depth; a write is due */
} P;

static void status_update(void);

/* ---- the snapshot ------------------------------------------------------ */

static void
listener_options(FILE *f, const void *arg)
{
	listen_json_options(f, arg);
}

static enum qstat_kind
listener_kind(const struct listener *l)
{
	return l->kind == LISTEN_UDP    ? QSTAT_UDP
	       : l->kind == LISTEN_UNIX ? QSTAT_UNIX
	                                : QSTAT_TCP;
}

/* The listeners' own fields, and their queues as last sampled. */
static int
fill_listeners(struct snapshot *s)
{
	const struct listener *l;
	size_t i;

	s->nls = P.o->nls;
	if ((s->ls = calloc(s->nls + 1, sizeof(*s->ls))) == NULL)
		return -1;
	for (i = 0; i < s->nls; i++) {
		l = &P.o->ls[i];
		s->ls[i].key = l->key;
		s->ls[i].fd = l->target_fd;
		s->ls[i].kind = listener_kind(l);
		s->ls[i].options = listener_options;
		s->ls[i].arg = l;
		snprintf(s->ls[i].origin, sizeof(s->ls[i].origin), "%s",
		         listen_origin_name(l));
		s->ls[i].fdname = l->fdname;
		s->ls[i].port = l->bound_port;
	}
	sampler_fill(s);
	return 0;
}

int
publish_snapshot(struct snapshot *s, int listeners)
{
	memset(s, 0, sizeof(*s));
	if (gen_fill(s) < 0 || (listeners && fill_listeners(s) < 0) ||
	    receipts_fill(s) < 0) {
		publish_snapshot_free(s);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void
publish_snapshot_free(struct snapshot *s)
{
	size_t i;

	for (i = 0; s->gens != NULL && i < s->ngens; i++)
		free(s->gens[i].w);
	free(s->gens);
	free(s->ls);
	for (i = 0; s->receipts != NULL && i < s->nreceipts; i++)
		free(s->receipts[i].l);
	free(s->receipts);
	memset(s, 0, sizeof(*s));
}

/* ---- the .prom file ----------------------------------------------------- */

static int
write_prom(void)
{
	struct snapshot s;
	char err[1024];
	int r;

	if (publish_snapshot(&s, 1) < 0) {
		snprintf(err, sizeof(err), "cannot write metrics file %s: %s",
		         P.o->metrics_file, strerror(errno));
		r = -1;
	} else
		r = metrics_file_write(P.o->metrics_file, &s, err, sizeof(err));
	publish_snapshot_free(&s);
	if (r < 0) {
		if (!P.prom_warned)
			log_warnx("%s", err);
		P.prom_warned = 1;
		return -1;
	}
	if (P.prom_warned)
		log_info("metrics file %s written again", P.o->metrics_file);
	P.prom_warned = 0;
	return 0;
}

/* ---- when to write the status files ------------------------------------- */

static void
timer_arm(ev_timer *t, double seconds)
{
	ev_now_update(P.loop);
	ev_timer_set(t, seconds, 0);
	ev_timer_start(P.loop, t);
}

void
publish_changed(int now)
{
	if (P.o == NULL || P.o->status_file == NULL)
		return;
	if (P.held) {
		P.held_dirty = 1;
		return;
	}
	if (!now) {
		if (!ev_is_active(&P.later))
			timer_arm(&P.later, STATUS_DELAY);
		return;
	}
	ev_timer_stop(P.loop, &P.later);
	status_update();
}

void
publish_hold(void)
{
	P.held++;
}

void
publish_release(void)
{
	if (--P.held == 0 && P.held_dirty) {
		P.held_dirty = 0;
		publish_changed(1);
	}
}

void
publish_sampled(int moved)
{
	if (moved)
		publish_changed(0);
	if (P.o->metrics_file)
		write_prom();
}

static void
later_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)t;
	(void)revents;
	status_update();
}

/* A status write that failed (a full disk) is tried again every second
 * (a monotonic ev_timer) until it succeeds, even when nothing else
 * changes: else the file would go on naming a dead worker, and --restart
 * wait for a generation that already serves. One warning per run of
 * failures, one line when the files are written again. */
static void
status_failed(const char *path, int err)
{
	if (P.fails++ == 0) {
		errno = err;
		log_warn("cannot write status file %s; trying again every "
		         "second",
		         path);
	}
	if (!ev_is_active(&P.retry)) {
		ev_timer_set(&P.retry, STATUS_RETRY, STATUS_RETRY);
		ev_timer_start(P.loop, &P.retry);
		/* a retry must not keep baton alive once the workers are
		 * gone */
		ev_unref(P.loop);
	}
}

static void
status_written(void)
{
	if (P.fails == 0)
		return;
	log_info("status file %s written again (%u attempts failed)",
	         P.o->status_file, P.fails);
	P.fails = 0;
	if (ev_is_active(&P.retry)) {
		ev_ref(P.loop);
		ev_timer_stop(P.loop, &P.retry);
	}
}

/* ---- the status files -------------------------------------------------- */

static int
json_to(FILE *f, const void *s)
{
	return status_json_write(f, s);
}

static void
status_update(void)
{
	struct snapshot s;
	size_t len;
	char *buf;
	int json_err = 0;

	if (P.o->status_file == NULL)
		return;
	if (publish_snapshot(&s, 1) < 0)
		return;
	len = status_render(&s, &buf);
	/* JSON first: --restart reads it after it sees the status file */
	if (buf != NULL &&
	    status_write_atomic_with(P.json_path, json_to, &s) < 0)
		json_err = errno;
	publish_snapshot_free(&s);
	if (buf == NULL)
		return;
	if (status_write_atomic(P.o->status_file, buf, len) < 0) {
		status_failed(P.o->status_file, errno);
	} else {
		P.wrote_status = 1;
		if (json_err != 0)
			status_failed(P.json_path, json_err);
		else
			status_written();
	}
	free(buf);
}

/* ---- set-up and clean-up ------------------------------------------------ */

static void
check_status_file(const char *path)
{
	char why[512];

	if (status_file_check(path, why, sizeof(why)) < 0) {
		if (why[0])
			fatalx(EXIT_FILE, "cannot write status file %s: %s",
			       path, why);
		fatal(EXIT_FILE, "cannot write status file %s", path);
	}
}

void
publish_init(struct ev_loop *loop, const struct options *o)
{
	char err[1024];
	struct snapshot s;

	P.loop = loop;
	P.o = o;
	ev_timer_init(&P.later, later_cb, 0, 0);
	ev_timer_init(&P.retry, later_cb, 0, 0);
	/* as the status file: one that cannot be written is a set-up
	 * error, not a warning every second */
	if (o->metrics_file) {
		sampler_first();
		if (publish_snapshot(&s, 1) < 0)
			fatalx(EXIT_SOFTWARE, "out of memory");
		if (metrics_file_write(o->metrics_file, &s, err, sizeof(err)) <
		    0)
			fatalx(EXIT_FILE, "%s", err);
		publish_snapshot_free(&s);
	}
	if (o->status_file == NULL)
		return;
	if (asprintf(&P.json_path, "%s.json", o->status_file) < 0)
		fatalx(EXIT_SOFTWARE, "out of memory");
	check_status_file(o->status_file);
	P.wrote_status = 1;
}

void
publish_cleanup(void)
{
	if (P.o == NULL)
		return;
	if (P.o->status_file != NULL && P.wrote_status) {
		status_unlink_own(P.o->status_file);
		status_unlink_own(P.json_path);
	}
	if (P.o->metrics_file && metrics_file_remove(P.o->metrics_file) < 0)
		log_warn("cannot remove metrics file %s", P.o->metrics_file);
}
