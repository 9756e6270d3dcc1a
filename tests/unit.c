/* unit.c: Check tables for the supervisor's pure parts. */
#include "config.h"

#include <check.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "listen.h"
#include "options.h"
#include "sig.h"
#include "status.h"

/* ---- --port specs ----------------------------------------------------- */

static const struct {
	const char *spec;
	const char *key; /* NULL: must be rejected */
	enum listen_kind kind;
	const char *host;
	int pin;
	int ipv6;
} port_cases[] = {
    {"8080", "8080", LISTEN_TCP, NULL, -1, 0},
    {"  8080  ", "8080", LISTEN_TCP, NULL, -1, 0},
    {"127.0.0.1:8080", "127.0.0.1:8080", LISTEN_TCP, "127.0.0.1", -1, 0},
    {"localhost:8080", "localhost:8080", LISTEN_TCP, "localhost", -1, 0},
    {"[127.0.0.1]:8080", "127.0.0.1:8080", LISTEN_TCP, "127.0.0.1", -1, 0},
    {"[::1]:8080", "[::1]:8080", LISTEN_TCP, "::1", -1, 1},
    {"[::]:8080", "[::]:8080", LISTEN_TCP, "::", -1, 1},
    {"8080=0", "8080", LISTEN_TCP, NULL, 0, 0},
    {"8080 =5", "8080", LISTEN_TCP, NULL, 5, 0},
    {"127.0.0.1:8080=7", "127.0.0.1:8080", LISTEN_TCP, "127.0.0.1", 7, 0},
    {"u53", "53", LISTEN_UDP, NULL, -1, 0},
    {"0.0.0.0:u53", "0.0.0.0:53", LISTEN_UDP, "0.0.0.0", -1, 0},
    {"[::1]:u53", "[::1]:53", LISTEN_UDP, "::1", -1, 1},
    {"", NULL, 0, NULL, 0, 0},
    {"abc", NULL, 0, NULL, 0, 0},
    {":8080", NULL, 0, NULL, 0, 0},
    {"*:8080", NULL, 0, NULL, 0, 0},
    {"8080x", NULL, 0, NULL, 0, 0},
    {"65536", NULL, 0, NULL, 0, 0},
    {"127.0.0.1:", NULL, 0, NULL, 0, 0},
    {"[::1:8080", NULL, 0, NULL, 0, 0},
    {"[::1]8080", NULL, 0, NULL, 0, 0},
    {"8080=", NULL, 0, NULL, 0, 0},
    {"8080=x", NULL, 0, NULL, 0, 0},
    {"host:80=3=4", NULL, 0, NULL, 0, 0},
};

START_TEST(test_port_spec)
{
	struct listener l;
	char err[256] = "";
	int rc = listen_parse_port(port_cases[_i].spec, &l, err, sizeof(err));

	if (port_cases[_i].key == NULL) {
		ck_assert_msg(rc < 0, "\"%s\" accepted", port_cases[_i].spec);
		ck_assert_msg(err[0] != '\0', "no error message for \"%s\"",
		              port_cases[_i].spec);
		return;
	}
	ck_assert_msg(rc == 0, "\"%s\" rejected: %s", port_cases[_i].spec, err);
	ck_assert_str_eq(l.key, port_cases[_i].key);
	ck_assert_int_eq(l.kind, port_cases[_i].kind);
	ck_assert_int_eq(l.pin_fd, port_cases[_i].pin);
	ck_assert_int_eq(l.ipv6, port_cases[_i].ipv6);
	if (port_cases[_i].host)
		ck_assert_str_eq(l.host, port_cases[_i].host);
	else
		ck_assert_ptr_null(l.host);
	listen_free(&l);
}
END_TEST

/* ---- fd numbering and the env string --------------------------------- */

static const struct {
	const char *specs[4];
	const char *env; /* NULL: rejected */
} fd_cases[] = {
    {{"8080", NULL}, "8080=3"},
    {{"127.0.0.1:8080", "/tmp/x.sock", NULL}, "127.0.0.1:8080=3;/tmp/x.sock=4"},
    /* start_server gave "A=4;B=4" here, losing A */
    {{"127.0.0.1:1=4", "127.0.0.1:2", NULL}, "127.0.0.1:1=4;127.0.0.1:2=3"},
    {{"127.0.0.1:1", "127.0.0.1:2=3", NULL}, "127.0.0.1:1=4;127.0.0.1:2=3"},
    {{"1=3", "2", "3=5", NULL}, "1=3;2=4;3=5"},
    {{"1=0", "2", NULL}, "1=0;2=3"},
    {{"1=4", "2=4", NULL}, NULL},
    {{NULL}, ""},
};

