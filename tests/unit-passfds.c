/* SPDX-License-Identifier: ISC */
/* unit-passfds.c: --pass-fds-as dialects and LISTEN_FDS adoption. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "einhorn.h"
#include "listen-systemd.h"
#include "listen.h"
#include "passfds.h"
#include "run-tests.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *list;
	int rc;
	unsigned mask;
} lists[] = {
    {"server-starter", 0, PASSFDS_SERVER_STARTER},
    {"systemd", 0, PASSFDS_SYSTEMD},
    {"systemd,nginx,unicorn,einhorn", 0,
     PASSFDS_SYSTEMD | PASSFDS_NGINX | PASSFDS_UNICORN | PASSFDS_EINHORN},
    {"nginx,nginx", 0, PASSFDS_NGINX},
    {"", -1, 0},
    {"systemd,", -1, 0},
    {",systemd", -1, 0},
    {"System", -1, 0},
    {"inetd", -1, 0},
};

START_TEST(test_parse)
{
	unsigned mask = 99;
	char err[256];
	int rc = passfds_parse(lists[_i].list, &mask, err, sizeof(err));

	ck_assert_int_eq(rc, lists[_i].rc);
	if (rc == 0)
		ck_assert_uint_eq(mask, lists[_i].mask);
	else
		ck_assert_ptr_nonnull(strstr(err, "unknown dialect"));
}
END_TEST

static void
two(struct listener *ls, const char *a, const char *b)
{
	char err[256];

	ck_assert_int_eq(listen_parse_port(a, &ls[0], err, sizeof(err)), 0);
	ck_assert_int_eq(listen_parse_port(b, &ls[1], err, sizeof(err)), 0);
	ck_assert_int_eq(listen_assign_fds(ls, 2, err, sizeof(err)), 0);
}

/* pins: which pairs the systemd protocol (3, 4, no gaps) accepts */
static const struct {
	const char *a, *b;
	int ok;
} pins[] = {
    {"8080", "8081", 1},   {"8080=4", "8081=3", 1}, {"8080=3", "8081", 1},
    {"8080=5", "8081", 0}, {"8080", "8081=9", 0},
};

START_TEST(test_contiguity)
{
	struct listener ls[2];
	char err[256];

	two(ls, pins[_i].a, pins[_i].b);
	ck_assert_int_eq(
	    passfds_check(PASSFDS_SYSTEMD, ls, 2, err, sizeof(err)),
	    pins[_i].ok ? 0 : -1);
	ck_assert_int_eq(
	    passfds_check(PASSFDS_NGINX | PASSFDS_UNICORN | PASSFDS_EINHORN, ls,
	                  2, err, sizeof(err)),
	    0);
	listen_free(&ls[0]);
	listen_free(&ls[1]);
}
END_TEST

static const char *
find(char **envp, const char *name)
{
	size_t len = strlen(name);

	for (; *envp; envp++)
		if (strncmp(*envp, name, len) == 0 && (*envp)[len] == '=')
			return *envp + len + 1;
	return NULL;
}

