/* SPDX-License-Identifier: ISC */
/* options.c: start_server's command line and baton's extensions, as one
 * table that drives getopt, abbreviations, validation and --help. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "log.h"
#include "metrics.h"
#include "options.h"
#include "passfds.h"
#include "sig.h"
#include "tcpaddr.h"

/* How a row's value is parsed and where it goes. */
enum opt_kind {
	K_FLAG,        /* no value: the int field becomes 1 */
	K_STRING,      /* the char * field gets a copy */
	K_SECONDS,     /* the double field: plain decimal seconds */
	K_SECONDS_STR, /* seconds, kept as written in the char * field:
	                  exported to the environment as start_server does */
	K_INT,         /* the int field, from min to max */
	K_SIGNAL,      /* the int field: a signal that can stop a worker */
	K_CHOICE,      /* the int field: the index of the value in choices */
	K_SOCKOPT,     /* a global listener option, sockopt_set(sockopt) */
	K_MODE,        /* --help, --version, --restart, --stop: bit min */
	K_LISTENER     /* --port, --path, --sockopts, --pass-fds-as: the
	                  switch in special() */
};

/* What the switch still does after (or instead of) the generic part. */
enum opt_special {
	SP_NONE,
	SP_PORT,
	SP_PATH,
	SP_SOCKOPTS,
	SP_DEFER_ACCEPT, /* a bare "--defer-accept 5" is a mistake */
	SP_BACKLOG,      /* also the default of every listener's backlog */
	SP_PASS_FDS_AS,  /* a list of dialects, parsed by passfds.c */
	SP_READY         /* --ready MODE, or a bare --ready for --health */
};

/* Mode bits, in the order start_server acts on them. */
enum {
	M_HELP = 1,
	M_VERSION = 2,
	M_RESTART = 4,
	M_STOP = 8,
	M_STATS = 16,
	M_HEALTH = 32
};

#define NONE ((size_t)-1)
#define F(field) offsetof(struct options, field)

static const char *const ready_choices[] = {"interval", "notify", NULL};
static const char *const format_choices[] = {"text", "json", "prom", NULL};

static int check_log_file(const char *v, char *err, size_t errlen);
static int check_metrics_file(const char *v, char *err, size_t errlen);

struct opt_def {
	const char *name;
	enum opt_kind kind;
	int has_arg;  /* getopt's no_argument, required_argument, ... */
	int starter;  /* start_server has it: any unique prefix is it */
	size_t field; /* offsetof into struct options, or NONE */
	long min, max;
	double def;        /* the default of a numeric field (0 when omitted) */
	int sockopt;       /* K_SOCKOPT: enum sockopt_id */
	const char *value; /* K_SOCKOPT without a value: the value set */
	const char *const *choices; /* K_CHOICE */
	enum opt_special special;
	int (*check)(const char *v, char *err, size_t errlen);
	const char *section; /* --help: a heading before this row */
	const char *arg;     /* --help: the value's name ("SECONDS") */
	const char *help;    /* --help: lines after the first start with
	                        '\n' and are indented */
};

/* One row per option. start_server's rows keep its names, meanings and
 * defaults; the order is the order of --help. A K_SOCKOPT row has no
 * name here: it is the option's flag in sockopt.c's table (name_rows). */
