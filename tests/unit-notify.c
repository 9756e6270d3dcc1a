/* SPDX-License-Identifier: ISC */
/* unit-notify.c: Check tables for notify.c's and sig.c's pure functions. */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "notify.h"
#include "procstat.h"
#include "ratelimit.h"
#include "sig.h"
#include "run-tests.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- notify_field: KEY=value in an sd_notify datagram ------------------ */

static const struct {
	const char *msg;
	const char *key;
	const char *want; /* NULL: no such field */
} field_cases[] = {
    {"READY=1", "READY", "1"},
    {"READY=1\n", "READY", "1"},
    {"STATUS=booting\nREADY=1", "READY", "1"},
    {"READY=1\nSTATUS=serving 3 clients", "STATUS", "serving 3 clients"},
    {"MAINPID=1234\nREADY=1\n", "MAINPID", "1234"},
    {"STATUS=a=b=c", "STATUS", "a=b=c"},
    {"READY=", "READY", ""},
    {"READY=1\nREADY=2", "READY", "1"}, /* the first one counts */
    {"A=1\n\nREADY=1", "READY", "1"},   /* an empty line is skipped */
    /* a key is matched whole, at the start of a line */
    {"READYX=1", "READY", NULL},
    {"XREADY=1", "READY", NULL},
    {"STATUS=READY=1", "READY", NULL},
    {"ready=1", "READY", NULL},
    {"READY", "READY", NULL},
    {"READY\n=1", "READY", NULL},
    {"", "READY", NULL},
    {"\n\n", "READY", NULL},
    {"STATUS=x\n", "READY", NULL},
};

START_TEST(test_notify_field)
{
	char *got = notify_field(field_cases[_i].msg, field_cases[_i].key);

	if (field_cases[_i].want == NULL)
		ck_assert_msg(got == NULL,
		              "field %s of \"%s\": got \"%s\", want none",
		              field_cases[_i].key, field_cases[_i].msg, got);
	else {
		ck_assert_msg(got != NULL,
		              "field %s of \"%s\": none, want \"%s\"",
		              field_cases[_i].key, field_cases[_i].msg,
		              field_cases[_i].want);
		ck_assert_str_eq(got, field_cases[_i].want);
	}
	free(got);
}
END_TEST

/* ---- notify_descends: is a sender one of a worker's processes? --------- */

/* Symbolic pids, resolved at run time: this test, its parent, a child and
 * a grandchild it forks, a pid that has exited, init, nonsense. */
enum who { SELF, PARENT, CHILD, GRANDCHILD, DEAD, INIT, ZERO, NEGATIVE };

static const struct {
	enum who pid, root;
	int want;
} descend_cases[] = {
    {SELF, SELF, 1},        {SELF, PARENT, 1},     {CHILD, SELF, 1},
    {CHILD, PARENT, 1},     {GRANDCHILD, SELF, 1}, {GRANDCHILD, CHILD, 1},
    {CHILD, CHILD, 1},      {PARENT, SELF, 0},     {SELF, CHILD, 0},
    {CHILD, GRANDCHILD, 0}, {DEAD, SELF, 0},       {ZERO, SELF, 0},
    {NEGATIVE, SELF, 0},    {INIT, SELF, 0},       {SELF, DEAD, 0},
};

static pid_t pids[NEGATIVE + 1];
static int child_pipe[2] = {-1, -1};

/* A child that forks a grandchild; both wait until the pipe closes. The
 * child writes the grandchild's pid on the pipe's other end. */
