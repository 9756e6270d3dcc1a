/* SPDX-License-Identifier: ISC */
/* unit.c: Check tables for the supervisor's pure parts. */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"
#include "options.h"
#include "sig.h"
#include "snapshot.h"
#include "sockopt.h"
#include "spawn.h"
#include "status.h"
#include "run-tests.h"

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

/* From a snapshot: the live workers of the generations start_server lists
 * (ready, serving, retiring), none of one starting, failed or killed. */
START_TEST(test_status_render)
{
	struct snap_worker w3[] = {{0, 31, 1, 0, NULL}},
	                   w2[] = {{0, 22, 1, 1, NULL}, {1, 21, 1, 1, NULL}},
	                   w1[] = {{0, 11, 0, 0, NULL}, {1, 12, 1, 0, NULL}},
	                   wx[] = {{0, 99, 1, 0, NULL}};
	struct snap_gen g[] = {
	    {6, GEN_STARTING, 0, 0, "hup", 1, wx, 0, 0},
	    {5, GEN_FAILED, 0, 0, "hup", 1, wx, 0, 0},
	    {4, GEN_KILLED, 0, 0, "hup", 1, wx, 0, 0},
	    {3, GEN_READY, 0, 0, "hup", 1, w3, 0, 0},
	    {2, GEN_SERVING, 0, 0, "hup", 2, w2, 0, 0},
	    {1, GEN_RETIRING, 0, 0, "start", 2, w1, 0, 0},
	};
	struct snapshot s = {0};
	char *buf;
	size_t len;

	s.ngens = sizeof(g) / sizeof(g[0]);
	s.gens = g;
	len = status_render(&s, &buf);
	ck_assert_str_eq(buf, "1:12\n2:21\n2:22\n3:31\n");
	ck_assert_uint_eq(len, strlen(buf));
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
    {"--foo", "Unknown option: foo"},
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

/* ---- listener options (sockopt.c) ------------------------------------- */

#define OK(id, in, v)                                                          \
	{                                                                      \
		id, in, 1, v                                                   \
	}
#define BAD(id, in)                                                            \
	{                                                                      \
		id, in, 0, 0                                                   \
	}
static const struct {
	enum sockopt_id id;
	const char *in; /* NULL: the flag without a value */
	int ok;
	long val;
} value_cases[] = {
    OK(SOCKOPT_DEFER_ACCEPT, "5", 5),
    OK(SOCKOPT_DEFER_ACCEPT, NULL, 30),
    OK(SOCKOPT_DEFER_ACCEPT, "0", 0),
    OK(SOCKOPT_DEFER_ACCEPT, "2147483647", 2147483647),
    BAD(SOCKOPT_DEFER_ACCEPT, "-1"),
    BAD(SOCKOPT_DEFER_ACCEPT, "abc"),
    BAD(SOCKOPT_DEFER_ACCEPT, "1.5"),
    BAD(SOCKOPT_DEFER_ACCEPT, " 5"),
    BAD(SOCKOPT_DEFER_ACCEPT, "5s"),
    BAD(SOCKOPT_DEFER_ACCEPT, ""),
    BAD(SOCKOPT_DEFER_ACCEPT, "2147483648"),
    OK(SOCKOPT_FASTOPEN, "16", 16),
    OK(SOCKOPT_FASTOPEN, "0", 0),
    BAD(SOCKOPT_FASTOPEN, NULL),
    BAD(SOCKOPT_FASTOPEN, "-1"),
    BAD(SOCKOPT_FASTOPEN, "+3"),
    OK(SOCKOPT_REUSEPORT, NULL, 1),
    OK(SOCKOPT_REUSEPORT, "on", 1),
    OK(SOCKOPT_REUSEPORT, "OFF", 0),
    OK(SOCKOPT_NODELAY, "yes", 1),
    OK(SOCKOPT_KEEPALIVE, "0", 0),
    OK(SOCKOPT_V6ONLY, "false", 0),
    BAD(SOCKOPT_FREEBIND, "maybe"),
    BAD(SOCKOPT_FREEBIND, "2"),
    OK(SOCKOPT_RCVBUF, "4096", 4096),
    OK(SOCKOPT_RCVBUF, "64k", 65536),
    OK(SOCKOPT_SNDBUF, "1M", 1048576),
    OK(SOCKOPT_SNDBUF, "1g", 1073741824),
    OK(SOCKOPT_SNDBUF, "2147483647", 2147483647),
    BAD(SOCKOPT_SNDBUF, "2147483648"),
    BAD(SOCKOPT_RCVBUF, "2g"),
    BAD(SOCKOPT_RCVBUF, "0"),
    BAD(SOCKOPT_RCVBUF, "-4096"),
    BAD(SOCKOPT_RCVBUF, "64kb"),
    BAD(SOCKOPT_RCVBUF, NULL),
    OK(SOCKOPT_BACKLOG, "1", 1),
    BAD(SOCKOPT_BACKLOG, "0"),
    OK(SOCKOPT_MODE, "0660", 0660),
    OK(SOCKOPT_MODE, "600", 0600),
    OK(SOCKOPT_MODE, "0", 0),
    BAD(SOCKOPT_MODE, "1777"),
    BAD(SOCKOPT_MODE, "0999"),
    BAD(SOCKOPT_MODE, "12345"),
    BAD(SOCKOPT_MODE, "rw-rw----"),
    BAD(SOCKOPT_MODE, ""),
    OK(SOCKOPT_OWNER, "0", 0),
    OK(SOCKOPT_OWNER, "root", 0),
    OK(SOCKOPT_OWNER, "65534", 65534),
    BAD(SOCKOPT_OWNER, "nosuchuser-baton"),
    BAD(SOCKOPT_OWNER, "4294967295"),
    BAD(SOCKOPT_OWNER, ""),
    OK(SOCKOPT_GROUP, "root", 0),
    BAD(SOCKOPT_GROUP, "nosuchgroup-baton"),
};
#undef OK
#undef BAD

START_TEST(test_sockopt_values)
{
	char err[256] = "";
	long v = -42;
	int rc = sockopt_parse_value(value_cases[_i].id, value_cases[_i].in, &v,
	                             err, sizeof(err));
	const char *in = value_cases[_i].in ? value_cases[_i].in : "(none)";

	if (!value_cases[_i].ok) {
		ck_assert_msg(rc < 0, "%s \"%s\" accepted as %ld",
		              sockopt_key(value_cases[_i].id), in, v);
		ck_assert_msg(err[0] != '\0', "no message for %s \"%s\"",
		              sockopt_key(value_cases[_i].id), in);
		return;
	}
	ck_assert_msg(rc == 0, "%s \"%s\" rejected: %s",
	              sockopt_key(value_cases[_i].id), in, err);
	ck_assert_int_eq(v, value_cases[_i].val);
}
END_TEST

#define TCP SOCKOPT_TCP
#define TCP6 (SOCKOPT_TCP | SOCKOPT_IPV6)
#define ANY6 (SOCKOPT_TCP | SOCKOPT_IPV6 | SOCKOPT_IPV6_ANY)
#define UDP SOCKOPT_UDP
#define UNIX SOCKOPT_UNIX
static const struct {
	const char *list;
	unsigned cls;
	const char *err; /* NULL: accepted */
	enum sockopt_id id;
	long val;
} list_cases[] = {
    {"defer-accept=5,backlog=128", TCP, NULL, SOCKOPT_DEFER_ACCEPT, 5},
    {"defer-accept=5,backlog=128", TCP, NULL, SOCKOPT_BACKLOG, 128},
    {"defer-accept", TCP, NULL, SOCKOPT_DEFER_ACCEPT, 30},
    {"nodelay,keepalive=off", TCP, NULL, SOCKOPT_KEEPALIVE, 0},
    {"reuseport=1,reuseport=0", UDP, NULL, SOCKOPT_REUSEPORT, 0},
    {"dual-stack", ANY6, NULL, SOCKOPT_V6ONLY, 0},
    {"v6only", ANY6, NULL, SOCKOPT_V6ONLY, 1},
    {"dual-stack", TCP6, "dual-stack applies to [::]:PORT listeners only", 0,
     0},
    {"rcvbuf=256k", UDP, NULL, SOCKOPT_RCVBUF, 262144},
    {"mode=0660,owner=0,group=0", UNIX, NULL, SOCKOPT_MODE, 0660},
    {"nonblock", TCP, NULL, SOCKOPT_NONBLOCK, 1},
    {"nonblock=off", UDP, NULL, SOCKOPT_NONBLOCK, 0},
    {"mode=0600,nonblock", UNIX, NULL, SOCKOPT_NONBLOCK, 1},
    {"backlog=16", UNIX, NULL, SOCKOPT_BACKLOG, 16},
    {"dual-stack", TCP, "dual-stack applies to [::]:PORT listeners only", 0, 0},
    {"v6only=0", UDP, "v6only applies to [::]:PORT", 0, 0},
    {"defer-accept=5", UDP, "defer-accept applies to TCP listeners only", 0, 0},
    {"defer-accept", UNIX, "defer-accept applies to TCP listeners only", 0, 0},
    {"fastopen=5", UDP, "applies to TCP listeners only", 0, 0},
    {"nodelay", UNIX, "applies to TCP listeners only", 0, 0},
    {"mode=0660", TCP, "mode applies to unix listeners (--path) only", 0, 0},
    {"owner=root", UDP, "applies to unix listeners", 0, 0},
    {"backlog=10", UDP, "backlog applies to TCP and unix listeners only", 0, 0},
    {"reuseport", UNIX, "applies to TCP and UDP listeners only", 0, 0},
    {"rcvbuf=1k", UNIX, "applies to TCP and UDP listeners only", 0, 0},
    {"bogus=1", TCP, "unknown option \"bogus\"", 0, 0},
    {"Nodelay", TCP, "unknown option", 0, 0},
    {"", TCP, "empty list", 0, 0},
    {"nodelay,,keepalive", TCP, "empty option", 0, 0},
    {"nodelay,", TCP, "empty option", 0, 0},
    {",nodelay", TCP, "empty option", 0, 0},
    {"rcvbuf=abc", TCP, "rcvbuf=abc: not a size", 0, 0},
    {"rcvbuf", TCP, "rcvbuf: a value is required", 0, 0},
    {"reuseport=maybe", TCP, "reuseport=maybe: not on or off", 0, 0},
    {"defer-accept=-5", TCP, "defer-accept=-5: not a whole number", 0, 0},
    {"backlog=0", TCP, "backlog=0: not a positive integer", 0, 0},
    {"mode=888", UNIX, "mode=888: not an octal mode", 0, 0},
    {"owner=nosuchuser-baton", UNIX, "no such user", 0, 0},
};
#undef TCP
#undef TCP6
#undef ANY6
#undef UDP
#undef UNIX

START_TEST(test_sockopt_lists)
{
	struct sockopts so;
	char err[512] = "";
	int rc;

	memset(&so, 0, sizeof(so));
	rc = sockopt_parse_list(list_cases[_i].list, list_cases[_i].cls, &so,
	                        err, sizeof(err));
	if (list_cases[_i].err) {
		ck_assert_msg(rc < 0, "\"%s\" accepted", list_cases[_i].list);
		ck_assert_msg(strstr(err, list_cases[_i].err) != NULL,
		              "for \"%s\": got \"%s\"", list_cases[_i].list,
		              err);
		return;
	}
	ck_assert_msg(rc == 0, "\"%s\" rejected: %s", list_cases[_i].list, err);
	ck_assert(so.given & (1u << list_cases[_i].id));
	ck_assert_int_eq(so.val[list_cases[_i].id], list_cases[_i].val);
}
END_TEST

/* per listener over global over the defaults, and global flags only where
 * they fit */
START_TEST(test_sockopt_merge)
{
	struct options o;
	char err[512] = "";

	ck_assert_msg(parse(&o, err, sizeof(err), "--port=127.0.0.1:1",
	                    "--sockopts=defer-accept=5,backlog=8", "--port=2",
	                    "--defer-accept=10", "--backlog=64", "--port=u3",
	                    "--path=/tmp/a.sock", "--sockopts=mode=0600",
	                    "--socket-mode=0660", "--path=/tmp/b.sock",
	                    "--port=[::]:4", "--dual-stack", "--nodelay",
	                    "--reuseport", "app", NULL) == 0,
	              "%s", err);
	ck_assert_uint_eq(o.nls, 6);
	/* 127.0.0.1:1: its own defer-accept and backlog */
	ck_assert_int_eq(o.ls[0].eff.val[SOCKOPT_DEFER_ACCEPT], 5);
	ck_assert_int_eq(o.ls[0].backlog, 8);
	ck_assert(o.ls[0].eff.given & (1u << SOCKOPT_NODELAY));
	/* 2: the global ones */
	ck_assert_int_eq(o.ls[1].eff.val[SOCKOPT_DEFER_ACCEPT], 10);
	ck_assert_int_eq(o.ls[1].backlog, 64);
	/* u3: UDP takes reuseport, not defer-accept, nodelay or backlog */
	ck_assert(!(o.ls[2].eff.given & (1u << SOCKOPT_DEFER_ACCEPT)));
	ck_assert(!(o.ls[2].eff.given & (1u << SOCKOPT_NODELAY)));
	ck_assert(o.ls[2].eff.given & (1u << SOCKOPT_REUSEPORT));
	/* [::]:4: dual stack; the IPv4 ones keep V6ONLY out of it */
	ck_assert_str_eq(o.ls[3].key, "[::]:4");
	ck_assert_int_eq(o.ls[3].eff.val[SOCKOPT_V6ONLY], 0);
	ck_assert(!sockopt_fits(SOCKOPT_V6ONLY, listen_class(&o.ls[1])));
	/* paths come last: its own mode, then the global one */
	ck_assert_str_eq(o.ls[4].key, "/tmp/a.sock");
	ck_assert_int_eq(o.ls[4].eff.val[SOCKOPT_MODE], 0600);
	ck_assert_int_eq(o.ls[5].eff.val[SOCKOPT_MODE], 0660);
	ck_assert_int_eq(o.ls[5].backlog, 64);
	ck_assert(!(o.ls[5].eff.given & (1u << SOCKOPT_REUSEPORT)));
	options_free(&o);

	/* the defaults are start_server's */
	ck_assert_int_eq(parse(&o, err, sizeof(err), "--port=[::1]:1",
	                       "--path=/tmp/c.sock", "app", NULL),
	                 0);
	ck_assert_uint_eq(o.ls[0].eff.given, 0);
	ck_assert_int_eq(o.ls[0].eff.val[SOCKOPT_V6ONLY], 1);
	ck_assert_int_eq(o.ls[0].eff.val[SOCKOPT_REUSEADDR], 1);
	ck_assert_int_eq(o.ls[0].backlog, SOMAXCONN);
	ck_assert_int_eq(o.ls[1].eff.val[SOCKOPT_MODE], 0777);
	options_free(&o);

	/* --check needs no server program */
	ck_assert_int_eq(
	    parse(&o, err, sizeof(err), "--check", "--port=1", NULL), 0);
	ck_assert_int_eq(o.mode, MODE_CHECK);
	options_free(&o);
}
END_TEST

static const struct {
	const char *args[5];
	const char *msg;
} sockopt_bad_options[] = {
    {{"--port=1", "--defer-accept=-1"},
     "invalid --defer-accept value \"-1\": not a whole number of seconds"},
    {{"--port=1", "--defer-accept=abc"},
     "invalid --defer-accept value \"abc\""},
    {{"--port=1", "--defer-accept", "5", "app"},
     "--defer-accept takes its value after '=': write --defer-accept=5"},
    {{"--port=1", "--fastopen=x"}, "invalid --fastopen value \"x\""},
    {{"--port=1", "--fastopen"}, "requires a value"},
    {{"--port=1", "--rcvbuf=0"}, "invalid --rcvbuf value \"0\": not a size"},
    {{"--port=1", "--sndbuf=-1"}, "invalid --sndbuf value \"-1\""},
    {{"--path=/tmp/s", "--socket-mode=999"},
     "invalid --socket-mode value \"999\": not an octal mode"},
    {{"--path=/tmp/s", "--socket-owner=nosuchuser-baton"},
     "invalid --socket-owner value \"nosuchuser-baton\": no such user"},
    {{"--path=/tmp/s", "--socket-group=nosuchgroup-baton"}, "no such group"},
    {{"--sockopts=nodelay", "--port=1"},
     "--sockopts must follow the --port or --path it applies to"},
    {{"--port=u53", "--sockopts=defer-accept"},
     "invalid --sockopts value \"defer-accept\" for u53: defer-accept "
     "applies to TCP listeners only"},
    {{"--path=/tmp/s", "--sockopts=nodelay"},
     "for /tmp/s: nodelay applies to TCP listeners only"},
    {{"--port=1", "--sockopts=mode=0600"},
     "for 1: mode applies to unix listeners (--path) only"},
    {{"--port=1", "--socket-mode=0600"},
     "--socket-mode applies to unix listeners (--path) only, and there "
     "is none"},
    {{"--port=1", "--port=127.0.0.1:2", "--dual-stack"},
     "--dual-stack applies to [::]:PORT listeners only (any other IPv6 "
     "address takes IPv6 alone), and there is none"},
    {{"--path=/tmp/s", "--port=u1", "--defer-accept"},
     "--defer-accept applies to TCP listeners only, and there is none"},
    {{"--path=/tmp/s", "--reuseport"},
     "--reuseport applies to TCP and UDP listeners only"},
    {{"--port=1", "--check", "--stop"},
     "--check cannot be combined with --restart or --stop"},
};

START_TEST(test_sockopt_options_bad)
{
	struct options o;
	char err[512] = "";
	const char *const *a = sockopt_bad_options[_i].args;

	ck_assert_int_lt(
	    parse(&o, err, sizeof(err), a[0], a[1], a[2], a[3], a[4]), 0);
	ck_assert_msg(strstr(err, sockopt_bad_options[_i].msg) != NULL,
	              "for %s %s: got \"%s\"", a[0], a[1] ? a[1] : "", err);
}
END_TEST

/* what the log and --check say about what the kernel did */
static char notes_buf[2048];

static void
collect_note(int warn, const char *msg, void *arg)
{
	size_t len = strlen(notes_buf);

	(void)arg;
	snprintf(notes_buf + len, sizeof(notes_buf) - len, "%s %s\n",
	         warn ? "W" : "I", msg);
}

START_TEST(test_sockopt_describe)
{
	struct sockopts so;
	struct sockopts_read r;
	struct sockopt_kernel k = {16, 128, 0, 1, 212992, 212992};
	char buf[1024], err[256];
	unsigned cls = SOCKOPT_TCP;
	FILE *f;
	char *json = NULL;
	size_t jlen = 0;

	memset(&so, 0, sizeof(so));
	ck_assert_int_eq(sockopt_parse_list("defer-accept=5,backlog=1024,"
	                                    "fastopen=64,nodelay,rcvbuf=1m",
	                                    cls, &so, err, sizeof(err)),
	                 0);
	memset(&r, 0, sizeof(r));
	r.got = so.given;
	r.val[SOCKOPT_DEFER_ACCEPT] = 7;
	r.val[SOCKOPT_BACKLOG] = 16;
	r.val[SOCKOPT_FASTOPEN] = 16;
	r.val[SOCKOPT_NODELAY] = 1;
	r.val[SOCKOPT_RCVBUF] = 425984;
	sockopt_describe(&so, &r, cls, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "defer-accept 5 s -> 7 s effective") != NULL,
	              "%s", buf);
	ck_assert_msg(strstr(buf, "backlog 1024 -> 16 effective") != NULL, "%s",
	              buf);
	ck_assert_msg(strstr(buf, "nodelay on") != NULL, "%s", buf);

	sockopt_words(&so, &r, cls, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "defer-accept=7(asked=5)") != NULL, "%s",
	              buf);
	ck_assert_msg(strstr(buf, "nodelay=1") != NULL, "%s", buf);

	notes_buf[0] = '\0';
	sockopt_notes(&so, &r, cls, &k, "127.0.0.1:80", collect_note, NULL);
	ck_assert_msg(strstr(notes_buf, "W backlog 1024 on 127.0.0.1:80 is "
	                                "clamped to 16 by net.core.somaxconn; "
	                                "raise it with: sysctl -w "
	                                "net.core.somaxconn=1024") != NULL,
	              "%s", notes_buf);
	ck_assert_msg(strstr(notes_buf, "net.ipv4.tcp_max_syn_backlog (128) "
	                                "and syncookies are off") != NULL,
	              "%s", notes_buf);
	ck_assert_msg(strstr(notes_buf, "sysctl -w net.ipv4.tcp_fastopen=3") !=
	                  NULL,
	              "%s", notes_buf);
	ck_assert_msg(strstr(notes_buf, "rcvbuf 1048576 on 127.0.0.1:80 is "
	                                "capped by net.core.rmem_max") != NULL,
	              "%s", notes_buf);
	ck_assert_msg(strstr(notes_buf, "fastopen queue 64 on 127.0.0.1:80 is "
	                                "clamped to 16") != NULL,
	              "%s", notes_buf);

	/* syncookies on: a note, not a warning; nothing else to say */
	k.syncookies = 1;
	k.fastopen = 3;
	k.somaxconn = 4096;
	r.val[SOCKOPT_BACKLOG] = 1024;
	r.val[SOCKOPT_FASTOPEN] = 64;
	r.val[SOCKOPT_RCVBUF] = 2097152;
	notes_buf[0] = '\0';
	sockopt_notes(&so, &r, cls, &k, "x", collect_note, NULL);
	ck_assert_msg(strncmp(notes_buf, "I backlog 1024 on x is above", 28) ==
	                  0,
	              "%s", notes_buf);
	ck_assert_msg(strchr(notes_buf, '\n') ==
	                  notes_buf + strlen(notes_buf) - 1,
	              "more than one note: %s", notes_buf);

	f = open_memstream(&json, &jlen);
	ck_assert_ptr_nonnull(f);
	sockopt_json(f, &so, &r, cls);
	fclose(f);
	ck_assert_msg(strstr(json, "\"options\":{\"backlog\":1024,"
	                           "\"defer_accept\":7,") == json,
	              "%s", json);
	ck_assert_msg(strstr(json,
	                     "\"requested\":{\"backlog\":1024,"
	                     "\"defer_accept\":5,\"fastopen\":64,"
	                     "\"nodelay\":true,\"rcvbuf\":1048576}") != NULL,
	              "%s", json);
	free(json);
}
END_TEST