START_TEST(test_fd_assignment)
{
	struct listener ls[4];
	char err[256] = "", *env;
	size_t n;
	int rc;

	for (n = 0; fd_cases[_i].specs[n]; n++) {
		const char *s = fd_cases[_i].specs[n];

		if (s[0] == '/')
			ck_assert_int_eq(
			    listen_parse_path(s, &ls[n], err, sizeof(err)), 0);
		else
			ck_assert_int_eq(
			    listen_parse_port(s, &ls[n], err, sizeof(err)), 0);
	}
	rc = listen_assign_fds(ls, n, err, sizeof(err));
	if (fd_cases[_i].env == NULL) {
		ck_assert_int_lt(rc, 0);
		ck_assert_ptr_nonnull(strstr(err, "both ask for fd"));
	} else {
		ck_assert_int_eq(rc, 0);
		env = listen_env(ls, n);
		ck_assert_str_eq(env, fd_cases[_i].env);
		free(env);
	}
	while (n > 0)
		listen_free(&ls[--n]);
}
END_TEST

START_TEST(test_path_spec)
{
	struct listener l;
	char err[256], longp[200];

	ck_assert_int_eq(
	    listen_parse_path("/run/app.sock", &l, err, sizeof(err)), 0);
	ck_assert_str_eq(l.key, "/run/app.sock");
	ck_assert_int_eq(l.kind, LISTEN_UNIX);
	listen_free(&l);
	ck_assert_int_lt(listen_parse_path("", &l, err, sizeof(err)), 0);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	ck_assert_int_lt(listen_parse_path(longp, &l, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "longer than"));
}
END_TEST

/* ---- signal names ----------------------------------------------------- */

static const struct {
	const char *name;
	int sig;
} sig_cases[] = {
    {"TERM", SIGTERM}, {"SIGTERM", SIGTERM},
    {"term", SIGTERM}, {"15", SIGTERM},
    {"QUIT", SIGQUIT}, {"sigusr1", SIGUSR1},
    {"HUP", SIGHUP},   {"KILL", SIGKILL},
    {"FOO", -1},       {"", -1},
    {"0", -1},         {"999", -1},
    {"15x", -1},       {"SIG", -1},
};

START_TEST(test_sig_names)
{
	ck_assert_int_eq(sig_parse(sig_cases[_i].name), sig_cases[_i].sig);
	if (sig_cases[_i].sig > 0)
		ck_assert_int_eq(sig_parse(sig_name(sig_cases[_i].sig)),
		                 sig_cases[_i].sig);
}
END_TEST

/* ---- status file ------------------------------------------------------ */

START_TEST(test_status_numeric_order)
{
	struct status_entry e[] = {{10, 100}, {2, 20}, {1, 10}, {11, 110}};
	char *buf;
	size_t len = status_format(e, 4, &buf);

	/* start_server sorts as strings: 1, 10, 11, 2 */
	ck_assert_str_eq(buf, "1:10\n2:20\n10:100\n11:110\n");
	ck_assert_uint_eq(len, strlen(buf));
	free(buf);
	len = status_format(e, 0, &buf);
	ck_assert_str_eq(buf, "");
	free(buf);
}
END_TEST

static const struct {
	const char *text;
	size_t n;
	unsigned long gens[4];
} parse_cases[] = {
    {"1:100\n2:200\n", 2, {1, 2}},
    {"10:1\n2:2\n10:3\n", 2, {2, 10}},
    {"", 0, {0}},
    {"garbage\n# x\n3:5", 1, {3}},
    {"4:1\nx:2\n5", 1, {4}},
};

START_TEST(test_status_parse)
{
	unsigned long gens[8];
	size_t n = status_parse_gens(parse_cases[_i].text, gens, 8), i;

	ck_assert_uint_eq(n, parse_cases[_i].n);
	for (i = 0; i < n; i++)
		ck_assert_uint_eq(gens[i], parse_cases[_i].gens[i]);
}
END_TEST

/* ---- options ---------------------------------------------------------- */

static int
parse(struct options *o, char *err, size_t errlen, ...)
{
	static char *argv[32]; /* o->argv points into it */
	int argc = 0;
	va_list ap;

	va_start(ap, errlen);
	argv[argc++] = (char *)"baton";
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	return options_parse(argc, argv, o, err, errlen);
}

START_TEST(test_options_defaults)
{
	struct options o;
	char err[256];

	ck_assert_int_eq(parse(&o, err, sizeof(err), "--port=8080", "--",
	                       "./app", "-x", NULL),
	                 0);
	ck_assert_int_eq(o.mode, MODE_RUN);
	ck_assert_double_eq(o.interval, 1);
	ck_assert_int_eq(o.sig_hup, SIGTERM);
	ck_assert_int_eq(o.sig_term, SIGTERM);
	ck_assert_int_eq(o.backlog, SOMAXCONN);
	ck_assert_uint_eq(o.nls, 1);
	ck_assert_str_eq(o.argv[0], "./app");
	ck_assert_str_eq(o.argv[1], "-x");
	ck_assert_ptr_null(o.argv[2]);
	options_free(&o);
}
END_TEST

