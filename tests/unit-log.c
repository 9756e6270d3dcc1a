/* SPDX-License-Identifier: ISC */
/* unit-log.c: Check tests for log.c's output: it never blocks on a reader
 * that stopped, never tears a line, and counts what it dropped. */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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
			ck_assert_msg(sscanf(p, "baton: %lu ", &k) == 1 &&
			                  strncmp(strchr(p + 7, ' '), want,
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

/* A regular file never waits for a peer: nothing is dropped. */
START_TEST(test_file)
{
	char path[] = "/tmp/baton-unit-log.XXXXXX", buf[256];
	int fd = mkstemp(path), rfd;

	ck_assert_int_ge(fd, 0);
	rfd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(rfd, 0);
	unlink(path);
	log_set_output(fd, "log file");
	log_info("one");
	log_warnx("two");
	drain(rfd, buf, sizeof(buf));
	ck_assert_str_eq(buf, "baton: one\nbaton: two\n");
	log_set_output(STDERR_FILENO, "stderr");
	close(fd);
	close(rfd);
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
}
