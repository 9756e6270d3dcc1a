/* SPDX-License-Identifier: ISC */
/* unit-status.c: round trips of the status JSON and the re-exec state. */
#include "config.h"

#include <check.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "reexec.h"
#include "statusjson.h"
#include "run-tests.h"

static void
opts_cb(FILE *f, const void *arg)
{
	fprintf(f, "\"options\":{\"backlog\":%d}", *(const int *)arg);
}

static const int backlog = 64;
static struct snap_receipt receipts[1];
static struct snap_receipt_listener receipt_ls[1];

/* A status with every field set; s1 is the worker's STATUS= text. */
static void
sample(struct snapshot *s, struct snap_listener *ls, struct snap_gen *gs,
       struct snap_worker *ws, const char *s1)
{
	memset(s, 0, sizeof(*s));
	memset(ls, 0, 2 * sizeof(*ls));
	memset(gs, 0, 2 * sizeof(*gs));
	memset(ws, 0, 3 * sizeof(*ws));
	s->pid = 4242;
	s->restarts = 7;
	s->restart_pending = 1;
	s->stop_timeout = 30;
	s->last_generation = 9;
	s->nls = 2;
	s->ls = ls;
	ls[0].key = "127.0.0.1:8080";
	ls[0].fd = 3;
	ls[0].kind = QSTAT_TCP;
	ls[0].options = opts_cb;
	ls[0].arg = &backlog;
	strcpy(ls[0].origin, "systemd");
	ls[0].fdname = "web";
	ls[0].port = 8080; /* ls[1], unix, has none: null */
	ls[1].key = "/tmp/a \"b\".sock";
	ls[1].fd = 4;
	ls[1].kind = QSTAT_UNIX;
	strcpy(ls[1].origin, "bound");
	/* the queues as the sampler sampled them */
	ls[0].inode = 123456789012ULL;
	ls[0].has_queue = 1;
	ls[0].queue.last.flags =
	    QSTAT_HAS_QUEUE | QSTAT_HAS_DROPS | QSTAT_HAS_SYN;
	ls[0].queue.last.len = 5;
	ls[0].queue.last.limit = 4;
	ls[0].queue.last.drops = 5000000000ULL;
	ls[0].queue.last.syn = 3;
	ls[0].queue.peak = 9;
	ls[0].queue.sampled_at = 1700000001;
	ls[1].inode = 77;
	ls[1].has_queue = 1;
	ls[1].queue.last.flags = QSTAT_HAS_QUEUE;
	ls[1].queue.last.len = 4;
	ls[1].queue.last.limit = 3;
	ls[1].queue.peak = 4;
	ls[1].queue.sampled_at = 1700000002;
	s->served = 5;
	s->rolled_back = 2;
	s->ngens = 2;
	s->gens = gs;
	gs[0].id = 9;
	gs[0].state = GEN_STARTING;
	gs[0].started = 1700000000.125;
	gs[0].ready_at = -1;
	gs[0].trigger = "hup";
	gs[0].nw = 2;
	gs[0].w = ws;
	ws[0] = (struct snap_worker){0, 100, 1, 0, s1};
	ws[1] = (struct snap_worker){1, 101, 0, 0, NULL};
	gs[1].id = 8;
	gs[1].state = GEN_KILLED;
	gs[1].started = 1699999999.5;
	gs[1].ready_at = 1700000000.25;
	gs[1].nw = 1;
	gs[1].w = ws + 2;
	ws[2] = (struct snap_worker){0, 99, 1, 1, "ok"};
	s->has_deadlines = 1;
	s->interval = 1.5;
	s->ready_timeout = 60;
	s->kill_old_delay = 0.25;
	s->retrying = 1;
	s->retry_at = 1700000004.5;
	s->has_failure = 1;
	s->fail_gen = 6;
	s->fail_time = 1699999000.75;
	s->fail_reason = "worker 12 (generation 6) killed by signal 9";
	/* the accept queue as scanned, and the restarts' receipts */
	ls[0].has_acceptq = 1;
	ls[0].wait_max_ms = 38;
	ls[0].idle = 2;
	ls[0].abandoned = 5000000001ULL;
	s->has_lost = 1;
	s->lost_dropped = 1;
	s->lost_abandoned = 2;
	s->lost_cut = 3;
	s->nreceipts = 1;
	s->receipts = receipts;
	receipt_ls[0] = (struct snap_receipt_listener){
	    "127.0.0.1:8080", 1, 2, 3, 6, 14, 38};
	receipts[0] = (struct snap_receipt){.id = 7,
	                                    .trigger = "hup",
	                                    .generation = 9,
	                                    .previous = 8,
	                                    .started_at = 1700000000.125,
	                                    .ready_at = 1700000001.5,
	                                    .finished_at = 1700000002.25,
	                                    .duration = 1.42,
	                                    .outcome = "rolled_back",
	                                    .dropped = 1,
	                                    .abandoned = 2,
	                                    .cut = 3,
	                                    .total = 6,
	                                    .reset = 4,
	                                    .abort_on_close = 5,
	                                    .listen_overflows = 6,
	                                    .listen_drops = 7,
	                                    .queue_peak = 14,
	                                    .wait_max_ms = 38,
	                                    .nl = 1,
	                                    .l = receipt_ls};
}

static void
same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		ck_assert_ptr_eq(a, b);
	else
		ck_assert_str_eq(a, b);
}