/* Against the kernel: set on a loopback socket, read back. */
START_TEST(test_sockopt_bind_tcp)
{
	struct options o;
	char err[512] = "";

	ck_assert_int_eq(parse(&o, err, sizeof(err), "--port=127.0.0.1:0",
	                       "--sockopts=defer-accept=5,backlog=16,nodelay,"
	                       "keepalive,reuseport,freebind,rcvbuf=64k",
	                       "--port=[::]:0", "--dual-stack", "app", NULL),
	                 0);
	ck_assert_msg(listen_bind(&o.ls[0], err, sizeof(err)) == 0, "%s", err);
	/* rounded up to the SYN-ACK schedule, whichever the kernel's */
	ck_assert_int_ge(o.ls[0].got.val[SOCKOPT_DEFER_ACCEPT], 5);
	ck_assert_int_eq(o.ls[0].got.val[SOCKOPT_BACKLOG], 16);
	ck_assert_int_eq(o.ls[0].got.val[SOCKOPT_NODELAY], 1);
	ck_assert_int_eq(o.ls[0].got.val[SOCKOPT_KEEPALIVE], 1);
	ck_assert_int_eq(o.ls[0].got.val[SOCKOPT_REUSEPORT], 1);
	ck_assert_int_eq(o.ls[0].got.val[SOCKOPT_FREEBIND], 1);
	ck_assert_int_eq(o.ls[0].got.val[SOCKOPT_REUSEADDR], 1);
	ck_assert_int_ge(o.ls[0].got.val[SOCKOPT_RCVBUF], 65536);
	ck_assert_int_eq(o.ls[0].got.val[SOCKOPT_FASTOPEN], 0);
	close(o.ls[0].fd);
	/* IPv6 may be missing in a container: then only the IPv4 part */
	if (listen_bind(&o.ls[1], err, sizeof(err)) == 0) {
		ck_assert_int_eq(o.ls[1].got.val[SOCKOPT_V6ONLY], 0);
		close(o.ls[1].fd);
	}
	options_free(&o);
}
END_TEST

