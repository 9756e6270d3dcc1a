/* options.c: start_server's command line and environment overrides. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>

#include "options.h"
#include "sig.h"

enum {
	OPT_PORT = 256,
	OPT_PATH,
	OPT_DIR,
	OPT_INTERVAL,
	OPT_SIG_HUP,
	OPT_SIG_TERM,
	OPT_PID_FILE,
	OPT_STATUS_FILE,
	OPT_ENVDIR,
	OPT_LOG_FILE,
	OPT_DAEMONIZE,
	OPT_AUTO_RESTART,
	OPT_AUTO_RESTART_INTERVAL,
	OPT_KILL_OLD_DELAY,
	OPT_BACKLOG,
	OPT_RESTART,
	OPT_STOP,
	OPT_HELP,
	OPT_VERSION,
	OPT_STOP_TIMEOUT,
	OPT_READY,
	OPT_READY_TIMEOUT,
	OPT_MAX_OLD_GENERATIONS,
	OPT_NUM_WORKERS,
	OPT_DIE_WITH_SUPERVISOR,
	OPT_USER,
	OPT_SUPPLEMENTARY_GROUPS,
	OPT_WORKER_CAPS,
	OPT_NO_NEW_PRIVS,
	/* listener options (sockopt.h) */
	OPT_DEFER_ACCEPT,
	OPT_FASTOPEN,
	OPT_REUSEPORT,
	OPT_DUAL_STACK,
	OPT_FREEBIND,
	OPT_NODELAY,
	OPT_KEEPALIVE,
	OPT_RCVBUF,
	OPT_SNDBUF,
	OPT_SOCKET_MODE,
	OPT_SOCKET_OWNER,
	OPT_SOCKET_GROUP,
	OPT_SOCKOPTS,
	OPT_CHECK,
	OPT_FDSTORE,
};

static const struct option longopts[] = {
    {"port", required_argument, NULL, OPT_PORT},
    {"path", required_argument, NULL, OPT_PATH},
    {"dir", required_argument, NULL, OPT_DIR},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"signal-on-hup", required_argument, NULL, OPT_SIG_HUP},
    {"signal-on-term", required_argument, NULL, OPT_SIG_TERM},
    {"pid-file", required_argument, NULL, OPT_PID_FILE},
    {"status-file", required_argument, NULL, OPT_STATUS_FILE},
    {"envdir", required_argument, NULL, OPT_ENVDIR},
    {"log-file", required_argument, NULL, OPT_LOG_FILE},
    {"daemonize", no_argument, NULL, OPT_DAEMONIZE},
    {"enable-auto-restart", no_argument, NULL, OPT_AUTO_RESTART},
    {"auto-restart-interval", required_argument, NULL,
     OPT_AUTO_RESTART_INTERVAL},
    {"kill-old-delay", required_argument, NULL, OPT_KILL_OLD_DELAY},
    {"backlog", required_argument, NULL, OPT_BACKLOG},
    {"restart", no_argument, NULL, OPT_RESTART},
    {"stop", no_argument, NULL, OPT_STOP},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {"stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT},
    {"ready", required_argument, NULL, OPT_READY},
    {"ready-timeout", required_argument, NULL, OPT_READY_TIMEOUT},
    {"max-old-generations", required_argument, NULL, OPT_MAX_OLD_GENERATIONS},
    {"num-workers", required_argument, NULL, OPT_NUM_WORKERS},
    {"die-with-supervisor", no_argument, NULL, OPT_DIE_WITH_SUPERVISOR},
    {"user", required_argument, NULL, OPT_USER},
    {"supplementary-groups", required_argument, NULL, OPT_SUPPLEMENTARY_GROUPS},
    {"worker-caps", required_argument, NULL, OPT_WORKER_CAPS},
    {"no-new-privs", no_argument, NULL, OPT_NO_NEW_PRIVS},
    {"defer-accept", optional_argument, NULL, OPT_DEFER_ACCEPT},
    {"fastopen", required_argument, NULL, OPT_FASTOPEN},
    {"reuseport", no_argument, NULL, OPT_REUSEPORT},
    {"dual-stack", no_argument, NULL, OPT_DUAL_STACK},
    {"freebind", no_argument, NULL, OPT_FREEBIND},
    {"nodelay", no_argument, NULL, OPT_NODELAY},
    {"keepalive", no_argument, NULL, OPT_KEEPALIVE},
    {"rcvbuf", required_argument, NULL, OPT_RCVBUF},
    {"sndbuf", required_argument, NULL, OPT_SNDBUF},
    {"socket-mode", required_argument, NULL, OPT_SOCKET_MODE},
    {"socket-owner", required_argument, NULL, OPT_SOCKET_OWNER},
    {"socket-group", required_argument, NULL, OPT_SOCKET_GROUP},
    {"sockopts", required_argument, NULL, OPT_SOCKOPTS},
    {"check", no_argument, NULL, OPT_CHECK},
    {"fdstore", no_argument, NULL, OPT_FDSTORE},
    {NULL, 0, NULL, 0},
};

