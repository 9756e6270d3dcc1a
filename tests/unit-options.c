/* SPDX-License-Identifier: ISC */
/* unit-options.c: the option table: good and bad command lines, field by
 * field and message by message. */
#include "config.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "run-tests.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAXARGS 1010

static int
parse_args(const char *const *args, struct options *o, char *err, size_t errlen)
{
	static char *argv[MAXARGS + 2]; /* o->argv points into it */
	int argc = 0;

	argv[argc++] = (char *)"baton";
	while (argc <= MAXARGS && args[argc - 1] != NULL) {
		argv[argc] = (char *)args[argc - 1];
		argc++;
	}
	argv[argc] = NULL;
	return options_parse(argc, argv, o, err, errlen);
}

/* Which field a good line sets, and to what. */
enum field {
	F_INTERVAL,
	F_STOP_TIMEOUT,
	F_STOP_DELAY,
	F_STOP_DELAY_AUTO,
	F_KILL_WHEN_DRAINED,
	F_READY_TIMEOUT,
	F_RESTART_TIMEOUT,
	F_RESTART_RETRIES,
	F_NUM_WORKERS,
	F_SIG_HUP,
	F_SIG_TERM,
	F_BACKLOG,
	F_PID_FILE,
	F_KILL_OLD_DELAY,
	F_PORT_KEY,
	F_MODE,
	F_PROGRAM,
	F_NLS
};

static const struct good {
	const char *args[MAXARGS];
	enum field field;
	double num;
	const char *str;
} good[] = {
    {{"--port=1", "--", "app", NULL}, F_INTERVAL, 1, NULL},
    {{"--port=1", "--", "app", NULL}, F_RESTART_RETRIES, -1, NULL},
    {{"--port=1", "--", "app", NULL}, F_RESTART_TIMEOUT, -1, NULL},
    {{"--port=1", "--", "app", NULL}, F_READY_TIMEOUT, 0, NULL},
    {{"--port=1", "--ready=notify", "app", NULL}, F_READY_TIMEOUT, 60, NULL},
    {{"--interval=0.25", "app", NULL}, F_INTERVAL, 0.25, NULL},
    {{"--interval", "7", "app", NULL}, F_INTERVAL, 7, NULL},
    {{"-interval=3", "app", NULL}, F_INTERVAL, 3, NULL},
    {{"--int=2", "app", NULL}, F_INTERVAL, 2, NULL},
    {{"-i", "2", "app", NULL}, F_INTERVAL, 2, NULL},
    {{"--stop-timeout=10", "app", NULL}, F_STOP_TIMEOUT, 10, NULL},
    {{"--port=1", "--", "app", NULL}, F_STOP_DELAY, 0, NULL},
    {{"--port=1", "--", "app", NULL}, F_STOP_DELAY_AUTO, 0, NULL},
    {{"--stop-delay=2.5", "app", NULL}, F_STOP_DELAY, 2.5, NULL},
    {{"--stop-delay=2.5", "app", NULL}, F_STOP_DELAY_AUTO, 0, NULL},
    {{"--stop-delay=auto", "app", NULL}, F_STOP_DELAY, 30, NULL},
    {{"--stop-delay=auto", "app", NULL}, F_STOP_DELAY_AUTO, 1, NULL},
    {{"--stop-delay=auto:12", "app", NULL}, F_STOP_DELAY, 12, NULL},
    {{"--stop-delay=auto:1", "app", NULL}, F_STOP_DELAY_AUTO, 1, NULL},
    {{"--stop-delay=auto", "--stop-delay=3", "app", NULL},
     F_STOP_DELAY_AUTO,
     0,
     NULL},
    {{"--port=1", "--", "app", NULL}, F_KILL_WHEN_DRAINED, 0, NULL},
    {{"--kill-when-drained=5", "app", NULL}, F_KILL_WHEN_DRAINED, 5, NULL},
    {{"--ready-timeout=0.5", "app", NULL}, F_READY_TIMEOUT, 0.5, NULL},
    {{"--restart-timeout=30", "app", NULL}, F_RESTART_TIMEOUT, 30, NULL},
    {{"--restart-retries=0", "app", NULL}, F_RESTART_RETRIES, 0, NULL},
    {{"--restart-retries=5", "app", NULL}, F_RESTART_RETRIES, 5, NULL},
    {{"--num-workers=4", "app", NULL}, F_NUM_WORKERS, 4, NULL},
    {{"--signal-on-hup=QUIT", "app", NULL}, F_SIG_HUP, SIGQUIT, NULL},
    {{"--signal-on-term=sigint", "app", NULL}, F_SIG_TERM, SIGINT, NULL},
    {{"--signal-on-term=KILL", "app", NULL}, F_SIG_TERM, SIGKILL, NULL},
    {{"--backlog=16", "app", NULL}, F_BACKLOG, 16, NULL},
    {{"--pid", "/tmp/p", "app", NULL}, F_PID_FILE, 0, "/tmp/p"},
    {{"--pid-f=/tmp/q", "app", NULL}, F_PID_FILE, 0, "/tmp/q"},
    {{"-k=3", "app", NULL}, F_KILL_OLD_DELAY, 0, "3"},
    {{"--kill-old-delay=0.5", "app", NULL}, F_KILL_OLD_DELAY, 0, "0.5"},
    {{"--port=08080", "app", NULL}, F_PORT_KEY, 0, "08080"},
    {{"--port=0008082", "app", NULL}, F_PORT_KEY, 0, "0008082"},
    {{"--port=127.0.0.1:08081", "app", NULL}, F_PORT_KEY, 0, "127.0.0.1:08081"},
    /* one address twice, and yet two sockets */
    {{"--port=127.0.0.1:80", "--port=127.0.0.1:80", "--reuseport", "app", NULL},
     F_NLS,
     2,
     NULL},
    {{"--port=127.0.0.1:0", "--port=127.0.0.1:0", "app", NULL}, F_NLS, 2, NULL},
    {{"--port=80", "--port=u80", "--port=[::]:80", "app", NULL},
     F_NLS,
     3,
     NULL},
    {{"--path=/tmp/a.sock", "app", NULL}, F_PORT_KEY, 0, "/tmp/a.sock"},
    {{"--re", "--pid-file=/p", "--status-file=/s", NULL},
     F_MODE,
     MODE_RESTART,
     NULL},
    {{"--stop", "--pid-file=/p", NULL}, F_MODE, MODE_STOP, NULL},
    {{"--check", "--port=1", NULL}, F_MODE, MODE_CHECK, NULL},
    {{"-h", NULL}, F_MODE, MODE_HELP, NULL},
    {{"--ver", NULL}, F_MODE, MODE_VERSION, NULL},
    /* Getopt::Long ignores case */
    {{"--VERSION", NULL}, F_MODE, MODE_VERSION, NULL},
    {{"--Pid=/tmp/r", "app", NULL}, F_PID_FILE, 0, "/tmp/r"},
    {{"--Num-Workers=3", "app", NULL}, F_NUM_WORKERS, 3, NULL},
    /* a required value is the next word, whatever it looks like */
    {{"--log-file", "-x", "app", NULL}, F_PROGRAM, 0, "app"},
    {{"--port=1", "--", "app", "-c", "conf", NULL}, F_PROGRAM, 0, "app"},
};