static struct opt_def opt_table[] = {
    {.name = "port",
     .kind = K_LISTENER,
     .has_arg = required_argument,
     .starter = 1,
     .field = NONE,
     .special = SP_PORT,
     .section = "Listeners:",
     .arg = "SPEC",
     .help = "TCP: PORT, HOST:PORT, [IPV6]:PORT; 'u' before\n"
             "the port for UDP; '=FD' after it pins the fd\n"
             "number in the worker (repeatable)"},
    {.name = "path",
     .kind = K_LISTENER,
     .has_arg = required_argument,
     .starter = 1,
     .field = NONE,
     .special = SP_PATH,
     .arg = "PATH",
     .help = "unix stream socket (repeatable; no ';' or '=')"},
    {.name = "backlog",
     .kind = K_INT,
     .has_arg = required_argument,
     .starter = 1,
     .field = F(backlog),
     .min = 1,
     .max = INT_MAX,
     .def = SOMAXCONN,
     .special = SP_BACKLOG,
     .arg = "N",
     .help = "listen(2) backlog (default: SOMAXCONN)"},
    {.kind = K_SOCKOPT,
     .has_arg = optional_argument,
     .field = NONE,
     .sockopt = SOCKOPT_DEFER_ACCEPT,
     .special = SP_DEFER_ACCEPT,
     .section = "Listener options (each applies to every listener it fits):",
     .arg = "SECS",
     .help = "TCP_DEFER_ACCEPT: hand a connection to workers\n"
             "once data arrives (default 30; the kernel rounds up)"},
    {.kind = K_SOCKOPT,
     .has_arg = required_argument,
     .field = NONE,
     .sockopt = SOCKOPT_FASTOPEN,
     .arg = "QLEN",
     .help = "TCP_FASTOPEN with this queue length"},
    {.kind = K_SOCKOPT,
     .has_arg = no_argument,
     .field = NONE,
     .sockopt = SOCKOPT_REUSEPORT,
     .help = "SO_REUSEPORT (TCP, UDP)"},
    {.kind = K_SOCKOPT,
     .has_arg = no_argument,
     .field = NONE,
     .sockopt = SOCKOPT_V6ONLY,
     .value = "0",
     .help = "[::]:PORT takes IPv4 too (IPV6_V6ONLY off)"},
    {.kind = K_SOCKOPT,
     .has_arg = no_argument,
     .field = NONE,
     .sockopt = SOCKOPT_FREEBIND,
     .help = "IP_FREEBIND: bind an address not configured yet"},
    {.kind = K_SOCKOPT,
     .has_arg = no_argument,
     .field = NONE,
     .sockopt = SOCKOPT_NODELAY,
     .help = "TCP_NODELAY (accepted sockets inherit it)"},
    {.kind = K_SOCKOPT,
     .has_arg = no_argument,
     .field = NONE,
     .sockopt = SOCKOPT_CORK,
     .help = "TCP_CORK (accepted sockets inherit it; the worker uncorks)"},
    {.kind = K_SOCKOPT,
     .has_arg = no_argument,
     .field = NONE,
     .sockopt = SOCKOPT_KEEPALIVE,
     .help = "SO_KEEPALIVE (accepted sockets inherit it)"},
    {.kind = K_SOCKOPT,
     .has_arg = required_argument,
     .field = NONE,
     .sockopt = SOCKOPT_RCVBUF,
     .arg = "N",
     .help = "SO_RCVBUF in bytes (k, m, g suffixes)"},
    {.kind = K_SOCKOPT,
     .has_arg = required_argument,
     .field = NONE,
     .sockopt = SOCKOPT_SNDBUF,
     .arg = "N",
     .help = "SO_SNDBUF in bytes (k, m, g suffixes)"},
    {.kind = K_SOCKOPT,
     .has_arg = required_argument,
     .field = NONE,
     .sockopt = SOCKOPT_MODE,
     .arg = "MODE",
     .help = "mode of --path sockets (default 0777)"},
    {.kind = K_SOCKOPT,
     .has_arg = required_argument,
     .field = NONE,
     .sockopt = SOCKOPT_OWNER,
     .arg = "USER",
     .help = "owner of --path sockets"},
    {.kind = K_SOCKOPT,
     .has_arg = required_argument,
     .field = NONE,
     .sockopt = SOCKOPT_GROUP,
     .arg = "GROUP",
     .help = "group of --path sockets"},
    {.kind = K_SOCKOPT,
     .has_arg = no_argument,
     .field = NONE,
     .sockopt = SOCKOPT_NONBLOCK,
     .help = "O_NONBLOCK on the listener, for servers that expect\n"
             "it (nginx; implied by --pass-fds-as=nginx)"},
    {.name = "sockopts",
     .kind = K_LISTENER,
     .has_arg = required_argument,
     .field = NONE,
     .special = SP_SOCKOPTS,
     .arg = "LIST",
     .help = "options of the --port or --path just before it,\n"
             "over the flags above: key[=value],... e.g.\n"
             "--port=443 --sockopts=defer-accept=5,backlog=1024"},
    {.name = "pass-fds-as",
     .kind = K_LISTENER,
     .has_arg = required_argument,
     .field = NONE,
     .special = SP_PASS_FDS_AS,
     .arg = "LIST",
     .help = "how workers learn their fds: server-starter (default),\n"
             "systemd, nginx, unicorn, einhorn; several with ','"},
    {.name = "check",
     .kind = K_FLAG,
     .has_arg = no_argument,
     .field = F(check),
     .help = "bind every listener, print what the kernel applied,\n"
             "its limits and what accepted sockets get, and exit"},
    {.name = "dir",
     .kind = K_STRING,
     .has_arg = required_argument,
     .starter = 1,
     .field = F(dir),
     .section = "Workers:",
     .arg = "DIR",
     .help = "working directory of the workers"},
    {.name = "interval",
     .kind = K_SECONDS,
     .has_arg = required_argument,
     .starter = 1,
     .field = F(interval),
     .def = 1,
     .arg = "SECONDS",
     .help = "a new worker alive this long counts as started\n"
             "(default 1)"},
    {.name = "signal-on-hup",
     .kind = K_SIGNAL,
     .has_arg = required_argument,
     .starter = 1,
     .field = F(sig_hup),
     .def = SIGTERM,
     .arg = "SIG",
     .help = "sent to the old generation on restart (TERM)"},
    {.name = "signal-on-term",
     .kind = K_SIGNAL,
     .has_arg = required_argument,
     .starter = 1,
     .field = F(sig_term),
     .def = SIGTERM,
     .arg = "SIG",
     .help = "sent to workers when baton gets SIGTERM (TERM)"},
    {.name = "kill-old-delay",
     .kind = K_SECONDS_STR,
     .has_arg = required_argument,
     .starter = 1,
     .field = F(kill_old_delay),
     .arg = "SECS",
     .help = "wait before signalling the old generation\n"
             "(default 0, or 5 with auto-restart)"},
    {.name = "stop-timeout",
     .kind = K_SECONDS,
     .has_arg = required_argument,
     .field = F(stop_timeout),
     .arg = "SECS",
     .help = "SIGKILL a signalled worker still alive after SECS\n"
             "(default 0: never)"},
    {.name = "ready",
     .kind = K_CHOICE,
     /* optional only so that "--health --ready" reads as it is
      * written; a run still needs MODE (SP_READY, finish()) */
     .has_arg = optional_argument,
     .field = F(ready),
     .choices = ready_choices,
     .special = SP_READY,
     .arg = "MODE",
     .help = "interval (default): alive after --interval;\n"
             "notify: every worker sent READY=1 on NOTIFY_SOCKET;\n"
             "bare, after --health: check readiness too"},
    {.name = "stop-delay",
     .kind = K_SECONDS,
     .has_arg = required_argument,
     .field = F(stop_delay),
     .arg = "SECS",
     .help = "on SIGTERM, /readyz turns 503 and the workers keep\n"
             "serving SECS before their stop signal; a second\n"
             "SIGTERM stops at once (default 0)"},
    {.name = "ready-timeout",
     .kind = K_SECONDS,
     .has_arg = required_argument,
     .field = F(ready_timeout),
     .def = -1,
     .arg = "SECS",
     .help = "roll back a generation not ready in time\n"
             "(default 60 with notify, 0: none)"},
    {.name = "restart-retries",
     .kind = K_INT,
     .has_arg = required_argument,
     .field = F(restart_retries),
     .min = 0,
     .max = INT_MAX,
     .def = -1,
     .arg = "N",
     .help = "give up after N failed restarts in a row\n"
             "(default: retry for ever)"},
    {.name = "num-workers",
     .kind = K_INT,
     .has_arg = required_argument,
     .field = F(num_workers),
     .min = 1,
     .max = 1024,
     .def = 1,
     .arg = "N",
     .help = "worker processes per generation (default 1)"},
    {.name = "max-old-generations",
     .kind = K_INT,
     .has_arg = required_argument,
     .field = F(max_old_generations),
     .min = 0,
     .max = INT_MAX,
     .arg = "N",
     .help = "SIGKILL the oldest retiring generation beyond N\n"
             "(default 0: no limit)"},
    {.name = "die-with-supervisor",
     .kind = K_FLAG,
     .has_arg = no_argument,
     .field = F(die_with_supervisor),
     .help = "workers get SIGKILL if baton dies (PR_SET_PDEATHSIG)"},
    {.name = "user",
     .kind = K_STRING,
     .has_arg = required_argument,
     .field = F(user),
     .arg = "USER[:GROUP]",
     .help = "run workers as USER (baton stays privileged)"},
    {.name = "supplementary-groups",
     .kind = K_STRING,
     .has_arg = required_argument,
     .field = F(supplementary_groups),
     .arg = "auto|none|G1,G2",
     .help = "the workers' groups\n"
             "(default auto with USER, none with USER:GROUP)"},
    {.name = "worker-caps",
     .kind = K_STRING,
     .has_arg = required_argument,
     .field = F(worker_caps),
     .arg = "CAP[,CAP]",
     .help = "ambient capabilities the workers keep"},
    {.name = "no-new-privs",
     .kind = K_FLAG,
     .has_arg = no_argument,
     .field = F(no_new_privs),
     .help = "PR_SET_NO_NEW_PRIVS in the workers"},
    {.name = "envdir",
     .kind = K_STRING,
     .has_arg = required_argument,
     .starter = 1,
     .field = F(envdir),
     .arg = "DIR",
     .help = "environment directory, re-read before each start"},
    {.name = "enable-auto-restart",
     .kind = K_FLAG,
     .has_arg = no_argument,
     .starter = 1,
     .field = F(auto_restart_set),
     .help = "restart periodically"},
    {.name = "auto-restart-interval",
     .kind = K_SECONDS_STR,
     .has_arg = required_argument,
     .starter = 1,
     .field = F(auto_restart_interval),
     .arg = "SECS",
     .help = "period of auto-restart (default 360)"},
    {.name = "pid-file",
     .kind = K_STRING,
     .has_arg = required_argument,
     .starter = 1,
     .field = F(pid_file),
     .section = "Files and control:",
     .arg = "FILE",
     .help = "write baton's pid, held under flock"},
    {.name = "status-file",
     .kind = K_STRING,
     .has_arg = required_argument,
     .starter = 1,
     .field = F(status_file),
     .arg = "FILE",
     .help = "'generation:pid' lines (and FILE.json)"},
    {.name = "log-file",
     .kind = K_STRING,
     .has_arg = required_argument,
     .starter = 1,
     .field = F(log_file),
     .check = check_log_file,
     .arg = "FILE",
     .help = "append output to FILE, or '| command' to pipe it"},
    {.name = "verbose",
     .kind = K_FLAG,
     .has_arg = no_argument,
     .field = F(verbose),
     .help = "(-v) also log debug lines (\"debug: ...\"): generation\n"
             "state changes, sampler decisions, notify messages"},
    {.name = "daemonize",
     .kind = K_FLAG,
     .has_arg = no_argument,
     .starter = 1,
     .field = F(daemonize),
     .help = "run in the background (needs --log-file)"},
    {.name = "fdstore",
     .kind = K_FLAG,
     .has_arg = no_argument,
     .field = F(fdstore),
     .help = "hand the listeners to systemd's fd store (FDSTORE=1)"},
    {.name = "restart",
     .kind = K_MODE,
     .has_arg = no_argument,
     .starter = 1,
     .field = NONE,
     .min = M_RESTART,
     .help = "ask the running baton to restart and wait\n"
             "(needs --pid-file and --status-file)"},
    {.name = "restart-timeout",
     .kind = K_SECONDS,
     .has_arg = required_argument,
     .field = F(restart_timeout),
     .def = -1,
     .arg = "SECS",
     .help = "--restart gives up after SECS, exit 4 (default:\n"
             "from the supervisor's timeouts, or 600; 0: none)"},
    {.name = "max-lost",
     .kind = K_INT,
     .has_arg = required_argument,
     .field = F(max_lost),
     .min = 0,
     .max = INT_MAX,
     .def = -1,
     .arg = "N",
     .help = "--restart waits for the restart's receipt, prints it,\n"
             "and exits 6 when it lost more than N connections"},
    {.name = "stop",
     .kind = K_MODE,
     .has_arg = no_argument,
     .starter = 1,
     .field = NONE,
     .min = M_STOP,
     .help = "stop the running baton and wait (needs --pid-file)"},
    {.name = "stats",
     .kind = K_MODE,
     .has_arg = no_argument,
     .field = NONE,
     .min = M_STATS,
     .section = "Queues, metrics and health:",
     .help = "print the running baton's listen queues (needs\n"
             "--status-file; any local user may run it)"},
    {.name = "format",
     .kind = K_CHOICE,
     .has_arg = required_argument,
     .field = F(stats_format),
     .choices = format_choices,
     .arg = "FMT",
     .help = "--stats output: text (default), json or prom"},
    {.name = "health",
     .kind = K_MODE,
     .has_arg = no_argument,
     .field = NONE,
     .min = M_HEALTH,
     .help = "exit 0 if the baton of --status-file runs (with a\n"
             "bare --ready: and a generation serves), else 1"},
    {.name = "metrics-file",
     .kind = K_STRING,
     .has_arg = required_argument,
     .field = F(metrics_file),
     .check = check_metrics_file,
     .arg = "PATH.prom",
     .help = "write Prometheus metrics there every\n"
             "--metrics-interval, atomically (node_exporter)"},
    {.name = "metrics-interval",
     .kind = K_SECONDS,
     .has_arg = required_argument,
     .field = F(metrics_interval),
     .def = 1,
     .arg = "SECS",
     .help = "sample the listen queues every SECS (default 1)"},
    {.name = "metrics-listen",
     .kind = K_STRING,
     .has_arg = required_argument,
     .field = F(metrics_listen),
     .check = tcpaddr_check,
     .arg = "ADDR:PORT",
     .help = "serve /metrics, /healthz, /readyz over HTTP\n"
             "(a socket the workers never get)"},
    {.name = "metrics-syn-queue",
     .kind = K_FLAG,
     .has_arg = no_argument,
     .field = F(metrics_syn_queue),
     .help = "also count SYN_RECV requests (a netlink dump\n"
             "per TCP listener and sample)"},
    {.name = "accept-stall",
     .kind = K_SECONDS,
     .has_arg = required_argument,
     .field = F(accept_stall),
     .def = 10,
     .arg = "SECS",
     .help = "warn when a queue stays non-empty and never\n"
             "shrinks for SECS (default 10; 0: never)"},
    {.name = "help",
     .kind = K_MODE,
     .has_arg = no_argument,
     .starter = 1,
     .field = NONE,
     .min = M_HELP,
     .help = "this text"},
    {.name = "version",
     .kind = K_MODE,
     .has_arg = no_argument,
     .starter = 1,
     .field = NONE,
     .min = M_VERSION,
     .help = "print the version"},
};

