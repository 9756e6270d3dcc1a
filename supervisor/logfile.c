/* SPDX-License-Identifier: ISC */
/* logfile.c: --log-file: a file reopened on SIGUSR1, or a "| command" kept
 * running. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "monotime.h"
#include "logfile.h"
#include "reap.h"
#include "safepath.h"
#include "sig.h"

/*
 * "| command": baton's stdout and stderr, and so every worker's, are the
 * write end of one pipe, and the command reads the other end. baton keeps
 * its own copy of the read end for as long as it runs, so that a command
 * that dies never turns the log into a broken pipe: nobody gets EPIPE, no
 * worker that restored SIGPIPE's default is killed by it, and whatever is
 * written meanwhile waits in the pipe (enlarged to 1 MiB where the system
 * allows) for the command, which baton restarts with backoff (1, 2, 4 ...
 * 30 s) on the same pipe.
 *
 * baton's own lines go through a second, non-blocking open of the write
 * end (log.c's log_set_output): if the pipe fills while the command is
 * down (or stalls), a worker blocks in write(2) until it drains, but baton
 * drops the line instead of blocking, counts it, and so stays free to
 * restart the command. Lines are at most PIPE_BUF bytes, so each is
 * written whole or not at all. A log file that is a FIFO gets the same.
 */

#define MAX_DELAY 30.0
#define STATE_VAR "BATON_LOGFILE_STATE"
#define PIPE_SIZE (1 << 20)

static const char *path;    /* the file, or NULL */
static const char *command; /* the command, or NULL */
static int read_fd = -1;
static int orig_out = -1, orig_err = -1; /* the command's stdout, stderr */
static pid_t logger_pid = -1;
static double delay = 1.0, started_at; /* monotonic */
static struct ev_loop *loop;
static ev_timer restart_timer;

static void child_cb(pid_t pid, int status, void *arg);

/* The command is a child of baton's: reap.c says when it exits. The
 * watch keeps nothing alive: the command must not keep baton running
 * once the workers are gone (it gets end-of-file when baton exits). */
static void
watch_command(pid_t pid)
{
	started_at = monotime_now();
	if (reap_watch(pid, 0, child_cb, NULL) < 0)
		log_warn("cannot watch the log command (pid %ld)", (long)pid);
}

/* Links are followed as start_server does (--log-file=/dev/stderr), but
 * a baton run as root must not append, through a link a local user
 * planted in /tmp, to a file of the link's choosing: safepath's rule.
 * nonblock: for a reopen from the loop, which must not wait in open(2)
 * for a FIFO's reader (ENXIO instead); the workers share what we open,
 * so it is made blocking again. At start-up baton waits for the reader,
 * as start_server does. */
static int
open_file(const char *p, int nonblock, char *why, size_t whylen)
{
	int fd, fl;

	fd = safepath_open(
	    p, O_WRONLY | O_APPEND | O_CREAT | (nonblock ? O_NONBLOCK : 0),
	    0644, why, whylen);
	if (fd >= 0 && nonblock &&
	    ((fl = fcntl(fd, F_GETFL)) < 0 ||
	     fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static void
set_log_output(void)
{
	char name[300];

	if (command)
		log_set_output(STDERR_FILENO, "the log command");
	else {
		snprintf(name, sizeof(name), "log file %s", path);
		log_set_output(STDERR_FILENO, name);
	}
}

/* A CLOEXEC copy of fd (at 3 or above), /dev/null when fd is closed. */
static int
save_fd(int fd)
{
	int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);

	if (copy < 0)
		copy = open("/dev/null", O_WRONLY | O_CLOEXEC);
	return copy;
}

static void
open_pipe(const char *spec)
{
	int pfd[2];

	if (pipe2(pfd, O_CLOEXEC) < 0)
		fatal(EXIT_FILE, "cannot create a pipe for --log-file");
	/* best effort: a bigger buffer only bridges a longer outage */
	(void)fcntl(pfd[1], F_SETPIPE_SZ, PIPE_SIZE);
	orig_out = save_fd(STDOUT_FILENO);
	orig_err = save_fd(STDERR_FILENO);
	if (orig_out < 0 || orig_err < 0)
		fatal(EXIT_FILE, "cannot keep stdout for the log command");
	if (dup2(pfd[1], STDOUT_FILENO) < 0 || dup2(pfd[1], STDERR_FILENO) < 0)
		fatal(EXIT_FILE, "cannot redirect output to %s", spec);
	close(pfd[1]);
	read_fd = pfd[0];
}

/* Which kind of log spec is: sets command or path. */
static void
parse_spec(const char *spec)
{
	const char *p = spec + strspn(spec, " \t");

	if (*p == '|') {
		p++;
		command = p + strspn(p, " \t");
	} else {
		path = spec;
	}
}

void
logfile_open(const char *spec)
{
	char why[512];
	int fd;

	parse_spec(spec);
	if (command) {
		open_pipe(spec);
	} else {
		fd = open_file(spec, 0, why, sizeof(why));
		if (fd < 0 && why[0])
			fatalx(EXIT_FILE, "cannot open log file %s: %s", spec,
			       why);
		if (fd < 0)
			fatal(EXIT_FILE, "cannot open log file %s", spec);
		if (dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
			fatal(EXIT_FILE, "cannot redirect output to %s", spec);
		close(fd);
	}
	set_log_output();
	log_timestamps(1);
}

void
logfile_detach(void)
{
	int devnull;

	if (command == NULL)
		return;
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull < 0 || dup3(devnull, orig_out, O_CLOEXEC) < 0 ||
	    dup3(devnull, orig_err, O_CLOEXEC) < 0)
		fatal(EXIT_FILE, "cannot point the log command's output at "
		                 "/dev/null");
	close(devnull);
}

static void
set_cloexec(int on)
{
	int fds[3] = {read_fd, orig_out, orig_err};
	size_t i;

	for (i = 0; i < 3; i++)
		if (fcntl(fds[i], F_SETFD, on ? FD_CLOEXEC : 0) < 0)
			log_warn("cannot set close-on-exec on the log "
			         "command's fd %d",
			         fds[i]);
}

void
logfile_exec_prepare(void)
{
	char state[96];

	if (command == NULL || read_fd < 0)
		return;
	snprintf(state, sizeof(state), "%ld,%d,%d,%d", (long)logger_pid,
	         read_fd, orig_out, orig_err);
	set_cloexec(0);
	if (setenv(STATE_VAR, state, 1) < 0)
		log_warn("cannot hand the log command over across re-exec");
}

void
logfile_exec_failed(void)
{
	if (command == NULL || read_fd < 0)
		return;
	unsetenv(STATE_VAR);
	set_cloexec(1);
}

/* A fresh start: a hand-over variable came from whoever started baton,
 * not from a re-exec (whose state arrives in a verified memfd), so it
 * names nothing of ours and must not reach the workers. */
void
logfile_ignore_state(void)
{
	unsetenv(STATE_VAR);
}

void
logfile_adopt(const char *spec)
{
	const char *s = getenv(STATE_VAR);
	long pid;

	parse_spec(spec);
	log_timestamps(1);
	set_log_output();
	if (s == NULL)
		return;
	if (command == NULL) {
		unsetenv(STATE_VAR);
		return;
	}
	if (sscanf(s, "%ld,%d,%d,%d", &pid, &read_fd, &orig_out, &orig_err) !=
	    4) {
		log_warnx("re-exec: log command state \"%s\" is not "
		          "understood; it will not be restarted",
		          s);
		read_fd = -1;
	} else {
		logger_pid = (pid_t)pid;
	}
	unsetenv(STATE_VAR);
}

/* The child: async-signal-safe calls only. baton's handlers and blocked
 * signals must not reach the command. */
static void __attribute__((noreturn)) exec_command(void)
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(read_fd, STDIN_FILENO) < 0 ||
	    dup2(orig_out, STDOUT_FILENO) < 0 ||
	    dup2(orig_err, STDERR_FILENO) < 0)
		_exit(127);
	execl("/bin/sh", "sh", "-c", command, (char *)NULL);
	_exit(127);
}

