/* SPDX-License-Identifier: ISC */
/* main.c: options -> set-up -> the loop; nothing else. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ev.h>

#include "control.h"
#include "daemon.h"
#include "einhorn.h"
#include "envdir.h"
#include "gen.h"
#include "inherit.h"
#include "listen-systemd.h"
#include "listen.h"
#include "log.h"
#include "logfile.h"
#include "metricshttp.h"
#include "notify.h"
#include "options.h"
#include "passfds.h"
#include "privs.h"
#include "publish.h"
#include "receipts.h"
#include "reap.h"
#include "ratelimit.h"
#include "reexec.h"
#include "sampler.h"
#include "sdnotify.h"
#include "sig.h"
#include "spawn.h"
#include "status.h"

static struct options opts;
static char **saved_argv;
static int tty_fd = -1; /* stderr as it was before --log-file */

/* The sampler's tick: the accept queues' steady scan rides on it. */
static void
sampled(int moved)
{
	moved |= receipts_steady();
	publish_sampled(moved);
}

static const struct gen_hooks receipt_hooks = {
    .trigger = receipts_trigger,
    .started = receipts_started,
    .ready = receipts_ready,
    .promoted = receipts_promoted,
    .gone = receipts_gone,
    .failed = receipts_failed,
    .kill = receipts_kill,
};

static void
cleanup(void)
{
	publish_cleanup();
	status_file_unlock();
	einhorn_close();
	/* with --fdstore the manager keeps the sockets for the next baton:
	 * their files must stay with them */
	if (!(opts.fdstore && sdnotify_enabled()))
		listen_unlink_paths(opts.ls, opts.nls);
	status_pidfile_remove();
}

/* A directory option must name one: exit 3 at start-up, not a failure
 * in every worker later. */
static void
require_dir(const char *option, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		fatal(EXIT_FILE, "cannot use %s %s", option, path);
	if (!S_ISDIR(st.st_mode))
		fatalx(EXIT_FILE, "cannot use %s %s: not a directory", option,
		       path);
}

/* Runs from ev_run, never in signal context: libev's handler only
 * records the signal, so any function may be called here. */
/* SIGUSR2. A signal libev's handler caught before this point lives only
 * in this image's memory (libev feeds it to its watcher an iteration
 * later), and exec would lose it: a TERM sent 1 ms after USR2 was then
 * never acted on. So block the control signals now (from here on the
 * kernel keeps them pending, across exec too) and exec from a
 * lowest-priority timer, after libev has handed over what it caught. If
 * one of those starts a restart or a stop, reexec_now() declines and the
 * signals are unblocked again. */
static sigset_t reexec_mask;
static ev_timer reexec_timer;

static void
reexec_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	static struct ratelimit rl = RATELIMIT_INIT("SIGUSR2 failures");
	char more[64];

	/* the new image starts its intervals afresh: say what was held */
	ratelimit_flush();
	logfile_exec_prepare();
	sdnotify_exec_prepare();
	/* the new image makes its own (a file would be left behind) */
	einhorn_close();
	reexec_now(saved_argv, &opts, gen_state_save);
	/* it returns only if it did not exec */
	if ((opts.pass_fds_as & PASSFDS_EINHORN) && einhorn_reopen() < 0 &&
	    ratelimit_check(&rl, more, sizeof(more)))
		log_warnx("cannot create the einhorn command socket: %s%s",
		          strerror(errno), more);
	sdnotify_exec_failed();
	logfile_exec_failed();
	if (sigprocmask(SIG_SETMASK, &reexec_mask, NULL) < 0 &&
	    ratelimit_check(&rl, more, sizeof(more)))
		log_warnx("cannot unblock signals after SIGUSR2: %s%s",
		          strerror(errno), more);
}

static void
reexec_soon(struct ev_loop *loop)
{
	/* whoever may signal baton can send USR2 in a loop */
	static struct ratelimit rl = RATELIMIT_INIT("SIGUSR2 failures");
	char more[64];

	if (ev_is_active(&reexec_timer))
		return;
	if (sig_block_control_save(&reexec_mask) < 0) {
		if (ratelimit_check(&rl, more, sizeof(more)))
			log_warnx("received SIGUSR2: cannot block signals; not "
			          "re-executing: %s%s",
			          strerror(errno), more);
		return;
	}
	ev_timer_init(&reexec_timer, reexec_cb, 0, 0);
	ev_set_priority(&reexec_timer, EV_MINPRI);
	ev_timer_start(loop, &reexec_timer);
}

static void
signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	char why[64];

	snprintf(why, sizeof(why), "received SIG%s", sig_name(w->signum));
	switch (w->signum) {
	case SIGHUP:
		gen_restart(why);
		break;
	case SIGTERM:
		gen_stop(opts.sig_term, why);
		break;
	case SIGUSR1:
		logfile_reopen();
		break;
	case SIGUSR2:
		reexec_soon(loop);
		break;
	default: /* INT, QUIT: start_server forwards TERM for INT */
		gen_stop(SIGTERM, why);
		break;
	}
}

