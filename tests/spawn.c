/* SPDX-License-Identifier: ISC */
/* spawn.c: Check tests of the fork/exec path. The test binary re-execs
 * itself as the worker (as libuv's tests do) and reports from inside what
 * it inherited: fds, sockets, signal mask and dispositions, cwd. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "listen.h"
#include "spawn.h"
#include "status.h"
#include "run-tests.h"

static char self[PATH_MAX];
static char report[PATH_MAX];

/* ---- the child side --------------------------------------------------- */

int
spawn_child_main(void)
{
	FILE *f = fopen(getenv("SPAWN_REPORT"), "w");
	struct sigaction sa;
	struct dirent *de;
	sigset_t mask;
	char cwd[PATH_MAX];
	DIR *d;
	int sig;

	if (f == NULL)
		return 2;
	d = opendir("/proc/self/fd");
	while (d && (de = readdir(d)) != NULL) {
		struct sockaddr_in sin;
		socklen_t len = sizeof(sin);
		int fd = atoi(de->d_name), acc = 0;
		socklen_t alen = sizeof(acc);

		if (de->d_name[0] == '.' || fd == dirfd(d) || fd == fileno(f))
			continue;
		if (getsockname(fd, (struct sockaddr *)&sin, &len) == 0 &&
		    sin.sin_family == AF_INET) {
			getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &alen);
			fprintf(f, "fd %d port %d listening %d\n", fd,
			        ntohs(sin.sin_port), acc);
		} else
			fprintf(f, "fd %d\n", fd);
	}
	if (d)
		closedir(d);
	sigprocmask(SIG_SETMASK, NULL, &mask);
	for (sig = 1; sig < NSIG; sig++)
		if (sigismember(&mask, sig) == 1)
			fprintf(f, "blocked %d\n", sig);
	for (sig = 1; sig < 32; sig++) {
		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL)
			fprintf(f, "disposition %d %s\n", sig,
			        sa.sa_handler == SIG_IGN ? "ignored"
			                                 : "handled");
	}
	if (getcwd(cwd, sizeof(cwd)))
		fprintf(f, "cwd %s\n", cwd);
	fclose(f);
	return 0;
}

/* ---- the parent side -------------------------------------------------- */

static void
handler(int sig)
{
	(void)sig;
}

static struct listener
bound(const char *spec)
{
	struct listener l;
	char err[256];

	ck_assert_int_eq(listen_parse_port(spec, &l, err, sizeof(err)), 0);
	l.backlog = 16;
	ck_assert_msg(listen_bind(&l, err, sizeof(err)) == 0, "%s", err);
	return l;
}

static int
port_of(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	return ntohs(sin.sin_port);
}

/* Run the child with ls and return its report (malloc'd). */
static char *
run_child(struct listener *ls, size_t n, const char *dir, int *status)
{
	char *argv[] = {self, (char *)"--spawn-child", NULL};
	struct spawn_req req = {.argv = argv, .dir = dir, .ls = ls, .nls = n};
	struct spawn_failure f;
	pid_t pid;

	unlink(report);
	setenv("SPAWN_REPORT", report, 1);
	pid = spawn_worker(&req, &f);
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(f.stage, SPAWN_OK);
	ck_assert_int_eq(waitpid(pid, status, 0), pid);
	return status_read_file(report);
}

static int
has_line(const char *text, const char *line)
{
	const char *p = text;
	size_t len = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') &&
		    (p[len] == '\n' || p[len] == '\0'))
			return 1;
		p++;
	}
	return 0;
}