/* The global flag of each listener option. */
static const struct {
	int opt;
	enum sockopt_id id;
} sockopt_flags[] = {
    {OPT_DEFER_ACCEPT, SOCKOPT_DEFER_ACCEPT},
    {OPT_FASTOPEN, SOCKOPT_FASTOPEN},
    {OPT_REUSEPORT, SOCKOPT_REUSEPORT},
    {OPT_FREEBIND, SOCKOPT_FREEBIND},
    {OPT_NODELAY, SOCKOPT_NODELAY},
    {OPT_KEEPALIVE, SOCKOPT_KEEPALIVE},
    {OPT_RCVBUF, SOCKOPT_RCVBUF},
    {OPT_SNDBUF, SOCKOPT_SNDBUF},
    {OPT_SOCKET_MODE, SOCKOPT_MODE},
    {OPT_SOCKET_OWNER, SOCKOPT_OWNER},
    {OPT_SOCKET_GROUP, SOCKOPT_GROUP},
};

void
options_usage(FILE *fp)
{
	fputs(
	    "Usage: baton [options] -- server-program [arguments...]\n"
	    "\n"
	    "Binds the listening sockets once, runs the server program with "
	    "them\n"
	    "(SERVER_STARTER_PORT, SERVER_STARTER_GENERATION) and, on "
	    "SIGHUP, starts\n"
	    "a new generation on the same sockets before retiring the old "
	    "one.\n"
	    "A drop-in replacement for Server::Starter's start_server.\n"
	    "\n"
	    "Listeners:\n"
	    "  --port=SPEC            TCP: PORT, HOST:PORT, [IPV6]:PORT; "
	    "'u' before\n"
	    "                         the port for UDP; '=FD' after it pins "
	    "the fd\n"
	    "                         number in the worker (repeatable)\n"
	    "  --path=PATH            unix stream socket (repeatable)\n"
	    "  --backlog=N            listen(2) backlog (default: "
	    "SOMAXCONN)\n"
	    "Listener options (each applies to every listener it fits):\n"
	    "  --defer-accept[=SECS]  TCP_DEFER_ACCEPT: hand a connection to "
	    "workers\n"
	    "                         once data arrives (default 30; the "
	    "kernel rounds up)\n"
	    "  --fastopen=QLEN        TCP_FASTOPEN with this queue length\n"
	    "  --reuseport            SO_REUSEPORT (TCP, UDP)\n"
	    "  --dual-stack           [::]:PORT takes IPv4 too (IPV6_V6ONLY "
	    "off)\n"
	    "  --freebind             IP_FREEBIND: bind an address not "
	    "configured yet\n"
	    "  --nodelay, --keepalive TCP_NODELAY, SO_KEEPALIVE (accepted "
	    "sockets inherit\n"
	    "                         them)\n"
	    "  --rcvbuf=N, --sndbuf=N SO_RCVBUF, SO_SNDBUF in bytes (k, m, g "
	    "suffixes)\n"
	    "  --socket-mode=MODE     mode of --path sockets (default 0777)\n"
	    "  --socket-owner=USER, --socket-group=GROUP\n"
	    "                         owner and group of --path sockets\n"
	    "  --sockopts=LIST        options of the --port or --path just "
	    "before it,\n"
	    "                         over the flags above: "
	    "key[=value],... e.g.\n"
	    "                         --port=443 "
	    "--sockopts=defer-accept=5,backlog=1024\n"
	    "  --check                bind every listener, print what the "
	    "kernel applied\n"
	    "                         and its limits, and exit\n"
	    "Workers:\n"
	    "  --dir=DIR              working directory of the workers\n"
	    "  --interval=SECONDS     a new worker alive this long counts "
	    "as started\n"
	    "                         (default 1)\n"
	    "  --signal-on-hup=SIG    sent to the old generation on restart "
	    "(TERM)\n"
	    "  --signal-on-term=SIG   sent to workers when baton gets "
	    "SIGTERM (TERM)\n"
	    "  --kill-old-delay=SECS  wait before signalling the old "
	    "generation\n"
	    "                         (default 0, or 5 with auto-restart)\n"
	    "  --stop-timeout=SECS    SIGKILL a signalled worker still alive "
	    "after SECS\n"
	    "                         (default 0: never)\n"
	    "  --ready=MODE           interval (default): alive after "
	    "--interval;\n"
	    "                         notify: every worker sent READY=1 on "
	    "NOTIFY_SOCKET\n"
	    "  --ready-timeout=SECS   roll back a generation not ready in "
	    "time\n"
	    "                         (default 60 with notify, 0: none)\n"
	    "  --num-workers=N        worker processes per generation "
	    "(default 1)\n"
	    "  --max-old-generations=N  SIGKILL the oldest retiring "
	    "generation beyond N\n"
	    "  --die-with-supervisor  workers get SIGKILL if baton dies "
	    "(PR_SET_PDEATHSIG)\n"
	    "  --user=USER[:GROUP]    run workers as USER (baton stays "
	    "privileged)\n"
	    "  --supplementary-groups=auto|none|G1,G2  the workers' groups\n"
	    "                         (default auto with USER, none with "
	    "USER:GROUP)\n"
	    "  --worker-caps=CAP[,CAP]  ambient capabilities the workers "
	    "keep\n"
	    "  --no-new-privs         PR_SET_NO_NEW_PRIVS in the workers\n"
	    "  --envdir=DIR           environment directory, re-read before "
	    "each start\n"
	    "  --enable-auto-restart  restart periodically\n"
	    "  --auto-restart-interval=SECS  period of auto-restart (360)\n"
	    "Files and control:\n"
	    "  --pid-file=FILE        write baton's pid, held under flock\n"
	    "  --status-file=FILE     'generation:pid' lines (and FILE.json)\n"
	    "  --log-file=FILE        append output to FILE, or '| command' "
	    "to pipe it\n"
	    "  --daemonize            run in the background (needs "
	    "--log-file)\n"
	    "  --fdstore              hand the listeners to systemd's fd "
	    "store (FDSTORE=1)\n"
	    "  --restart              ask the running baton to restart and "
	    "wait\n"
	    "                         (needs --pid-file and --status-file)\n"
	    "  --stop                 stop the running baton and wait (needs "
	    "--pid-file)\n"
	    "  --help, --version\n"
	    "\n"
	    "Signals: HUP restart, TERM/INT/QUIT stop. See baton(1).\n",
	    fp);
}

