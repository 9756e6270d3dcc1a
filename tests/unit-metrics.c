/* SPDX-License-Identifier: ISC */
/* unit-metrics.c: Check tests of the Prometheus text writer, the .prom file
 * and the metrics listener's HTTP parser. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "httpreq.h"
#include "log.h"
#include "metrics.h"
#include "utf8.h"
#include "run-tests.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- label and HELP escaping -------------------------------------------- */

static const struct {
	const char *value, *want;
} label_cases[] = {
    {"127.0.0.1:8080", "m{listener=\"127.0.0.1:8080\"} 7\n"},
    {"/run/a\"b.sock", "m{listener=\"/run/a\\\"b.sock\"} 7\n"},
    {"c:\\path", "m{listener=\"c:\\\\path\"} 7\n"},
    {"two\nlines", "m{listener=\"two\\nlines\"} 7\n"},
    {"", "m{listener=\"\"} 7\n"},
    {"\\\"\n", "m{listener=\"\\\\\\\"\\n\"} 7\n"},
    {"caf\xc3\xa9", "m{listener=\"caf\xc3\xa9\"} 7\n"},
    /* not UTF-8, or a control character the format has no escape for:
     * U+FFFD, as STATUS.json does */
    {"/a\xff.sock", "m{listener=\"/a\xef\xbf\xbd.sock\"} 7\n"},
    {"a\rb", "m{listener=\"a\xef\xbf\xbd"
             "b\"} 7\n"},
    {"a\tb\x7f", "m{listener=\"a\xef\xbf\xbd"
                 "b\xef\xbf\xbd\"} 7\n"},
    {"\xc0\xaf", "m{listener=\"\xef\xbf\xbd\xef\xbf\xbd\"} 7\n"},
    {"\xed\xa0\x80",
     "m{listener=\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"} 7\n"},
    {"cut\xe2\x82", "m{listener=\"cut\xef\xbf\xbd\xef\xbf\xbd\"} 7\n"},
    {"\xf4\x90\x80\x80", "m{listener=\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                         "\xef\xbf\xbd\"} 7\n"},
    {"\xf0\x9f\x98\x80\xe2\x82\xac",
     "m{listener=\"\xf0\x9f\x98\x80\xe2\x82\xac\"} 7\n"},
    {"/r\"\\\r\n\xfe",
     "m{listener=\"/r\\\"\\\\\xef\xbf\xbd\\n\xef\xbf\xbd\"} 7\n"},
};

START_TEST(test_label_escaping)
{
	struct metrics_text t;
	struct metrics_label l = {"listener", label_cases[_i].value};
	const char *line;

	metrics_text_init(&t);
	ck_assert_int_eq(metrics_family(&t, "m", "gauge", "h"), 0);
	ck_assert_int_eq(metrics_sample(&t, "m", &l, 1, 7), 0);
	line = strstr(t.buf, "\nm");
	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(line + 1, label_cases[_i].want);
	metrics_text_free(&t);
}
END_TEST

START_TEST(test_help_escaping)
{
	struct metrics_text t;

	metrics_text_init(&t);
	ck_assert_int_eq(metrics_family(&t, "m", "counter", "a \\ b\nc \"q\""),
	                 0);
	ck_assert_str_eq(t.buf, "# HELP m a \\\\ b\\nc \"q\"\n"
	                        "# TYPE m counter\n");
	metrics_text_free(&t);
}
END_TEST

/* ---- the shared UTF-8 check and the log's escaper ------------------------ */

static const struct {
	const char *in;
	size_t n, want;
} utf8_cases[] = {
    {"a", 1, 1},
    {"\xc3\xa9", 2, 2},
    {"\xe2\x82\xac", 3, 3},
    {"\xf0\x9f\x98\x80", 4, 4},
    {"\xf4\x8f\xbf\xbf", 4, 4}, /* U+10FFFF */
    {"\xf4\x90\x80\x80", 4, 0}, /* past U+10FFFF */
    {"\xc0\xaf", 2, 0},         /* overlong */
    {"\xe0\x80\xaf", 3, 0},     /* overlong */
    {"\xed\xa0\x80", 3, 0},     /* a surrogate */
    {"\xff", 1, 0},
    {"\x80", 1, 0},
    {"\xe2\x82\xac", 2, 0}, /* cut short by n */
    {"\xe2\x82", 3, 0},     /* cut short by the NUL */
    {"", 0, 0},
};

START_TEST(test_utf8_len)
{
	ck_assert_uint_eq(utf8_len((const unsigned char *)utf8_cases[_i].in,
	                           utf8_cases[_i].n),
	                  utf8_cases[_i].want);
}
END_TEST

static const struct {
	const char *in, *want;
} log_cases[] = {
    {"plain /run/app.sock", "plain /run/app.sock"},
    {"caf\xc3\xa9 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xf0\x9f\x98\x80"},
    {"a\nb\tc\rd", "a\\nb\\tc\\rd"},
    {"\x01\x7f", "\\x01\\x7f"},
    {"/a\xff.sock", "/a\\xff.sock"},
    {"\xc0\xaf", "\\xc0\\xaf"},
    {"cut\xe2\x82", "cut\\xe2\\x82"},
};

