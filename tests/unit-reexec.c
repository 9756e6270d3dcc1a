/* SPDX-License-Identifier: ISC */
/* unit-reexec.c: the re-exec state keeps where each listener came from
 * (version 3), an older state (version 2) is still taken, and the new
 * image gives adopted listeners back their origin and fd name. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"
#include "options.h"
#include "reexec.h"
#include "run-tests.h"

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* ---- the format ---------------------------------------------------------- */

START_TEST(test_listeners_round_trip)
{
	/* the strings are the awkward ones: blanks, '%', a leading '-' */
	char k1[] = "8080", k2[] = "/run/a b%c.sock", k3[] = "[::]:80",
	     k4[] = "127.0.0.1:81", n2[] = "web", n3[] = "-dash",
	     n4[] = "x y\t\xc3\xa9";
	struct reexec_listener ls[4] = {{3, LISTEN_BOUND, k1, NULL},
	                                {4, LISTEN_SYSTEMD, k2, n2},
	                                {5, LISTEN_SYSTEMD, k3, n3},
	                                {7, LISTEN_SYSTEMD, k4, n4}};
	struct reexec_state s, back;
	char err[256], *text;
	size_t i;

	memset(&s, 0, sizeof(s));
	s.pid = 1;
	s.pidfile_fd = -1;
	s.nls = 4;
	s.ls = ls;
	text = reexec_pack(&s);
	ck_assert_ptr_nonnull(text);
	ck_assert(strncmp(text, "baton-reexec 4\n", 15) == 0);
	ck_assert_msg(reexec_unpack(text, &back, err, sizeof(err)) == 0, "%s",
	              err);
	ck_assert_uint_eq(back.nls, 4);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(back.ls[i].fd, ls[i].fd);
		ck_assert_int_eq(back.ls[i].origin, ls[i].origin);
		ck_assert_str_eq(back.ls[i].key, ls[i].key);
		if (ls[i].fdname == NULL)
			ck_assert_ptr_null(back.ls[i].fdname);
		else
			ck_assert_str_eq(back.ls[i].fdname, ls[i].fdname);
	}
	reexec_state_free(&back);
	free(text);
}
END_TEST

#define V2 "baton-reexec 2\npid 1\npidfile -1\n"
#define V3 "baton-reexec 3\npid 1\npidfile -1\n"
#define TAIL "counters 1 0 0 1 0.5\ngenerations 0\nend\n"

START_TEST(test_v2_unpacked)
{
	struct reexec_state back;
	char err[256];

	ck_assert_msg(reexec_unpack(V2 "listeners 2\nlistener 4\nlistener "
	                               "9\n" TAIL,
	                            &back, err, sizeof(err)) == 0,
	              "%s", err);
	ck_assert_uint_eq(back.nls, 2);
	ck_assert_int_eq(back.ls[0].fd, 4);
	ck_assert_int_eq(back.ls[1].fd, 9);
	ck_assert_int_eq(back.ls[1].origin, -1);
	ck_assert_ptr_null(back.ls[1].key);
	ck_assert_ptr_null(back.ls[1].fdname);
	reexec_state_free(&back);
}
END_TEST

static const char *const bad_listener[] = {
    V2 "listeners 1\nlistener 4 bound 8080 -\n" TAIL,
    V3 "listeners 1\nlistener 4\n" TAIL,
    V3 "listeners 1\nlistener 4 bound 8080\n" TAIL,
    V3 "listeners 1\nlistener 4 inetd 8080 -\n" TAIL,
    V3 "listeners 1\nlistener 4 systemdx 8080 -\n" TAIL,
    V3 "listeners 1\nlistener 4 bound - -\n" TAIL,
    V3 "listeners 1\nlistener 4 bound -8080 -\n" TAIL,
    V3 "listeners 1\nlistener 4 bound 80%2 -\n" TAIL,
    V3 "listeners 1\nlistener 4 bound 80%zz -\n" TAIL,
    V3 "listeners 1\nlistener 4 bound 80%00 -\n" TAIL,
    V3 "listeners 1\nlistener 4 bound 8080 - x\n" TAIL,
    V3 "listeners 2\nlistener 4 bound 8080 -\n" TAIL,
    "baton-reexec 5\npid 1\npidfile -1\nlisteners 0\n" TAIL,
    "baton-reexec 1\npid 1\npidfile -1\nlisteners 0\n" TAIL,
};