START_TEST(test_env)
{
	static char b0[] = "PATH=/bin", b1[] = "SERVER_STARTER_PORT=x",
	            b2[] = "NGINX=old", b3[] = "LISTEN_FDS=9",
	            b4[] = "EINHORN_MASTER_PID=1", b5[] = "EINHORN_SOCK_FD=7",
	            b6[] = "SERVER_STARTER_GENERATION=5";
	char *base[] = {b0, b1, b2, b3, b4, b5, b6, NULL};
	char pid[24];
	struct listener ls[2];
	char **env;

	two(ls, "127.0.0.1:8080=4", "8081");
	*listen_own_opts(&ls[1]) = ls[1].eff;
	ls[1].opts->name = strdup("api");
	passfds_set(PASSFDS_SYSTEMD | PASSFDS_NGINX | PASSFDS_UNICORN |
	            PASSFDS_EINHORN);
	env = passfds_env(base, ls, 2);
	ck_assert_ptr_nonnull(env);
	ck_assert_str_eq(find(env, "PATH"), "/bin");
	ck_assert_ptr_null(find(env, "SERVER_STARTER_PORT"));
	/* the generation is not a dialect's: every one keeps it (nginx's
	 * "pid nginx.$SERVER_STARTER_GENERATION.pid") */
	ck_assert_str_eq(find(env, "SERVER_STARTER_GENERATION"), "5");
	ck_assert_str_eq(find(env, "LISTEN_FDS"), "2");
	/* in fd order: 8081 is on 3, 127.0.0.1:8080 on 4 */
	ck_assert_str_eq(find(env, "LISTEN_FDNAMES"), "api:127.0.0.1_8080");
	ck_assert_str_eq(find(env, "NGINX"), "3;4;");
	ck_assert_str_eq(find(env, "UNICORN_FD"), "3,4");
	ck_assert_str_eq(find(env, "EINHORN_FD_COUNT"), "2");
	ck_assert_str_eq(find(env, "EINHORN_FD_0"), "3");
	ck_assert_str_eq(find(env, "EINHORN_FD_1"), "4");
	/* not bound yet: the family from the spec */
	ck_assert_str_eq(find(env, "EINHORN_FD_FAMILY_0"), "AF_INET");
	/* einhorn's libraries compare it with their parent's pid: the
	 * supervisor's own, which forks the worker */
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	ck_assert_str_eq(find(env, "EINHORN_MASTER_PID"), pid);
	ck_assert_ptr_null(find(env, "EINHORN_SOCK_FD"));
	ck_assert_ptr_null(find(env, "EINHORN_SOCK_PATH")); /* none open */
	passfds_child();
	ck_assert_int_eq(atol(find(env, "LISTEN_PID")), (long)getpid());
	passfds_env_free(env);
	/* the default changes nothing */
	passfds_set(0);
	ck_assert_ptr_null(passfds_env(base, ls, 2));
	listen_free(&ls[0]);
	listen_free(&ls[1]);
}
END_TEST

/* A listening socket on 127.0.0.1 (or [::] dual-stack) put on fd 3 as
 * systemd would; returns its port. */
static int
passed_socket(int v6)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0), off = 0;

	if (fd < 0)
		_exit(200);
	memset(&ss, 0, sizeof(ss));
	if (v6) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
		sl = sizeof(struct sockaddr_in6);
	} else {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_addr.s_addr =
		    htonl(INADDR_LOOPBACK);
		sl = sizeof(struct sockaddr_in);
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 ||
	    dup2(fd, 3) != 3)
		_exit(201);
	close(fd);
	return v6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
	          : ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void
set_listen_env(long pid)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", pid);
	setenv("LISTEN_PID", buf, 1);
	setenv("LISTEN_FDS", "1", 1);
	setenv("LISTEN_FDNAMES", "web", 1);
}

/* The fds a test plays with are the child's: Check talks to the test
 * process on a low fd, which fd 3 would overwrite. REQ fails the child
 * with the line number as its exit status. */
#define REQ(c)                                                                 \
	do {                                                                   \
		if (!(c))                                                      \
			return __LINE__;                                       \
	} while (0)

static void
run_in_child(int (*fn)(int), int i)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(fn(i) % 256);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	              "failed at line %d (mod 256)", WEXITSTATUS(status));
}

/* before, port (or a fixed one), after; v6: the passed socket is [::]
 * dual-stack; match: adopted (else an error) */
static const struct {
	const char *before;
	int port;
	const char *after;
	int v6, match;
} adopts[] = {
    {"127.0.0.1:", 0, "", 0, 1},  {"", 0, "", 1, 1},
    {"[::]:", 0, "", 1, 1},       {"127.0.0.2:", 0, "", 0, 0},
    {"127.0.0.1:u", 0, "", 0, 0}, {"127.0.0.1:", 1, "", 0, 0},
};