static void
same_queue(const struct snap_listener *a, const struct snap_listener *b)
{
	const struct qstat_track *x = &a->queue, *y = &b->queue;

	ck_assert_uint_eq(a->inode, b->inode);
	ck_assert_int_eq(a->has_queue, b->has_queue);
	if (!a->has_queue)
		return;
	ck_assert_uint_eq(x->last.flags, y->last.flags);
	ck_assert_uint_eq(x->last.len, y->last.len);
	ck_assert_uint_eq(x->last.limit, y->last.limit);
	ck_assert_uint_eq(x->last.drops, y->last.drops);
	ck_assert_uint_eq(x->last.syn, y->last.syn);
	ck_assert_uint_eq(x->peak, y->peak);
	ck_assert_int_eq(x->sampled_at, y->sampled_at);
	ck_assert_int_eq(a->has_acceptq, b->has_acceptq);
	if (!a->has_acceptq)
		return;
	ck_assert_uint_eq(a->wait_max_ms, b->wait_max_ms);
	ck_assert_uint_eq(a->idle, b->idle);
	ck_assert_uint_eq(a->abandoned, b->abandoned);
}

static void
same_receipt(const struct snap_receipt *x, const struct snap_receipt *y)
{
	size_t k;

	ck_assert_uint_eq(x->id, y->id);
	same_str(x->trigger, y->trigger);
	ck_assert_uint_eq(x->generation, y->generation);
	ck_assert_uint_eq(x->previous, y->previous);
	ck_assert(fabs(x->started_at - y->started_at) < 0.0006);
	ck_assert(fabs(x->ready_at - y->ready_at) < 0.0006);
	ck_assert(fabs(x->finished_at - y->finished_at) < 0.0006);
	ck_assert(fabs(x->duration - y->duration) < 1e-9);
	same_str(x->outcome, y->outcome);
	ck_assert_uint_eq(x->dropped, y->dropped);
	ck_assert_uint_eq(x->abandoned, y->abandoned);
	ck_assert_uint_eq(x->cut, y->cut);
	ck_assert_uint_eq(x->total, y->total);
	ck_assert_uint_eq(x->reset, y->reset);
	ck_assert_uint_eq(x->abort_on_close, y->abort_on_close);
	ck_assert_uint_eq(x->listen_overflows, y->listen_overflows);
	ck_assert_uint_eq(x->listen_drops, y->listen_drops);
	ck_assert_uint_eq(x->queue_peak, y->queue_peak);
	ck_assert_uint_eq(x->wait_max_ms, y->wait_max_ms);
	ck_assert_uint_eq(x->nl, y->nl);
	for (k = 0; k < x->nl; k++) {
		same_str(x->l[k].key, y->l[k].key);
		ck_assert_uint_eq(x->l[k].dropped, y->l[k].dropped);
		ck_assert_uint_eq(x->l[k].abandoned, y->l[k].abandoned);
		ck_assert_uint_eq(x->l[k].cut, y->l[k].cut);
		ck_assert_uint_eq(x->l[k].total, y->l[k].total);
		ck_assert_uint_eq(x->l[k].queue_peak, y->l[k].queue_peak);
		ck_assert_uint_eq(x->l[k].wait_max_ms, y->l[k].wait_max_ms);
	}
}

static void
assert_same(const struct snapshot *a, const struct snapshot *b)
{
	size_t i, k;

	ck_assert_int_eq(a->pid, b->pid);
	ck_assert_uint_eq(a->restarts, b->restarts);
	ck_assert_int_eq(a->restart_pending, b->restart_pending);
	ck_assert_int_eq(a->stopping, b->stopping);
	ck_assert_int_eq(a->stop_timeout, b->stop_timeout);
	ck_assert_uint_eq(a->last_generation, b->last_generation);
	ck_assert_uint_eq(a->nls, b->nls);
	for (i = 0; i < a->nls; i++) {
		same_str(a->ls[i].key, b->ls[i].key);
		ck_assert_int_eq(a->ls[i].fd, b->ls[i].fd);
		ck_assert_int_eq(a->ls[i].kind, b->ls[i].kind);
		ck_assert_str_eq(a->ls[i].origin, b->ls[i].origin);
		same_str(a->ls[i].fdname, b->ls[i].fdname);
		ck_assert_int_eq(a->ls[i].port, b->ls[i].port);
		same_queue(&a->ls[i], &b->ls[i]);
	}
	ck_assert_uint_eq(a->served, b->served);
	ck_assert_uint_eq(a->rolled_back, b->rolled_back);
	ck_assert_uint_eq(a->ngens, b->ngens);
	for (i = 0; i < a->ngens; i++) {
		const struct snap_gen *x = &a->gens[i], *y = &b->gens[i];

		ck_assert_uint_eq(x->id, y->id);
		ck_assert_int_eq(x->state, y->state);
		ck_assert(fabs(x->started - y->started) < 0.0006);
		ck_assert(fabs(x->ready_at - y->ready_at) < 0.0006);
		same_str(x->trigger, y->trigger);
		ck_assert_uint_eq(x->nw, y->nw);
		for (k = 0; k < x->nw; k++) {
			ck_assert_int_eq(x->w[k].index, y->w[k].index);
			ck_assert_int_eq(x->w[k].pid, y->w[k].pid);
			ck_assert_int_eq(x->w[k].alive, y->w[k].alive);
			ck_assert_int_eq(x->w[k].ready, y->w[k].ready);
			same_str(x->w[k].status, y->w[k].status);
		}
	}
	ck_assert_int_eq(a->has_deadlines, b->has_deadlines);
	ck_assert(fabs(a->interval - b->interval) < 1e-9);
	ck_assert(fabs(a->ready_timeout - b->ready_timeout) < 1e-9);
	ck_assert(fabs(a->kill_old_delay - b->kill_old_delay) < 1e-9);
	ck_assert_int_eq(a->retrying, b->retrying);
	ck_assert(fabs(a->retry_at - b->retry_at) < 0.0006);
	ck_assert_int_eq(a->has_failure, b->has_failure);
	ck_assert_uint_eq(a->fail_gen, b->fail_gen);
	ck_assert(fabs(a->fail_time - b->fail_time) < 0.0006);
	same_str(a->fail_reason, b->fail_reason);
	ck_assert_int_eq(a->has_lost, b->has_lost);
	ck_assert_uint_eq(a->lost_dropped, b->lost_dropped);
	ck_assert_uint_eq(a->lost_abandoned, b->lost_abandoned);
	ck_assert_uint_eq(a->lost_cut, b->lost_cut);
	ck_assert_uint_eq(a->nreceipts, b->nreceipts);
	for (i = 0; i < a->nreceipts; i++)
		same_receipt(&a->receipts[i], &b->receipts[i]);
}