#define NOPTS (sizeof(opt_table) / sizeof(opt_table[0]))

/* The listener options' names from sockopt.c's table ("--defer-accept"
 * there, "defer-accept" here): one list of them, not two. */
static void
name_rows(void)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (opt_table[i].kind == K_SOCKOPT)
			opt_table[i].name =
			    sockopt_flag(
			        (enum sockopt_id)opt_table[i].sockopt) +
			    2;
}

#define FIELD(o, d, type) ((type *)(void *)((char *)(o) + (d)->field))

/* What a --sockopts is for: the last --port or the last --path. */
enum last_listener { LAST_NONE, LAST_PORT, LAST_PATH };

/* The state of one options_parse() call. */
struct parse {
	struct options *o;
	int argc;
	char **argv;
	char **paths; /* --path values, parsed after every --port */
	struct sockopts *pathopts;
	size_t npaths;
	enum last_listener last;
	unsigned modes; /* M_* */
	char *err;
	size_t errlen;
};

/* ---- --help ----------------------------------------------------------- */

static void
usage_row(FILE *fp, const struct opt_def *d)
{
	const char *h = d->help;
	int n;

	if (d->section)
		fprintf(fp, "%s\n", d->section);
	n = fprintf(fp, "  --%s%s%s%s", d->name,
	            d->has_arg == optional_argument ? "[" : "",
	            d->arg ? "=" : "", d->arg ? d->arg : "");
	if (d->has_arg == optional_argument)
		n += fprintf(fp, "]");
	/* the text starts in column 25, or on the next line */
	if (n > 24) {
		fputc('\n', fp);
		n = 0;
	}
	for (;;) {
		size_t len = strcspn(h, "\n");

		fprintf(fp, "%*s%.*s\n", 25 - n, "", (int)len, h);
		if (h[len] == '\0')
			break;
		h += len + 1;
		n = 0;
	}
}