static void
start_family(void)
{
	int up[2];
	pid_t dead;

	ck_assert_int_eq(pipe2(child_pipe, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(up, O_CLOEXEC), 0);
	pids[CHILD] = fork();
	ck_assert_int_ge(pids[CHILD], 0);
	if (pids[CHILD] == 0) {
		char c;
		pid_t g;

		close(child_pipe[1]);
		g = fork();
		if (g == 0) {
			(void)read(child_pipe[0], &c, 1);
			_exit(0);
		}
		(void)write(up[1], &g, sizeof(g));
		(void)read(child_pipe[0], &c, 1);
		waitpid(g, NULL, 0);
		_exit(0);
	}
	close(child_pipe[0]);
	close(up[1]);
	ck_assert_int_eq(read(up[0], &pids[GRANDCHILD], sizeof(pid_t)),
	                 (ssize_t)sizeof(pid_t));
	close(up[0]);
	dead = fork();
	ck_assert_int_ge(dead, 0);
	if (dead == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(dead, NULL, 0), dead);
	pids[DEAD] = dead;
}

static void
stop_family(void)
{
	close(child_pipe[1]);
	waitpid(pids[CHILD], NULL, 0);
}

START_TEST(test_notify_descends)
{
	pids[SELF] = getpid();
	pids[PARENT] = getppid();
	pids[INIT] = 1;
	pids[ZERO] = 0;
	pids[NEGATIVE] = -1;
	start_family();
	ck_assert_msg(notify_descends(pids[descend_cases[_i].pid],
	                              pids[descend_cases[_i].root]) ==
	                  descend_cases[_i].want,
	              "notify_descends(%ld, %ld) should be %d",
	              (long)pids[descend_cases[_i].pid],
	              (long)pids[descend_cases[_i].root],
	              descend_cases[_i].want);
	stop_family();
}
END_TEST

/* With --num-workers=64 a sender is matched against 64 roots (more
 * during a restart): within a batch its ancestors are read from /proc
 * once, not once per root (0.2.0's cache of 32 verdicts walked /proc for
 * each of them). */
START_TEST(test_notify_descends_batch)
{
	pid_t roots[130];
	unsigned long before;
	size_t i;
	int hits = 0;

	start_family();
	for (i = 0; i < 130; i++)
		roots[i] = 100000 + (pid_t)i; /* no ancestor of ours */
	roots[129] = getpid();
	notify_batch(1);
	before = notify_walks();
	for (i = 0; i < 130; i++)
		hits += notify_descends(pids[GRANDCHILD], roots[i]);
	ck_assert_int_eq(hits, 1);
	ck_assert_uint_eq(notify_walks() - before, 1);
	/* 64 more senders in one batch: one walk each */
	for (i = 0; i < 64; i++)
		(void)notify_descends(100000 + (pid_t)i, getpid());
	ck_assert_uint_eq(notify_walks() - before, 65);
	notify_batch(0);
	/* outside a batch nothing is kept: a pid may be reused */
	before = notify_walks();
	(void)notify_descends(pids[GRANDCHILD], getpid());
	(void)notify_descends(pids[GRANDCHILD], getpid());
	ck_assert_uint_eq(notify_walks() - before, 2);
	stop_family();
}
END_TEST

/* ---- ratelimit: one line per cause per interval -------------------------- */

START_TEST(test_ratelimit)
{
	struct ratelimit rl = RATELIMIT_INIT("test lines");
	struct ratelimit other = RATELIMIT_INIT("other lines");
	char more[64];
	int i, passed = 0;

	rl.interval = 0.2;
	ck_assert_int_eq(ratelimit_check(&rl, more, sizeof(more)), 1);
	ck_assert_str_eq(more, "");
	for (i = 0; i < 1000; i++)
		passed += ratelimit_check(&rl, more, sizeof(more));
	ck_assert_int_eq(passed, 0);
	/* another cause has its own interval */
	ck_assert_int_eq(ratelimit_check(&other, more, sizeof(more)), 1);
	ck_assert_uint_eq(rl.held, 1000);
	usleep(250000);
	/* no loop, so no timer: the count comes with the next line */
	ck_assert_int_eq(ratelimit_check(&rl, more, sizeof(more)), 1);
	ck_assert_str_eq(more, " (1000 more suppressed before this one)");
	ck_assert_int_eq(ratelimit_check(&rl, more, sizeof(more)), 0);
	ck_assert_int_eq(ratelimit_check(&rl, NULL, 0), 0);
}
END_TEST

/* A cause with a burst lets that many lines through per interval. */
START_TEST(test_ratelimit_burst)
{
	struct ratelimit rl = RATELIMIT_INIT_BURST("burst lines", 3);
	char more[64];
	int i, passed = 0;

	rl.interval = 0.2;
	for (i = 0; i < 100; i++)
		passed += ratelimit_check(&rl, more, sizeof(more));
	ck_assert_int_eq(passed, 3);
	usleep(250000);
	for (passed = 0, i = 0; i < 100; i++)
		passed += ratelimit_check(&rl, more, sizeof(more));
	ck_assert_int_eq(passed, 3);
}
END_TEST

/* ---- sig_parse / sig_name ---------------------------------------------- */

static const struct {
	const char *name;
	int sig; /* -1: rejected */
} parse_cases[] = {
    {"TERM", SIGTERM},   {"SIGTERM", SIGTERM},
    {"term", SIGTERM},   {"sigterm", SIGTERM},
    {"SigHup", SIGHUP},  {"15", 15},
    {"1", SIGHUP},       {"9", SIGKILL},
    {"64", 64},          {"USR1", SIGUSR1},
    {"QUIT", SIGQUIT},   {"CLD", SIGCHLD},
    {"IOT", SIGABRT},    {"POLL", SIGIO},
    {"WINCH", SIGWINCH}, {"0", -1},
    {"65", -1},          {"-1", -1},
    {"+15", -1},         {"15x", -1},
    {"1 5", -1},         {"", -1},
    {"SIG", -1},         {"SIG15", -1},
    {"TERM ", -1},       {" TERM", -1},
    {"TERMINATE", -1},   {"SIGSIGTERM", -1},
    {"FOO", -1},         {"99999999999999999999", -1},
};

START_TEST(test_sig_parse)
{
	ck_assert_msg(sig_parse(parse_cases[_i].name) == parse_cases[_i].sig,
	              "sig_parse(\"%s\") = %d, want %d", parse_cases[_i].name,
	              sig_parse(parse_cases[_i].name), parse_cases[_i].sig);
}
END_TEST

START_TEST(test_sig_parse_null)
{
	ck_assert_int_eq(sig_parse(NULL), -1);
}
END_TEST

static const struct {
	int sig;
	const char *name;
} name_cases[] = {
    {SIGHUP, "HUP"},   {SIGTERM, "TERM"}, {SIGKILL, "KILL"}, {SIGCHLD, "CHLD"},
    {SIGABRT, "ABRT"}, {SIGIO, "IO"},     {SIGUSR2, "USR2"}, {SIGSYS, "SYS"},
    {0, "0"},          {34, "34"},        {64, "64"},        {-3, "-3"},
};

START_TEST(test_sig_name)
{
	ck_assert_str_eq(sig_name(name_cases[_i].sig), name_cases[_i].name);
}
END_TEST

/* Every signal number survives name and back. */
START_TEST(test_sig_round_trip)
{
	ck_assert_int_eq(sig_parse(sig_name(_i)), _i);
}
END_TEST

/* /proc/PID/stat: our own line, a child whose name holds ") " (the
 * fields count from the last ')'), a pid that does not exist. */
START_TEST(test_procstat)
{
	struct procstat ps;
	int pfd[2], go[2];
	pid_t child;
	char c;

	ck_assert_int_eq(procstat_read(getpid(), &ps), 0);
	ck_assert_int_eq(ps.state, 'R');
	ck_assert_int_eq(ps.ppid, getppid());
	ck_assert_int_eq(ps.pgrp, getpgrp());

	ck_assert_int_eq(pipe(pfd), 0);
	ck_assert_int_eq(pipe(go), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		prctl(PR_SET_NAME, "x) 9 8 (y", 0, 0, 0);
		setpgid(0, 0);
		(void)!write(pfd[1], "r", 1);
		(void)!read(go[0], &c, 1);
		_exit(0);
	}
	ck_assert_int_eq(read(pfd[0], &c, 1), 1);
	ck_assert_int_eq(procstat_read(child, &ps), 0);
	ck_assert_int_eq(ps.ppid, getpid());
	ck_assert_int_eq(ps.pgrp, child);
	ck_assert(ps.state == 'S' || ps.state == 'R');
	(void)!write(go[1], "g", 1);
	ck_assert_int_eq(waitpid(child, NULL, 0), child);
	ck_assert_int_eq(procstat_read(child, &ps), -1);
	close(pfd[0]);
	close(pfd[1]);
	close(go[0]);
	close(go[1]);
}
END_TEST

void
tests_notify(void)
{
	TCase *tn = unit_case("notify");
	TCase *tr = unit_case("ratelimit");
	TCase *ts = unit_case("sig");
	TCase *tp = unit_case("procstat");

	tcase_add_loop_test(tn, test_notify_field, 0, N(field_cases));
	tcase_add_loop_test(tn, test_notify_descends, 0, N(descend_cases));
	tcase_add_test(tn, test_notify_descends_batch);
	tcase_add_test(tr, test_ratelimit);
	tcase_add_test(tr, test_ratelimit_burst);
	tcase_add_loop_test(ts, test_sig_parse, 0, N(parse_cases));
	tcase_add_test(ts, test_sig_parse_null);
	tcase_add_loop_test(ts, test_sig_name, 0, N(name_cases));
	tcase_add_loop_test(ts, test_sig_round_trip, 1, NSIG);
	tcase_add_test(tp, test_procstat);
}