START_TEST(test_only_listeners_inherited)
{
	struct listener ls[2] = {bound("127.0.0.1:0"), bound("127.0.0.1:0")};
	char *text, line[64];
	int status, leak, fds = 0;
	const char *p;

	/* an fd baton inherited without CLOEXEC must not reach workers */
	leak = open("/dev/null", O_RDONLY);
	ck_assert_int_ge(leak, 0);
	spawn_cloexec_inherited();
	ck_assert_int_eq(listen_assign_fds(ls, 2, line, sizeof(line)), 0);
	text = run_child(ls, 2, NULL, &status);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	snprintf(line, sizeof(line), "fd 3 port %d listening 1",
	         port_of(ls[0].fd));
	ck_assert_msg(has_line(text, line), "no \"%s\" in:\n%s", line, text);
	snprintf(line, sizeof(line), "fd 4 port %d listening 1",
	         port_of(ls[1].fd));
	ck_assert_msg(has_line(text, line), "no \"%s\" in:\n%s", line, text);
	for (p = text; (p = strstr(p, "fd ")) != NULL; p++)
		if (p == text || p[-1] == '\n')
			fds++;
	/* 0, 1, 2 and the two listeners: nothing else */
	ck_assert_msg(fds == 5, "%d fds in the worker:\n%s", fds, text);
	close(leak);
	free(text);
	close(ls[0].fd);
	close(ls[1].fd);
	listen_free(&ls[0]);
	listen_free(&ls[1]);
}
END_TEST

START_TEST(test_pinned_fds_swap)
{
	/* each listener asks for the number the other one has in the
	 * parent: start_server lost a socket this way */
	struct listener ls[2] = {bound("127.0.0.1:0"), bound("127.0.0.1:0")};
	char *text, line[64];
	int status;

	ls[0].target_fd = ls[1].fd;
	ls[1].target_fd = ls[0].fd;
	text = run_child(ls, 2, NULL, &status);
	ck_assert_ptr_nonnull(text);
	snprintf(line, sizeof(line), "fd %d port %d listening 1", ls[1].fd,
	         port_of(ls[0].fd));
	ck_assert_msg(has_line(text, line), "no \"%s\" in:\n%s", line, text);
	snprintf(line, sizeof(line), "fd %d port %d listening 1", ls[0].fd,
	         port_of(ls[1].fd));
	ck_assert_msg(has_line(text, line), "no \"%s\" in:\n%s", line, text);
	free(text);
	close(ls[0].fd);
	close(ls[1].fd);
	listen_free(&ls[0]);
	listen_free(&ls[1]);
}
END_TEST

START_TEST(test_pinned_to_stdin)
{
	struct listener l = bound("127.0.0.1:0");
	char *text, line[64];
	int status;

	l.target_fd = 0;
	text = run_child(&l, 1, NULL, &status);
	ck_assert_ptr_nonnull(text);
	snprintf(line, sizeof(line), "fd 0 port %d listening 1", port_of(l.fd));
	ck_assert_msg(has_line(text, line), "no \"%s\" in:\n%s", line, text);
	free(text);
	close(l.fd);
	listen_free(&l);
}
END_TEST

START_TEST(test_signals_reset)
{
	struct sigaction sa;
	sigset_t block;
	char *text, line[64];
	int status;

	/* what libev leaves in baton: handlers and a blocked set */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, NULL);
	text = run_child(NULL, 0, NULL, &status);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(strstr(text, "blocked ") == NULL, "mask not empty:\n%s",
	              text);
	snprintf(line, sizeof(line), "disposition %d ignored", SIGPIPE);
	ck_assert_msg(has_line(text, line), "SIGPIPE not ignored:\n%s", text);
	/* (a sanitizer runtime installs its own SEGV/BUS/FPE handlers in
	 * the child: only the signals baton handles are checked) */
	snprintf(line, sizeof(line), "disposition %d handled", SIGHUP);
	ck_assert_msg(!has_line(text, line), "SIGHUP handler:\n%s", text);
	snprintf(line, sizeof(line), "disposition %d handled", SIGTERM);
	ck_assert_msg(!has_line(text, line), "SIGTERM handler:\n%s", text);
	snprintf(line, sizeof(line), "disposition %d ignored", SIGINT);
	ck_assert_msg(!has_line(text, line), "SIGINT still ignored:\n%s", text);
	free(text);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
}
END_TEST

START_TEST(test_dir)
{
	char *text;
	int status;

	text = run_child(NULL, 0, "/tmp", &status);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(has_line(text, "cwd /tmp"), "%s", text);
	free(text);
}
END_TEST

/* Targets for n listeners whose fds (in the parent) are fd[]: each
 * layout is a way start_server lost or aliased sockets. */
enum layout {
	L_IDENTITY, /* already in place: only CLOEXEC to clear */
	L_SWAPS,    /* pairs wanting each other's number */
	L_ROTATE,   /* one cycle through all of them */
	L_SHIFT1,   /* a chain: each wants the next one's number */
	L_SHIFT2,   /* the chain's end lands on the error pipe */
	L_REVERSE,  /* nested cycles */
	L_NLAYOUTS
};

