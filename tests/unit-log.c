/* SPDX-License-Identifier: ISC */
/* unit-log.c: Check tests for log.c's output: it never blocks on a reader
 * that stopped, never tears a line, and counts what it dropped; each
 * level is told apart as baton.1 says, and debug lines are limited. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"
#include "run-tests.h"

#define NLINES 400

/* Everything the reader end holds now (it is made non-blocking). */
static size_t
drain(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	while (got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	return got;
}

/* Drain until what arrived ends with tail, for up to 10 s: a terminal
 * hands what was written to its other end from a kernel work queue, so
 * the last line may not be readable yet when write(2) has returned. */
static size_t
drain_until(int fd, char *buf, size_t len, const char *tail)
{
	struct pollfd pfd = {fd, POLLIN, 0};
	size_t got = 0, t = strlen(tail);
	int waited;

	for (waited = 0; waited < 10000; waited += 10) {
		got += drain(fd, buf + got, len - got);
		if (got >= t && strcmp(buf + got - t, tail) == 0)
			break;
		poll(&pfd, 1, 10);
	}
	return got;
}

/* Log NLINES numbered lines of growing length into a reader that does
 * not read (the test would hang if one blocked), drain it, log once more,
 * and drain again. All that arrived must be whole lines, in order: the
 * line cut short when the reader stopped is finished first, then comes
 * the count of the lines dropped, then the new line. */
static void
check_output(int wfd, int rfd, const char *name)
{
	static char buf[4 << 20];
	char pad[2000], want[128];
	unsigned long i, seen = 0, got = 0, pending = 0, dropped = 0;
	int after = 0;
	size_t n;
	char *p, *nl;

	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	log_set_output(wfd, name);
	for (i = 0; i < NLINES; i++)
		log_info("line %lu %.*s", i, (int)(i * 37 % sizeof(pad)), pad);
	n = drain(rfd, buf, sizeof(buf));
	/* the reader is back */
	log_info("after");
	drain_until(rfd, buf + n, sizeof(buf) - n, "baton: after\n");
	/* Whole lines in order; where some were dropped, the count of them
	 * comes first, once the reader is back, and says exactly how many
	 * are missing. A terminal's reader (the kernel's work queue) can come
	 * back while the lines are still being logged, so there may be more
	 * than one such count; "after" comes last. */
	snprintf(want, sizeof(want),
	         " log lines dropped while %s was blocked\n", name);
	/* the count is a warning of baton's own */
	for (p = buf; *p != '\0'; p = nl + 1) {
		unsigned long k;

		nl = strchr(p, '\n');
		ck_assert_msg(nl != NULL, "a torn line at the end: %.60s", p);
		ck_assert_msg(!after, "a line after the last one: %.60s", p);
		if (strncmp(p, "baton: line ", 12) == 0) {
			ck_assert_msg(sscanf(p, "baton: line %lu ", &k) == 1,
			              "not a whole line: %.60s", p);
			ck_assert_uint_eq((size_t)(nl - p),
			                  strlen("baton: line  ") + (k >= 100) +
			                      (k >= 10) + 1 +
			                      k * 37 % sizeof(pad));
			/* nothing lost without its count */
			ck_assert_uint_eq(k, seen + pending);
			seen = k + 1;
			pending = 0;
			got++;
		} else if (strncmp(p, "baton: after\n", 13) == 0) {
			ck_assert_uint_eq(seen + pending, NLINES);
			after = 1;
		} else {
			ck_assert_msg(sscanf(p, "baton: warning: %lu ", &k) ==
			                      1 &&
			                  strncmp(strchr(p + 16, ' '), want,
			                          strlen(want)) == 0,
			              "neither a line nor a count: %.60s", p);
			ck_assert_msg(pending == 0,
			              "two counts in a row: %.60s", p);
			ck_assert_uint_gt(k, 0);
			pending = k;
			dropped += k;
		}
	}
	ck_assert_msg(after, "the line logged once the reader was back is "
	                     "missing");
	ck_assert_msg(dropped > 0,
	              "the reader took all %d lines: a bigger test is needed",
	              NLINES);
	ck_assert_uint_eq(got + dropped, NLINES);
	log_set_output(STDERR_FILENO, "stderr");
}

START_TEST(test_pipe)
{
	int pfd[2];

	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
	check_output(pfd[1], pfd[0], "the test pipe");
	/* the writer the workers share was left blocking */
	ck_assert_int_eq(fcntl(pfd[1], F_GETFL) & O_NONBLOCK, 0);
	close(pfd[0]);
	close(pfd[1]);
}
END_TEST

/* A pipe baton may not open again (another user's: a container's stdio
 * for a baton run as an unprivileged user): written only when there is
 * room, never blocking either. Needs root, to make the pipe as one user
 * and write to it as another. */
START_TEST(test_pipe_foreign)
{
	int pfd[2];

	if (geteuid() != 0)
		return; /* nothing to check without root */
	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
	/* this test's own process (Check forks one per test) */
	ck_assert_int_eq(setresgid(65534, 65534, 65534), 0);
	ck_assert_int_eq(setresuid(65534, 65534, 65534), 0);
	check_output(pfd[1], pfd[0], "the test pipe");
	ck_assert_int_eq(fcntl(pfd[1], F_GETFL) & O_NONBLOCK, 0);
	close(pfd[0]);
	close(pfd[1]);
}
END_TEST

/* A stream socket takes part of a line when part fits: the rest must
 * follow before any other line. */
START_TEST(test_socket)
{
	int sv[2], small = 1; /* the least the kernel allows */

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
	                 0);
	ck_assert_int_eq(
	    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	check_output(sv[1], sv[0], "the test socket");
	ck_assert_int_eq(fcntl(sv[1], F_GETFL) & O_NONBLOCK, 0);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* A terminal takes part of a line too (n_tty writes what fits). */
START_TEST(test_pty)
{
	struct termios t;
	int m, s;

	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	ck_assert_int_ge(m, 0);
	ck_assert_int_eq(grantpt(m), 0);
	ck_assert_int_eq(unlockpt(m), 0);
	s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
	ck_assert_int_ge(s, 0);
	/* no \n -> \r\n: the bytes as written */
	ck_assert_int_eq(tcgetattr(s, &t), 0);
	cfmakeraw(&t);
	ck_assert_int_eq(tcsetattr(s, TCSANOW, &t), 0);
	check_output(s, m, "the test terminal");
	ck_assert_int_eq(fcntl(s, F_GETFL) & O_NONBLOCK, 0);
	close(m);
	close(s);
}
END_TEST

/* A regular file never waits for a peer: nothing is dropped. Info lines
 * are bare, baton's own warnings carry "warning: ", the ones in
 * start_server's place do not, and debug lines need --verbose. */
START_TEST(test_file)
{
	char path[] = "/tmp/baton-unit-log.XXXXXX", buf[512];
	int fd = mkstemp(path), rfd;

	ck_assert_int_ge(fd, 0);
	rfd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(rfd, 0);
	unlink(path);
	log_set_output(fd, "log file");
	log_info("one");
	log_warnx("two");
	log_compat_warnx("three");
	log_debug("hidden");
	log_set_debug(1);
	log_debug("four %d", 4);
	log_set_debug(0);
	errno = ENOENT;
	log_warn("five");
	drain(rfd, buf, sizeof(buf));
	ck_assert_str_eq(buf, "baton: one\n"
	                      "baton: warning: two\n"
	                      "baton: three\n"
	                      "baton: debug: four 4\n"
	                      "baton: warning: five: No such file or "
	                      "directory\n");
	log_set_output(STDERR_FILENO, "stderr");
	close(fd);
	close(rfd);
}
END_TEST

/* In a command that fails with it (--restart, --stats ...), a warning
 * line is that command's error: no marker. */
START_TEST(test_command_errors)
{
	int pfd[2];
	char buf[256];

	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
	log_set_output(pfd[1], "the test pipe");
	log_warnings_are_errors(1);
	log_warnx("no supervisor is running");
	log_warnings_are_errors(0);
	log_warnx("carrying on");
	drain(pfd[0], buf, sizeof(buf));
	ck_assert_str_eq(buf, "baton: no supervisor is running\n"
	                      "baton: warning: carrying on\n");
	log_set_output(STDERR_FILENO, "stderr");
	close(pfd[0]);
	close(pfd[1]);
}
END_TEST

/* stderr connected to the journal (JOURNAL_STREAM names it): each line
 * starts with its sd-daemon priority, the text after it unchanged. Any
 * other socket gets no priority. */
START_TEST(test_journal)
{
	int sv[2];
	struct stat st;
	char buf[512], env[64];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
	                 0);
	ck_assert_int_eq(fstat(sv[1], &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
	         (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", env, 1);
	log_set_output(sv[1], "stderr");
	log_info("not the journal");
	drain(sv[0], buf, sizeof(buf));
	ck_assert_str_eq(buf, "baton: not the journal\n");
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
	         (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	log_set_output(sv[1], "stderr");
	log_set_debug(1);
	log_info("one");
	log_warnx("two");
	log_compat_warnx("three");
	log_debug("four");
	log_warnings_are_errors(1);
	log_warnx("five");
	log_warnings_are_errors(0);
	log_set_debug(0);
	drain(sv[0], buf, sizeof(buf));
	ck_assert_str_eq(buf, "<6>baton: one\n"
	                      "<4>baton: warning: two\n"
	                      "<4>baton: three\n"
	                      "<7>baton: debug: four\n"
	                      "<3>baton: five\n");
	unsetenv("JOURNAL_STREAM");
	log_set_output(STDERR_FILENO, "stderr");
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* A command's error before log_set_output (--restart from ExecReload=,
 * whose stderr is the journal): the priority is there from log_init. */
START_TEST(test_journal_at_init)
{
	int sv[2], saved_err;
	struct stat st;
	char buf[256], env[64];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
	                 0);
	ck_assert_int_eq(fstat(sv[1], &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
	         (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	saved_err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	ck_assert_int_ge(saved_err, 0);
	ck_assert_int_eq(dup2(sv[1], STDERR_FILENO), STDERR_FILENO);
	log_init("baton");
	log_warnings_are_errors(1);
	log_warnx("no supervisor is running");
	log_warnings_are_errors(0);
	dup2(saved_err, STDERR_FILENO);
	close(saved_err);
	unsetenv("JOURNAL_STREAM");
	log_init("baton");
	drain(sv[0], buf, sizeof(buf));
	ck_assert_str_eq(buf, "<3>baton: no supervisor is running\n");
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* One debug call site, named in the count of what it held back. */
static void
debug_datagram(int i)
{
	log_debug("datagram %d", i);
}

/* One call site in a loop: LOG_DEBUG_BURST lines a second pass, the rest
 * are counted, and the count comes with the site's next second. */
START_TEST(test_debug_limit)
{
	static char buf[64 << 10];
	int pfd[2], i, lines = 0;
	char *p, want[128];

	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
	log_set_output(pfd[1], "the test pipe");
	log_set_debug(1);
	for (i = 0; i < 100; i++)
		debug_datagram(i);
	drain(pfd[0], buf, sizeof(buf));
	for (p = buf; (p = strstr(p, "baton: debug: datagram ")) != NULL; p++)
		lines++;
	ck_assert_int_eq(lines, LOG_DEBUG_BURST);
	usleep(1100 * 1000);
	debug_datagram(i);
	drain(pfd[0], buf, sizeof(buf));
	snprintf(want, sizeof(want),
	         "baton: debug: debug lines from %s: %d more suppressed in "
	         "the last 1 s\nbaton: debug: datagram 100\n",
	         "debug_datagram", 100 - LOG_DEBUG_BURST);
	ck_assert_str_eq(buf, want);
	log_set_debug(0);
	log_set_output(STDERR_FILENO, "stderr");
	close(pfd[0]);
	close(pfd[1]);
}
END_TEST

void
tests_log(void)
{
	TCase *tc = unit_case("log");

	tcase_add_test(tc, test_pipe);
	tcase_add_test(tc, test_pipe_foreign);
	tcase_add_test(tc, test_socket);
	tcase_add_test(tc, test_pty);
	tcase_add_test(tc, test_file);
	tcase_add_test(tc, test_command_errors);
	tcase_add_test(tc, test_journal);
	tcase_add_test(tc, test_journal_at_init);
	tcase_add_test(tc, test_debug_limit);
}