static void
check_field(const struct good *g, const struct options *o)
{
	switch (g->field) {
	case F_INTERVAL:
		ck_assert_double_eq(o->interval, g->num);
		break;
	case F_STOP_TIMEOUT:
		ck_assert_double_eq(o->stop_timeout, g->num);
		break;
	case F_STOP_DELAY:
		ck_assert_double_eq(o->stop_delay, g->num);
		break;
	case F_STOP_DELAY_AUTO:
		ck_assert_int_eq(o->stop_delay_auto, (int)g->num);
		break;
	case F_KILL_WHEN_DRAINED:
		ck_assert_double_eq(o->kill_when_drained, g->num);
		break;
	case F_READY_TIMEOUT:
		ck_assert_double_eq(o->ready_timeout, g->num);
		break;
	case F_RESTART_TIMEOUT:
		ck_assert_double_eq(o->restart_timeout, g->num);
		break;
	case F_RESTART_RETRIES:
		ck_assert_int_eq(o->restart_retries, (int)g->num);
		break;
	case F_NUM_WORKERS:
		ck_assert_int_eq(o->num_workers, (int)g->num);
		break;
	case F_SIG_HUP:
		ck_assert_int_eq(o->sig_hup, (int)g->num);
		break;
	case F_SIG_TERM:
		ck_assert_int_eq(o->sig_term, (int)g->num);
		break;
	case F_BACKLOG:
		ck_assert_int_eq(o->backlog, (int)g->num);
		break;
	case F_PID_FILE:
		ck_assert_str_eq(o->pid_file, g->str);
		break;
	case F_KILL_OLD_DELAY:
		ck_assert_str_eq(o->kill_old_delay, g->str);
		break;
	case F_PORT_KEY:
		ck_assert_uint_eq(o->nls, 1);
		ck_assert_str_eq(o->ls[0].key, g->str);
		break;
	case F_MODE:
		ck_assert_int_eq(o->mode, (int)g->num);
		break;
	case F_PROGRAM:
		ck_assert_str_eq(o->argv[0], g->str);
		break;
	case F_NLS:
		ck_assert_uint_eq(o->nls, (size_t)g->num);
		break;
	}
}