/* --sockopts' keys, from sockopt.c's table, under its row. */
static void
usage_keys(FILE *fp)
{
	char keys[SOCKOPT_KEYS_LEN];
	const char *p = keys;
	int n = 0;

	sockopt_known_keys(keys, sizeof(keys));
	fprintf(fp, "%25skeys:", "");
	n = 30;
	while (*p != '\0') {
		size_t len = strcspn(p, " ");

		if (n + 1 + (int)len > 79) {
			fprintf(fp, "\n%25s", "");
			n = 25;
		} else {
			fputc(' ', fp);
			n++;
		}
		n += fprintf(fp, "%.*s", (int)len, p);
		p += len + strspn(p + len, " ");
	}
	fputc('\n', fp);
}

void
options_usage(FILE *fp)
{
	size_t i;

	name_rows();
	fputs("Usage: baton [options] -- server-program [arguments...]\n"
	      "\n"
	      "Binds the listening sockets once, runs the server program with "
	      "them\n"
	      "(SERVER_STARTER_PORT, SERVER_STARTER_GENERATION) and, on "
	      "SIGHUP, starts\n"
	      "a new generation on the same sockets before retiring the old "
	      "one.\n"
	      "A drop-in replacement for Server::Starter's start_server.\n"
	      "\n",
	      fp);
	for (i = 0; i < NOPTS; i++) {
		usage_row(fp, &opt_table[i]);
		if (opt_table[i].special == SP_SOCKOPTS)
			usage_keys(fp);
	}
	fputs("\nSignals: HUP restart, TERM/INT/QUIT stop. See baton(1).\n",
	      fp);
}

/* ---- values ----------------------------------------------------------- */

double
options_seconds(const char *s)
{
	const char *p = s;
	size_t n;
	double d;

	/* digits, then optionally '.' and digits: strtod alone would take
	 * " 1", "0x10", "1e3", "inf" and "nan" */
	if (s == NULL || (n = strspn(p, "0123456789")) == 0)
		return -1;
	p += n;
	if (*p == '.') {
		if ((n = strspn(p + 1, "0123456789")) == 0)
			return -1;
		p += n + 1;
	}
	if (*p != '\0')
		return -1;
	d = strtod(s, NULL);
	return d > 100000000 ? -1 : d;
}

/* Signals after which a worker is still running: they pause it, are
 * ignored by default, or are not signals at all. Sent to retire or stop
 * a generation, they would leave baton waiting for ever. */