START_TEST(test_options_forms)
{
	struct options o;
	char err[256];

	/* space-separated values, single dash, unique abbreviation, paths
	 * after ports whatever the order given */
	ck_assert_int_eq(parse(&o, err, sizeof(err), "--path", "/tmp/a.sock",
	                       "-port", "9000", "--pid", "/tmp/p",
	                       "--signal-on-hup=sigquit", "--interval=0.5",
	                       "--backlog", "16", "app", NULL),
	                 0);
	ck_assert_str_eq(o.ls[0].key, "9000");
	ck_assert_str_eq(o.ls[1].key, "/tmp/a.sock");
	ck_assert_int_eq(o.ls[0].target_fd, 3);
	ck_assert_int_eq(o.ls[1].target_fd, 4);
	ck_assert_int_eq(o.ls[1].backlog, 16);
	ck_assert_str_eq(o.pid_file, "/tmp/p");
	ck_assert_int_eq(o.sig_hup, SIGQUIT);
	ck_assert_double_eq(o.interval, 0.5);
	ck_assert_str_eq(o.argv[0], "app");
	options_free(&o);
}
END_TEST

static const struct {
	const char *arg;
	const char *msg;
} bad_options[] = {
    {"--foo", "unknown option: --foo"},
    {"--port=abc", "invalid --port value \"abc\""},
    {"--interval=x", "invalid --interval value \"x\""},
    {"--interval=-1", "invalid --interval value \"-1\""},
    {"--backlog=0", "invalid --backlog value \"0\""},
    {"--backlog=1x", "invalid --backlog value \"1x\""},
    {"--signal-on-hup=FOO", "invalid --signal-on-hup value \"FOO\""},
    {"--signal-on-term=", "invalid --signal-on-term value \"\""},
    {"--kill-old-delay=soon", "invalid --kill-old-delay value \"soon\""},
    {"--stop-timeout=-3", "invalid --stop-timeout value \"-3\""},
    {"--path=", "invalid --path value \"\""},
    {"--port", "requires a value"},
};

START_TEST(test_options_bad)
{
	struct options o;
	char err[256] = "";

	ck_assert_int_lt(parse(&o, err, sizeof(err), bad_options[_i].arg, NULL),
	                 0);
	ck_assert_msg(strstr(err, bad_options[_i].msg) != NULL,
	              "for %s: got \"%s\"", bad_options[_i].arg, err);
}
END_TEST

START_TEST(test_options_pin_collision)
{
	struct options o;
	char err[256] = "";

	ck_assert_int_lt(parse(&o, err, sizeof(err), "--port=1=5", "--port=2=5",
	                       "app", NULL),
	                 0);
	ck_assert_ptr_nonnull(strstr(err, "both ask for fd 5"));
}
END_TEST

START_TEST(test_tunables_env)
{
	struct tunables t;

	unsetenv("ENABLE_AUTO_RESTART");
	unsetenv("KILL_OLD_DELAY");
	unsetenv("AUTO_RESTART_INTERVAL");
	options_tunables(&t);
	ck_assert_int_eq(t.auto_restart, 0);
	ck_assert_double_eq(t.kill_old_delay, 0);
	ck_assert_double_eq(t.auto_restart_interval, 360);
	setenv("ENABLE_AUTO_RESTART", "1", 1);
	options_tunables(&t);
	ck_assert_int_eq(t.auto_restart, 1);
	ck_assert_double_eq(t.kill_old_delay, 5);
	setenv("KILL_OLD_DELAY", "2", 1);
	setenv("AUTO_RESTART_INTERVAL", "7", 1);
	options_tunables(&t);
	ck_assert_double_eq(t.kill_old_delay, 2);
	ck_assert_double_eq(t.auto_restart_interval, 7);
	setenv("ENABLE_AUTO_RESTART", "0", 1);
	options_tunables(&t);
	ck_assert_int_eq(t.auto_restart, 0);
}
END_TEST

static Suite *
unit_suite(void)
{
	Suite *s = suite_create("baton-unit");
	TCase *tc = tcase_create("pure");

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))
	tcase_add_loop_test(tc, test_port_spec, 0, N(port_cases));
	tcase_add_loop_test(tc, test_fd_assignment, 0, N(fd_cases));
	tcase_add_test(tc, test_path_spec);
	tcase_add_loop_test(tc, test_sig_names, 0, N(sig_cases));
	tcase_add_test(tc, test_status_numeric_order);
	tcase_add_loop_test(tc, test_status_parse, 0, N(parse_cases));
	tcase_add_test(tc, test_options_defaults);
	tcase_add_test(tc, test_options_forms);
	tcase_add_loop_test(tc, test_options_bad, 0, N(bad_options));
	tcase_add_test(tc, test_options_pin_collision);
	tcase_add_test(tc, test_tunables_env);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(unit_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