static void
unlink_paths(void)
{
	listen_unlink_paths(opts.ls, opts.nls);
}

/* --check: bind every listener as a start would, print what the kernel
 * applied and its limits, remove the socket files and exit. No worker,
 * no pid or status file. */
static int
check_listeners(void)
{
	char err[1024];
	size_t i;
	int diffs =
	    listen_take_systemd_fds(&opts.ls, &opts.nls, err, sizeof(err));

	log_set_atexit(unlink_paths);
	if (diffs < 0)
		fatalx(EXIT_LISTEN, "%s", err);
	for (i = 0; i < opts.nls; i++)
		if (listen_bind(&opts.ls[i], err, sizeof(err)) < 0)
			fatalx(EXIT_LISTEN, "%s", err);
	for (i = 0; i < opts.nls; i++)
		listen_log_options(&opts.ls[i], 1);
	listen_print_table(stdout, opts.ls, opts.nls);
	inherit_print_accepted(stdout, opts.ls, opts.nls);
	privs_print(stdout);
	unlink_paths();
	if (fflush(stdout) != 0)
		fatal(EXIT_SOFTWARE, "cannot write the --check table");
	return diffs > 0 ? EXIT_LISTEN : EXIT_OK;
}

/* The workers' credentials: privs.c is given what it needs of the
 * options, nothing else. */
static int
setup_privs(char *err, size_t errlen)
{
	struct privs_opts po = {
	    .user = opts.user,
	    .supplementary_groups = opts.supplementary_groups,
	    .worker_caps = opts.worker_caps,
	    .no_new_privs = opts.no_new_privs,
	};

	return privs_setup(&po, err, errlen);
}

/* The command line. Returns -1 to go on and run the supervisor, or the
 * exit status of a mode that is a program of its own (--help, --restart,
 * --check ...). */
static int
parse_command_line(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');
	char err[1024];

	reexec_preflight_answer(argc, argv);
	base = base ? base + 1 : argv[0];
	saved_argv = argv;
	log_init(strcmp(base, "start_server") == 0 ? "start_server" : "baton");
	reexec_take();
	if (options_parse(argc, argv, &opts, err, sizeof(err)) < 0) {
		log_warnings_are_errors(1);
		log_warnx("%s", err);
		fprintf(stderr, "Try '%s --help' for more information.\n",
		        base);
		return EXIT_USAGE;
	}
	/* a command's complaints are the error it ends with (log.h) */
	log_warnings_are_errors(
	    opts.mode == MODE_RESTART || opts.mode == MODE_STOP ||
	    opts.mode == MODE_STATS || opts.mode == MODE_HEALTH);
	log_set_debug(opts.verbose);
	if (opts.mode != MODE_RUN && sig_unblock_control() < 0)
		fatal(EXIT_SOFTWARE, "cannot unblock signals");
	/* before anything can fail: a fatal error from here on reaches the
	 * service manager too (ERRNO=, STATUS=) */
	if (opts.mode == MODE_RUN)
		sdnotify_take();
	if ((opts.mode == MODE_RUN || opts.mode == MODE_CHECK) &&
	    setup_privs(err, sizeof(err)) < 0)
		fatalx(EXIT_USAGE, "%s", err);
	switch (opts.mode) {
	case MODE_HELP:
		options_usage(stdout);
		return EXIT_OK;
	case MODE_VERSION:
		/* as start_server: the bare number, as Perl's prints it */
		if (strcmp(log_progname(), "start_server") == 0)
			printf("%s\n", PACKAGE_VERSION);
		else
			printf("baton %s\n", PACKAGE_VERSION);
		return EXIT_OK;
	case MODE_RESTART:
		return control_restart(&opts);
	case MODE_STOP:
		return control_stop(&opts);
	case MODE_CHECK:
		return check_listeners();
	case MODE_STATS:
		return control_stats(&opts);
	case MODE_HEALTH:
		return control_health(&opts);
	case MODE_RUN:
		break;
	}
	return -1;
}

/* Large blocks (a /metrics answer is about 300 bytes per listener) are
 * mapped and unmapped each time. glibc's default threshold rises to the
 * largest block freed, so after the first scrape of 1,000 listeners the
 * next ones came from the heap and stayed in baton's memory (270 kB). */
static void
setup_malloc(void)
{
#ifdef M_MMAP_THRESHOLD
	/* a refusal (the sanitizers' allocator) only costs memory */
	(void)mallopt(M_MMAP_THRESHOLD, 64 * 1024);
	(void)mallopt(M_TRIM_THRESHOLD, 128 * 1024);
#endif
}