static int
signal_stops_worker(int sig)
{
	switch (sig) {
	case 0:
	case SIGSTOP:
	case SIGCONT:
	case SIGCHLD:
	case SIGTSTP:
	case SIGTTIN:
	case SIGTTOU:
	case SIGURG:
	case SIGWINCH:
		return 0;
	default:
		return 1;
	}
}

static int
check_log_file(const char *v, char *err, size_t errlen)
{
	const char *p = v + strspn(v, " \t");

	if (*p == '|' && p[1 + strspn(p + 1, " \t")] == '\0') {
		snprintf(err, errlen, "a pipe needs a command after '|'");
		return -1;
	}
	return 0;
}

/* metrics_file_check's message names the option and the path already;
 * set_value adds both, so only the cause is kept. */
static int
check_metrics_file(const char *v, char *err, size_t errlen)
{
	if (metrics_file_check(v, err, errlen) < 0) {
		snprintf(err, errlen, "the name must end in .prom");
		return -1;
	}
	return 0;
}

/* The cause for an integer out of d's range. */
static void
int_cause(const struct opt_def *d, char *buf, size_t len)
{
	if (d->max == INT_MAX && d->min <= 1)
		snprintf(buf, len, "not a %s integer",
		         d->min == 1 ? "positive" : "non-negative");
	else
		snprintf(buf, len, "not an integer from %ld to %ld", d->min,
		         d->max);
}

static void
choices_cause(const struct opt_def *d, char *buf, size_t len)
{
	size_t i, off = (size_t)snprintf(buf, len, "use");

	for (i = 0; d->choices[i] && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
		                        i == 0              ? " "
		                        : d->choices[i + 1] ? ", "
		                                            : " or ",
		                        d->choices[i]);
}

/* A numeric row: parse v into d's field, or -1 with the cause. */
static int
set_number(struct options *o, const struct opt_def *d, const char *v,
           char *cause, size_t len)
{
	double s;
	long n;
	int i;

	switch (d->kind) {
	case K_SECONDS:
	case K_SECONDS_STR:
		if ((s = options_seconds(v)) < 0) {
			snprintf(cause, len, "not a number of seconds");
			return -1;
		}
		if (d->kind == K_SECONDS)
			*FIELD(o, d, double) = s;
		return 0;
	case K_INT:
		if (sockopt_parse_long(v, d->min, d->max, &n) < 0) {
			int_cause(d, cause, len);
			return -1;
		}
		*FIELD(o, d, int) = (int)n;
		return 0;
	case K_SIGNAL:
		if ((i = sig_parse(v)) < 0) {
			snprintf(cause, len, "unknown signal");
			return -1;
		}
		if (!signal_stops_worker(i)) {
			if (i == 0)
				snprintf(cause, len,
				         "signal 0 cannot stop a worker");
			else
				snprintf(cause, len,
				         "SIG%s cannot stop a worker",
				         sig_name(i));
			return -1;
		}
		*FIELD(o, d, int) = i;
		return 0;
	default: /* K_CHOICE */
		for (i = 0; d->choices[i]; i++)
			if (strcmp(v, d->choices[i]) == 0) {
				*FIELD(o, d, int) = i;
				return 0;
			}
		choices_cause(d, cause, len);
		return -1;
	}
}

static void
set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
	if (*dst == NULL)
		abort();
}

/* The generic part of a row: parse, validate, store. */
static int
set_value(struct parse *ps, const struct opt_def *d, const char *v)
{
	char cause[256] = "";
	int rc = 0;

	switch (d->kind) {
	case K_FLAG:
		*FIELD(ps->o, d, int) = 1;
		break;
	case K_MODE:
		ps->modes |= (unsigned)d->min;
		break;
	case K_LISTENER:
		break;
	case K_SOCKOPT:
		rc = sockopt_set(&ps->o->sockopts, (enum sockopt_id)d->sockopt,
		                 d->value ? d->value : v, cause, sizeof(cause));
		break;
	case K_STRING:
		rc = d->check ? d->check(v, cause, sizeof(cause)) : 0;
		break;
	case K_CHOICE:
		if (v == NULL) /* a bare --ready: SP_READY */
			break;
		rc = set_number(ps->o, d, v, cause, sizeof(cause));
		break;
	default:
		rc = set_number(ps->o, d, v, cause, sizeof(cause));
		break;
	}
	if (rc < 0) {
		snprintf(ps->err, ps->errlen, "invalid --%s value \"%s\": %s",
		         d->name, v ? v : "", cause);
		return -1;
	}
	if (d->kind == K_STRING || d->kind == K_SECONDS_STR)
		set_str(FIELD(ps->o, d, char *), v);
	return 0;
}

/* ---- what the table cannot say ---------------------------------------- */

static void
add_listener(struct options *o, struct listener *l)
{
	struct listener *ls = realloc(o->ls, (o->nls + 1) * sizeof(*ls));

	if (ls == NULL)
		abort();
	o->ls = ls;
	o->ls[o->nls++] = *l;
}

static int
add_port(struct parse *ps, const char *v)
{
	struct listener l;
	char perr[256];

	if (listen_parse_port(v, &l, perr, sizeof(perr)) < 0) {
		snprintf(ps->err, ps->errlen, "invalid --port value \"%s\": %s",
		         v, perr);
		return -1;
	}
	add_listener(ps->o, &l);
	ps->last = LAST_PORT;
	return 0;
}

static void
add_path(struct parse *ps, char *v)
{
	size_t n = ps->npaths + 1;

	ps->paths = realloc(ps->paths, n * sizeof(*ps->paths));
	ps->pathopts = realloc(ps->pathopts, n * sizeof(*ps->pathopts));
	if (ps->paths == NULL || ps->pathopts == NULL)
		abort();
	memset(&ps->pathopts[ps->npaths], 0, sizeof(*ps->pathopts));
	ps->paths[ps->npaths++] = v;
	ps->last = LAST_PATH;
}