/* Log lines: valid UTF-8 and one line, whatever the bytes quoted. */
START_TEST(test_log_escape)
{
	char out[256];

	log_escape(out, sizeof(out), log_cases[_i].in);
	ck_assert_str_eq(out, log_cases[_i].want);
}
END_TEST

/* Cut short by the room in out, a line is still valid UTF-8: a
 * character is left out whole, never cut. */
START_TEST(test_log_escape_room)
{
	static const char in[] = "ab\xf0\x9f\x98\x80\xe2\x82\xac\xff\xc3\xa9";
	char out[64];
	size_t len, i;

	for (len = 1; len < sizeof(out); len++) {
		log_escape(out, len, in);
		ck_assert_uint_lt(strlen(out), len);
		for (i = 0; out[i] != '\0';
		     i += utf8_len((const unsigned char *)out + i, (size_t)-1))
			ck_assert_uint_ne(
			    utf8_len((const unsigned char *)out + i,
			             (size_t)-1),
			    0);
	}
}
END_TEST

/* ---- what the writer refuses ------------------------------------------- */

START_TEST(test_refusals)
{
	struct metrics_text t;
	struct metrics_label bad1 = {"__reserved", "x"};
	struct metrics_label bad2 = {"has:colon", "x"};
	struct metrics_label bad3 = {"9lead", "x"};
	struct metrics_label bad4 = {"ok", NULL};
	size_t len;

	metrics_text_init(&t);
	/* a sample before any family */
	ck_assert_int_eq(metrics_sample(&t, "m", NULL, 0, 1), -1);
	ck_assert_int_eq(metrics_family(&t, "9m", "gauge", "h"), -1);
	ck_assert_int_eq(metrics_family(&t, "m-x", "gauge", "h"), -1);
	ck_assert_int_eq(metrics_family(&t, "", "gauge", "h"), -1);
	ck_assert_int_eq(metrics_family(&t, "m", "histogramm", "h"), -1);
	ck_assert_int_eq(metrics_family(&t, "ns:m", "gauge", "h"), 0);
	ck_assert_int_eq(metrics_family(&t, "m", "gauge", "h"), 0);
	len = t.len;
	/* one HELP and TYPE per family, samples only in their family */
	ck_assert_int_eq(metrics_family(&t, "m", "gauge", "again"), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(metrics_sample(&t, "ns:m", NULL, 0, 1), -1);
	ck_assert_int_eq(metrics_sample(&t, "m", &bad1, 1, 1), -1);
	ck_assert_int_eq(metrics_sample(&t, "m", &bad2, 1, 1), -1);
	ck_assert_int_eq(metrics_sample(&t, "m", &bad3, 1, 1), -1);
	ck_assert_int_eq(metrics_sample(&t, "m", &bad4, 1, 1), -1);
	/* and a refusal leaves the text as it was */
	ck_assert_uint_eq(t.len, len);
	ck_assert_uint_eq(strlen(t.buf), len);
	ck_assert_int_eq(
	    metrics_sample(&t, "m", NULL, 0, 18446744073709551615u), 0);
	ck_assert_ptr_nonnull(strstr(t.buf, "\nm 18446744073709551615\n"));
	metrics_text_free(&t);
}
END_TEST

/* ---- baton's families ---------------------------------------------------- */

/* A listener as a test writes it: which figures the sample gave. */
struct tl {
	const char *key;
	enum qstat_kind kind;
	int has_queue;
	uint32_t len, peak, backlog;
	int has_drops;
	uint64_t drops;
	int has_syn;
	uint32_t syn;
	int fd, port;
};

/* The snapshot's listeners for n test rows (static: at most 16). */
static struct snap_listener *
snap_listeners(const struct tl *t, size_t n)
{
	static struct snap_listener out[16];
	size_t i;

	ck_assert_uint_le(n, N(out));
	memset(out, 0, sizeof(out));
	for (i = 0; i < n; i++) {
		struct qstat *q = &out[i].queue.last;

		out[i].key = t[i].key;
		out[i].kind = t[i].kind;
		out[i].fd = t[i].fd;
		out[i].port = t[i].port;
		out[i].has_queue =
		    t[i].has_queue || t[i].has_drops || t[i].has_syn;
		q->flags = (t[i].has_queue ? QSTAT_HAS_QUEUE : 0) |
		           (t[i].has_drops ? QSTAT_HAS_DROPS : 0) |
		           (t[i].has_syn ? QSTAT_HAS_SYN : 0);
		q->len = t[i].len;
		q->limit = t[i].backlog;
		q->drops = t[i].drops;
		q->syn = t[i].syn;
		out[i].queue.peak = t[i].peak;
	}
	return out;
}

static const struct tl listeners[] = {
    {"127.0.0.1:8080", QSTAT_TCP, 1, 5, 5, 4, 1, 7, 0, 0, 3, 0},
    {"/run/app.sock", QSTAT_UNIX, 1, 4, 4, 3, 0, 0, 0, 0, 4, 0},
    {"u9000", QSTAT_UDP, 0, 0, 0, 0, 1, 2, 0, 0, 5, 0},
};
/* generation 3 serves with 4 workers, generation 2 retires with 2 */
static struct snap_worker alive[4] = {{0, 101, 1, 1, NULL},
                                      {1, 102, 1, 1, NULL},
                                      {2, 103, 1, 1, NULL},
                                      {3, 104, 1, 1, NULL}};
static struct snap_gen gens[] = {
    {3, GEN_SERVING, 0, 0, "hup", 4, alive},
    {2, GEN_RETIRING, 0, 0, "start", 2, alive},
};

/* How many lines of text start with prefix. */
static int
count_lines(const char *text, const char *prefix)
{
	const char *p = text;
	int n = 0;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			n++;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return n;
}

/* Check the format rules over a whole rendering: every family has one
 * HELP and one TYPE line, its samples follow them, no line has a third
 * field (a timestamp), and the text ends with a newline. */
static void
check_format(const char *text)
{
	char *copy = strdup(text), *save = NULL, *line;
	char family[128] = "";

	ck_assert_ptr_nonnull(copy);
	ck_assert(text[strlen(text) - 1] == '\n');
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char help[160], type[160];
		const char *close;

		if (strncmp(line, "# HELP ", 7) == 0) {
			sscanf(line + 7, "%127s", family);
			snprintf(help, sizeof(help), "# HELP %s ", family);
			snprintf(type, sizeof(type), "# TYPE %s ", family);
			ck_assert_int_eq(count_lines(text, help), 1);
			ck_assert_int_eq(count_lines(text, type), 1);
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0)
			continue;
		ck_assert_msg(strncmp(line, family, strlen(family)) == 0 &&
		                  (line[strlen(family)] == '{' ||
		                   line[strlen(family)] == ' '),
		              "sample outside its family: %s", line);
		close = strrchr(line, '}');
		close = close != NULL ? close + 1 : line + strlen(family);
		/* " VALUE" and nothing after: no timestamp */
		ck_assert_msg(strchr(close + 1, ' ') == NULL,
		              "a third field: %s", line);
	}
	free(copy);
}

