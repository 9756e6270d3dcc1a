/* SPDX-License-Identifier: ISC */
/* unit-sdnotify.c: Check tests for sdnotify.c: the datagrams baton sends
 * to a NOTIFY_SOCKET of the test's own. */
#include "config.h"

#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "listen.h"
#include "sdnotify.h"
#include "run-tests.h"

/* ---- datagrams ------------------------------------------------------------ */

static int sink = -1;

/* An abstract datagram socket of our own as NOTIFY_SOCKET, taken by
 * sdnotify_take() as baton takes systemd's. */
static void
open_sink(void)
{
	struct sockaddr_un un;
	socklen_t len;
	char name[64];

	snprintf(name, sizeof(name), "@baton-unit-sdnotify-%ld",
	         (long)getpid());
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	memcpy(un.sun_path, name, strlen(name));
	un.sun_path[0] = '\0';
	len =
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
	sink = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(sink, 0);
	ck_assert_int_eq(bind(sink, (struct sockaddr *)&un, len), 0);
	setenv("NOTIFY_SOCKET", name, 1);
	setenv("WATCHDOG_USEC", "1000000", 1);
	sdnotify_take();
}

static void
next_msg(char *buf, size_t len)
{
	ssize_t n = recv(sink, buf, len - 1, MSG_DONTWAIT);

	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
}

static unsigned long long
mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ULL +
	       (unsigned long long)ts.tv_nsec / 1000ULL;
}

START_TEST(test_messages)
{
	unsigned long long before, after, usec;
	char buf[1024];
	const char *p;

	open_sink();
	ck_assert(sdnotify_enabled());
	ck_assert_ptr_null(getenv("NOTIFY_SOCKET")); /* workers never see it */
	ck_assert_ptr_null(getenv("WATCHDOG_USEC"));

	sdnotify_serving(1, 0);
	next_msg(buf, sizeof(buf));
	ck_assert_str_eq(buf, "READY=1\nSTATUS=generation 1 serving");

	sdnotify_serving(2, 1); /* a restart is pending: not ready yet */
	ck_assert_int_lt(recv(sink, buf, sizeof(buf), MSG_DONTWAIT), 0);

	before = mono_usec();
	sdnotify_reloading();
	after = mono_usec();
	next_msg(buf, sizeof(buf));
	ck_assert(strncmp(buf, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0);
	usec = strtoull(buf + 27, NULL, 10);
	ck_assert(usec >= before && usec <= after);
	p = strchr(buf + 27, '\n');
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p + 1, "STATUS=restarting: starting a new generation");

	sdnotify_rolled_back(3, "failed: worker 9 exited\nwith status 1", 2, 0);
	next_msg(buf, sizeof(buf));
	ck_assert_str_eq(buf, "READY=1\nSTATUS=restart failed: generation 3 "
	                      "failed: worker 9 exited with status 1; "
	                      "generation 2 keeps serving");

	sdnotify_stopping();
	next_msg(buf, sizeof(buf));
	ck_assert_str_eq(buf, "STOPPING=1\nSTATUS=stopping");

	/* a re-exec puts the variables back for the new image only */
	sdnotify_exec_prepare();
	ck_assert_ptr_nonnull(getenv("NOTIFY_SOCKET"));
	ck_assert_str_eq(getenv("WATCHDOG_USEC"), "1000000");
	sdnotify_exec_failed();
	ck_assert_ptr_null(getenv("NOTIFY_SOCKET"));
	ck_assert_ptr_null(getenv("WATCHDOG_USEC"));
	close(sink);
}
END_TEST

START_TEST(test_fdstore)
{
	char buf[512], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {buf, sizeof(buf) - 1};
	struct msghdr mh;
	struct cmsghdr *c;
	struct listener l;
	int fds[2], got = -1;
	ssize_t n;

	open_sink();
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	memset(&l, 0, sizeof(l));
	l.key = (char *)"127.0.0.1:8080";
	l.fd = fds[0];
	ck_assert_int_eq(sdnotify_fdstore(&l, 1), 1);
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	n = recvmsg(sink, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "FDSTORE=1\nFDNAME=127.0.0.1_8080");
	c = CMSG_FIRSTHDR(&mh);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->cmsg_type, SCM_RIGHTS);
	memcpy(&got, CMSG_DATA(c), sizeof(int));
	/* the very socket: what is written on the stored fd arrives */
	ck_assert_int_eq(write(got, "x", 1), 1);
	ck_assert_int_eq(read(fds[1], buf, 1), 1);
	ck_assert_int_eq(buf[0], 'x');
	close(got);
	close(fds[0]);
	close(fds[1]);
	close(sink);
}
END_TEST

/* A manager that stopped reading: nothing blocks (the test would hang),
 * and once it reads again it gets the state it missed, the last phase
 * with the last STATUS=, even when what goes through first is a STATUS=
 * alone. */
START_TEST(test_full_queue)
{
	char buf[1024], last[1024] = "";
	unsigned long i;
	const char *p;

	open_sink();
	for (i = 1; i <= 100; i++) /* far beyond net.unix.max_dgram_qlen */
		sdnotify_serving(i, 0);
	sdnotify_reloading(); /* lost */
	while (recv(sink, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	sdnotify_status("re-executed (pid %d)", 7);
	next_msg(buf, sizeof(buf));
	ck_assert_str_eq(buf, "STATUS=re-executed (pid 7)");
	/* then the state, RELOADING=1 with the new status */
	next_msg(buf, sizeof(buf));
	ck_assert(strncmp(buf, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0);
	p = strchr(buf + 27, '\n');
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p + 1, "STATUS=re-executed (pid 7)");
	/* and nothing more: the manager is up to date */
	ck_assert_int_lt(recv(sink, last, sizeof(last), MSG_DONTWAIT), 0);
	close(sink);
}
END_TEST

void
tests_sdnotify(void)
{
	TCase *tc = unit_case("sdnotify");

	tcase_add_test(tc, test_messages);
	tcase_add_test(tc, test_fdstore);
	tcase_add_test(tc, test_full_queue);
}