START_TEST(test_bad_listener)
{
	struct reexec_state back;
	char err[256] = "";

	ck_assert_msg(reexec_unpack(bad_listener[_i], &back, err, sizeof(err)) <
	                  0,
	              "accepted: %s", bad_listener[_i]);
	ck_assert(err[0] != '\0');
	ck_assert_ptr_null(back.ls);
}
END_TEST

/* ---- the new image --------------------------------------------------------
 */

/* Hand text to reexec_take() as a re-exec does: in a sealed memfd named
 * by BATON_REEXEC_FD. "%d" in fmt is our pid. */
static void
take_state(const char *fmt, ...)
{
	char text[4096], num[16];
	va_list ap;
	int fd = memfd_create("baton-reexec", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
	ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, SEALS), 0);
	snprintf(num, sizeof(num), "%d", fd);
	setenv("BATON_REEXEC_FD", num, 1);
	reexec_take();
}

/* A listening TCP socket on 127.0.0.1; its port in *port. */
static int
tcp_listener(int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* A listening unix socket at a fresh path (into path). */
static int
unix_listener(char *path, size_t len)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(path, len, "/tmp/baton-unit-reexec.%ld.sock", (long)getpid());
	unlink(path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	return fd;
}

/* The command line's listeners: one --path, or none. */
static void
options_with_path(struct options *o, const char *path)
{
	char err[256];

	memset(o, 0, sizeof(*o));
	if (path == NULL)
		return;
	o->ls = calloc(1, sizeof(*o->ls));
	ck_assert_ptr_nonnull(o->ls);
	ck_assert_int_eq(listen_parse_path(path, &o->ls[0], err, sizeof(err)),
	                 0);
	o->nls = 1;
}

/* A version 2 state from the previous baton, with no --port or --path:
 * the listener is rebuilt from its fd, keyed by its address, adopted. */
START_TEST(test_v2_no_port_adopted)
{
	struct options o;
	char key[64];
	int port, fd = tcp_listener(&port);

	take_state(V2 "listeners 1\nlistener %d\n" TAIL, fd);
	options_with_path(&o, NULL);
	/* the state's pid is 1: not ours, so it is ignored */
	ck_assert_int_eq(reexec_adopt(&o), 0);
	take_state("baton-reexec 2\npid %d\npidfile -1\nlisteners 1\n"
	           "listener %d\n" TAIL,
	           (int)getpid(), fd);
	ck_assert_int_eq(reexec_adopt(&o), 1);
	ck_assert_uint_eq(o.nls, 1);
	ck_assert_int_eq(o.ls[0].fd, fd);
	ck_assert_int_eq(o.ls[0].target_fd, 3);
	ck_assert_int_eq(o.ls[0].kind, LISTEN_TCP);
	snprintf(key, sizeof(key), "127.0.0.1:%d", port);
	ck_assert_str_eq(o.ls[0].key, key);
	ck_assert_str_eq(listen_origin_name(&o.ls[0]), "systemd");
	ck_assert_ptr_null(o.ls[0].fdname);
	ck_assert_int_eq(fcntl(fd, F_GETFD), FD_CLOEXEC);
	options_free(&o); /* the listeners it rebuilt (LeakSanitizer) */
}
END_TEST

/* A version 2 state with a --path: the fd is taken back as before. */
START_TEST(test_v2_path_taken)
{
	struct options o;
	char path[108];
	int fd = unix_listener(path, sizeof(path));

	options_with_path(&o, path);
	take_state("baton-reexec 2\npid %d\npidfile -1\nlisteners 1\n"
	           "listener %d\n" TAIL,
	           (int)getpid(), fd);
	ck_assert_int_eq(reexec_adopt(&o), 1);
	ck_assert_int_eq(o.ls[0].fd, fd);
	ck_assert_str_eq(listen_origin_name(&o.ls[0]), "bound");
	unlink(path);
	options_free(&o); /* the listeners it rebuilt (LeakSanitizer) */
}
END_TEST

/* Version 3: an adopted --path stays adopted, with its fd name, and its
 * socket file is not removed at the end. */
START_TEST(test_v3_path_stays_adopted)
{
	struct options o;
	char path[108];
	struct stat st;
	int fd = unix_listener(path, sizeof(path));

	options_with_path(&o, path);
	take_state("baton-reexec 3\npid %d\npidfile -1\nlisteners 1\n"
	           "listener %d systemd %s web\n" TAIL,
	           (int)getpid(), fd, path);
	ck_assert_int_eq(reexec_adopt(&o), 1);
	ck_assert_int_eq(o.ls[0].fd, fd);
	ck_assert_str_eq(listen_origin_name(&o.ls[0]), "systemd");
	ck_assert_str_eq(o.ls[0].fdname, "web");
	listen_unlink_paths(o.ls, o.nls);
	ck_assert_int_eq(stat(path, &st), 0);
	unlink(path);
	options_free(&o); /* the listeners it rebuilt (LeakSanitizer) */
}
END_TEST

/* Version 3, a --path baton bound itself: removed at the end. */
START_TEST(test_v3_path_bound)
{
	struct options o;
	char path[108];
	struct stat st;
	int fd = unix_listener(path, sizeof(path));

	options_with_path(&o, path);
	take_state("baton-reexec 3\npid %d\npidfile -1\nlisteners 1\n"
	           "listener %d bound %s -\n" TAIL,
	           (int)getpid(), fd, path);
	ck_assert_int_eq(reexec_adopt(&o), 1);
	ck_assert_str_eq(listen_origin_name(&o.ls[0]), "bound");
	listen_unlink_paths(o.ls, o.nls);
	ck_assert_int_eq(stat(path, &st), -1);
	options_free(&o); /* the listeners it rebuilt (LeakSanitizer) */
}
END_TEST

/* Version 3 with no --port or --path: rebuilt, with the fd name. */
START_TEST(test_v3_no_port_rebuilt)
{
	struct options o;
	char key[64];
	int port, fd = tcp_listener(&port);

	snprintf(key, sizeof(key), "127.0.0.1:%d", port);
	options_with_path(&o, NULL);
	take_state("baton-reexec 3\npid %d\npidfile -1\nlisteners 1\n"
	           "listener %d systemd %s web\n" TAIL,
	           (int)getpid(), fd, key);
	ck_assert_int_eq(reexec_adopt(&o), 1);
	ck_assert_uint_eq(o.nls, 1);
	ck_assert_str_eq(o.ls[0].key, key);
	ck_assert_str_eq(listen_origin_name(&o.ls[0]), "systemd");
	ck_assert_str_eq(o.ls[0].fdname, "web");
	options_free(&o); /* the listeners it rebuilt (LeakSanitizer) */
}
END_TEST

/* A listener baton bound itself cannot be rebuilt without its --port:
 * exit 70, as for any other change of the command line. */
START_TEST(test_v3_bound_without_port)
{
	struct options o;
	int port, fd = tcp_listener(&port);

	options_with_path(&o, NULL);
	take_state("baton-reexec 3\npid %d\npidfile -1\nlisteners 1\n"
	           "listener %d bound 127.0.0.1:%d -\n" TAIL,
	           (int)getpid(), fd, port);
	reexec_adopt(&o);
}
END_TEST

/* A listener of another key than the command line's: exit 70. */
START_TEST(test_v3_other_key)
{
	struct options o;
	char path[108];
	int fd = unix_listener(path, sizeof(path));

	options_with_path(&o, path);
	take_state("baton-reexec 3\npid %d\npidfile -1\nlisteners 1\n"
	           "listener %d systemd /elsewhere.sock web\n" TAIL,
	           (int)getpid(), fd);
	unlink(path);
	reexec_adopt(&o);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

void
tests_reexec(void)
{
	TCase *tc = unit_case("reexec");

	tcase_add_test(tc, test_listeners_round_trip);
	tcase_add_test(tc, test_v2_unpacked);
	tcase_add_loop_test(tc, test_bad_listener, 0, N(bad_listener));
	tcase_add_test(tc, test_v2_no_port_adopted);
	tcase_add_test(tc, test_v2_path_taken);
	tcase_add_test(tc, test_v3_path_stays_adopted);
	tcase_add_test(tc, test_v3_path_bound);
	tcase_add_test(tc, test_v3_no_port_rebuilt);
	tcase_add_exit_test(tc, test_v3_bound_without_port, 70);
	tcase_add_exit_test(tc, test_v3_other_key, 70);
}