START_TEST(test_render)
{
	struct metrics_text t;
	struct snapshot s = {0};

	s.nls = N(listeners);
	s.ls = snap_listeners(listeners, N(listeners));
	s.ngens = N(gens);
	s.gens = gens;
	s.served = 2;
	s.rolled_back = 1;

	metrics_text_init(&t);
	ck_assert_int_eq(metrics_render(&t, &s), 0);
	check_format(t.buf);
	ck_assert_ptr_nonnull(strstr(
	    t.buf, "\nbaton_listener_accept_queue_length{listener=\"127.0.0.1:"
	           "8080\",proto=\"tcp\"} 5\n"));
	ck_assert_ptr_nonnull(strstr(
	    t.buf, "\nbaton_listener_accept_queue_length{listener=\"/run/"
	           "app.sock\",proto=\"unix\"} 4\n"));
	ck_assert_ptr_nonnull(
	    strstr(t.buf, "\nbaton_listener_backlog{listener=\"/run/app.sock\","
	                  "proto=\"unix\"} 3\n"));
	ck_assert_ptr_nonnull(strstr(
	    t.buf, "# TYPE baton_listener_drops_total counter\n"
	           "baton_listener_drops_total{listener=\"127.0.0.1:8080\","
	           "proto=\"tcp\"} 7\n"
	           "baton_listener_drops_total{listener=\"u9000\","
	           "proto=\"udp\"} 2\n# HELP"));
	/* a unix listener has no drop counter: no series, rather than 0 */
	ck_assert_int_eq(count_lines(t.buf, "baton_listener_drops_total{"
	                                    "listener=\"/run"),
	                 0);
	/* a UDP socket has no accept queue */
	ck_assert_ptr_null(strstr(t.buf, "queue_length{listener=\"u9000\""));
	/* nobody sampled SYNs: the opt-in family is absent altogether */
	ck_assert_ptr_null(strstr(t.buf, "syn_queue"));
	/* nor the bound port: none was given */
	ck_assert_ptr_null(strstr(t.buf, "baton_listener_port"));
	ck_assert_ptr_nonnull(strstr(t.buf, "\nbaton_generation 3\n"));
	/* reset, and the same families render again, alone */
	{
		char *first = strdup(t.buf);

		metrics_text_reset(&t);
		ck_assert_uint_eq(t.len, 0);
		ck_assert_int_eq(metrics_render(&t, &s), 0);
		ck_assert_str_eq(t.buf, first);
		free(first);
	}
	ck_assert_ptr_nonnull(
	    strstr(t.buf, "\nbaton_workers{state=\"serving\"} 4\n"));
	ck_assert_ptr_nonnull(
	    strstr(t.buf, "\nbaton_workers{state=\"retiring\"} 2\n"));
	ck_assert_ptr_nonnull(
	    strstr(t.buf, "# TYPE baton_restarts_total counter\n"
	                  "baton_restarts_total{result=\"served\"} 2\n"
	                  "baton_restarts_total{result=\"rolled_back\"} 1\n"));
	metrics_text_free(&t);
}
END_TEST

/* The accept queue's figures of a TCP listener, and the receipts: the
 * lost connections by reason, the last finished restart's duration (in
 * seconds, from its milliseconds) and loss, an in-progress one not. */