START_TEST(test_good)
{
	struct options o;
	char err[256] = "";

	ck_assert_msg(parse_args(good[_i].args, &o, err, sizeof(err)) == 0,
	              "line %d (%s): %s", _i, good[_i].args[0], err);
	check_field(&good[_i], &o);
	options_free(&o);
}
END_TEST

static const struct bad {
	const char *args[MAXARGS];
	const char *msg; /* the whole message */
} bad[] = {
    /* a forgotten "--": start_server's words */
    {{"--port=8080", "h2o", "-c", "conf", NULL}, "Unknown option: c"},
    {{"--ch", "--port=1", "app", NULL}, "Unknown option: ch"},
    {{"--num=2", "app", NULL}, "Unknown option: num"},
    {{"--stop-t=2", "app", NULL}, "Unknown option: stop-t"},
    {{"--nope=1", "app", NULL}, "Unknown option: nope"},
    {{"--p=1", "app", NULL}, "Option p is ambiguous (path, pid-file, port)"},
    {{"--st", "app", NULL}, "Option st is ambiguous (status-file, stop)"},
    {{"--port", NULL}, "option --port requires a value"},
    /* seconds: plain decimals only */
    {{"--interval=0x10", NULL},
     "invalid --interval value \"0x10\": not a number of seconds"},
    {{"--interval= 1", NULL},
     "invalid --interval value \" 1\": not a number of seconds"},
    {{"--stop-delay=soon", NULL},
     "invalid --stop-delay value \"soon\": not a number of seconds, nor "
     "auto[:MAX]"},
    {{"--stop-delay=auto:0.5", NULL},
     "invalid --stop-delay value \"auto:0.5\": auto:MAX takes at least 1 "
     "second"},
    {{"--stop-delay=automatic", NULL},
     "invalid --stop-delay value \"automatic\": not a number of seconds, "
     "nor auto[:MAX]"},
    {{"--kill-when-drained=x", NULL},
     "invalid --kill-when-drained value \"x\": not a number of seconds"},
    {{"--kill-old-delay=1e3", NULL},
     "invalid --kill-old-delay value \"1e3\": not a number of seconds"},
    {{"--auto-restart-interval=inf", NULL},
     "invalid --auto-restart-interval value \"inf\": not a number of "
     "seconds"},
    {{"--stop-timeout=nan", NULL},
     "invalid --stop-timeout value \"nan\": not a number of seconds"},
    {{"--ready-timeout=", NULL},
     "invalid --ready-timeout value \"\": not a number of seconds"},
    {{"--restart-timeout=-1", NULL},
     "invalid --restart-timeout value \"-1\": not a number of seconds"},
    {{"--interval=1.", NULL},
     "invalid --interval value \"1.\": not a number of seconds"},
    {{"--interval=.5", NULL},
     "invalid --interval value \".5\": not a number of seconds"},
    {{"--restart-retries=-1", NULL},
     "invalid --restart-retries value \"-1\": not a non-negative integer"},
    {{"--num-workers=0", NULL},
     "invalid --num-workers value \"0\": not an integer from 1 to 1024"},
    {{"--ready=later", NULL},
     "invalid --ready value \"later\": use interval or notify"},
    /* signals that leave a worker running */
    {{"--signal-on-hup=STOP", NULL},
     "invalid --signal-on-hup value \"STOP\": SIGSTOP cannot stop a worker"},
    {{"--signal-on-term=CONT", NULL},
     "invalid --signal-on-term value \"CONT\": SIGCONT cannot stop a worker"},
    {{"--signal-on-hup=CHLD", NULL},
     "invalid --signal-on-hup value \"CHLD\": SIGCHLD cannot stop a worker"},
    {{"--signal-on-hup=TSTP", NULL},
     "invalid --signal-on-hup value \"TSTP\": SIGTSTP cannot stop a worker"},
    {{"--signal-on-hup=TTIN", NULL},
     "invalid --signal-on-hup value \"TTIN\": SIGTTIN cannot stop a worker"},
    {{"--signal-on-hup=TTOU", NULL},
     "invalid --signal-on-hup value \"TTOU\": SIGTTOU cannot stop a worker"},
    {{"--signal-on-term=URG", NULL},
     "invalid --signal-on-term value \"URG\": SIGURG cannot stop a worker"},
    {{"--signal-on-term=WINCH", NULL},
     "invalid --signal-on-term value \"WINCH\": SIGWINCH cannot stop a "
     "worker"},
    {{"--signal-on-term=0", NULL},
     "invalid --signal-on-term value \"0\": unknown signal"},
    /* paths that would break SERVER_STARTER_PORT */
    {{"--path=/tmp/a;b", NULL},
     "invalid --path value \"/tmp/a;b\": a path cannot contain ';' or '=' "
     "(they separate the entries of SERVER_STARTER_PORT)"},
    {{"--path=/tmp/a=b", NULL},
     "invalid --path value \"/tmp/a=b\": a path cannot contain ';' or '=' "
     "(they separate the entries of SERVER_STARTER_PORT)"},
    {{"--port=000065536", NULL},
     "invalid --port value \"000065536\": port 000065536 is out of range "
     "(0-65535)"},
    {{"--log-file=|", NULL},
     "invalid --log-file value \"|\": a pipe needs a command after '|'"},
    {{"--log-file= |  ", NULL},
     "invalid --log-file value \" |  \": a pipe needs a command after '|'"},
    {{"--pid-file=/tmp/x", "--status-file=/tmp/x", "app", NULL},
     "--pid-file and --status-file are the same file (/tmp/x): they need "
     "one each"},
    /* a flag with a value */
    {{"--no-new-privs=yes", "app", NULL},
     "option --no-new-privs takes no value"},
    {{"--daem=1", "app", NULL}, "option --daemonize takes no value"},
    {{"--reuseport=", "app", NULL}, "option --reuseport takes no value"},
    {{"--cork=1", "app", NULL}, "option --cork takes no value"},
    /* TCP_CORK fits TCP listeners only; TCP_QUICKACK none */
    {{"--path=/tmp/s", "--cork", "app", NULL},
     "--cork applies to TCP listeners only, and there is none"},
    {{"--path=/tmp/s", "--sockopts=cork", "app", NULL},
     "invalid --sockopts value \"cork\" for /tmp/s: cork applies to TCP "
     "listeners only"},
    {{"--port=1", "--sockopts=nodelay,quickack", "app", NULL},
     "invalid --sockopts value \"nodelay,quickack\" for 1: quickack is not "
     "a listener option: the kernel does not carry TCP_QUICKACK to accepted "
     "sockets (it is each connection's delayed-ACK mode, which listen(2) "
     "resets); a worker sets it on its connection (baton_quickack(3))"},
    /* the same address twice (bind would say EADDRINUSE) */
    {{"--port=127.0.0.1:80", "--port=127.0.0.1:80", "app", NULL},
     "--port=127.0.0.1:80 given twice"},
    {{"--port=80", "--port=0.0.0.0:080", "app", NULL},
     "--port=0.0.0.0:080 given twice (first as --port=80)"},
    {{"--port=[::1]:80", "--port=[0::1]:80=5", "app", NULL},
     "--port=[0::1]:80=5 given twice (first as --port=[::1]:80)"},
    {{"--port=u53", "--port=0.0.0.0:u53", "app", NULL},
     "--port=0.0.0.0:u53 given twice (first as --port=u53)"},
    {{"--path=/tmp/s", "--port=1", "--path=/tmp/s", "app", NULL},
     "--path=/tmp/s given twice"},
    {{"--port=127.0.0.1:80", "--sockopts=reuseport", "--port=127.0.0.1:80",
      "app", NULL},
     "--port=127.0.0.1:80 given twice"},
};