static int
add_sockopts(struct parse *ps, const char *v)
{
	struct listener *lp =
	    ps->last == LAST_PORT ? &ps->o->ls[ps->o->nls - 1] : NULL;
	char perr[256];

	if (ps->last == LAST_NONE) {
		snprintf(ps->err, ps->errlen,
		         "--sockopts must follow the --port or --path it "
		         "applies to");
		return -1;
	}
	if (sockopt_parse_list(v, lp ? listen_class(lp) : SOCKOPT_UNIX,
	                       lp ? listen_own_opts(lp)
	                          : &ps->pathopts[ps->npaths - 1],
	                       perr, sizeof(perr)) < 0) {
		snprintf(ps->err, ps->errlen,
		         "invalid --sockopts value \"%s\" for %s: %s", v,
		         lp ? lp->spec : ps->paths[ps->npaths - 1], perr);
		return -1;
	}
	return 0;
}

/* --ready's value used to be required: "--ready notify" still takes the
 * next word when it is a mode. Otherwise a bare --ready is --health's
 * "and ready" (finish() refuses it anywhere else). */
static int
bare_ready(struct parse *ps, const char *v, const char *next)
{
	size_t i;

	if (v != NULL)
		return 0;
	for (i = 0; next && ready_choices[i]; i++)
		if (strcmp(next, ready_choices[i]) == 0) {
			ps->o->ready = (int)i;
			optind++;
			return 0;
		}
	ps->o->health_ready = 1;
	return 0;
}

static int
special(struct parse *ps, const struct opt_def *d, char *v)
{
	const char *next = optind < ps->argc ? ps->argv[optind] : NULL;

	switch (d->special) {
	case SP_PORT:
		return add_port(ps, v);
	case SP_PATH:
		add_path(ps, v);
		return 0;
	case SP_SOCKOPTS:
		return add_sockopts(ps, v);
	case SP_DEFER_ACCEPT:
		/* an optional value must be attached: "--defer-accept 5"
		 * would make 5 the server program */
		if (v == NULL && next && *next &&
		    strspn(next, "0123456789") == strlen(next)) {
			snprintf(ps->err, ps->errlen,
			         "--defer-accept takes its value after '=': "
			         "write --defer-accept=%s",
			         next);
			return -1;
		}
		return 0;
	case SP_BACKLOG:
		ps->o->sockopts.val[SOCKOPT_BACKLOG] = ps->o->backlog;
		ps->o->sockopts.given |= 1u << SOCKOPT_BACKLOG;
		return 0;
	case SP_PASS_FDS_AS:
		return passfds_parse(v, &ps->o->pass_fds_as, ps->err,
		                     ps->errlen);
	case SP_READY:
		return bare_ready(ps, v, next);
	default:
		return 0;
	}
}

/* ---- names: Getopt::Long's rules for start_server's options only ------- */

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The row named by name[0..len): an exact name, or a unique prefix of one
 * of start_server's own options (scripts write --pid, -k). baton's
 * extensions are matched by their full name only, so that a forgotten
 * "--" (baton --port=80 h2o -c conf) fails as start_server fails instead
 * of taking "-c" for --check. NULL with Getopt::Long's message in err. */
static const struct opt_def *
find_option(const char *name, size_t len, char *err, size_t errlen)
{
	const char *match[NOPTS];
	const struct opt_def *found = NULL;
	size_t i, n = 0, off;

	/* -v is --verbose, except under start_server's name, where it
	 * stays the unique prefix of --version */
	if (len == 1 && name[0] == 'v' &&
	    strcmp(log_progname(), "start_server") != 0)
		name = "verbose", len = strlen("verbose");
	/* Getopt::Long ignores case (start_server --PID=x works) */
	for (i = 0; i < NOPTS; i++)
		if (strlen(opt_table[i].name) == len &&
		    strncasecmp(opt_table[i].name, name, len) == 0)
			return &opt_table[i];
	for (i = 0; len > 0 && i < NOPTS; i++)
		if (opt_table[i].starter &&
		    strncasecmp(opt_table[i].name, name, len) == 0) {
			match[n++] = opt_table[i].name;
			found = &opt_table[i];
		}
	if (n == 1)
		return found;
	if (n == 0) {
		/* the classic tuning notes name it beside --defer-accept:
		 * say where it belongs instead of only that it is unknown */
		if (len == 8 && strncasecmp(name, "quickack", len) == 0)
			snprintf(
			    err, errlen,
			    "Unknown option: %.*s (accepted sockets do not "
			    "inherit TCP_QUICKACK; a worker sets it on its "
			    "connection with baton_quickack(3))",
			    (int)len, name);
		else
			snprintf(err, errlen, "Unknown option: %.*s", (int)len,
			         name);
		return NULL;
	}
	qsort(match, n, sizeof(match[0]), cmp_names);
	off = (size_t)snprintf(err, errlen, "Option %.*s is ambiguous (",
	                       (int)len, name);
	for (i = 0; i < n && off < errlen; i++)
		off += (size_t)snprintf(err + off, errlen - off, "%s%s",
		                        i ? ", " : "", match[i]);
	if (off < errlen)
		snprintf(err + off, errlen - off, ")");
	return NULL;
}

/* What an unknown option becomes for getopt: a name no row has, then the
 * message to give. */
#define BAD_OPTION "--\001"

/* A copy of argv in which every option is written with its full name, for
 * getopt_long_only (which would take any prefix); the strings written
 * anew are listed in o->argv_owned. */