double
options_seconds(const char *s)
{
	char *end;
	double d;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	d = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(d) || d < 0 ||
	    d > 100000000)
		return -1;
	return d;
}

static int
add_listener(struct options *o, struct listener *l)
{
	struct listener *ls = realloc(o->ls, (o->nls + 1) * sizeof(*ls));

	if (ls == NULL)
		abort();
	o->ls = ls;
	o->ls[o->nls++] = *l;
	return 0;
}

static void
set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
	if (*dst == NULL)
		abort();
}

/* start_server's own options: Getopt::Long takes any unique prefix of
 * them, and scripts use that (--pid, -k). baton's extensions must not
 * make those ambiguous, so such a prefix is expanded before getopt sees
 * it. */
static const char *const starter_opts[] = {"port",
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
                                           NULL};

static int
is_longopt(const char *name, size_t len)
{
	size_t i;

	for (i = 0; longopts[i].name; i++)
		if (strlen(longopts[i].name) == len &&
		    strncmp(longopts[i].name, name, len) == 0)
			return 1;
	return 0;
}

/* A copy of argv with start_server abbreviations written out; the
 * strings written anew are also listed in owned, to be freed. */
static char **
expand_abbrevs(int argc, char **argv, char ***owned)
{
	char **out = calloc((size_t)argc + 1, sizeof(*out));
	size_t nowned = 0;
	int i;

	*owned = calloc((size_t)argc + 1, sizeof(**owned));
	if (out == NULL || *owned == NULL)
		abort();
	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *name = a, *eq, *full = NULL;
		size_t len, k;

		out[i] = argv[i];
		if (i == 0 || a[0] != '-' || a[1] == '\0')
			continue;
		if (strcmp(a, "--") == 0) {
			for (; i < argc; i++)
				out[i] = argv[i];
			break;
		}
		name += a[1] == '-' ? 2 : 1;
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		if (len == 0 || is_longopt(name, len))
			continue;
		for (k = 0; starter_opts[k]; k++)
			if (strncmp(starter_opts[k], name, len) == 0) {
				if (full) {
					full = NULL;
					break;
				}
				full = starter_opts[k];
			}
		if (full) {
			if (asprintf(&out[i], "--%s%s", full, eq ? eq : "") < 0)
				abort();
			(*owned)[nowned++] = out[i];
		}
	}
	return out;
}

