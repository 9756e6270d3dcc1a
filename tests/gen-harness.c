/* SPDX-License-Identifier: ISC */
/* gen-harness.c: Check tests of the generation state machine on a real
 * libev loop (baton's kind: reap.c reaps), with tests/worker as the real worker. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gen.h"
#include "listen.h"
#include "log.h"
#include "options.h"
#include "reap.h"
#include "status.h"
#include "run-tests.h"

static char worker_path[PATH_MAX];
static double scale = 1;
static struct ev_loop *loop;

/* gen tells of every change; no status file is written here */
static void
changed(int now)
{
	(void)now;
}

static struct options o;
static struct listener l;
static char log_path[PATH_MAX];
static int saved_stderr = -1;

/* ---- time: every sleep and deadline goes through T() ------------------ */

/* BATON_TEST_TIME_SCALE stretches every duration of this file on a slow
 * or loaded machine, without weakening an assertion. */
static double
T(double seconds)
{
	return seconds * scale;
}

static void
wake_cb(struct ev_loop *lp, ev_timer *t, int revents)
{
	(void)lp;
	(void)t;
	(void)revents;
}

/* Run the loop until done(arg) or for at most seconds (scaled). */
static int
run_until(int (*done)(const void *), const void *arg, double seconds)
{
	ev_tstamp end = ev_time() + T(seconds);
	ev_timer wake;

	ev_timer_init(&wake, wake_cb, 0.02, 0.02);
	ev_timer_start(loop, &wake);
	while (!(done && done(arg)) && ev_time() < end)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &wake);
	return done ? done(arg) : 1;
}

/* Let the loop run for seconds (scaled), whatever happens. */
static void
run_for(double seconds)
{
	run_until(NULL, NULL, seconds);
}

struct want {
	unsigned long id;
	const char *state;
};

static int
state_is(const void *arg)
{
	const struct want *w = arg;
	const char *st = gen_state_of(w->id);

	return st && strcmp(st, w->state) == 0;
}

static void
wait_state(unsigned long id, const char *state, double seconds)
{
	struct want w = {id, state};
	const char *st;

	run_until(state_is, &w, seconds);
	st = gen_state_of(id);
	ck_assert_msg(state_is(&w), "generation %lu is %s, not %s after %gs",
	              id, st ? st : "(none)", state, T(seconds));
}

static int
pid_alive(pid_t pid)
{
	return pid > 0 && kill(pid, 0) == 0;
}

/* ---- set-up: one listener, the worker's argv, baton's log in a file --- */