START_TEST(test_render_receipts)
{
	struct metrics_text t;
	struct snapshot s = {0};
	struct snap_receipt r[2] = {{0}};

	s.nls = N(listeners);
	s.ls = snap_listeners(listeners, N(listeners));
	s.ls[0].has_acceptq = 1;
	s.ls[0].wait_max_ms = 38;
	s.ls[0].idle = 2;
	s.ls[0].abandoned = 9;
	s.has_lost = 1;
	s.lost_dropped = 1;
	s.lost_abandoned = 2;
	s.lost_cut = 3;
	r[0].outcome = "promoted";
	r[0].duration = 1.4204;
	r[0].total = 6;
	r[1].outcome = "in_progress";
	r[1].duration = 0.5;
	r[1].total = 40;
	s.nreceipts = 2;
	s.receipts = r;
	metrics_text_init(&t);
	ck_assert_int_eq(metrics_render(&t, &s), 0);
	check_format(t.buf);
	ck_assert_ptr_nonnull(
	    strstr(t.buf, "\nbaton_listener_accept_wait_seconds{listener="
	                  "\"127.0.0.1:8080\",proto=\"tcp\"} 0.038\n"));
	ck_assert_ptr_nonnull(strstr(t.buf,
	                             "\nbaton_listener_queued_idle{listener="
	                             "\"127.0.0.1:8080\",proto=\"tcp\"} 2\n"));
	ck_assert_ptr_nonnull(
	    strstr(t.buf, "# TYPE baton_listener_abandoned_total counter\n"
	                  "baton_listener_abandoned_total{listener="
	                  "\"127.0.0.1:8080\",proto=\"tcp\"} 9\n"));
	/* not scanned (unix, UDP): no series */
	ck_assert_int_eq(count_lines(t.buf, "baton_listener_queued_idle{"), 1);
	ck_assert_ptr_nonnull(strstr(
	    t.buf, "# TYPE baton_restart_lost_connections_total counter\n"
	           "baton_restart_lost_connections_total{reason=\"dropped\"} "
	           "1\n"
	           "baton_restart_lost_connections_total{reason=\"abandoned\"} "
	           "2\n"
	           "baton_restart_lost_connections_total{reason=\"cut\"} 3\n"));
	ck_assert_ptr_nonnull(
	    strstr(t.buf, "\nbaton_last_restart_duration_seconds 1.420\n"));
	ck_assert_ptr_nonnull(
	    strstr(t.buf, "\nbaton_last_restart_lost_connections 6\n"));
	metrics_text_free(&t);
	/* no receipt finished, nothing known: none of the three */
	s.has_lost = 0;
	s.nreceipts = 1;
	s.receipts = r + 1;
	metrics_text_init(&t);
	ck_assert_int_eq(metrics_render(&t, &s), 0);
	ck_assert_ptr_null(strstr(t.buf, "baton_restart_lost"));
	ck_assert_ptr_null(strstr(t.buf, "baton_last_restart"));
	metrics_text_free(&t);
}
END_TEST

START_TEST(test_render_syn)
{
	static const struct tl l = {
	    "127.0.0.1:0", QSTAT_TCP, 1, 0, 2, 16, 1, 5, 1, 5, 3, 41234};
	struct snapshot s = {0};
	struct metrics_text t;

	s.nls = 1;
	s.ls = snap_listeners(&l, 1);
	metrics_text_init(&t);
	ck_assert_int_eq(metrics_render(&t, &s), 0);
	check_format(t.buf);
	ck_assert_ptr_nonnull(strstr(
	    t.buf, "\nbaton_listener_syn_queue_length{listener=\"127.0.0.1:0\","
	           "proto=\"tcp\"} 5\n"));
	ck_assert_ptr_nonnull(strstr(
	    t.buf,
	    "\nbaton_listener_accept_queue_peak{listener=\"127.0.0.1:0\","
	    "proto=\"tcp\"} 2\n"));
	/* the port the kernel chose for port 0 */
	ck_assert_ptr_nonnull(
	    strstr(t.buf, "\n# TYPE baton_listener_port gauge\n"
	                  "baton_listener_port{listener=\"127.0.0.1:0\","
	                  "proto=\"tcp\"} 41234\n"));
	ck_assert_ptr_nonnull(strstr(t.buf, "\nbaton_generation 0\n"));
	/* no generation: every counted state is there, at 0 */
	ck_assert_ptr_nonnull(strstr(t.buf,
	                             "# TYPE baton_workers gauge\n"
	                             "baton_workers{state=\"starting\"} 0\n"
	                             "baton_workers{state=\"ready\"} 0\n"
	                             "baton_workers{state=\"serving\"} 0\n"
	                             "baton_workers{state=\"retiring\"} 0\n"
	                             "baton_workers{state=\"failed\"} 0\n"
	                             "baton_workers{state=\"killed\"} 0\n#"));
	metrics_text_free(&t);
}
END_TEST

/* Two listeners the scraper could not tell apart (two reuseport sockets
 * on one address; two paths whose difference is shown as U+FFFD) each
 * get an fd label; the others keep their labels as they were. */