static pid_t
fork_command(void)
{
	sigset_t all, old;
	pid_t pid;

	/* no baton handler may run in the child before exec_command resets
	 * them: it would feed the signal to baton's loop (libuv's rule) */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		exec_command();
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid > 0 && loop)
		watch_command(pid);
	return pid;
}

void
logfile_start_command(void)
{
	if (command == NULL || logger_pid > 0)
		return;
	logger_pid = fork_command();
	if (logger_pid < 0)
		fatal(EXIT_FILE, "cannot fork the log command \"%s\"", command);
}

/* Restart the command after the current delay, then double the delay. */
static void
schedule_restart(struct ev_loop *l)
{
	ev_timer_set(&restart_timer, delay, 0.);
	ev_timer_start(l, &restart_timer);
	ev_unref(l); /* a pending restart must not keep baton alive either */
	delay = delay * 2 > MAX_DELAY ? MAX_DELAY : delay * 2;
}

static void
restart_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	/* the one-shot timer stopped itself, which dropped a reference we
	 * had already given up with ev_unref: take it back */
	ev_ref(l);
	logger_pid = fork_command();
	if (logger_pid > 0) {
		log_info("restarted log command \"%s\" (pid %ld)", command,
		         (long)logger_pid);
		return;
	}
	log_warn("cannot fork the log command \"%s\"; trying again in %gs",
	         command, delay);
	schedule_restart(l);
}

static void
child_cb(pid_t pid, int status, void *arg)
{
	char how[64];

	(void)arg;
	if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "killed by signal %s",
		         sig_name(WTERMSIG(status)));
	else
		snprintf(how, sizeof(how), "status %d", WEXITSTATUS(status));
	logger_pid = -1;
	/* a command that ran for a while earns a quick restart again */
	if (monotime_now() - started_at >= MAX_DELAY)
		delay = 1.0;
	log_warnx("log command (pid %ld) exited (%s); restarting it in %gs",
	          (long)pid, how, delay);
	schedule_restart(loop);
}

void
logfile_watch(struct ev_loop *l)
{
	loop = l;
	ev_timer_init(&restart_timer, restart_cb, 0., 0.);
	if (logger_pid > 0)
		watch_command(logger_pid);
}

/* SIGUSR1, for log rotation: new workers write to the new file; running
 * ones keep the fd they inherited until they are restarted. */
void
logfile_reopen(void)
{
	char why[512];
	int fd;

	if (path == NULL) {
		log_info("received SIGUSR1: no log file to reopen");
		return;
	}
	fd = open_file(path, 1, why, sizeof(why));
	if (fd < 0 && why[0]) {
		log_warnx("received SIGUSR1: cannot reopen log file %s: %s",
		          path, why);
		return;
	}
	if (fd < 0) {
		log_warn("received SIGUSR1: cannot reopen log file %s", path);
		return;
	}
	if (dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
		log_warn("cannot redirect output to %s", path);
	close(fd);
	set_log_output();
	log_info("received SIGUSR1: reopened log file %s", path);
}
