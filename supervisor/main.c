/* main.c: options -> set-up -> the loop; nothing else. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ev.h>

#include "control.h"
#include "envdir.h"
#include "gen.h"
#include "listen.h"
#include "log.h"
#include "notify.h"
#include "options.h"
#include "privs.h"
#include "reexec.h"
#include "sig.h"
#include "spawn.h"
#include "status.h"

static struct options opts;
static char **saved_argv;
static int tty_fd = -1; /* stderr as it was before --log-file */
static pid_t logger_pid = -1;
static ev_child logger_watcher;

static void
cleanup(void)
{
	gen_remove_status();
	listen_unlink_paths(opts.ls, opts.nls);
	status_pidfile_remove();
}

/* --log-file: append to a file, or pipe into "| command" run by sh. Both
 * become baton's stdout and stderr, which workers inherit. */
static void
open_log(const char *spec)
{
	const char *p = spec;
	int fd;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '|') {
		int pfd[2];

		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (pipe2(pfd, O_CLOEXEC) < 0)
			fatal(EXIT_FILE, "cannot create a pipe for --log-file");
		logger_pid = fork();
		if (logger_pid < 0)
			fatal(EXIT_FILE, "cannot fork the log command \"%s\"",
			      p);
		if (logger_pid == 0) {
			signal(SIGPIPE, SIG_DFL);
			if (dup2(pfd[0], STDIN_FILENO) < 0)
				_exit(127);
			execl("/bin/sh", "sh", "-c", p, (char *)NULL);
			_exit(127);
		}
		close(pfd[0]);
		fd = pfd[1];
	} else {
		fd =
		    open(spec, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			fatal(EXIT_FILE, "cannot open log file %s", spec);
	}
	if (dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
		fatal(EXIT_FILE, "cannot redirect output to %s", spec);
	close(fd);
	log_timestamps(1);
}

/* fork, setsid, fork. The first parent waits until the daemon is set up
 * (pid file written, first worker started) and exits with its verdict,
 * so a deploy script learns about a failure (start_server exits 0
 * regardless). */
static void
daemonize(void)
{
	int pfd[2], devnull;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		fatal(EXIT_SOFTWARE, "cannot create a pipe to daemonize");
	pid = fork();
	if (pid < 0)
		fatal(EXIT_SOFTWARE, "cannot fork to daemonize");
	if (pid > 0) {
		unsigned char code;
		char buf[4096];
		ssize_t n;
		int status, out = tty_fd >= 0 ? tty_fd : STDERR_FILENO;

		close(pfd[1]);
		waitpid(pid, &status, 0);
		n = read(pfd[0], &code, 1);
		if (n != 1) {
			dprintf(out, "%s: the daemon exited during start-up\n",
			        log_progname());
			_exit(EXIT_SOFTWARE);
		}
		while ((n = read(pfd[0], buf, sizeof(buf))) > 0)
			(void)!write(out, buf, (size_t)n);
		_exit(code);
	}
	close(pfd[0]);
	/* from here on the parent prints what goes wrong */
	log_set_tee_fd(-1);
	tty_fd = -1;
	if (setsid() < 0)
		fatal(EXIT_SOFTWARE, "setsid");
	pid = fork();
	if (pid < 0)
		fatal(EXIT_SOFTWARE, "cannot fork to daemonize");
	if (pid > 0)
		_exit(0);
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0)
		fatal(EXIT_SOFTWARE, "cannot redirect stdin from /dev/null");
	close(devnull);
	log_set_report_fd(pfd[1]);
}

/* SIGUSR1, for log rotation: new workers write to the new file; running
 * ones keep the fd they inherited until they are restarted. */
static void
reopen_log(void)
{
	int fd;

	if (opts.log_file == NULL ||
	    opts.log_file[strspn(opts.log_file, " \t")] == '|') {
		log_info("received SIGUSR1: no log file to reopen");
		return;
	}
	fd = open(opts.log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	          0644);
	if (fd < 0) {
		log_warn("received SIGUSR1: cannot reopen log file %s",
		         opts.log_file);
		return;
	}
	if (dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
		log_warn("cannot redirect output to %s", opts.log_file);
	close(fd);
	log_info("received SIGUSR1: reopened log file %s", opts.log_file);
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
		reopen_log();
		break;
	case SIGUSR2:
		reexec_now(saved_argv, &opts);
		break;
	default: /* INT, QUIT: start_server forwards TERM for INT */
		gen_stop(SIGTERM, why);
		break;
	}
}

static void
logger_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	ev_child_stop(loop, w);
	log_warnx("log command (pid %ld) exited (status 0x%x); output is "
	          "lost until baton restarts",
	          (long)w->rpid, w->rstatus);
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

	log_set_atexit(unlink_paths);
	for (i = 0; i < opts.nls; i++)
		if (listen_bind(&opts.ls[i], err, sizeof(err)) < 0)
			fatalx(EXIT_LISTEN, "%s", err);
	for (i = 0; i < opts.nls; i++)
		listen_log_options(&opts.ls[i], 1);
	listen_print_table(stdout, opts.ls, opts.nls);
	privs_print(stdout);
	unlink_paths();
	if (fflush(stdout) != 0)
		fatal(EXIT_SOFTWARE, "cannot write the --check table");
	return EXIT_OK;
}