static void
set_targets(struct listener *ls, size_t n, int layout)
{
	size_t i;

	for (i = 0; i < n; i++)
		switch (layout) {
		case L_IDENTITY:
			ls[i].target_fd = ls[i].fd;
			break;
		case L_SWAPS:
			ls[i].target_fd = i % 2       ? ls[i - 1].fd
			                  : i + 1 < n ? ls[i + 1].fd
			                              : ls[i].fd;
			break;
		case L_ROTATE:
			ls[i].target_fd = ls[(i + 1) % n].fd;
			break;
		case L_SHIFT1:
			ls[i].target_fd = ls[i].fd + 1;
			break;
		case L_SHIFT2:
			ls[i].target_fd = ls[i].fd + 2;
			break;
		default:
			ls[i].target_fd = ls[n - 1 - i].fd;
		}
}

/* n listeners placed under an fd limit of limit (0: unchanged); the
 * worker must see each on its target and nothing else. */
static void
check_placement(struct listener *ls, size_t n, rlim_t limit)
{
	struct rlimit old, rl;
	char *text, line[64];
	const char *p;
	int status;
	size_t i, fds = 0;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	rl = old;
	if (limit)
		rl.rlim_cur = limit;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	text = run_child(ls, n, NULL, &status);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "fd %d port %d listening 1",
		         ls[i].target_fd, port_of(ls[i].fd));
		ck_assert_msg(has_line(text, line), "no \"%s\"", line);
	}
	/* nothing else of the parent's: one socket per listener */
	for (p = text; (p = strstr(p, " port ")) != NULL; p++)
		fds++;
	ck_assert_msg(fds == n, "%zu sockets in the worker for %zu", fds, n);
	free(text);
}

static struct listener *
bound_n(size_t n)
{
	struct listener *ls = calloc(n, sizeof(*ls));
	size_t i;

	ck_assert_ptr_nonnull(ls);
	for (i = 0; i < n; i++)
		ls[i] = bound("127.0.0.1:0");
	return ls;
}

static void
free_n(struct listener *ls, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		close(ls[i].fd);
		listen_free(&ls[i]);
	}
	free(ls);
}

START_TEST(test_layouts_small)
{
	struct listener *ls = bound_n(5);

	set_targets(ls, 5, _i);
	check_placement(ls, 5, 0);
	free_n(ls, 5);
}
END_TEST

/* 500 listeners with an fd limit of 516 (N + 16): start_server's way
 * (everything above all numbers first) needed twice as many. */
START_TEST(test_layouts_near_limit)
{
	struct listener *ls = bound_n(500);

	ck_assert_int_lt(ls[499].fd, 516 - 8);
	set_targets(ls, 500, _i);
	check_placement(ls, 500, 516);
	free_n(ls, 500);
}
END_TEST

/* The start-up check and the child agree: pins at limit-1 and limit-2
 * pass both; one listener more than limit - 16 is refused up front. */
START_TEST(test_pins_at_limit)
{
	struct listener *ls = bound_n(500);
	struct rlimit old, rl;
	char err[256];

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	ls[0].pin_fd = 515;
	ls[7].pin_fd = 514;
	ck_assert_int_eq(listen_assign_fds(ls, 500, err, sizeof(err)), 0);
	rl = old;
	rl.rlim_cur = 516;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_msg(listen_check_pins(ls, 500, err, sizeof(err)) == 0, "%s",
	              err);
	rl.rlim_cur = 515;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_int_lt(listen_check_pins(ls, 500, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "cannot pass 500 listeners: the fd limit "
	                          "is 515 (ulimit -n); raise it to at least "
	                          "516") != NULL,
	              "%s", err);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	check_placement(ls, 500, 516);
	free_n(ls, 500);
}
END_TEST