START_TEST(test_bad)
{
	struct options o;
	char err[512] = "";

	ck_assert_int_lt(parse_args(bad[_i].args, &o, err, sizeof(err)), 0);
	ck_assert_str_eq(err, bad[_i].msg);
}
END_TEST

/* The same existing file under two names is refused too. */
START_TEST(test_same_file_by_inode)
{
	char dir[] = "/tmp/unit-options.XXXXXX", a[128], b[128], err[512];
	const char *args[] = {a, b, "app", NULL};
	char pa[80], pb[80];
	struct options o;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(pa, sizeof(pa), "%s/status", dir);
	snprintf(pb, sizeof(pb), "%s/link", dir);
	f = fopen(pa, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(link(pa, pb), 0);
	snprintf(a, sizeof(a), "--pid-file=%s", pb);
	snprintf(b, sizeof(b), "--status-file=%s", pa);
	ck_assert_int_lt(parse_args(args, &o, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "are the same file"));
	unlink(pb);
	unlink(pa);
	rmdir(dir);
}
END_TEST

/* A listener owns its fd name: the last name= wins, a --path's name moves
 * from the parser to its listener, and a line refused after a name= was
 * read frees it (the sanitizer build checks that nothing leaks). */
START_TEST(test_sockopt_names)
{
	const char *args[] = {"--path=/tmp/a",
	                      "--sockopts=name=x,name=y",
	                      "--path=/tmp/b",
	                      "--port=8080",
	                      "--sockopts=name=z",
	                      "--",
	                      "app",
	                      NULL};
	const char *late[] = {"--path=/tmp/a",
	                      "--sockopts=name=x",
	                      "--path=/tmp/b;c",
	                      "--",
	                      "app",
	                      NULL};
	const char *inlist[] = {"--path=/tmp/a", "--sockopts=name=x,bogus",
	                        "--", "app", NULL};
	struct options o;
	char err[512] = "";

	ck_assert_int_eq(parse_args(args, &o, err, sizeof(err)), 0);
	ck_assert_uint_eq(o.nls, 3);
	/* every --port before any --path, as start_server */
	ck_assert_str_eq(o.ls[0].key, "8080");
	ck_assert_str_eq(o.ls[0].opts->name, "z");
	ck_assert_str_eq(o.ls[1].key, "/tmp/a");
	ck_assert_str_eq(o.ls[1].opts->name, "y");
	ck_assert_ptr_null(o.ls[2].opts);
	ck_assert_ptr_null(o.ls[1].eff.name);
	options_free(&o);
	ck_assert_int_lt(parse_args(late, &o, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "/tmp/b;c"));
	ck_assert_int_lt(parse_args(inlist, &o, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "bogus"));
}
END_TEST

/* Each of 1,000 listeners owns its strings and its options: a global
 * flag reaches every one, a --sockopts only its own listener, and a
 * listener changed leaves the others as they were. */
START_TEST(test_sockopts_owned)
{
	static char ports[1000][24];
	const char *args[1000 + 6];
	struct options o;
	char err[512] = "";
	size_t i, n = 0;

	args[n++] = "--defer-accept";
	for (i = 0; i < 1000; i++) {
		snprintf(ports[i], sizeof(ports[i]), "--port=127.0.0.1:%zu",
		         10000 + i);
		args[n++] = ports[i];
		if (i == 700)
			args[n++] = "--sockopts=defer-accept=5";
	}
	args[n++] = "--";
	args[n++] = "app";
	args[n] = NULL;
	ck_assert_int_eq(parse_args(args, &o, err, sizeof(err)), 0);
	ck_assert_uint_eq(o.nls, 1000);
	ck_assert_int_eq(o.ls[999].eff.val[SOCKOPT_DEFER_ACCEPT], 30);
	ck_assert_int_eq(o.ls[700].eff.val[SOCKOPT_DEFER_ACCEPT], 5);
	/* none holds own options it was not given */
	ck_assert_ptr_null(o.ls[500].opts);
	ck_assert_ptr_nonnull(o.ls[700].opts);
	o.ls[0].eff.val[SOCKOPT_DEFER_ACCEPT] = 1;
	ck_assert_int_eq(o.ls[1].eff.val[SOCKOPT_DEFER_ACCEPT], 30);
	/* the same text is two strings: listen_free frees each once */
	ck_assert_str_eq(o.ls[0].spec, o.ls[0].key);
	ck_assert_ptr_ne(o.ls[0].spec, o.ls[0].key);
	options_free(&o);
}
END_TEST

/* A uid or gid is kept in 32 bits: one above INT_MAX comes back whole in
 * the log's words and in the status JSON, and "none" stays none. */
START_TEST(test_sockopts_big_id)
{
	struct sockopts so;
	struct sockopts_read r;
	char err[256], text[64], *json = NULL;
	size_t len = 0;
	FILE *f;

	memset(&so, 0, sizeof(so));
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(
	    sockopt_set(&so, SOCKOPT_OWNER, "4294967294", err, sizeof(err)), 0);
	sockopt_value_text(SOCKOPT_OWNER, so.val[SOCKOPT_OWNER], text,
	                   sizeof(text));
	ck_assert_str_eq(text, "4294967294");
	so.val[SOCKOPT_GROUP] = -1; /* not given: no "gid" */
	f = open_memstream(&json, &len);
	ck_assert_ptr_nonnull(f);
	sockopt_json(f, &so, &r, SOCKOPT_UNIX);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(json, "\"uid\":4294967294"));
	ck_assert_ptr_null(strstr(json, "\"gid\""));
	free(json);
}
END_TEST