static int
adopt_case(int i)
{
	struct listener *ls = calloc(1, sizeof(*ls));
	char spec[64], err[256];
	size_t n = 1;
	int port = passed_socket(adopts[i].v6), rc;

	snprintf(spec, sizeof(spec), "%s%d%s", adopts[i].before,
	         adopts[i].port ? adopts[i].port : port, adopts[i].after);
	REQ(listen_parse_port(spec, &ls[0], err, sizeof(err)) == 0);
	set_listen_env((long)getpid());
	rc = listen_take_systemd_fds(&ls, &n, err, sizeof(err));
	REQ(getenv("LISTEN_PID") == NULL && getenv("LISTEN_FDS") == NULL &&
	    getenv("LISTEN_FDNAMES") == NULL);
	if (!adopts[i].match) {
		REQ(rc == -1);
		REQ(strstr(err, "no --port or --path matches") != NULL);
		REQ(strstr(err, "name \"web\"") != NULL);
		return 0;
	}
	REQ(rc == 0 && ls[0].fd == 3 && ls[0].origin == LISTEN_SYSTEMD);
	REQ(strcmp(ls[0].fdname, "web") == 0);
	REQ(strcmp(listen_origin_name(&ls[0]), "systemd") == 0);
	/* a bind now does nothing: the socket is there */
	REQ(listen_bind(&ls[0], err, sizeof(err)) == 0 && ls[0].fd == 3);
	listen_free(&ls[0]);
	free(ls);
	return 0;
}

START_TEST(test_adopt)
{
	run_in_child(adopt_case, _i);
}
END_TEST

static int
not_ours_case(int i)
{
	struct listener *ls = NULL;
	size_t n = 0;
	char err[256];

	(void)i;
	passed_socket(0);
	set_listen_env((long)getpid() + 1);
	REQ(listen_take_systemd_fds(&ls, &n, err, sizeof(err)) == 0);
	REQ(n == 0 && getenv("LISTEN_FDS") == NULL);
	return 0;
}

START_TEST(test_adopt_not_ours)
{
	run_in_child(not_ours_case, 0);
}
END_TEST

static int
all_case(int i)
{
	struct listener *ls = NULL;
	size_t n = 0;
	char err[256], key[64];
	int port = passed_socket(0);

	(void)i;
	set_listen_env((long)getpid());
	REQ(listen_take_systemd_fds(&ls, &n, err, sizeof(err)) == 0);
	REQ(n == 1);
	snprintf(key, sizeof(key), "127.0.0.1:%d", port);
	REQ(strcmp(ls[0].key, key) == 0);
	REQ(ls[0].target_fd == 3 && ls[0].kind == LISTEN_TCP);
	listen_free(&ls[0]);
	free(ls);
	return 0;
}

START_TEST(test_adopt_all)
{
	run_in_child(all_case, 0);
}
END_TEST

/* einhorn's worker:ack in the forms its client libraries send */
static const struct {
	const char *line;
	int ack;
} acks[] = {
    {"{\"command\": \"worker:ack\", \"pid\": 1234}", 1}, /* python */
    {"{\"command\":\"worker:ack\",\"pid\":1234}", 1},    /* go */
    {"{\"pid\":1,\"command\":\"worker:ack\"}", 1},       /* order */
    {"---%0Acommand: worker:ack%0Apid: 1234%0A", 1},     /* ruby YAML */
    {"---%0acommand: worker:ack%0apid: 1234%0a", 1},
    {"---%0A\"command\": \"worker:ack\"%0A", 1},
    {"{\"command\":\"worker:ackx\"}", 0},
    {"{\"command\":\"state\"}", 0},
    {"{\"subcommand\":\"worker:ack\"}", 0},
    {"{\"command\":\"worker:acknowledge\"}", 0},
    {"---%0Acommand: upgrade%0A", 0},
    {"command", 0},
    {"", 0},
    {"worker:ack", 0},
};

START_TEST(test_einhorn_ack)
{
	ck_assert_msg(einhorn_is_ack(acks[_i].line) == acks[_i].ack,
	              "einhorn_is_ack(%s) should be %d", acks[_i].line,
	              acks[_i].ack);
}
END_TEST

void
tests_passfds(void)
{
	TCase *tc = unit_case("passfds");
	TCase *te = unit_case("einhorn");

	tcase_add_loop_test(tc, test_parse, 0, N(lists));
	tcase_add_loop_test(tc, test_contiguity, 0, N(pins));
	tcase_add_test(tc, test_env);
	tcase_add_loop_test(te, test_einhorn_ack, 0, N(acks));
	tcase_add_loop_test(tc, test_adopt, 0, N(adopts));
	tcase_add_test(tc, test_adopt_not_ours);
	tcase_add_test(tc, test_adopt_all);
}