/* argv for tests/worker: NULL-terminated list of its options. */
static void
worker_argv(const char *a, ...)
{
	static char *argv[16];
	va_list ap;
	size_t n = 0;

	argv[n++] = worker_path;
	argv[n++] = (char *)"--quiet";
	va_start(ap, a);
	for (; a && n < 15; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	o.argv = argv;
}

static void
setup(void)
{
	char err[256], *env;
	int fd;

	scale = getenv("BATON_TEST_TIME_SCALE")
	            ? atof(getenv("BATON_TEST_TIME_SCALE"))
	            : 1;
	if (scale <= 0)
		scale = 1;
	/* the tunables come from the environment: start_server's defaults */
	unsetenv("KILL_OLD_DELAY");
	unsetenv("ENABLE_AUTO_RESTART");
	unsetenv("AUTO_RESTART_INTERVAL");
	unsetenv("ENVDIR");
	unsetenv("NOTIFY_SOCKET");
	log_init("baton");
	ck_assert_int_eq(listen_parse_port("127.0.0.1:0", &l, err, sizeof(err)),
	                 0);
	l.backlog = 16;
	ck_assert_msg(listen_bind(&l, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(listen_assign_fds(&l, 1, err, sizeof(err)), 0);
	env = listen_env(&l, 1);
	setenv("SERVER_STARTER_PORT", env, 1);
	free(env);
	memset(&o, 0, sizeof(o));
	o.ls = &l;
	o.nls = 1;
	o.interval = T(0.3);
	o.sig_hup = SIGTERM;
	o.sig_term = SIGTERM;
	o.num_workers = 1;
	o.ready = READY_INTERVAL;
	o.restart_retries = -1; /* the default: a failed restart is retried */
	/* a test that fails or times out must not leave workers behind */
	o.die_with_supervisor = 1;
	worker_argv(NULL);
	/* baton's log goes to a file, read back to find "internal:" */
	snprintf(log_path, sizeof(log_path), "/tmp/baton-gen-harness.%ld",
	         (long)getpid());
	fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
	/* baton's own kind of loop: the default one would reap the
	 * workers behind reap.c's back */
	loop = ev_loop_new(EVFLAG_AUTO);
	ck_assert_ptr_nonnull(loop);
	reap_init(loop);
}

static int
all_gone(const void *arg)
{
	unsigned long id;

	(void)arg;
	for (id = 1; id <= gen_last_id(); id++)
		if (strcmp(gen_state_of(id), "gone") != 0)
			return 0;
	return 1;
}

/* Stop everything (every generation must end gone), then check that the
 * log has no impossible transition. */
static void
finish(void)
{
	char *text;

	gen_stop(SIGKILL, "test over");
	ck_assert_msg(run_until(all_gone, NULL, 5),
	              "a generation is left after a stop");
	text = status_read_file(log_path);
	ck_assert_ptr_nonnull(text);
	dup2(saved_stderr, STDERR_FILENO);
	fputs(text, stderr);
	ck_assert_msg(strstr(text, "internal:") == NULL,
	              "an impossible transition was logged:\n%s", text);
	free(text);
	unlink(log_path);
}

/* Generation 1 up and serving. */
static pid_t
start_first(void)
{
	gen_init(loop, &o, changed);
	gen_start_first();
	wait_state(1, "serving", 5);
	ck_assert_uint_eq(gen_serving_id(), 1);
	ck_assert(pid_alive(gen_worker_pid(1, 0)));
	return gen_worker_pid(1, 0);
}

/* ---- the cases ------------------------------------------------------- */

START_TEST(test_first_start_serves)
{
	setup();
	gen_init(loop, &o, changed);
	gen_start_first();
	ck_assert_str_eq(gen_state_of(1), "starting");
	ck_assert_uint_eq(gen_serving_id(), 0);
	wait_state(1, "serving", 5);
	ck_assert_uint_eq(gen_serving_id(), 1);
	ck_assert(pid_alive(gen_worker_pid(1, 0)));
	finish();
}
END_TEST

START_TEST(test_hup_promotes_and_retires)
{
	pid_t pid1, pid2;

	setup();
	pid1 = start_first();
	gen_restart("test HUP");
	ck_assert_str_eq(gen_state_of(2), "starting");
	ck_assert_uint_eq(gen_serving_id(), 1);
	wait_state(2, "serving", 5);
	ck_assert_uint_eq(gen_serving_id(), 2);
	wait_state(1, "gone", 5);
	ck_assert(!pid_alive(pid1));
	pid2 = gen_worker_pid(2, 0);
	ck_assert(pid_alive(pid2));
	ck_assert_int_ne(pid1, pid2);
	finish();
}
END_TEST

START_TEST(test_death_before_ready_rolls_back)
{
	pid_t pid1;

	setup();
	o.restart_retries = 0; /* one attempt, rolled back for good */
	pid1 = start_first();
	worker_argv("--exit-immediately", "3", NULL);
	gen_restart("test HUP");
	wait_state(2, "gone", 5);
	ck_assert_uint_eq(gen_serving_id(), 1);
	ck_assert_str_eq(gen_state_of(1), "serving");
	ck_assert_int_eq(gen_worker_pid(1, 0), pid1);
	ck_assert(pid_alive(pid1));
	/* rolled back for good: nothing retries while 1 serves */
	run_for(1);
	ck_assert_uint_eq(gen_last_id(), 2);
	finish();
}
END_TEST

START_TEST(test_ready_timeout_rolls_back)
{
	char boot[32];
	pid_t pid1;

	setup();
	o.ready = READY_NOTIFY;
	o.ready_timeout = T(1);
	o.restart_retries = 0; /* one attempt, rolled back for good */
	worker_argv("--notify-ready", NULL);
	pid1 = start_first();
	snprintf(boot, sizeof(boot), "%g", T(30));
	worker_argv("--notify-ready", "--boot-delay", boot, NULL);
	gen_restart("test HUP");
	/* not before the deadline */
	run_for(0.5);
	ck_assert_str_eq(gen_state_of(2), "starting");
	wait_state(2, "gone", 5);
	ck_assert_uint_eq(gen_serving_id(), 1);
	ck_assert_int_eq(gen_worker_pid(1, 0), pid1);
	ck_assert(pid_alive(pid1));
	finish();
}
END_TEST

START_TEST(test_hup_during_start_coalesced)
{
	setup();
	o.interval = T(0.6);
	start_first();
	gen_restart("HUP 1");
	gen_restart("HUP 2");
	gen_restart("HUP 3");
	ck_assert_str_eq(gen_state_of(2), "starting");
	ck_assert_uint_eq(gen_last_id(), 2);
	wait_state(2, "serving", 5);
	/* exactly one follow-up, started when 2 was promoted */
	ck_assert_uint_eq(gen_last_id(), 3);
	wait_state(3, "serving", 5);
	run_for(1.5);
	ck_assert_uint_eq(gen_last_id(), 3);
	ck_assert_uint_eq(gen_serving_id(), 3);
	wait_state(1, "gone", 5);
	wait_state(2, "gone", 5);
	finish();
}
END_TEST

START_TEST(test_old_generation_cap_kills)
{
	pid_t pid1, pid2;

	setup();
	o.max_old_generations = 1;
	worker_argv("--ignore-term", NULL);
	pid1 = start_first();
	gen_restart("HUP 1");
	wait_state(2, "serving", 5);
	pid2 = gen_worker_pid(2, 0);
	/* within the cap: 1 retires and stays (it ignores TERM) */
	run_for(0.5);
	ck_assert_str_eq(gen_state_of(1), "retiring");
	ck_assert(pid_alive(pid1));
	gen_restart("HUP 2");
	/* the promotion of 3 kills 1 in the same loop iteration; the
	 * worker is reaped in a later one */
	wait_state(3, "serving", 5);
	ck_assert_str_eq(gen_state_of(1), "killed");
	ck_assert_str_eq(gen_state_of(2), "retiring");
	wait_state(1, "gone", 5);
	ck_assert(!pid_alive(pid1));
	ck_assert(pid_alive(pid2));
	ck_assert_str_eq(gen_state_of(2), "retiring");
	finish();
}
END_TEST

/* A worker that fails in the generations listed (" 2 3 "), through sh. */
static void
failing_in(const char *gens)
{
	static char script[PATH_MAX + 128];
	static char *argv[5];

	snprintf(script, sizeof(script),
	         "case \" %s \" in *\" $SERVER_STARTER_GENERATION \"*) exit 3 "
	         ";; esac; exec \"%s\" --quiet",
	         gens, worker_path);
	argv[0] = (char *)"/bin/sh";
	argv[1] = (char *)"-c";
	argv[2] = script;
	argv[3] = NULL;
	o.argv = argv;
}

static int
last_id_is(const void *arg)
{
	return gen_last_id() >= *(const unsigned long *)arg;
}

/* Drop-in retry (start_server's test): 2 and 3 fail, 4 serves; 1 serves,
 * untouched, until then. */
START_TEST(test_retry_until_serves)
{
	unsigned long three = 3;
	pid_t pid1;

	setup();
	pid1 = start_first();
	failing_in("2 3");
	gen_restart("test HUP");
	ck_assert(run_until(last_id_is, &three, 5));
	ck_assert_uint_eq(gen_serving_id(), 1);
	ck_assert_int_eq(gen_worker_pid(1, 0), pid1);
	/* 3 fails, then 1 s of backoff (start-up's schedule) */
	wait_state(4, "serving", 10);
	ck_assert_str_eq(gen_state_of(2), "gone");
	ck_assert_str_eq(gen_state_of(3), "gone");
	wait_state(1, "gone", 5);
	ck_assert(!pid_alive(pid1));
	/* served: no retry after that */
	run_for(1.5);
	ck_assert_uint_eq(gen_last_id(), 4);
	finish();
}
END_TEST

static int
retry_waiting(const void *arg)
{
	(void)arg;
	return gen_last_id() == 3 && strcmp(gen_state_of(3), "gone") == 0;
}

/* A HUP while a retry waits for its backoff starts a new attempt at
 * once, and the old wait is forgotten. */
START_TEST(test_hup_during_backoff)
{
	pid_t pid1;

	setup();
	pid1 = start_first();
	failing_in("2 3 4 5 6 7 8 9");
	gen_restart("test HUP");
	/* 2 fails, 3 follows at once and fails: 1 s of backoff */
	ck_assert(run_until(retry_waiting, NULL, 5));
	ck_assert_uint_eq(gen_serving_id(), 1);
	worker_argv(NULL);
	gen_restart("HUP during the backoff");
	ck_assert_uint_eq(gen_last_id(), 4);
	ck_assert_str_eq(gen_state_of(4), "starting");
	wait_state(4, "serving", 5);
	wait_state(1, "gone", 5);
	ck_assert(!pid_alive(pid1));
	run_for(2);
	ck_assert_uint_eq(gen_last_id(), 4);
	ck_assert_uint_eq(gen_serving_id(), 4);
	finish();
}
END_TEST

/* --restart-retries=2: three attempts, then the rollback stands. */
START_TEST(test_retries_bounded)
{
	pid_t pid1;

	setup();
	o.restart_retries = 2;
	pid1 = start_first();
	worker_argv("--exit-immediately", "3", NULL);
	gen_restart("test HUP");
	/* 2, 3 at once, 4 after 1 s; then nothing (a 5th would be at 2 s) */
	run_for(4);
	ck_assert_uint_eq(gen_last_id(), 4);
	ck_assert_str_eq(gen_state_of(4), "gone");
	ck_assert_uint_eq(gen_serving_id(), 1);
	ck_assert_int_eq(gen_worker_pid(1, 0), pid1);
	finish();
}
END_TEST

static int
no_worker_alive(const void *arg)
{
	(void)arg;
	return gen_worker_pid(1, 0) == 0 && gen_worker_pid(1, 1) == 0;
}

/* --num-workers: a serving generation whose workers all wait for their
 * respawn (backoff) has no process; a stop must still end it (it used to
 * wait forever for a worker exit that could not come). */
START_TEST(test_stop_with_respawns_pending)
{
	char exit_after[32];

	setup();
	o.num_workers = 2;
	o.interval = T(0.1);
	snprintf(exit_after, sizeof(exit_after), "%g", T(0.4));
	worker_argv("--exit-after", exit_after, NULL);
	gen_init(loop, &o, changed);
	gen_start_first();
	wait_state(1, "serving", 5);
	ck_assert_msg(run_until(no_worker_alive, NULL, 20),
	              "never both workers dead at once");
	ck_assert_str_eq(gen_state_of(1), "serving");
	finish();
}
END_TEST

void
tests_gen(void)
{
	/* each test in its own process (Check's fork): a fresh gen.c state
	 * and a fresh default loop */
	TCase *tc = unit_case("gen");
	char self[PATH_MAX];
	double sc = getenv("BATON_TEST_TIME_SCALE")
	                ? atof(getenv("BATON_TEST_TIME_SCALE"))
	                : 1;

	if (realpath("/proc/self/exe", self) == NULL) {
		fprintf(stderr, "gen: /proc/self/exe: %s\n", strerror(errno));
		exit(99);
	}
	/* tests/worker, built beside this program */
	snprintf(worker_path, sizeof(worker_path), "%s/worker", dirname(self));
	if (access(worker_path, X_OK) < 0) {
		fprintf(stderr, "gen: no worker at %s: %s\n", worker_path,
		        strerror(errno));
		exit(99);
	}
	tcase_set_timeout(tc, 60 * (sc > 0 ? sc : 1));
	tcase_add_test(tc, test_first_start_serves);
	tcase_add_test(tc, test_hup_promotes_and_retires);
	tcase_add_test(tc, test_death_before_ready_rolls_back);
	tcase_add_test(tc, test_ready_timeout_rolls_back);
	tcase_add_test(tc, test_hup_during_start_coalesced);
	tcase_add_test(tc, test_old_generation_cap_kills);
	tcase_add_test(tc, test_stop_with_respawns_pending);
	tcase_add_test(tc, test_retry_until_serves);
	tcase_add_test(tc, test_hup_during_backoff);
	tcase_add_test(tc, test_retries_bounded);
}