/* Strings written then read back: in, and what must come out. */
static const struct {
	const char *in, *out;
} strings[] = {
    {"", ""},
    {"READY", "READY"},
    {"say \"hi\"", "say \"hi\""},
    {"back\\slash\\", "back\\slash\\"},
    {"\x01\x02\t\n\r\x1f end", "\x01\x02\t\n\r\x1f end"},
    {"\x7f del", "\x7f del"},
    {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
     "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
    {"bad \xff byte", "bad \xef\xbf\xbd byte"},
    {"cut \xe2\x82", "cut \xef\xbf\xbd\xef\xbf\xbd"},
    {"surrogate \xed\xa0\x80",
     "surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
    {"/ slash }{][,:", "/ slash }{][,:"},
};

START_TEST(test_json_round_trip)
{
	struct snapshot s, back;
	struct snap_listener ls[2];
	struct snap_gen gs[2];
	struct snap_worker ws[3];
	char err[256], *text;
	size_t len;

	sample(&s, ls, gs, ws, strings[_i].in);
	text = status_json_format(&s, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(strlen(text), len);
	ck_assert_msg(status_json_parse(text, &back, err, sizeof(err)) == 0,
	              "%s: %s", err, text);
	s.ls[0].options = NULL;
	ws[0].status = strings[_i].out;
	assert_same(&s, &back);
	status_json_free(&back);
	free(text);
}
END_TEST

START_TEST(test_json_nulls)
{
	struct snapshot s, back;
	char err[256], *text;
	size_t len;

	memset(&s, 0, sizeof(s));
	s.pid = 1;
	text = status_json_format(&s, &len);
	ck_assert_str_eq(
	    text,
	    "{\"pid\":1,\"restarts\":0,\"restart_pending\":false,"
	    "\"retrying\":false,\"retry_at\":null,\"stop_timeout\":0,"
	    "\"interval\":null,\"ready_timeout\":null,"
	    "\"kill_old_delay\":null,\"stopping\":false,\"last_generation\":0,"
	    "\"restarts_served\":0,\"restarts_rolled_back\":0,"
	    "\"listeners\":[],\"generations\":[],\"restart_lost\":null,"
	    "\"receipts\":[],\"last_failure\":null}\n");
	ck_assert_int_eq(status_json_parse(text, &back, err, sizeof(err)), 0);
	assert_same(&s, &back);
	status_json_free(&back);
	free(text);
}
END_TEST

/* The queue object: a figure the kernel does not give is null; an older
 * writer had no inode or queue at all; figures are bounded. */
static const struct {
	const char *listener; /* the listeners array's one element */
	int ok, has_queue;
	unsigned flags;
} queues[] = {
    {"{\"key\":\"8080\",\"fd\":3,\"type\":\"tcp\"}", 1, 0, 0},
    {"{\"key\":\"8080\",\"fd\":3,\"type\":\"tcp\",\"inode\":null,"
     "\"queue\":null}",
     1, 0, 0},
    {"{\"key\":\"/s\",\"fd\":3,\"type\":\"unix\",\"inode\":9,"
     "\"queue\":{\"len\":4,\"limit\":3,\"peak\":4,\"drops\":null,"
     "\"syn\":null,\"sampled_at\":5}}",
     1, 1, QSTAT_HAS_QUEUE},
    {"{\"key\":\"u53\",\"fd\":3,\"type\":\"udp\",\"inode\":9,"
     "\"queue\":{\"len\":null,\"limit\":null,\"peak\":null,"
     "\"drops\":7,\"syn\":null,\"sampled_at\":5}}",
     1, 1, QSTAT_HAS_DROPS},
    {"{\"key\":\"8080\",\"fd\":3,\"type\":\"tcp\",\"inode\":9,"
     "\"queue\":{\"len\":4294967296,\"limit\":3,\"peak\":4,"
     "\"drops\":0,\"syn\":null,\"sampled_at\":5}}",
     0, 0, 0},
    {"{\"key\":\"8080\",\"fd\":3,\"type\":\"tcp\",\"inode\":9,"
     "\"queue\":{\"len\":4,\"limit\":3,\"peak\":4,\"sampled_at\":5}}",
     0, 0, 0},
    {"{\"key\":\"8080\",\"fd\":3,\"type\":\"tcp\",\"inode\":-1,"
     "\"queue\":null}",
     0, 0, 0},
};

START_TEST(test_json_queue)
{
	struct snapshot back;
	char err[256], text[1024];
	int r;

	snprintf(text, sizeof(text),
	         "{\"pid\":5,\"restarts\":0,\"restart_pending\":false,"
	         "\"stop_timeout\":3,\"stopping\":false,"
	         "\"last_generation\":2,\"listeners\":[%s],"
	         "\"generations\":[],\"last_failure\":null}",
	         queues[_i].listener);
	r = status_json_parse(text, &back, err, sizeof(err));
	ck_assert_msg((r == 0) == queues[_i].ok, "%s: %s", text, err);
	if (r < 0)
		return;
	ck_assert_int_eq(back.ls[0].has_queue, queues[_i].has_queue);
	ck_assert_uint_eq(back.ls[0].queue.last.flags, queues[_i].flags);
	status_json_free(&back);
}
END_TEST

START_TEST(test_json_unknown_keys)
{
	struct snapshot back;
	char err[256];
	const char *text =
	    " {\"future\":{\"a\":[1,2.5e3,-0.1,\"x\\u00e9\",null,true,{}]},"
	    "\"pid\":5,\"restarts\":0,\"restart_pending\":false,"
	    "\"stop_timeout\":3,\"stopping\":true,\"last_generation\":2,"
	    "\"listeners\":[{\"key\":\"8080\",\"fd\":3,\"type\":\"tcp\","
	    "\"options\":{\"backlog\":5}}],\"generations\":[{\"generation\":2,"
	    "\"state\":\"serving\",\"started\":1.5,\"ready\":2,\"workers\":"
	    "[{\"index\":0,\"pid\":9,\"alive\":true,\"ready\":true,\"status\":"
	    "\"\\ud83d\\ude00\",\"new\":1}]}],\"last_failure\":null} \n";

	ck_assert_msg(status_json_parse(text, &back, err, sizeof(err)) == 0,
	              "%s", err);
	ck_assert_int_eq(back.pid, 5);
	ck_assert_int_eq(back.stopping, 1);
	ck_assert_str_eq(back.ls[0].key, "8080");
	/* written before "origin" and "fdname" existed: optional */
	ck_assert_str_eq(back.ls[0].origin, "");
	ck_assert_ptr_null(back.ls[0].fdname);
	/* and before "port" */
	ck_assert_int_eq(back.ls[0].port, 0);
	ck_assert_int_eq(back.gens[0].state, GEN_SERVING);
	ck_assert_str_eq(back.gens[0].w[0].status, "\xf0\x9f\x98\x80");
	/* an older baton's file: no deadlines, no retry fields */
	ck_assert_int_eq(back.has_deadlines, 0);
	ck_assert(back.interval == 0 && back.ready_timeout == 0);
	ck_assert_int_eq(back.retrying, 0);
	ck_assert(back.retry_at == 0);
	ck_assert(control_default_timeout(&back) == 600);
	status_json_free(&back);
}
END_TEST

/* The deadlines and the retry fields, each way they can be set. */
static const struct {
	int has, retrying;
	double interval, ready, kill, retry_at;
	const char *text; /* what the writer puts for them */
} deadlines[] = {
    {0, 0, 0, 0, 0, 0,
     "\"retrying\":false,\"retry_at\":null,\"stop_timeout\":30,"
     "\"interval\":null,\"ready_timeout\":null,\"kill_old_delay\":null,"},
    {1, 0, 1, 0, 0, 0,
     "\"retrying\":false,\"retry_at\":null,\"stop_timeout\":30,"
     "\"interval\":1,\"ready_timeout\":0,\"kill_old_delay\":0,"},
    {1, 1, 0.5, -1, 5, 0,
     "\"retrying\":true,\"retry_at\":null,\"stop_timeout\":30,"
     "\"interval\":0.5,\"ready_timeout\":null,\"kill_old_delay\":5,"},
    {1, 1, 2, 60, 0.1, 1700000001.25,
     "\"retrying\":true,\"retry_at\":1700000001.250,\"stop_timeout\":30,"
     "\"interval\":2,\"ready_timeout\":60,\"kill_old_delay\":0.1,"},
};

START_TEST(test_json_deadlines)
{
	struct snapshot s, back;
	char err[256], *text;
	size_t len;

	memset(&s, 0, sizeof(s));
	s.pid = 3;
	s.stop_timeout = 30;
	s.has_deadlines = deadlines[_i].has;
	s.interval = deadlines[_i].interval;
	s.ready_timeout = deadlines[_i].ready;
	s.kill_old_delay = deadlines[_i].kill;
	s.retrying = deadlines[_i].retrying;
	s.retry_at = deadlines[_i].retry_at;
	text = status_json_format(&s, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(strstr(text, deadlines[_i].text) != NULL, "%s", text);
	ck_assert_msg(status_json_parse(text, &back, err, sizeof(err)) == 0,
	              "%s: %s", err, text);
	assert_same(&s, &back);
	status_json_free(&back);
	free(text);
}
END_TEST

/* --restart's default wait: the sum of the supervisor's deadlines and
 * 30 s, or 600 s when one is unbounded (0 stop timeout, no ready
 * timeout) or unknown. */
static const struct {
	int has;
	double interval, ready, kill;
	long stop;
	double want;
} waits[] = {
    {0, 0, 0, 0, 0, 600},        /* start_server, or an older baton */
    {0, 1, 60, 0, 10, 600},      /* values without has_deadlines */
    {1, 1, 0, 0, 0, 600},        /* --stop-timeout 0: never SIGKILL */
    {1, 1, -1, 0, 10, 600},      /* --ready=notify --ready-timeout=0 */
    {1, 1, 0, 0, 10, 41},        /* --interval=1 --stop-timeout=10 */
    {1, 1, 60, 5, 10, 106},      /* notify, 60 s, kill-old-delay 5 */
    {1, 0.5, 2, 0.25, 3, 35.75}, /* fractions add up */
    {1, 0, 0, 0, 1, 31},         /* the least: one second and the slack */
};

START_TEST(test_default_timeout)
{
	struct snapshot s;

	memset(&s, 0, sizeof(s));
	s.has_deadlines = waits[_i].has;
	s.interval = waits[_i].interval;
	s.ready_timeout = waits[_i].ready;
	s.kill_old_delay = waits[_i].kill;
	s.stop_timeout = waits[_i].stop;
	ck_assert_msg(fabs(control_default_timeout(&s) - waits[_i].want) < 1e-9,
	              "got %g, want %g", control_default_timeout(&s),
	              waits[_i].want);
	ck_assert(control_default_timeout(NULL) == 600);
}
END_TEST

#define HEAD                                                                   \
	"{\"pid\":1,\"restarts\":0,\"restart_pending\":false,\"stop_"          \
	"timeout\":0,"                                                         \
	"\"stopping\":false,\"last_generation\":0,\"listeners\":[],"
#define GEN(w)                                                                 \
	HEAD "\"generations\":[{\"generation\":1,\"state\":\"serving\","       \
	     "\"started\":1,\"ready\":null,\"workers\":[" w "]}],"             \
	     "\"last_failure\":null}"
#define WK(st)                                                                 \
	"{\"index\":0,\"pid\":2,\"alive\":true,\"ready\":false,\"status\":" st \
	"}"

static const char *const bad_json[] = {
    "",
    "null",
    "[]",
    "{}",
    HEAD "\"generations\":[],\"last_failure\":null",
    HEAD "\"generations\":[],\"last_failure\":null}x",
    HEAD "\"generations\":[],\"last_failure\":null,}",
    HEAD "\"generations\":[],\"last_failure\":nul}",
    HEAD "\"generations\":[],\"last_failure\":{}}",
    HEAD "\"generations\":[,],\"last_failure\":null}",
    HEAD "\"generations\":[],\"pid\":2,\"last_failure\":null}",
    "{\"pid\":-1,\"restarts\":0,\"restart_pending\":false,\"stop_timeout\":0,"
    "\"stopping\":false,\"last_generation\":0,\"listeners\":[],"
    "\"generations\":[],\"last_failure\":null}",
    "{\"pid\":1.5,\"restarts\":0,\"restart_pending\":false,\"stop_timeout\":0,"
    "\"stopping\":false,\"last_generation\":0,\"listeners\":[],"
    "\"generations\":[],\"last_failure\":null}",
    "{\"pid\":1,\"restarts\":-3,\"restart_pending\":false,\"stop_timeout\":0,"
    "\"stopping\":false,\"last_generation\":0,\"listeners\":[],"
    "\"generations\":[],\"last_failure\":null}",
    "{\"pid\":1,\"restarts\":0,\"restart_pending\":0,\"stop_timeout\":0,"
    "\"stopping\":false,\"last_generation\":0,\"listeners\":[],"
    "\"generations\":[],\"last_failure\":null}",
    "{\"pid\":01,\"restarts\":0,\"restart_pending\":false,\"stop_timeout\":0,"
    "\"stopping\":false,\"last_generation\":0,\"listeners\":[],"
    "\"generations\":[],\"last_failure\":null}",
    "{\"pid\":1,\"restarts\":99999999999999999999999,\"restart_pending\":"
    "false,\"stop_timeout\":0,\"stopping\":false,\"last_generation\":0,"
    "\"listeners\":[],\"generations\":[],\"last_failure\":null}",
    GEN(WK("\"unterminated")),
    GEN(WK("\"tab\there\"")),
    GEN(WK("\"bad \\x escape\"")),
    GEN(WK("\"\\u12\"")),
    GEN(WK("\"\\u0000\"")),
    GEN(WK("\"\\ud800 alone\"")),
    GEN(WK("\"\\udc00\"")),
    GEN(WK("\"\xff\"")),
    GEN(WK("\"\xc0\xaf\"")),
    GEN(WK("'single'")),
    GEN(WK("5")),
    GEN("{\"index\":0,\"pid\":2,\"alive\":true,\"ready\":false}"),
    GEN(WK("null") ","
                   "{\"index\":0}"),
    HEAD "\"generations\":[{\"generation\":1,\"state\":\"Serving\","
         "\"started\":1,\"ready\":null,\"workers\":[]}],\"last_failure\":null}",
    HEAD
    "\"generations\":[{\"generation\":1,\"state\":\"a-very-long-state-name\","
    "\"started\":1,\"ready\":null,\"workers\":[]}],\"last_failure\":null}",
    HEAD
    "\"generations\":[{\"generation\":1,\"state\":\"serving\","
    "\"started\":1.,\"ready\":null,\"workers\":[]}],\"last_failure\":null}",
    HEAD "\"generations\":[],\"last_failure\":null,\"interval\":-1}",
    HEAD "\"generations\":[],\"last_failure\":null,\"ready_timeout\":\"5\"}",
    HEAD "\"generations\":[],\"last_failure\":null,\"kill_old_delay\":true}",
    HEAD "\"generations\":[],\"last_failure\":null,\"retrying\":1}",
    HEAD "\"generations\":[],\"last_failure\":null,\"retrying\":null}",
    HEAD "\"generations\":[],\"last_failure\":null,\"retry_at\":-5}",
    HEAD "\"generations\":[],\"retrying\":true,\"last_failure\":null,"
         "\"retrying\":false}",
    HEAD "\"generations\":[],\"last_failure\":null,\"deep\":"
         "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}",
};

START_TEST(test_json_bad)
{
	struct snapshot back;
	char err[256] = "";

	ck_assert_msg(status_json_parse(bad_json[_i], &back, err, sizeof(err)) <
	                  0,
	              "accepted: %s", bad_json[_i]);
	ck_assert_msg(err[0] != '\0', "no error for %s", bad_json[_i]);
	ck_assert_ptr_null(back.gens);
	ck_assert_ptr_null(back.ls);
}
END_TEST

/* ---- the schema's rows ----------------------------------------------------
 */

/* text with every "name": renamed "Name": (a key no reader knows), as if
 * the writer had not written it; malloc'd. */
static char *
hide_key(const char *text, const char *name)
{
	char pat[160], *out = strdup(text), *p;

	ck_assert_ptr_nonnull(out);
	snprintf(pat, sizeof(pat), "\"%s\":", name);
	for (p = out; (p = strstr(p, pat)) != NULL; p += strlen(pat))
		p[1] = (char)toupper((unsigned char)p[1]);
	return out;
}

/* text with its first "from" replaced by "to"; malloc'd. */
static char *
replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
	char *out = malloc(n);

	ck_assert_msg(at != NULL, "no %s in %s", from, text);
	ck_assert_ptr_nonnull(out);
	snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to,
	         at + strlen(from));
	return out;
}

/* The full sample, written. */
static char *
sample_text(void)
{
	struct snapshot s;
	struct snap_listener ls[2];
	struct snap_gen gs[2];
	struct snap_worker ws[3];
	size_t len;
	char *text;

	sample(&s, ls, gs, ws, "READY");
	text = status_json_format(&s, &len);
	ck_assert_ptr_nonnull(text);
	return text;
}

/* The queue object moved here from qstat.c: a figure the kernel did not
 * give (unix drops, UDP queue, syn not asked for) is null. */
static const struct {
	struct qstat q;
	uint32_t peak;
	const char *json;
} queue_objects[] = {
    {{QSTAT_HAS_QUEUE | QSTAT_HAS_DROPS, 5, 4, 0, 5, 1},
     5,
     "\"queue\":{\"len\":5,\"limit\":4,\"peak\":5,\"drops\":5,\"syn\":null,"
     "\"sampled_at\":1764600000,\"wait_max_ms\":null,\"idle\":null,"
     "\"abandoned\":null}}"},
    {{QSTAT_HAS_QUEUE, 4, 3, 0, 0, 1},
     4,
     "\"queue\":{\"len\":4,\"limit\":3,\"peak\":4,\"drops\":null,"
     "\"syn\":null,\"sampled_at\":1764600000,\"wait_max_ms\":null,"
     "\"idle\":null,\"abandoned\":null}}"},
    {{QSTAT_HAS_QUEUE | QSTAT_HAS_DROPS | QSTAT_HAS_SYN, 0, 16, 5, 5, 1},
     2,
     "\"queue\":{\"len\":0,\"limit\":16,\"peak\":2,\"drops\":5,\"syn\":5,"
     "\"sampled_at\":1764600000,\"wait_max_ms\":null,\"idle\":null,"
     "\"abandoned\":null}}"},
    {{QSTAT_HAS_DROPS, 0, 0, 0, 18446744073709551615u, 1},
     0,
     "\"queue\":{\"len\":null,\"limit\":null,\"peak\":null,"
     "\"drops\":18446744073709551615,\"syn\":null,"
     "\"sampled_at\":1764600000,\"wait_max_ms\":null,\"idle\":null,"
     "\"abandoned\":null}}"},
};

START_TEST(test_json_queue_object)
{
	struct snapshot s, back;
	struct snap_listener l;
	char err[256], *text;
	size_t len;

	memset(&s, 0, sizeof(s));
	memset(&l, 0, sizeof(l));
	s.pid = 2;
	s.nls = 1;
	s.ls = &l;
	l.key = "8080";
	l.fd = 3;
	strcpy(l.origin, "bound");
	l.inode = 9;
	l.has_queue = 1;
	l.queue.last = queue_objects[_i].q;
	l.queue.peak = queue_objects[_i].peak;
	l.queue.sampled_at = 1764600000;
	text = status_json_format(&s, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(strstr(text, queue_objects[_i].json) != NULL, "%s", text);
	ck_assert_msg(status_json_parse(text, &back, err, sizeof(err)) == 0,
	              "%s: %s", err, text);
	/* what the kernel did not give reads back as not given */
	if (!(l.queue.last.flags & QSTAT_HAS_QUEUE))
		l.queue.peak = 0;
	assert_same(&s, &back);
	status_json_free(&back);
	free(text);
}
END_TEST

/* Is the key at path inside an object (or array) new in 0.3? */
static int
in_new_object(const char *path)
{
	struct status_json_key k;
	const char *dot = strrchr(path, '.');
	size_t i, n = dot ? (size_t)(dot - path) : 0;

	for (i = 0; n > 0 && status_json_key(i, &k) == 0; i++)
		if (strlen(k.path) == n && strncmp(k.path, path, n) == 0)
			return strcmp(k.since, "0.3") == 0;
	return 0;
}

/* A file from 0.2, which wrote none of the 0.3 keys ("port", "trigger"),
 * reads as this version's file with those left null. */
START_TEST(test_json_older_version)
{
	struct snapshot s, back;
	struct snap_listener ls[2];
	struct snap_gen gs[2];
	struct snap_worker ws[3];
	struct status_json_key k;
	char err[256], *text, *old;
	size_t i, len, hidden = 0;

	sample(&s, ls, gs, ws, "READY");
	text = status_json_format(&s, &len);
	ck_assert_ptr_nonnull(text);
	for (i = 0; status_json_key(i, &k) == 0; i++) {
		if (strcmp(k.since, "0.3") != 0)
			continue;
		/* a key of an object new in 0.3 goes with its object */
		if (k.required && in_new_object(k.path))
			continue;
		ck_assert_msg(!k.required, "%s", k.path);
		old = hide_key(text, k.name);
		free(text);
		text = old;
		hidden++;
	}
	ck_assert_uint_ge(hidden, 2);
	ck_assert_ptr_null(strstr(text, "\"trigger\":"));
	ck_assert_ptr_null(strstr(text, "\"port\":"));
	ck_assert_msg(status_json_parse(text, &back, err, sizeof(err)) == 0,
	              "%s: %s", err, text);
	s.ls[0].options = NULL;
	ls[0].port = 0;
	gs[0].trigger = NULL;
	ls[0].has_acceptq = 0;
	s.has_lost = 0;
	s.lost_dropped = s.lost_abandoned = s.lost_cut = 0;
	s.nreceipts = 0;
	assert_same(&s, &back);
	status_json_free(&back);
	free(text);
}
END_TEST

/* A key as old as its object is required, and the error names it. */
static const char *const required_keys[] = {
    "stop_timeout", "last_failure", "fd",         "type",
    "workers",      "status",       "sampled_at", "reason",
};

START_TEST(test_json_missing_key)
{
	struct snapshot back;
	char err[256] = "", want[64], *text = sample_text();
	char *bad = hide_key(text, required_keys[_i]);

	ck_assert_int_lt(status_json_parse(bad, &back, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "missing key \"%s\"", required_keys[_i]);
	ck_assert_msg(strstr(err, want) != NULL, "%s", err);
	ck_assert_ptr_null(back.ls);
	free(bad);
	free(text);
}
END_TEST

/* A key given twice, at each level. */
static const struct {
	const char *from, *to, *key;
} duplicates[] = {
    {"\"pid\":4242,", "\"pid\":4242,\"pid\":4242,", "pid"},
    {"\"fd\":3,", "\"fd\":3,\"fd\":4,", "fd"},
    {"\"trigger\":\"hup\",", "\"trigger\":\"hup\",\"trigger\":null,",
     "trigger"},
    {"\"len\":5,", "\"len\":5,\"len\":5,", "len"},
    {"\"reason\":", "\"reason\":\"x\",\"reason\":", "reason"},
    {"\"listeners\":[", "\"listeners\":[],\"listeners\":[", "listeners"},
};

START_TEST(test_json_duplicate_key)
{
	struct snapshot back;
	char err[256] = "", want[64], *text = sample_text();
	char *bad = replace(text, duplicates[_i].from, duplicates[_i].to);

	ck_assert_int_lt(status_json_parse(bad, &back, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "duplicate key \"%s\"",
	         duplicates[_i].key);
	ck_assert_msg(strstr(err, want) != NULL, "%s", err);
	free(bad);
	free(text);
}
END_TEST

/* A value outside its row's bounds, or of the wrong type: refused with
 * the key named (where it is) and the offset. */
static const struct {
	const char *from, *to, *path;
} out_of_bounds[] = {
    {"\"pid\":4242", "\"pid\":0", "pid"},
    {"\"pid\":4242", "\"pid\":2147483648", "pid"},
    {"\"stop_timeout\":30", "\"stop_timeout\":9223372036854775808",
     "stop_timeout"},
    {"\"port\":8080", "\"port\":65536", "listeners[0].port"},
    {"\"port\":8080", "\"port\":0", "listeners[0].port"},
    {"\"fd\":3", "\"fd\":-2", "listeners[0].fd"},
    {"\"len\":5", "\"len\":4294967296", "listeners[0].queue.len"},
    {"\"drops\":5000000000", "\"drops\":18446744073709551616",
     "listeners[0].queue.drops"},
    {"\"inode\":77", "\"inode\":-1", "listeners[1].inode"},
    {"\"started\":1700000000.125", "\"started\":-1", "generations[0].started"},
    {"\"started\":1700000000.125", "\"started\":1e999",
     "generations[0].started"},
    {"\"index\":1", "\"index\":-1", "generations[0].workers[1].index"},
    {"\"trigger\":\"hup\"", "\"trigger\":5", "generations[0].trigger"},
    {"\"interval\":1.5", "\"interval\":-0.5", "interval"},
    {"\"restart_pending\":true", "\"restart_pending\":1", "restart_pending"},
    {"\"type\":\"tcp\"", "\"type\":\"sctp\"", "listeners[0].type"},
    {"\"origin\":\"systemd\"", "\"origin\":\"systemdsystemdsys\"",
     "listeners[0].origin"},
};

START_TEST(test_json_bounds)
{
	struct snapshot back;
	char err[256] = "", *text = sample_text();
	char *bad = replace(text, out_of_bounds[_i].from, out_of_bounds[_i].to);

	ck_assert_int_lt(status_json_parse(bad, &back, err, sizeof(err)), 0);
	ck_assert_msg(strncmp(err, out_of_bounds[_i].path,
	                      strlen(out_of_bounds[_i].path)) == 0 &&
	                  err[strlen(out_of_bounds[_i].path)] == ':' &&
	                  strstr(err, " at offset ") != NULL,
	              "%s", err);
	free(bad);
	free(text);
}
END_TEST

/* Long strings: a trigger of 255 bytes is read, one of 256 is not. */
START_TEST(test_json_string_bound)
{
	struct snapshot back;
	char err[256] = "", a[300], trig[320], *text = sample_text(), *t;

	memset(a, 'a', sizeof(a));
	snprintf(trig, sizeof(trig), "\"trigger\":\"%.255s\"", a);
	t = replace(text, "\"trigger\":\"hup\"", trig);
	ck_assert_msg(status_json_parse(t, &back, err, sizeof(err)) == 0, "%s",
	              err);
	ck_assert_uint_eq(strlen(back.gens[0].trigger), 255);
	status_json_free(&back);
	free(t);
	snprintf(trig, sizeof(trig), "\"trigger\":\"%.256s\"", a);
	t = replace(text, "\"trigger\":\"hup\"", trig);
	ck_assert_int_lt(status_json_parse(t, &back, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "generations[0].trigger: ") == err, "%s",
	              err);
	free(t);
	free(text);
}
END_TEST

/* Every row of the table is written, and read back: without it a file is
 * refused (a required key, named) or reads differently (an optional
 * one, left null). The sample gives every row a value that is not its
 * null, so a row one side missed fails here. */
START_TEST(test_json_every_row)
{
	struct snapshot back;
	struct status_json_key k, o;
	char err[256], pat[160], *text = sample_text(), *hidden, *again;
	char *full;
	size_t i, j, len;
	int required;

	ck_assert_int_eq(status_json_parse(text, &back, err, sizeof(err)), 0);
	full = status_json_format(&back, &len);
	status_json_free(&back);
	for (i = 0; status_json_key(i, &k) == 0; i++) {
		snprintf(pat, sizeof(pat), "\"%s\":", k.name);
		ck_assert_msg(strstr(text, pat) != NULL, "%s not written",
		              k.path);
		/* a name two objects share ("ready") is required if either
		 * has it so */
		for (j = 0, required = 0; status_json_key(j, &o) == 0; j++)
			if (strcmp(o.name, k.name) == 0)
				required |= o.required;
		hidden = hide_key(text, k.name);
		if (required) {
			ck_assert_msg(status_json_parse(hidden, &back, err,
			                                sizeof(err)) < 0,
			              "%s: accepted without it", k.path);
			snprintf(pat, sizeof(pat), "missing key \"%s\"",
			         k.name);
			ck_assert_msg(strstr(err, pat) != NULL, "%s: %s",
			              k.path, err);
		} else {
			ck_assert_msg(status_json_parse(hidden, &back, err,
			                                sizeof(err)) == 0,
			              "%s: %s", k.path, err);
			again = status_json_format(&back, &len);
			ck_assert_msg(strcmp(again, full) != 0,
			              "%s: not read (the same without it)",
			              k.path);
			free(again);
			status_json_free(&back);
		}
		free(hidden);
	}
	ck_assert_uint_ge(i, 40);
	free(full);
	free(text);
}
END_TEST

/* ---- the re-exec state ----------------------------------------------------
 */

START_TEST(test_reexec_round_trip)
{
	struct reexec_worker w[3] = {{100, 1}, {0, 0}, {99, 1}};
	struct reexec_gen g[2] = {{5, "serving", 0, 2, w},
	                          {4, "retiring", 15, 1, w + 2}};
	char k0[] = "8080", k1[] = "/s", n1[] = "web";
	struct reexec_listener ls[2] = {{4, LISTEN_BOUND, k0, NULL},
	                                {6, LISTEN_SYSTEMD, k1, n1}};
	struct reexec_state s = {1234, 3, 2, ls, 5, 4, 1, 1, 12.5, 2, g, -1},
	                    back;
	char err[256], *text = reexec_pack(&s);
	size_t i, k;

	ck_assert_ptr_nonnull(text);
	ck_assert(strncmp(text, "baton-reexec 4\n", 15) == 0);
	ck_assert_msg(reexec_unpack(text, &back, err, sizeof(err)) == 0, "%s",
	              err);
	ck_assert_int_eq(back.pid, 1234);
	ck_assert_int_eq(back.pidfile_fd, 3);
	ck_assert_uint_eq(back.nls, 2);
	ck_assert_int_eq(back.ls[1].fd, 6);
	ck_assert_uint_eq(back.last_id, 5);
	ck_assert_uint_eq(back.restarts, 4);
	ck_assert_uint_eq(back.failures, 1);
	ck_assert_int_eq(back.ever_served, 1);
	ck_assert(fabs(back.since_restart - 12.5) < 0.001);
	ck_assert_uint_eq(back.ngens, 2);
	for (i = 0; i < 2; i++) {
		ck_assert_uint_eq(back.gens[i].id, g[i].id);
		ck_assert_str_eq(back.gens[i].state, g[i].state);
		ck_assert_int_eq(back.gens[i].stop_sig, g[i].stop_sig);
		ck_assert_uint_eq(back.gens[i].nw, g[i].nw);
		for (k = 0; k < g[i].nw; k++) {
			ck_assert_int_eq(back.gens[i].w[k].pid, g[i].w[k].pid);
			ck_assert_int_eq(back.gens[i].w[k].ready,
			                 g[i].w[k].ready);
		}
	}
	reexec_state_free(&back);
	free(text);
}
END_TEST

#define RX_HEAD                                                                \
	"baton-reexec 2\npid 1\npidfile -1\nlisteners 0\ncounters 1 0 0 1 "    \
	"0.5\n"

static const char *const bad_reexec[] = {
    "",
    "garbage",
    "v1 1 0 0 1 0.000 g1,2,0,1,123:1",
    "baton-reexec 1\n",
    "baton-reexec 3\n"
    "pid 1\n",
    RX_HEAD "generations 1\ngen 1 serving 0 1\n",
    RX_HEAD "generations 1\ngen 1 serving 0 1\nworker 5 1\n",
    RX_HEAD "generations 1\ngen 1 2 0 1\nworker 5 1\nend\n",
    RX_HEAD "generations 1\ngen 1 Serving 0 1\nworker 5 1\nend\n",
    RX_HEAD "generations 1\ngen 1 serving 0 1\nworker -5 1\nend\n",
    RX_HEAD "generations 1\ngen 1 serving 0 1\nworker 5 1 x\nend\n",
    RX_HEAD "generations 0\nend\nmore\n",
    RX_HEAD "generations 0\nend",
    RX_HEAD "generations 99999999\nend\n",
};

START_TEST(test_reexec_bad)
{
	struct reexec_state back;
	char err[256] = "";

	ck_assert_msg(reexec_unpack(bad_reexec[_i], &back, err, sizeof(err)) <
	                  0,
	              "accepted: %s", bad_reexec[_i]);
	ck_assert(err[0] != '\0');
	ck_assert_ptr_null(back.gens);
}
END_TEST

START_TEST(test_reexec_good_minimal)
{
	struct reexec_state back;
	char err[256];

	ck_assert_int_eq(reexec_unpack(RX_HEAD "generations 0\nend\n", &back,
	                               err, sizeof(err)),
	                 0);
	reexec_state_free(&back);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

void
tests_status(void)
{
	TCase *tc = unit_case("statusjson");
	TCase *tr = unit_case("reexec");

	tcase_add_loop_test(tc, test_json_round_trip, 0, N(strings));
	tcase_add_test(tc, test_json_nulls);
	tcase_add_test(tc, test_json_unknown_keys);
	tcase_add_loop_test(tc, test_json_queue, 0, N(queues));
	tcase_add_loop_test(tc, test_json_deadlines, 0, N(deadlines));
	tcase_add_loop_test(tc, test_default_timeout, 0, N(waits));
	tcase_add_loop_test(tc, test_json_bad, 0, N(bad_json));
	tcase_add_loop_test(tc, test_json_queue_object, 0, N(queue_objects));
	tcase_add_test(tc, test_json_older_version);
	tcase_add_loop_test(tc, test_json_missing_key, 0, N(required_keys));
	tcase_add_loop_test(tc, test_json_duplicate_key, 0, N(duplicates));
	tcase_add_loop_test(tc, test_json_bounds, 0, N(out_of_bounds));
	tcase_add_test(tc, test_json_string_bound);
	tcase_add_test(tc, test_json_every_row);
	tcase_add_test(tr, test_reexec_round_trip);
	tcase_add_loop_test(tr, test_reexec_bad, 0, N(bad_reexec));
	tcase_add_test(tr, test_reexec_good_minimal);
}