static void
normalise_args(int argc, char **argv, struct options *o)
{
	char err[256];
	size_t nowned = 0;
	int i;

	o->argv_alloc = calloc((size_t)argc + 1, sizeof(char *));
	o->argv_owned = calloc((size_t)argc + 1, sizeof(char *));
	if (o->argv_alloc == NULL || o->argv_owned == NULL)
		abort();
	memcpy(o->argv_alloc, argv, (size_t)argc * sizeof(char *));
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *a = argv[i], *name = a + (a[1] == '-' ? 2 : 1);
		const struct opt_def *d;
		size_t len = strcspn(name, "=");

		if (a[0] != '-' || a[1] == '\0')
			continue;
		if ((d = find_option(name, len, err, sizeof(err))) == NULL) {
			/* reported by parse_loop when getopt reaches it, so
			 * that errors come in command-line order */
			if (asprintf(&o->argv_alloc[i], "%s%s", BAD_OPTION,
			             err) < 0)
				abort();
			o->argv_owned[nowned++] = o->argv_alloc[i];
			continue;
		}
		if (strlen(d->name) != len ||
		    strncmp(d->name, name, len) != 0) {
			if (asprintf(&o->argv_alloc[i], "--%s%s", d->name,
			             name + len) < 0)
				abort();
			o->argv_owned[nowned++] = o->argv_alloc[i];
		}
		/* as getopt: a required value not attached with '=' is the
		 * next word, whatever it looks like */
		if (d->has_arg == required_argument && name[len] == '\0')
			i++;
	}
}

static const struct option *
longopts(void)
{
	static struct option lo[NOPTS + 1];
	size_t i;

	for (i = 0; i < NOPTS; i++) {
		lo[i].name = opt_table[i].name;
		lo[i].has_arg = opt_table[i].has_arg;
		lo[i].flag = NULL;
		lo[i].val = 256 + (int)i;
	}
	return lo;
}

/* ---- the whole command line ------------------------------------------- */

static void
set_defaults(struct options *o)
{
	size_t i;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < NOPTS; i++) {
		const struct opt_def *d = &opt_table[i];

		if (d->kind == K_SECONDS)
			*FIELD(o, d, double) = d->def;
		else if (d->kind == K_INT || d->kind == K_SIGNAL)
			*FIELD(o, d, int) = (int)d->def;
	}
}

/* pid and status files are written by different code at different
 * times: one file for both would be clobbered. */
static int
check_files(const struct options *o, char *err, size_t errlen)
{
	struct stat a, b;

	if (o->pid_file == NULL || o->status_file == NULL)
		return 0;
	if (strcmp(o->pid_file, o->status_file) == 0 ||
	    (stat(o->pid_file, &a) == 0 && stat(o->status_file, &b) == 0 &&
	     a.st_dev == b.st_dev && a.st_ino == b.st_ino)) {
		snprintf(err, errlen,
		         "--pid-file and --status-file are the same file "
		         "(%s): they need one each",
		         o->status_file);
		return -1;
	}
	return 0;
}

static int
add_paths(struct parse *ps)
{
	size_t i;

	/* start_server binds every --port before any --path */
	for (i = 0; i < ps->npaths; i++) {
		struct listener l;
		char perr[256];

		if (listen_parse_path(ps->paths[i], &l, perr, sizeof(perr)) <
		    0) {
			snprintf(ps->err, ps->errlen,
			         "invalid --path value \"%s\": %s",
			         ps->paths[i], perr);
			return -1;
		}
		/* the name moves to the listener: one owner */
		if (ps->pathopts[i].given || ps->pathopts[i].name) {
			*listen_own_opts(&l) = ps->pathopts[i];
			ps->pathopts[i].name = NULL;
		}
		add_listener(ps->o, &l);
	}
	return 0;
}

/* What the metrics rows cannot check one at a time. */
static int
check_metrics(struct parse *ps)
{
	const struct options *o = ps->o;

	if (o->health_ready && o->mode != MODE_HEALTH && o->mode != MODE_HELP &&
	    o->mode != MODE_VERSION) {
		snprintf(ps->err, ps->errlen,
		         "--ready needs a mode: --ready=interval or "
		         "--ready=notify (a bare --ready goes with --health)");
		return -1;
	}
	if (o->metrics_interval < 0.01) {
		snprintf(ps->err, ps->errlen,
		         "invalid --metrics-interval value: at least 0.01 "
		         "seconds");
		return -1;
	}
	return 0;
}

/* After the last option: the mode, --path listeners, cross-checks, fds. */
static int
finish(struct parse *ps)
{
	struct options *o = ps->o;
	unsigned *classes;
	size_t i;
	int rc;

	/* start_server acts on help, then version, then restart, then
	 * stop, whatever their order on the command line */
	o->mode = ps->modes & M_HELP      ? MODE_HELP
	          : ps->modes & M_VERSION ? MODE_VERSION
	          : ps->modes & M_RESTART ? MODE_RESTART
	          : ps->modes & M_STOP    ? MODE_STOP
	          : ps->modes & M_STATS   ? MODE_STATS
	          : ps->modes & M_HEALTH  ? MODE_HEALTH
	          : o->check              ? MODE_CHECK
	                                  : MODE_RUN;
	if (add_paths(ps) < 0 || check_metrics(ps) < 0)
		return -1;
	if (o->check && (ps->modes & (M_RESTART | M_STOP)) &&
	    !(ps->modes & (M_HELP | M_VERSION))) {
		snprintf(ps->err, ps->errlen,
		         "--check cannot be combined with --restart or --stop");
		return -1;
	}
	if (o->mode == MODE_HELP || o->mode == MODE_VERSION)
		return listen_assign_fds(o->ls, o->nls, ps->err, ps->errlen);
	if (check_files(o, ps->err, ps->errlen) < 0)
		return -1;
	/* nginx takes an inherited listener for non-blocking (its binary
	 * upgrade passes them so): a blocking one puts a worker that lost a
	 * race for a connection to sleep in accept(), its keep-alive
	 * connections and timers with it. A listener's own
	 * --sockopts=nonblock=off still wins. Without --port or --path
	 * there is nothing to imply it for: sockets adopted from systemd
	 * are not changed (and an implied flag must not make that a usage
	 * error). */
	if ((o->pass_fds_as & PASSFDS_NGINX) && o->nls > 0 &&
	    !(o->sockopts.given & 1u << SOCKOPT_NONBLOCK) &&
	    sockopt_set(&o->sockopts, SOCKOPT_NONBLOCK, NULL, ps->err,
	                ps->errlen) < 0)
		return -1;
	/* each listener: its --sockopts over the global flags */
	classes = calloc(o->nls + 1, sizeof(*classes));
	if (classes == NULL)
		abort();
	for (i = 0; i < o->nls; i++) {
		listen_set_options(&o->ls[i], &o->sockopts, o->backlog);
		classes[i] = listen_class(&o->ls[i]);
	}
	rc = sockopt_check_global(&o->sockopts, classes, o->nls, ps->err,
	                          ps->errlen);
	free(classes);
	if (rc < 0 ||
	    listen_check_twice(o->ls, o->nls, ps->err, ps->errlen) < 0 ||
	    listen_assign_fds(o->ls, o->nls, ps->err, ps->errlen) < 0)
		return -1;
	return passfds_check(o->pass_fds_as, o->ls, o->nls, ps->err,
	                     ps->errlen);
}