/* Why getopt refused an option: unknown, or a prefix of several. */
static void
explain_unknown(const char *arg, char *err, size_t errlen)
{
	const char *name = arg + (arg[1] == '-' ? 2 : 1);
	size_t len = strcspn(name, "="), i, n = 0, off;

	off = (size_t)snprintf(err, errlen, "ambiguous option: %.*s (",
	                       (int)(name - arg + (long)len), arg);
	for (i = 0; longopts[i].name && off < errlen; i++)
		if (len && strncmp(longopts[i].name, name, len) == 0)
			off +=
			    (size_t)snprintf(err + off, errlen - off, "%s--%s",
			                     n++ ? ", " : "", longopts[i].name);
	if (n > 1 && off < errlen)
		snprintf(err + off, errlen - off, ")");
	else
		snprintf(err, errlen, "unknown option: %s", arg);
}

int
options_parse(int argc, char **argv, struct options *o, char *err,
              size_t errlen)
{
	char **paths = NULL;
	struct sockopts *pathopts = NULL;
	/* what a --sockopts is for: the last --port or the last --path */
	enum { LAST_NONE, LAST_PORT, LAST_PATH } last = LAST_NONE;
	int check = 0;
	unsigned *classes = NULL;
	size_t npaths = 0, i;
	int c, idx, rc = -1, modes[4] = {0, 0, 0, 0};
	long v;
	double d;

	memset(o, 0, sizeof(*o));
	o->interval = 1;
	o->sig_hup = SIGTERM;
	o->sig_term = SIGTERM;
	o->backlog = SOMAXCONN;
	o->num_workers = 1;
	o->ready_timeout = -1;
	opterr = 0;
	optind = 1;
	o->argv_alloc = argv = expand_abbrevs(argc, argv, &o->argv_owned);
	for (;;) {
		struct listener l;
		char perr[256];
		const char *name;

		idx = -1;
		c = getopt_long_only(argc, argv, ":", longopts, &idx);
		if (c == -1)
			break;
		name = idx >= 0 ? longopts[idx].name : "";
		switch (c) {
		case OPT_PORT:
			if (listen_parse_port(optarg, &l, perr, sizeof(perr)) <
			    0) {
				snprintf(err, errlen,
				         "invalid --port value \"%s\": %s",
				         optarg, perr);
				goto out;
			}
			add_listener(o, &l);
			last = LAST_PORT;
			break;
		case OPT_PATH:
			paths = realloc(paths, (npaths + 1) * sizeof(*paths));
			pathopts =
			    realloc(pathopts, (npaths + 1) * sizeof(*pathopts));
			if (paths == NULL || pathopts == NULL)
				abort();
			memset(&pathopts[npaths], 0, sizeof(*pathopts));
			paths[npaths++] = optarg;
			last = LAST_PATH;
			break;
		case OPT_SOCKOPTS: {
			struct listener *lp =
			    last == LAST_PORT ? &o->ls[o->nls - 1] : NULL;

			if (last == LAST_NONE) {
				snprintf(err, errlen,
				         "--sockopts must follow the --port or "
				         "--path it applies to");
				goto out;
			}
			if (sockopt_parse_list(
			        optarg, lp ? listen_class(lp) : SOCKOPT_UNIX,
			        lp ? &lp->opts : &pathopts[npaths - 1], perr,
			        sizeof(perr)) < 0) {
				snprintf(err, errlen,
				         "invalid --sockopts value \"%s\" for "
				         "%s: %s",
				         optarg,
				         lp ? lp->spec : paths[npaths - 1],
				         perr);
				goto out;
			}
			break;
		}
		case OPT_DEFER_ACCEPT:
			/* an optional value must be attached: "--defer-accept
			 * 5" would make 5 the server program */
			if (optarg == NULL && optind < argc &&
			    isdigit((unsigned char)argv[optind][0]) &&
			    strspn(argv[optind], "0123456789") ==
			        strlen(argv[optind])) {
				snprintf(err, errlen,
				         "--defer-accept takes its value after "
				         "'=': write --defer-accept=%s",
				         argv[optind]);
				goto out;
			}
			/* FALLTHROUGH */
		case OPT_FASTOPEN:
		case OPT_REUSEPORT:
		case OPT_FREEBIND:
		case OPT_NODELAY:
		case OPT_KEEPALIVE:
		case OPT_RCVBUF:
		case OPT_SNDBUF:
		case OPT_SOCKET_MODE:
		case OPT_SOCKET_OWNER:
		case OPT_SOCKET_GROUP:
			for (i = 0; sockopt_flags[i].opt != c; i++)
				;
			if (sockopt_set(&o->sockopts, sockopt_flags[i].id,
			                optarg, perr, sizeof(perr)) < 0) {
				snprintf(err, errlen,
				         "invalid --%s value \"%s\": %s", name,
				         optarg ? optarg : "", perr);
				goto out;
			}
			break;
		case OPT_DUAL_STACK:
			if (sockopt_set(&o->sockopts, SOCKOPT_V6ONLY, "0", perr,
			                sizeof(perr)) < 0)
				abort();
			break;
		case OPT_CHECK:
			check = 1;
			break;
		case OPT_DIR:
			set_str(&o->dir, optarg);
			break;
		case OPT_INTERVAL:
		case OPT_STOP_TIMEOUT:
		case OPT_READY_TIMEOUT:
			d = options_seconds(optarg);
			if (d < 0) {
				snprintf(err, errlen,
				         "invalid --%s value \"%s\": not a "
				         "number of seconds",
				         name, optarg);
				goto out;
			}
			if (c == OPT_INTERVAL)
				o->interval = d;
			else if (c == OPT_STOP_TIMEOUT)
				o->stop_timeout = d;
			else
				o->ready_timeout = d;
			break;
		case OPT_KILL_OLD_DELAY:
		case OPT_AUTO_RESTART_INTERVAL:
			if (options_seconds(optarg) < 0) {
				snprintf(err, errlen,
				         "invalid --%s value \"%s\": not a "
				         "number of seconds",
				         name, optarg);
				goto out;
			}
			set_str(c == OPT_KILL_OLD_DELAY
			            ? &o->kill_old_delay
			            : &o->auto_restart_interval,
			        optarg);
			break;
		case OPT_SIG_HUP:
		case OPT_SIG_TERM:
			if (sig_parse(optarg) < 0) {
				snprintf(err, errlen,
				         "invalid --%s value \"%s\": unknown "
				         "signal",
				         name, optarg);
				goto out;
			}
			if (c == OPT_SIG_HUP)
				o->sig_hup = sig_parse(optarg);
			else
				o->sig_term = sig_parse(optarg);
			break;
		case OPT_PID_FILE:
			set_str(&o->pid_file, optarg);
			break;
		case OPT_STATUS_FILE:
			set_str(&o->status_file, optarg);
			break;
		case OPT_ENVDIR:
			set_str(&o->envdir, optarg);
			break;
		case OPT_LOG_FILE:
			set_str(&o->log_file, optarg);
			break;
		case OPT_DAEMONIZE:
			o->daemonize = 1;
			break;
		case OPT_AUTO_RESTART:
			o->auto_restart_set = 1;
			break;
		case OPT_BACKLOG:
			if (sockopt_parse_long(optarg, 1, INT_MAX, &v) < 0) {
				snprintf(err, errlen,
				         "invalid --backlog value \"%s\": not "
				         "a positive integer",
				         optarg);
				goto out;
			}
			o->backlog = (int)v;
			o->sockopts.val[SOCKOPT_BACKLOG] = v;
			o->sockopts.given |= 1u << SOCKOPT_BACKLOG;
			break;
		case OPT_READY:
			if (strcmp(optarg, "interval") == 0)
				o->ready = READY_INTERVAL;
			else if (strcmp(optarg, "notify") == 0)
				o->ready = READY_NOTIFY;
			else {
				snprintf(err, errlen,
				         "invalid --ready value \"%s\": use "
				         "interval or notify",
				         optarg);
				goto out;
			}
			break;
		case OPT_MAX_OLD_GENERATIONS:
		case OPT_NUM_WORKERS:
			if (sockopt_parse_long(
			        optarg, c == OPT_NUM_WORKERS ? 1 : 0,
			        c == OPT_NUM_WORKERS ? 1024 : INT_MAX,
			        &v) < 0) {
				snprintf(err, errlen,
				         "invalid --%s value \"%s\": not %s",
				         name, optarg,
				         c == OPT_NUM_WORKERS
				             ? "an integer from 1 to 1024"
				             : "a non-negative integer");
				goto out;
			}
			if (c == OPT_NUM_WORKERS)
				o->num_workers = (int)v;
			else
				o->max_old_generations = (int)v;
			break;
		case OPT_DIE_WITH_SUPERVISOR:
			o->die_with_supervisor = 1;
			break;
		case OPT_FDSTORE:
			o->fdstore = 1;
			break;
		case OPT_USER:
			set_str(&o->user, optarg);
			break;
		case OPT_SUPPLEMENTARY_GROUPS:
			set_str(&o->supplementary_groups, optarg);
			break;
		case OPT_WORKER_CAPS:
			set_str(&o->worker_caps, optarg);
			break;
		case OPT_NO_NEW_PRIVS:
			o->no_new_privs = 1;
			break;
		case OPT_RESTART:
		case OPT_STOP:
		case OPT_HELP:
		case OPT_VERSION:
			modes[c - OPT_RESTART] = 1;
			break;
		case ':':
			snprintf(err, errlen, "option %s requires a value",
			         argv[optind - 1]);
			goto out;
		default:
			if (optopt == 0 || optopt >= 256)
				explain_unknown(argv[optind - 1], err, errlen);
			else
				snprintf(err, errlen, "unknown option: -%c",
				         optopt);
			goto out;
		}
	}
	/* start_server acts on help, then version, then restart, then stop,
	 * whatever their order on the command line */
	o->mode = modes[OPT_HELP - OPT_RESTART]      ? MODE_HELP
	          : modes[OPT_VERSION - OPT_RESTART] ? MODE_VERSION
	          : modes[0]                         ? MODE_RESTART
	          : modes[OPT_STOP - OPT_RESTART]    ? MODE_STOP
	                                             : MODE_RUN;
	/* start_server binds every --port before any --path */
	for (i = 0; i < npaths; i++) {
		struct listener l;
		char perr[256];

		if (listen_parse_path(paths[i], &l, perr, sizeof(perr)) < 0) {
			snprintf(err, errlen, "invalid --path value \"%s\": %s",
			         paths[i], perr);
			goto out;
		}
		l.opts = pathopts[i];
		add_listener(o, &l);
	}
	if (check) {
		if (o->mode == MODE_RESTART || o->mode == MODE_STOP) {
			snprintf(err, errlen,
			         "--check cannot be combined with --restart or "
			         "--stop");
			goto out;
		}
		if (o->mode == MODE_RUN)
			o->mode = MODE_CHECK;
	}
	/* each listener: its --sockopts over the global flags */
	classes = calloc(o->nls + 1, sizeof(*classes));
	if (classes == NULL)
		abort();
	for (i = 0; i < o->nls; i++) {
		listen_set_options(&o->ls[i], &o->sockopts, o->backlog);
		classes[i] = listen_class(&o->ls[i]);
	}
	if (o->mode != MODE_HELP && o->mode != MODE_VERSION &&
	    sockopt_check_global(&o->sockopts, classes, o->nls, err, errlen) <
	        0)
		goto out;
	if (listen_assign_fds(o->ls, o->nls, err, errlen) < 0)
		goto out;
	o->argv = argv + optind;
	if (o->ready_timeout < 0)
		o->ready_timeout = o->ready == READY_NOTIFY ? 60 : 0;
	rc = 0;
out:
	free(paths);
	free(pathopts);
	free(classes);
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

void
options_tunables(struct tunables *t)
{
	const char *s;
	double d;

	s = getenv("ENABLE_AUTO_RESTART");
	/* Perl truth: unset, "" and "0" are false */
	t->auto_restart = s && *s && strcmp(s, "0") != 0;
	t->auto_restart_interval = 360;
	s = getenv("AUTO_RESTART_INTERVAL");
	if (s && (d = options_seconds(s)) > 0)
		t->auto_restart_interval = d;
	t->kill_old_delay = t->auto_restart ? 5 : 0;
	s = getenv("KILL_OLD_DELAY");
	if (s && (d = options_seconds(s)) >= 0)
		t->kill_old_delay = d;
}