/* No spare number left: the child says why (EMFILE), not just where. */
START_TEST(test_no_spare_fd_reported)
{
	struct listener *ls = bound_n(2);
	char *argv[] = {self, (char *)"--spawn-child", NULL};
	struct spawn_req req = {.argv = argv, .ls = ls, .nls = 2};
	struct spawn_failure f;
	struct rlimit old, rl;
	int fill[64], nfill = 0, status;
	pid_t pid;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	rl = old;
	rl.rlim_cur = (rlim_t)ls[1].fd + 40;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	while (nfill < 64 &&
	       (fill[nfill] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		nfill++;
	ck_assert_int_eq(errno, EMFILE);
	ck_assert_int_ge(nfill, 2);
	/* the pipe takes these two; both are targets, so the error pipe
	 * must move and finds nothing free that nobody wants */
	ls[0].target_fd = fill[--nfill];
	ls[1].target_fd = fill[--nfill];
	close(ls[0].target_fd);
	close(ls[1].target_fd);
	pid = spawn_worker(&req, &f);
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(f.stage, SPAWN_DUP);
	ck_assert_int_eq(f.err, EMFILE);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	while (nfill > 0)
		close(fill[--nfill]);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	free_n(ls, 2);
}
END_TEST

/* spawn_worker blocks every signal across fork: baton's own mask must be
 * what it was once it returns, success or failure. */
START_TEST(test_parent_mask_restored)
{
	char *argv[] = {(char *)"/nonexistent/worker", NULL};
	struct spawn_req req = {.argv = argv};
	struct spawn_failure f;
	sigset_t block, before, after;
	int status, sig;
	pid_t pid;

	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, &before);
	sigprocmask(SIG_SETMASK, NULL, &before);
	pid = spawn_worker(&req, &f);
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	sigprocmask(SIG_SETMASK, NULL, &after);
	for (sig = 1; sig < NSIG; sig++)
		ck_assert_msg(sigismember(&before, sig) ==
		                  sigismember(&after, sig),
		              "signal %d: mask changed", sig);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
}
END_TEST

static const struct {
	const char *prog;
	const char *dir;
	int stage;
	int err;
} fail_cases[] = {
    {"/nonexistent/worker", NULL, SPAWN_EXEC, ENOENT},
    {"baton-no-such-program-in-path", NULL, SPAWN_EXEC, ENOENT},
    {"/proc/self/status", NULL, SPAWN_EXEC, EACCES}, /* not executable */
    {NULL, "/nonexistent-dir", SPAWN_CHDIR, ENOENT},
};

START_TEST(test_failures_reported)
{
	char *argv[] = {
	    (char *)(fail_cases[_i].prog ? fail_cases[_i].prog : self),
	    (char *)"--spawn-child", NULL};
	struct spawn_req req = {.argv = argv, .dir = fail_cases[_i].dir};
	struct spawn_failure f;
	int status;
	pid_t pid = spawn_worker(&req, &f);

	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(f.stage, fail_cases[_i].stage);
	ck_assert_int_eq(f.err, fail_cases[_i].err);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 127);
}
END_TEST

/* atexit: the report file is the runner's, made by the no-fork tests */
static pid_t report_owner;

static void
remove_report(void)
{
	if (getpid() == report_owner)
		unlink(report);
}

void
tests_spawn(void)
{
	/* no fork: Check's own fork would hide what spawn does */
	TCase *tc = unit_case_nofork("spawn");

	if (realpath("/proc/self/exe", self) == NULL) {
		fprintf(stderr, "spawn: /proc/self/exe: %s\n", strerror(errno));
		exit(99);
	}
	report_owner = getpid();
	snprintf(report, sizeof(report), "%s/baton-spawn-test.%ld",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
	atexit(remove_report);
	tcase_add_test(tc, test_only_listeners_inherited);
	tcase_add_test(tc, test_pinned_fds_swap);
	tcase_add_test(tc, test_pinned_to_stdin);
	tcase_add_test(tc, test_signals_reset);
	tcase_add_test(tc, test_dir);
	tcase_add_loop_test(tc, test_layouts_small, 0, L_NLAYOUTS);
	tcase_add_loop_test(tc, test_layouts_near_limit, 0, L_NLAYOUTS);
	tcase_add_test(tc, test_pins_at_limit);
	tcase_add_test(tc, test_no_spare_fd_reported);
	tcase_add_test(tc, test_parent_mask_restored);
	tcase_add_loop_test(tc, test_failures_reported, 0,
	                    (int)(sizeof(fail_cases) / sizeof(fail_cases[0])));
}