START_TEST(test_sockopt_bind_unix)
{
	struct options o;
	struct stat st;
	char err[512] = "", dir[] = "/tmp/baton-unit.XXXXXX", path[64], arg[80];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s", dir);
	snprintf(arg, sizeof(arg), "--path=%s", path);
	ck_assert_int_eq(parse(&o, err, sizeof(err), arg,
	                       "--sockopts=mode=0640,backlog=7", "app", NULL),
	                 0);
	ck_assert_msg(listen_bind(&o.ls[0], err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
	ck_assert_int_eq(o.ls[0].got.val[SOCKOPT_MODE], 0640);
	ck_assert_int_eq(o.ls[0].got.val[SOCKOPT_BACKLOG], 7);
	close(o.ls[0].fd);
	listen_unlink_paths(o.ls, o.nls);
	ck_assert_int_lt(stat(path, &st), 0);
	options_free(&o);
	rmdir(dir);
}
END_TEST

/* O_NONBLOCK: set on the listeners' open file description with
 * --nonblock, implied by --pass-fds-as=nginx, and off by default or
 * with a listener's own nonblock=off. */
START_TEST(test_sockopt_nonblock)
{
	struct options o;
	char err[512] = "", dir[] = "/tmp/baton-unit.XXXXXX", path[64], arg[80];
	size_t i;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s", dir);
	snprintf(arg, sizeof(arg), "--path=%s", path);
	ck_assert_int_eq(parse(&o, err, sizeof(err), "--port=127.0.0.1:0",
	                       "--port=127.0.0.1:0", "--sockopts=nonblock=off",
	                       "--port=127.0.0.1:u0", arg, "--nonblock", "app",
	                       NULL),
	                 0);
	for (i = 0; i < o.nls; i++)
		ck_assert_msg(listen_bind(&o.ls[i], err, sizeof(err)) == 0,
		              "%s", err);
	for (i = 0; i < o.nls; i++) {
		int want = i != 1, fl = fcntl(o.ls[i].fd, F_GETFL);

		ck_assert_int_ge(fl, 0);
		ck_assert_int_eq(!!(fl & O_NONBLOCK), want);
		ck_assert_int_eq(o.ls[i].got.val[SOCKOPT_NONBLOCK], want);
		close(o.ls[i].fd);
	}
	listen_unlink_paths(o.ls, o.nls);
	options_free(&o);
	rmdir(dir);

	ck_assert_int_eq(parse(&o, err, sizeof(err), "--port=127.0.0.1:0",
	                       "--pass-fds-as=nginx", "app", NULL),
	                 0);
	ck_assert_msg(listen_bind(&o.ls[0], err, sizeof(err)) == 0, "%s", err);
	ck_assert(fcntl(o.ls[0].fd, F_GETFL) & O_NONBLOCK);
	close(o.ls[0].fd);
	options_free(&o);

	ck_assert_int_eq(
	    parse(&o, err, sizeof(err), "--port=127.0.0.1:0", "app", NULL), 0);
	ck_assert_msg(listen_bind(&o.ls[0], err, sizeof(err)) == 0, "%s", err);
	ck_assert(!(fcntl(o.ls[0].fd, F_GETFL) & O_NONBLOCK));
	ck_assert_int_eq(o.ls[0].got.val[SOCKOPT_NONBLOCK], 0);
	close(o.ls[0].fd);
	options_free(&o);
}
END_TEST

START_TEST(test_pin_beyond_fd_limit)
{
	/* Check runs each test in its own process: the limit stays here */
	struct rlimit rl = {64, 64};
	struct listener l[2];
	char err[256] = "";

	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_int_eq(listen_parse_port("8080=63", &l[0], err, sizeof(err)),
	                 0);
	ck_assert_int_eq(listen_parse_port("8081=64", &l[1], err, sizeof(err)),
	                 0);
	ck_assert_int_eq(listen_check_pins(l, 1, err, sizeof(err)), 0);
	ck_assert_int_lt(listen_check_pins(l, 2, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(
	    strstr(err, "to fd 64: the fd limit is 64 (ulimit -n)"));
	listen_free(&l[0]);
	listen_free(&l[1]);
}
END_TEST

/* ---- BATON_STOP_TIMEOUT in the worker's environment ------------------ */

static const struct {
	double stop_timeout;
	const char *want; /* NULL: not set */
} stop_env_cases[] = {
    {0, NULL},         {30, "30"},
    {2.5, "2.5"},      {2.3, "2.3"},
    {0.25, "0.25"},    {1.05, "1.05"},
    {0.0004, "0.001"}, {0.0019, "0.001"},
    {2.9999, "2.999"}, {100000000, "100000000"},
};

START_TEST(test_spawn_env_stop_timeout)
{
	char **envp, *found = NULL;
	int n = 0;

	/* baton's own value is never passed on */
	setenv("BATON_STOP_TIMEOUT", "99", 1);
	envp = spawn_env(3, -1, NULL, stop_env_cases[_i].stop_timeout);
	ck_assert_ptr_nonnull(envp);
	for (char **e = envp; *e != NULL; e++)
		if (strncmp(*e, "BATON_STOP_TIMEOUT=", 19) == 0) {
			found = *e + 19;
			n++;
		}
	if (stop_env_cases[_i].want == NULL) {
		ck_assert_int_eq(n, 0);
	} else {
		ck_assert_int_eq(n, 1);
		ck_assert_str_eq(found, stop_env_cases[_i].want);
	}
	free(envp);
	unsetenv("BATON_STOP_TIMEOUT");
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

void
tests_unit(void)
{
	TCase *tl = unit_case("listen");
	TCase *tg = unit_case("sig");
	TCase *tt = unit_case("status");
	TCase *to = unit_case("options");
	TCase *ts = unit_case("sockopt");
	/* spawn's own case runs without Check's fork (spawn.c): this one
	 * sets the environment, so it runs in a child of its own */
	TCase *te = unit_case("spawn-env");

	tcase_add_loop_test(tl, test_port_spec, 0, N(port_cases));
	tcase_add_loop_test(tl, test_fd_assignment, 0, N(fd_cases));
	tcase_add_test(tl, test_path_spec);
	tcase_add_test(tl, test_pin_beyond_fd_limit);
	tcase_add_loop_test(tg, test_sig_names, 0, N(sig_cases));
	tcase_add_test(tt, test_status_numeric_order);
	tcase_add_test(tt, test_status_render);
	tcase_add_loop_test(tt, test_status_parse, 0, N(parse_cases));
	tcase_add_test(to, test_options_defaults);
	tcase_add_test(to, test_options_forms);
	tcase_add_loop_test(to, test_options_bad, 0, N(bad_options));
	tcase_add_test(to, test_options_pin_collision);
	tcase_add_test(to, test_tunables_env);
	tcase_add_loop_test(ts, test_sockopt_values, 0, N(value_cases));
	tcase_add_loop_test(ts, test_sockopt_lists, 0, N(list_cases));
	tcase_add_test(ts, test_sockopt_merge);
	tcase_add_loop_test(ts, test_sockopt_options_bad, 0,
	                    N(sockopt_bad_options));
	tcase_add_test(ts, test_sockopt_describe);
	tcase_add_test(ts, test_sockopt_bind_tcp);
	tcase_add_test(ts, test_sockopt_bind_unix);
	tcase_add_test(ts, test_sockopt_nonblock);
	tcase_add_loop_test(te, test_spawn_env_stop_timeout, 0,
	                    N(stop_env_cases));
}
