/* SPDX-License-Identifier: ISC */
/* daemon.c: --daemonize, and the report pipe that makes its exit status honest.
 */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

/*
 * The report pipe protocol. start_server's --daemonize exits 0 at once,
 * whatever happens next; baton's first process waits instead, so that a
 * deploy script learns about a failed start:
 *
 *   daemon -> first process, over a CLOEXEC pipe, exactly once:
 *     success: one byte, EXIT_OK (daemon_report_ok, once generation 1 is
 *              started), then the write end is closed;
 *     failure: one byte, the exit code, then the fatal message line
 *              (fatal() calls report_fatal through the log's fatal hook),
 *              then the daemon exits, which closes the pipe.
 *   The first process exits with that byte after copying the message to
 *   the terminal; end-of-file with no byte means the daemon died without
 *   a word (killed, or a bug): EXIT_SOFTWARE.
 *
 * The write end is CLOEXEC, so workers never hold it and the first
 * process sees end-of-file as soon as the daemon is gone.
 */

static int report_fd = -1;

static void
report_fatal(int code, const char *line)
{
	unsigned char c = (unsigned char)code;

	if (report_fd < 0)
		return;
	(void)!write(report_fd, &c, 1);
	(void)!write(report_fd, line, strlen(line));
}

void
daemon_report_ok(void)
{
	unsigned char ok = EXIT_OK;

	/* start-up is over: the terminal hears no more from us */
	log_set_tee_fd(-1);
	if (report_fd < 0)
		return;
	(void)!write(report_fd, &ok, 1);
	close(report_fd);
	report_fd = -1;
}

/* The first process: wait for the verdict and make it our exit status. */
static void __attribute__((noreturn)) wait_verdict(pid_t pid, int rfd, int out)
{
	unsigned char code;
	char buf[4096];
	sigset_t none;
	ssize_t n;
	int status;

	/* main() blocked the stop signals; here they must keep their default
	 * action, so that Ctrl-C still ends the waiting command */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	waitpid(pid, &status, 0);
	n = read(rfd, &code, 1);
	if (n != 1) {
		dprintf(out, "%s: the daemon exited during start-up\n",
		        log_progname());
		_exit(EXIT_SOFTWARE);
	}
	while ((n = read(rfd, buf, sizeof(buf))) > 0)
		(void)!write(out, buf, (size_t)n);
	_exit(code);
}

void
daemonize(int tty_fd)
{
	int pfd[2], devnull;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		fatal(EXIT_SOFTWARE, "cannot create a pipe to daemonize");
	pid = fork();
	if (pid < 0)
		fatal(EXIT_SOFTWARE, "cannot fork to daemonize");
	if (pid > 0) {
		close(pfd[1]);
		wait_verdict(pid, pfd[0], tty_fd >= 0 ? tty_fd : STDERR_FILENO);
	}
	close(pfd[0]);
	/* from here on the first process prints what goes wrong, for the
	 * middle process (setsid) as for the daemon */
	report_fd = pfd[1];
	log_set_fatal_hook(report_fatal);
	log_set_tee_fd(-1);
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
}