START_TEST(test_render_dups)
{
	static const struct tl ls[] = {
	    {"127.0.0.1:8080", QSTAT_TCP, 1, 1, 1, 4, 0, 0, 0, 0, 3, 0},
	    {"127.0.0.1:8080", QSTAT_TCP, 1, 2, 2, 4, 0, 0, 0, 0, 4, 0},
	    {"127.0.0.1:8080", QSTAT_UDP, 0, 0, 0, 0, 1, 0, 0, 0, 5, 0},
	    {"/a\xff", QSTAT_UNIX, 1, 3, 3, 4, 0, 0, 0, 0, 6, 0},
	    {"/a\xfe", QSTAT_UNIX, 1, 4, 4, 4, 0, 0, 0, 0, 7, 0},
	    {"@", QSTAT_UNIX, 1, 5, 5, 4, 0, 0, 0, 0, 8, 0},
	};
	struct snapshot s = {0};
	struct metrics_text t;

	s.nls = N(ls);
	s.ls = snap_listeners(ls, N(ls));
	metrics_text_init(&t);
	ck_assert_int_eq(metrics_render(&t, &s), 0);
	check_format(t.buf);
	ck_assert_ptr_nonnull(strstr(
	    t.buf, "\nbaton_listener_accept_queue_length{listener=\"127.0.0.1:"
	           "8080\",proto=\"tcp\",fd=\"3\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(
	    t.buf, "\nbaton_listener_accept_queue_length{listener=\"127.0.0.1:"
	           "8080\",proto=\"tcp\",fd=\"4\"} 2\n"));
	ck_assert_ptr_nonnull(
	    strstr(t.buf, "\nbaton_listener_drops_total{listener=\"127.0.0.1:"
	                  "8080\",proto=\"udp\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(
	    t.buf, "\nbaton_listener_accept_queue_length{listener=\"/a\xef\xbf"
	           "\xbd\",proto=\"unix\",fd=\"6\"} 3\n"));
	ck_assert_ptr_nonnull(strstr(
	    t.buf, "\nbaton_listener_accept_queue_length{listener=\"/a\xef\xbf"
	           "\xbd\",proto=\"unix\",fd=\"7\"} 4\n"));
	ck_assert_ptr_nonnull(
	    strstr(t.buf, "\nbaton_listener_accept_queue_length{listener=\"@\","
	                  "proto=\"unix\"} 5\n"));
	metrics_text_free(&t);
}
END_TEST

/* 1,000 listeners "10.0.I.J:8080" with queue I */
static void
many(struct snapshot *s)
{
	static char keys[1000][32];
	static struct snap_listener ls[1000];
	size_t i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < N(ls); i++) {
		struct qstat *q = &ls[i].queue.last;

		snprintf(keys[i], sizeof(keys[i]), "10.0.%zu.%zu:8080", i / 250,
		         i % 250);
		memset(&ls[i], 0, sizeof(ls[i]));
		ls[i].key = keys[i];
		ls[i].kind = QSTAT_TCP;
		ls[i].has_queue = 1;
		q->flags = QSTAT_HAS_QUEUE | QSTAT_HAS_DROPS;
		q->len = ls[i].queue.peak = (uint32_t)i;
		q->limit = 4096;
		q->drops = i * 7;
	}
	s->nls = N(ls);
	s->ls = ls;
}

/* Streamed to a file, the text is the same as kept whole, and the buffer
 * never holds more than a chunk and a line of it. */
START_TEST(test_render_stream)
{
	struct metrics_text whole, part;
	struct snapshot s;
	char *got;
	FILE *f = tmpfile();
	long size;

	many(&s);
	ck_assert_ptr_nonnull(f);
	metrics_text_init(&whole);
	ck_assert_int_eq(metrics_render(&whole, &s), 0);
	ck_assert_uint_gt(whole.len, 100000);
	metrics_text_init(&part);
	metrics_text_stream(&part, fileno(f));
	ck_assert_int_eq(metrics_render(&part, &s), 0);
	ck_assert_int_eq(metrics_text_flush(&part), 0);
	ck_assert_uint_eq(part.len, 0);
	ck_assert_uint_le(part.cap, 2 * METRICS_CHUNK);
	size = lseek(fileno(f), 0, SEEK_END);
	ck_assert_int_eq(size, (long)whole.len);
	got = malloc((size_t)size + 1);
	ck_assert_ptr_nonnull(got);
	ck_assert_int_eq(pread(fileno(f), got, (size_t)size, 0), size);
	got[size] = '\0';
	ck_assert_str_eq(got, whole.buf);
	check_format(got);
	ck_assert_ptr_nonnull(
	    strstr(got, "\nbaton_listener_drops_total{listener=\"10.0.3.249:"
	                "8080\",proto=\"tcp\"} 6993\n"));
	free(got);
	fclose(f);
	metrics_text_free(&whole);
	metrics_text_free(&part);
}
END_TEST

/* ---- the .prom file ------------------------------------------------------ */

static const struct {
	const char *path;
	int ok;
} path_cases[] = {
    {"/var/lib/node_exporter/baton.prom", 1},
    {"baton.prom", 1},
    {"x.prom", 1},
    {"/d/.prom", 0},
    {".prom", 0},
    {"/d/baton.prom.tmp", 0},
    {"/d/baton.txt", 0},
    {"/d/baton.PROM", 0},
    {"/d.prom/", 0},
    {"", 0},
};

START_TEST(test_file_check)
{
	char err[256] = "";
	int rc = metrics_file_check(path_cases[_i].path, err, sizeof(err));

	ck_assert_int_eq(rc, path_cases[_i].ok ? 0 : -1);
	if (!path_cases[_i].ok) {
		char want[256];

		snprintf(want, sizeof(want),
		         "--metrics-file %s: the name must end in .prom",
		         path_cases[_i].path);
		ck_assert_str_eq(err, want);
	}
}
END_TEST