static int
parse_loop(struct parse *ps)
{
	const struct option *lo = longopts();
	char **argv = ps->argv;
	int c;

	opterr = 0;
	optind = 0; /* 0, not 1: glibc then forgets the previous argv too */
	while ((c = getopt_long_only(ps->argc, argv, ":", lo, NULL)) != -1) {
		const struct opt_def *d;

		if (c == ':') {
			snprintf(ps->err, ps->errlen,
			         "option %s requires a value",
			         argv[optind - 1]);
			return -1;
		}
		/* glibc: '?' with optopt set to the row of a long option that
		 * takes no value but was given one ("--no-new-privs=yes") */
		if (c == '?' && optopt >= 256 && optopt < 256 + (int)NOPTS &&
		    opt_table[optopt - 256].has_arg == no_argument) {
			snprintf(ps->err, ps->errlen,
			         "option --%s takes no value",
			         opt_table[optopt - 256].name);
			return -1;
		}
		if (c < 256 || c >= 256 + (int)NOPTS) {
			const char *a = argv[optind - 1];

			/* normalise_args marked every unknown option */
			if (strncmp(a, BAD_OPTION, strlen(BAD_OPTION)) == 0)
				a += strlen(BAD_OPTION);
			snprintf(ps->err, ps->errlen, "%s", a);
			return -1;
		}
		d = &opt_table[c - 256];
		if (set_value(ps, d, optarg) < 0 || special(ps, d, optarg) < 0)
			return -1;
	}
	return 0;
}

int
options_parse(int argc, char **argv, struct options *o, char *err,
              size_t errlen)
{
	struct parse ps;
	size_t i;
	int rc = -1;

	name_rows();
	set_defaults(o);
	memset(&ps, 0, sizeof(ps));
	ps.o = o;
	ps.argc = argc;
	ps.err = err;
	ps.errlen = errlen;
	normalise_args(argc, argv, o);
	ps.argv = o->argv_alloc;
	if (parse_loop(&ps) < 0 || finish(&ps) < 0)
		goto out;
	o->argv = ps.argv + optind;
	if (o->ready_timeout < 0)
		o->ready_timeout = o->ready == READY_NOTIFY ? 60 : 0;
	rc = 0;
out:
	/* the names add_paths did not hand to a listener (it failed) */
	for (i = 0; i < ps.npaths; i++)
		sockopt_free(&ps.pathopts[i]);
	free(ps.paths);
	free(ps.pathopts);
	if (rc < 0)
		options_free(o);
	return rc;
}

void
options_free(struct options *o)
{
	size_t i;

	for (i = 0; i < o->nls; i++)
		listen_free(&o->ls[i]);
	free(o->ls);
	sockopt_free(&o->sockopts); /* no name: for symmetry with ls[] */
	free(o->dir);
	free(o->pid_file);
	free(o->status_file);
	free(o->log_file);
	free(o->envdir);
	free(o->kill_old_delay);
	free(o->auto_restart_interval);
	free(o->user);
	free(o->supplementary_groups);
	free(o->worker_caps);
	free(o->metrics_file);
	free(o->metrics_listen);
	for (i = 0; o->argv_owned && o->argv_owned[i]; i++)
		free(o->argv_owned[i]);
	free(o->argv_owned);
	free(o->argv_alloc);
	memset(o, 0, sizeof(*o));
}

void
options_export_env(const struct options *o)
{
	if (o->envdir)
		setenv("ENVDIR", o->envdir, 1);
	if (o->auto_restart_set)
		setenv("ENABLE_AUTO_RESTART", "1", 1);
	if (o->kill_old_delay)
		setenv("KILL_OLD_DELAY", o->kill_old_delay, 1);
	if (o->auto_restart_interval)
		setenv("AUTO_RESTART_INTERVAL", o->auto_restart_interval, 1);
}

/* A duration from the environment, or def. The environment is re-read
 * before every decision (an envdir may change it), so a bad value is
 * warned about once, until it changes, and never fatal. */
static double
env_seconds(const char *var, double def, int positive, char **warned)
{
	const char *s = getenv(var);
	double d;

	if (s == NULL)
		return def;
	d = options_seconds(s);
	if (d > 0 || (d == 0 && !positive))
		return d;
	if (*warned == NULL || strcmp(*warned, s) != 0) {
		log_warnx("ignoring %s=\"%s\": not a%s number of seconds; "
		          "using %g",
		          var, s, positive ? " positive" : "", def);
		free(*warned);
		*warned = strdup(s);
	}
	return def;
}

void
options_tunables(struct tunables *t)
{
	static char *warned_interval, *warned_delay;
	const char *s = getenv("ENABLE_AUTO_RESTART");

	/* Perl truth: unset, "" and "0" are false */
	t->auto_restart = s && *s && strcmp(s, "0") != 0;
	t->auto_restart_interval =
	    env_seconds("AUTO_RESTART_INTERVAL", 360, 1, &warned_interval);
	t->kill_old_delay = env_seconds(
	    "KILL_OLD_DELAY", t->auto_restart ? 5 : 0, 0, &warned_delay);
}