/* What the first worker does not need, done once it runs: it starts in
 * parallel with this. Nothing here may refuse the start (that is checked
 * before the first fork): the sockets' options as the kernel applied
 * them (a line for what the user asked, a note for what the kernel
 * lowered), the first queue sample and the sampling timer. */
static void
setup_after_first(int fresh)
{
	size_t i;

	setup_malloc();
	for (i = 0; fresh && i < opts.nls; i++)
		listen_log_options(&opts.ls[i], 0);
	sampler_start();
	/* the status files the first worker's start changed, with the
	 * queues sampled now */
	publish_release();
}

/* What must hold before anything is created, and the process-wide
 * settings workers inherit. */
static void
setup_process(void)
{
	char err[1024];

	/* a stalled reader of stderr must not stop the supervisor
	 * (--log-file points it elsewhere later) */
	log_set_output(STDERR_FILENO, "stderr");
	if (opts.daemonize && sdnotify_enabled())
		fatalx(EXIT_USAGE, "cannot use --daemonize under a service "
		                   "manager (NOTIFY_SOCKET is set): run baton "
		                   "in the foreground (Type=notify)");
	if (opts.fdstore && !sdnotify_enabled())
		log_warnx("--fdstore: no NOTIFY_SOCKET, no fd store to hand "
		          "the listeners to");
	if (opts.daemonize && opts.log_file == NULL)
		fatalx(EXIT_USAGE, "--daemonize requires --log-file");
	if (opts.argv[0] == NULL)
		fatalx(EXIT_USAGE, "server program not specified");
	if (opts.dir)
		require_dir("--dir", opts.dir);
	if (listen_take_systemd_fds(&opts.ls, &opts.nls, err, 1024) < 0)
		fatalx(EXIT_LISTEN, "%s", err);
	passfds_set(opts.pass_fds_as);
	if (listen_check_pins(opts.ls, opts.nls, err, sizeof(err)) < 0)
		fatalx(EXIT_USAGE, "%s", err);
	spawn_cloexec_inherited();
	/* double-forking workers stay ours to reap (reap.c reaps any child) */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		log_warn("cannot become a child subreaper");
	/* as start_server: workers start with SIGPIPE ignored */
	signal(SIGPIPE, SIG_IGN);
	options_export_env(&opts);
	if (opts.envdir)
		require_dir("--envdir", opts.envdir);
	if (envdir_load() < 0)
		fatal(EXIT_FILE, "cannot read envdir %s", getenv("ENVDIR"));
}