START_TEST(test_file_write)
{
	char dir[] = "/tmp/unit-metrics.XXXXXX", path[128], bad[128];
	struct snap_gen g1 = {1, GEN_SERVING, 0, 0, NULL, 0, NULL},
	                g2 = {2, GEN_SERVING, 0, 0, NULL, 0, NULL};
	struct snapshot one = {0}, two = {0};
	char err[256], buf[1024];
	struct stat st;
	struct dirent *de;
	DIR *d;
	FILE *f;
	size_t n;
	int entries = 0;

	one.ngens = two.ngens = 1;
	one.gens = &g1;
	two.gens = &g2;
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/baton.prom", dir);
	ck_assert_int_eq(metrics_file_write(path, &one, err, sizeof(err)), 0);
	ck_assert_int_eq(metrics_file_write(path, &two, err, sizeof(err)), 0);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "\nbaton_generation 2\n"));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644);
	/* no temporary file left behind */
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' || strlen(de->d_name) > 2)
			entries++;
	closedir(d);
	ck_assert_int_eq(entries, 1);
	/* refusals name the file and the cause */
	snprintf(bad, sizeof(bad), "%s/baton.txt", dir);
	ck_assert_int_eq(metrics_file_write(bad, &one, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "must end in .prom"));
	snprintf(bad, sizeof(bad), "%s/nodir/baton.prom", dir);
	ck_assert_int_eq(metrics_file_write(bad, &one, err, sizeof(err)), -1);
	snprintf(buf, sizeof(buf), "cannot write metrics file ");
	ck_assert_ptr_nonnull(strstr(err, buf));
	ck_assert_ptr_nonnull(strstr(err, "No such file or directory"));
	ck_assert_int_eq(metrics_file_remove(path), 0);
	ck_assert_int_eq(metrics_file_remove(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* ---- HTTP requests ---------------------------------------------------- */

static const struct {
	const char *in;
	enum httpreq_result want;
	int status;       /* for BAD */
	const char *path; /* for OK */
} http_cases[] = {
    {"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", HTTPREQ_OK, 0, "/metrics"},
    {"GET /healthz HTTP/1.0\r\n\r\n", HTTPREQ_OK, 0, "/healthz"},
    {"GET /readyz?verbose=1 HTTP/1.1\r\nHost: x\r\n\r\n", HTTPREQ_OK, 0,
     "/readyz"},
    {"GET / HTTP/1.1\r\nA: b\r\nContent-Length: 0\r\nX-E:\r\nHost: h\r\n\r\n",
     HTTPREQ_OK, 0, "/"},
    {"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9100\r\n"
     "User-Agent: Prometheus/2.45\tx\r\n"
     "Accept: application/openmetrics-text;version=1.0.0,text/plain;q=0.5"
     "\r\n\r\n",
     HTTPREQ_OK, 0, "/metrics"},
    /* HEAD (RFC 9110 §9.1) */
    {"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n", HTTPREQ_OK, 0, "/healthz"},
    {"HEAD /metrics HTTP/1.0\r\n\r\n", HTTPREQ_OK, 0, "/metrics"},
    /* Host (RFC 9112 §3.2): HTTP/1.1 needs one, nothing may have two */
    {"GET /healthz HTTP/1.1\r\n\r\n", HTTPREQ_BAD, 400, NULL},
    {"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", HTTPREQ_BAD, 400,
     NULL},
    {"GET /healthz HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", HTTPREQ_BAD, 400,
     NULL},
    {"GET /healthz HTTP/1.1\r\nHost: a b\r\n\r\n", HTTPREQ_BAD, 400, NULL},
    {"GET /healthz HTTP/1.1\r\nHost: a/b\r\n\r\n", HTTPREQ_BAD, 400, NULL},
    {"GET /healthz HTTP/1.1\r\nHOST:\t[::1]:9100 \r\n\r\n", HTTPREQ_OK, 0,
     "/healthz"},
    {"GET /healthz HTTP/1.1\r\nHost:\r\n\r\n", HTTPREQ_OK, 0, "/healthz"},
    {"GET /healthz HTTP/1.1\r\nX-Host: a\r\nHosts: b\r\nHost: c\r\n\r\n",
     HTTPREQ_OK, 0, "/healthz"},
    /* absolute-form (RFC 9112 §3.2.2) */
    {"GET http://h/metrics HTTP/1.1\r\nHost: h\r\n\r\n", HTTPREQ_OK, 0,
     "/metrics"},
    {"GET HTTPS://[::1]:9100/readyz?x=/y HTTP/1.1\r\nHost: h\r\n\r\n",
     HTTPREQ_OK, 0, "/readyz"},
    {"GET http://h:9100 HTTP/1.1\r\nHost: h\r\n\r\n", HTTPREQ_OK, 0, "/"},
    {"GET http://h?q HTTP/1.1\r\nHost: h\r\n\r\n", HTTPREQ_OK, 0, "/"},
    {"HEAD http://user@h/ HTTP/1.0\r\n\r\n", HTTPREQ_BAD, 400, NULL},
    {"GET ftp://h/metrics HTTP/1.1\r\nHost: h\r\n\r\n", HTTPREQ_BAD, 400, NULL},
    {"GET http:/h/metrics HTTP/1.1\r\nHost: h\r\n\r\n", HTTPREQ_BAD, 400, NULL},
    {"GET http://h#f HTTP/1.1\r\nHost: h\r\n\r\n", HTTPREQ_BAD, 400, NULL},
    {"GET http\x1a//h/ HTTP/1.1\r\n\r\n", HTTPREQ_BAD, 400, NULL},
    {"GET * HTTP/1.1\r\nHost: h\r\n\r\n", HTTPREQ_BAD, 400, NULL},
    {"GET h:80 HTTP/1.1\r\nHost: h\r\n\r\n", HTTPREQ_BAD, 400, NULL},
    {"GET http", HTTPREQ_NEED_MORE, 0, NULL},
    {"GET https:/", HTTPREQ_NEED_MORE, 0, NULL},
    {"GET http://h", HTTPREQ_NEED_MORE, 0, NULL},
    /* partial: valid so far */
    {"", HTTPREQ_NEED_MORE, 0, NULL},
    {"G", HTTPREQ_NEED_MORE, 0, NULL},
    {"GET", HTTPREQ_NEED_MORE, 0, NULL},
    {"GET /met", HTTPREQ_NEED_MORE, 0, NULL},
    {"GET /metrics HTTP/1", HTTPREQ_NEED_MORE, 0, NULL},
    {"GET /metrics HTTP/1.1\r", HTTPREQ_NEED_MORE, 0, NULL},
    {"GET /metrics HTTP/1.1\r\n", HTTPREQ_NEED_MORE, 0, NULL},
    {"GET /metrics HTTP/1.1\r\nHost: x", HTTPREQ_NEED_MORE, 0, NULL},
    {"GET /metrics HTTP/1.1\r\nHost: x\r\n\r", HTTPREQ_NEED_MORE, 0, NULL},
    /* bad, and as early as it shows */
    {"POST /metrics HTTP/1.1\r\n\r\n", HTTPREQ_BAD, 405, NULL},
    {"PUT / ", HTTPREQ_BAD, 405, NULL},
    {"HEADS / ", HTTPREQ_BAD, 405, NULL},
    {"get / HTTP/1.1\r\n\r\n", HTTPREQ_BAD, 400, NULL},
    {"\r\n", HTTPREQ_BAD, 400, NULL},
    {" GET", HTTPREQ_BAD, 400, NULL},
    {"\x16\x03\x01\x02\x00", HTTPREQ_BAD, 400, NULL},
    {"GETXXXXXXXXXXXXXXXXXXX", HTTPREQ_BAD, 400, NULL},
    {"GET metrics HTTP/1.1\r\n\r\n", HTTPREQ_BAD, 400, NULL},
    {"GET /a b HTTP/1.1\r\n\r\n", HTTPREQ_BAD, 400, NULL},
    {"GET /a#f HTTP/1.1\r\n\r\n", HTTPREQ_BAD, 400, NULL},
    {"GET /\x7f HTTP/1.1\r\n\r\n", HTTPREQ_BAD, 400, NULL},
    {"GET  / HTTP/1.1\r\n\r\n", HTTPREQ_BAD, 400, NULL},
    {"GET / HTTP/2.0\r\n\r\n", HTTPREQ_BAD, 505, NULL},
    {"GET / HTTP/1.2\r\n\r\n", HTTPREQ_BAD, 505, NULL},
    {"GET / HTTX/1.1\r\n\r\n", HTTPREQ_BAD, 400, NULL},
    {"GET / HTTP/1.1\n\n", HTTPREQ_BAD, 400, NULL},
    {"GET / HTTP/1.1 \r\n\r\n", HTTPREQ_BAD, 400, NULL},
    {"GET / HTTP/1.1\r\nHost: x\n\r\n", HTTPREQ_BAD, 400, NULL},
    {"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", HTTPREQ_BAD, 400, NULL},
    {"GET / HTTP/1.1\r\nNo colon\r\n\r\n", HTTPREQ_BAD, 400, NULL},
    {"GET / HTTP/1.1\r\n: empty\r\n\r\n", HTTPREQ_BAD, 400, NULL},
    {"GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", HTTPREQ_BAD, 400, NULL},
    {"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", HTTPREQ_BAD, 400, NULL},
    {"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", HTTPREQ_BAD, 400,
     NULL},
    {"GET / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n", HTTPREQ_BAD, 400,
     NULL},
    {"GET / HTTP/1.1\r\n\rX", HTTPREQ_BAD, 400, NULL},
};

START_TEST(test_http_parse)
{
	struct httpreq r;
	const char *in = http_cases[_i].in;
	enum httpreq_result got = httpreq_parse(in, strlen(in), &r);

	ck_assert_msg(got == http_cases[_i].want, "case %d: got %d", _i, got);
	if (got == HTTPREQ_BAD)
		ck_assert_int_eq(r.status, http_cases[_i].status);
	if (got == HTTPREQ_OK) {
		ck_assert_str_eq(r.path, http_cases[_i].path);
		/* every byte up to the blank line, nothing after */
		ck_assert_uint_eq(r.consumed, strlen(in));
	}
}
END_TEST

/* Fed a byte at a time, a good request is NEED_MORE until its last byte. */
START_TEST(test_http_bytewise)
{
	static const char in[] = "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n";
	struct httpreq r;
	size_t n;

	for (n = 0; n < sizeof(in) - 1; n++)
		ck_assert_int_eq(httpreq_parse(in, n, &r), HTTPREQ_NEED_MORE);
	ck_assert_int_eq(httpreq_parse(in, n, &r), HTTPREQ_OK);
	ck_assert_int_eq(r.minor, 1);
	ck_assert_int_eq(r.head, 0);
}
END_TEST

/* HEAD is told apart from GET; absolute-form too, byte by byte. */
START_TEST(test_http_head)
{
	static const char in[] = "HEAD http://a:1/readyz HTTP/1.1\r\n"
	                         "Host: a:1\r\n\r\n";
	struct httpreq r;
	size_t n;

	for (n = 0; n < sizeof(in) - 1; n++)
		ck_assert_int_eq(httpreq_parse(in, n, &r), HTTPREQ_NEED_MORE);
	ck_assert_int_eq(httpreq_parse(in, n, &r), HTTPREQ_OK);
	ck_assert_int_eq(r.head, 1);
	ck_assert_str_eq(r.path, "/readyz");
}
END_TEST

START_TEST(test_http_bounds)
{
	static char big[HTTPREQ_MAX + 64];
	struct httpreq r;
	size_t n;

	/* headers that never end: 431 once HTTPREQ_MAX bytes are in */
	n = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nX: ");
	memset(big + n, 'a', sizeof(big) - n);
	ck_assert_int_eq(httpreq_parse(big, HTTPREQ_MAX - 1, &r),
	                 HTTPREQ_NEED_MORE);
	ck_assert_int_eq(httpreq_parse(big, HTTPREQ_MAX, &r), HTTPREQ_BAD);
	ck_assert_int_eq(r.status, 431);
	ck_assert_int_eq(httpreq_parse(big, sizeof(big), &r), HTTPREQ_BAD);
	/* a path of HTTPREQ_PATH_MAX is kept, one more is a 414 */
	n = (size_t)snprintf(big, sizeof(big), "GET /");
	memset(big + n, 'p', HTTPREQ_PATH_MAX - 1);
	n += HTTPREQ_PATH_MAX - 1;
	n += (size_t)snprintf(big + n, sizeof(big) - n, " HTTP/1.0\r\n\r\n");
	ck_assert_int_eq(httpreq_parse(big, n, &r), HTTPREQ_OK);
	ck_assert_uint_eq(strlen(r.path), HTTPREQ_PATH_MAX);
	n = (size_t)snprintf(big, sizeof(big), "GET /");
	memset(big + n, 'p', HTTPREQ_PATH_MAX);
	ck_assert_int_eq(httpreq_parse(big, n + HTTPREQ_PATH_MAX, &r),
	                 HTTPREQ_BAD);
	ck_assert_int_eq(r.status, 414);
}
END_TEST

START_TEST(test_http_response)
{
	char out[512], tiny[16];
	size_t n;

	n = httpreq_response_head(out, sizeof(out), 200, HTTPREQ_PROM_TYPE, 42);
	ck_assert_uint_eq(n, strlen(out));
	ck_assert_str_eq(out, "HTTP/1.1 200 OK\r\n"
	                      "Content-Type: text/plain; version=0.0.4; "
	                      "charset=utf-8\r\n"
	                      "Content-Length: 42\r\n"
	                      "Cache-Control: no-store\r\n"
	                      "Connection: close\r\n\r\n");
	n = httpreq_response_head(out, sizeof(out), 405, "text/plain", 0);
	ck_assert_ptr_nonnull(
	    strstr(out, "HTTP/1.1 405 Method Not Allowed\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "\r\nAllow: GET, HEAD\r\n"));
	n = httpreq_response_head(out, sizeof(out), 503, "text/plain", 9);
	ck_assert_ptr_nonnull(strstr(out, "503 Service Unavailable\r\n"));
	ck_assert_uint_eq(
	    httpreq_response_head(tiny, sizeof(tiny), 200, "text/plain", 1), 0);
	ck_assert_str_eq(httpreq_reason(431),
	                 "Request Header Fields Too Large");
	ck_assert_str_eq(httpreq_reason(299), "Unknown");
}
END_TEST

void
tests_metrics(void)
{
	TCase *tp = unit_case("metrics");
	TCase *th = unit_case("httpreq");

	tcase_add_loop_test(tp, test_label_escaping, 0, N(label_cases));
	tcase_add_test(tp, test_help_escaping);
	tcase_add_loop_test(tp, test_utf8_len, 0, N(utf8_cases));
	tcase_add_loop_test(tp, test_log_escape, 0, N(log_cases));
	tcase_add_test(tp, test_log_escape_room);
	tcase_add_test(tp, test_refusals);
	tcase_add_test(tp, test_render);
	tcase_add_test(tp, test_render_receipts);
	tcase_add_test(tp, test_render_syn);
	tcase_add_test(tp, test_render_dups);
	tcase_add_test(tp, test_render_stream);
	/* the .prom file */
	tcase_add_loop_test(tp, test_file_check, 0, N(path_cases));
	tcase_add_test(tp, test_file_write);
	/* the metrics listener's request parser and responses */
	tcase_add_loop_test(th, test_http_parse, 0, N(http_cases));
	tcase_add_test(th, test_http_bytewise);
	tcase_add_test(th, test_http_head);
	tcase_add_test(th, test_http_bounds);
	tcase_add_test(th, test_http_response);
}