int
main(int argc, char **argv)
{
	static ev_signal sigs[6];
	static const int signums[6] = {SIGHUP,  SIGTERM, SIGINT,
	                               SIGQUIT, SIGUSR1, SIGUSR2};
	struct ev_loop *loop;
	const char *base = strrchr(argv[0], '/');
	char err[1024], *env;
	int state;
	size_t i;

	reexec_preflight_answer(argc, argv);
	base = base ? base + 1 : argv[0];
	saved_argv = argv;
	log_init(strcmp(base, "start_server") == 0 ? "start_server" : "baton");
	reexec_take();
	if (options_parse(argc, argv, &opts, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		fprintf(stderr, "Try '%s --help' for more information.\n",
		        base);
		return EXIT_USAGE;
	}
	if (privs_setup(&opts, err, sizeof(err)) < 0)
		fatalx(EXIT_USAGE, "%s", err);
	switch (opts.mode) {
	case MODE_HELP:
		options_usage(stdout);
		return EXIT_OK;
	case MODE_VERSION:
		printf("%s\n", PACKAGE_VERSION);
		return EXIT_OK;
	case MODE_RESTART:
		return control_restart(&opts);
	case MODE_STOP:
		return control_stop(&opts);
	case MODE_CHECK:
		return check_listeners();
	case MODE_RUN:
		break;
	}
	if (opts.daemonize && opts.log_file == NULL)
		fatalx(EXIT_USAGE, "--daemonize requires --log-file");
	if (opts.argv[0] == NULL)
		fatalx(EXIT_USAGE, "server program not specified");
	if (opts.dir)
		require_dir("--dir", opts.dir);

	if (listen_check_pins(opts.ls, opts.nls, err, sizeof(err)) < 0)
		fatalx(EXIT_USAGE, "%s", err);
	spawn_cloexec_inherited();
	notify_take_systemd_socket();
	/* double-forking workers stay ours to reap (libev reaps any child) */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		log_warn("cannot become a child subreaper");
	/* as start_server: workers start with SIGPIPE ignored */
	signal(SIGPIPE, SIG_IGN);
	options_export_env(&opts);
	if (opts.envdir)
		require_dir("--envdir", opts.envdir);
	if (envdir_load() < 0)
		fatal(EXIT_FILE, "cannot read envdir %s", getenv("ENVDIR"));

	state = reexec_adopt(&opts);
	/* the lock first: a second copy must not even try to bind */
	if (opts.pid_file && !state &&
	    status_pidfile_open(opts.pid_file, err, sizeof(err)) < 0)
		fatalx(EXIT_FILE, "%s", err);
	if (state) {
		/* a re-exec: output, sockets and pid file are already ours */
		if (opts.log_file)
			log_timestamps(1);
		log_set_atexit(cleanup);
	} else {
		log_set_atexit(cleanup);
		if (opts.log_file) {
			tty_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
			open_log(opts.log_file);
			log_set_tee_fd(tty_fd);
		}
		log_info("supervisor (pid %ld) starting now", (long)getpid());
		for (i = 0; i < opts.nls; i++)
			if (listen_bind(&opts.ls[i], err, sizeof(err)) < 0)
				fatalx(EXIT_LISTEN, "%s", err);
		for (i = 0; i < opts.nls; i++)
			if (opts.ls[i].pin_fd >= 0)
				log_info(
				    "socket %s is given to workers as fd %d",
				    opts.ls[i].key, opts.ls[i].pin_fd);
		for (i = 0; i < opts.nls; i++)
			listen_log_options(&opts.ls[i], 0);
	}
	env = listen_env(opts.ls, opts.nls);
	setenv("SERVER_STARTER_PORT", env, 1);
	free(env);
	setenv("SERVER_STARTER_GENERATION", "0", 1);

	if (opts.daemonize && !state)
		daemonize();
	if (!state && status_pidfile_write(err, sizeof(err)) < 0)
		fatalx(EXIT_FILE, "%s", err);

	loop = ev_default_loop(EVFLAG_AUTO);
	if (loop == NULL)
		fatalx(EXIT_SOFTWARE, "cannot initialise libev");
	for (i = 0; i < 6; i++) {
		ev_signal_init(&sigs[i], signal_cb, signums[i]);
		ev_signal_start(loop, &sigs[i]);
	}
	if (logger_pid > 0) {
		ev_child_init(&logger_watcher, logger_cb, logger_pid, 0);
		ev_child_start(loop, &logger_watcher);
		ev_unref(loop);
	}
	gen_init(loop, &opts);
	if (!state)
		gen_start_first();
	else
		reexec_resume();
	log_report_ok();
	ev_run(loop, 0);

	log_info("all workers are gone; exiting");
	cleanup();
	options_free(&opts);
	return EXIT_OK;
}