/* Whether fds a and b are the same file (a pipe, a tty, a log file). */
static int
same_file(int a, int b)
{
	struct stat x, y;

	return a >= 0 && fstat(a, &x) == 0 && fstat(b, &y) == 0 &&
	       x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

/* An ordinary start: the pid file's lock, the log, the listeners. */
static void
setup_fresh(void)
{
	char err[1024];
	size_t i;

	/* the lock first: a second copy must not even try to bind */
	if (opts.pid_file &&
	    status_pidfile_open(opts.pid_file, err, sizeof(err)) < 0)
		fatalx(EXIT_FILE, "%s", err);
	log_set_atexit(cleanup);
	/* the same for the status file: two supervisors writing one would
	 * overwrite each other, and the first to stop delete it */
	if (opts.status_file &&
	    status_file_lock(opts.status_file, err, sizeof(err)) < 0)
		fatalx(EXIT_FILE, "%s", err);
	if (opts.log_file) {
		tty_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
		logfile_open(opts.log_file);
		/* --log-file=/dev/stderr: the log is the terminal's file
		 * already, and a fatal line teed there would come twice */
		if (!same_file(tty_fd, STDERR_FILENO))
			log_set_tee_fd(tty_fd);
	}
	/* before the first line: the pid it names is the daemon's, and
	 * whatever fails from here on reaches the terminal through the
	 * report pipe (daemon.c) */
	if (opts.daemonize) {
		daemonize(tty_fd);
		tty_fd = -1;
		/* the log command must not hold the caller's terminal or pipe
		 * open ("ssh host baton --daemonize" would never return) */
		logfile_detach();
	}
	/* the daemon runs the command, as its child: it can then restart
	 * it */
	if (opts.log_file)
		logfile_start_command();
	log_info("supervisor (pid %ld) starting now", (long)getpid());
	for (i = 0; i < opts.nls; i++)
		if (listen_bind(&opts.ls[i], err, sizeof(err)) < 0)
			fatalx(EXIT_LISTEN, "%s", err);
	for (i = 0; i < opts.nls; i++)
		if (opts.ls[i].pin_fd >= 0)
			log_info("socket %s is given to workers as fd %d",
			         opts.ls[i].key, opts.ls[i].pin_fd);
	if (opts.fdstore && sdnotify_fdstore(opts.ls, opts.nls) >= 0)
		log_info("listeners handed to the service manager's fd store");
}

/* The workers' environment and the pid file: what has to happen after
 * the listeners and before the loop. */
static void
setup_env_and_pidfile(int fresh)
{
	char err[1024], *env = listen_env(opts.ls, opts.nls);

	setenv("SERVER_STARTER_PORT", env, 1);
	free(env);
	setenv("SERVER_STARTER_GENERATION", "0", 1);
	if (!fresh)
		return;
	if (status_pidfile_write(err, sizeof(err)) < 0)
		fatalx(EXIT_FILE, "%s", err);
}

/* libev's fatal errors (a failed epoll_wait ...) are baton's, with the
 * clean-up and the exit code of any other internal error. */
static void
libev_error(const char *msg)
{
	fatal(EXIT_SOFTWARE, "libev: %s", msg);
}

/* The loop and its signal watchers; the control signals, blocked since
 * main() began, are let in only now that a watcher waits for each. */
static struct ev_loop *
setup_loop(void)
{
	static ev_signal sigs[6];
	static const int signums[6] = {SIGHUP,  SIGTERM, SIGINT,
	                               SIGQUIT, SIGUSR1, SIGUSR2};
	struct ev_loop *loop;
	size_t i;

	ev_set_syserr_cb(libev_error);
	/* no EVFLAG_SIGNALFD: with signalfd libev would keep the signals
	 * blocked itself, and unblocking them below would undo that. Not
	 * the default loop: that one reaps every child as soon as it exits,
	 * and baton must keep an exited worker unreaped until its process
	 * group is swept (reap.c, pgroup.c) */
	loop = ev_loop_new(EVFLAG_AUTO);
	if (loop == NULL)
		fatalx(EXIT_SOFTWARE, "cannot initialise libev");
	reap_init(loop);
	for (i = 0; i < 6; i++) {
		ev_signal_init(&sigs[i], signal_cb, signums[i]);
		ev_signal_start(loop, &sigs[i]);
	}
	/* a signal that came during start-up is pending: libev's handler
	 * takes it now, and signal_cb runs in the first loop iteration */
	if (sig_unblock_control() < 0)
		fatal(EXIT_SOFTWARE, "cannot unblock signals");
	log_watch(loop);
	ratelimit_set_loop(loop);
	logfile_watch(loop);
	sdnotify_watchdog_start(loop);
	return loop;
}

int
main(int argc, char **argv)
{
	struct ev_loop *loop;
	int state, code,
	    blocked = sig_block_control(); /* before anything else */

	if ((code = parse_command_line(argc, argv)) >= 0)
		return code;
	if (blocked < 0)
		fatal(EXIT_SOFTWARE, "cannot block signals");
	setup_process();

	state = reexec_adopt(&opts);
	if (state) {
		/* a re-exec: output, sockets and pid file are already ours */
		if (opts.log_file)
			logfile_adopt(opts.log_file);
		log_set_atexit(cleanup);
	} else {
		logfile_ignore_state();
		setup_fresh();
	}
	setup_env_and_pidfile(!state);

	loop = setup_loop();
	/* only what can refuse the start comes before the first worker.
	 * The sampler and gen know nothing of each other: publish.c asks
	 * both when either tells it of a change */
	sampler_open(loop, &opts, sampled);
	receipts_open(loop, &opts, publish_changed);
	gen_init(loop, &opts, publish_changed);
	gen_set_hooks(&receipt_hooks);
	publish_init(loop, &opts);
	if (opts.metrics_listen)
		metricshttp_start(loop, opts.metrics_listen,
		                  opts.metrics_interval, opts.nls,
		                  publish_snapshot, publish_snapshot_free);
	/* before the first worker: its environment names the socket; an
	 * acknowledgement counts as READY=1 under --ready=notify */
	if ((opts.pass_fds_as & PASSFDS_EINHORN) &&
	    einhorn_open(loop, notify_deliver) < 0)
		fatal(EXIT_SOFTWARE,
		      "cannot create the einhorn command socket");
	publish_hold();
	if (!state)
		gen_start_first();
	else {
		reexec_resume(gen_state_adopt);
		sdnotify_status("re-executed (pid %ld)", (long)getpid());
	}
	setup_after_first(!state);
	daemon_report_ok();
#ifdef HAVE_MALLOC_TRIM
	/* parsing, binding and the first spawn leave free blocks inside the
	 * heap that the loop will not need again: 80 kB with 1,000 --path */
	malloc_trim(0);
#endif
	ev_run(loop, 0);

	ratelimit_flush();
	log_info("all workers are gone; exiting");
	cleanup();
	options_free(&opts);
	return EXIT_OK;
}