START_TEST(test_seconds)
{
	ck_assert_double_eq(options_seconds("0"), 0);
	ck_assert_double_eq(options_seconds("12.5"), 12.5);
	ck_assert_double_eq(options_seconds("007"), 7);
	ck_assert_double_eq(options_seconds("+1"), -1);
	ck_assert_double_eq(options_seconds("1 "), -1);
	ck_assert_double_eq(options_seconds("1e3"), -1);
	ck_assert_double_eq(options_seconds("0x10"), -1);
	ck_assert_double_eq(options_seconds("INF"), -1);
	ck_assert_double_eq(options_seconds(NULL), -1);
	ck_assert_double_eq(options_seconds("999999999"), -1);
}
END_TEST

/* A bad value in the environment is not fatal: the default is used. */
START_TEST(test_tunables_bad_env)
{
	struct tunables t;

	setenv("ENABLE_AUTO_RESTART", "1", 1);
	setenv("KILL_OLD_DELAY", "0x10", 1);
	setenv("AUTO_RESTART_INTERVAL", "1e3", 1);
	options_tunables(&t);
	ck_assert_double_eq(t.kill_old_delay, 5);
	ck_assert_double_eq(t.auto_restart_interval, 360);
	setenv("KILL_OLD_DELAY", "2.5", 1);
	setenv("AUTO_RESTART_INTERVAL", "0", 1);
	options_tunables(&t);
	ck_assert_double_eq(t.kill_old_delay, 2.5);
	ck_assert_double_eq(t.auto_restart_interval, 360);
	unsetenv("ENABLE_AUTO_RESTART");
	unsetenv("KILL_OLD_DELAY");
	unsetenv("AUTO_RESTART_INTERVAL");
}
END_TEST

/* --help lists every option the parser knows. */
START_TEST(test_help_lists_all)
{
	static const char *const names[] = {"port",
	                                    "path",
	                                    "dir",
	                                    "interval",
	                                    "signal-on-hup",
	                                    "signal-on-term",
	                                    "pid-file",
	                                    "status-file",
	                                    "envdir",
	                                    "log-file",
	                                    "daemonize",
	                                    "enable-auto-restart",
	                                    "auto-restart-interval",
	                                    "kill-old-delay",
	                                    "backlog",
	                                    "restart",
	                                    "stop",
	                                    "help",
	                                    "version",
	                                    "restart-retries",
	                                    "restart-timeout",
	                                    "stop-timeout",
	                                    "ready",
	                                    "ready-timeout",
	                                    "num-workers",
	                                    "max-old-generations",
	                                    "die-with-supervisor",
	                                    "check",
	                                    "sockopts",
	                                    "defer-accept",
	                                    "dual-stack",
	                                    "user",
	                                    "supplementary-groups",
	                                    "worker-caps",
	                                    "no-new-privs"};
	char *buf = NULL, want[64];
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	options_usage(f);
	fclose(f);
	for (i = 0; i < N(names); i++) {
		snprintf(want, sizeof(want), "  --%s", names[i]);
		ck_assert_msg(strstr(buf, want) != NULL, "--help lacks --%s",
		              names[i]);
	}
	free(buf);
}
END_TEST

void
tests_options(void)
{
	TCase *tc = unit_case("options");

	tcase_add_loop_test(tc, test_good, 0, N(good));
	tcase_add_loop_test(tc, test_bad, 0, N(bad));
	tcase_add_test(tc, test_same_file_by_inode);
	tcase_add_test(tc, test_sockopt_names);
	tcase_add_test(tc, test_seconds);
	tcase_add_test(tc, test_sockopts_owned);
	tcase_add_test(tc, test_sockopts_big_id);
	tcase_add_test(tc, test_tunables_bad_env);
	tcase_add_test(tc, test_help_lists_all);
}
