/* SPDX-License-Identifier: ISC */
/* options.h: the command line (start_server's, plus baton's extensions). */
#ifndef BATON_OPTIONS_H
#define BATON_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "listen.h"

enum options_mode {
	MODE_RUN,
	MODE_HELP,
	MODE_VERSION,
	MODE_RESTART,
	MODE_STOP,
	MODE_CHECK, /* --check: bind, show the listeners' options, exit */
	MODE_STATS, /* --stats: a running baton's queues, from outside */
	MODE_HEALTH /* --health [--ready]: an exec probe */
};

enum stats_format { STATS_TEXT, STATS_JSON, STATS_PROM };

enum ready_mode { READY_INTERVAL, READY_NOTIFY };

struct options {
	enum options_mode mode;
	struct listener *ls; /* --port entries, then --path entries */
	size_t nls;
	char **argv; /* the server program and its arguments */
	char **argv_alloc, **argv_owned; /* argv with abbreviations expanded */
	char *dir, *pid_file, *status_file, *log_file, *envdir;
	double interval;
	int sig_hup, sig_term;
	int backlog;
	struct sockopts sockopts; /* global listener options (--defer-accept) */
	int daemonize;
	double stop_timeout; /* 0: never SIGKILL */
	enum ready_mode ready;
	double ready_timeout; /* 0: none */
	int num_workers;
	int max_old_generations; /* 0: no limit */
	int die_with_supervisor;
	int restart_retries; /* failed restarts retried; -1: unlimited */
	int check;           /* --check was given */
	int verbose;         /* --verbose: log_debug lines too */
	int fdstore; /* --fdstore: listeners to the manager's fd store */
	/* worker credentials (privs.c checks and applies them) */
	char *user, *supplementary_groups, *worker_caps;
	int no_new_privs;
	double restart_timeout; /* --restart gives up after; -1: default */
	int max_lost; /* --restart: the receipt's total allowed; -1: none */
	unsigned pass_fds_as; /* --pass-fds-as: PASSFDS_* bits, 0: default */
	/* the kernel's queues made visible (sampler.c, metricshttp.c, control.c) */
	char *metrics_file, *metrics_listen;
	double metrics_interval; /* sampling period, seconds (> 0) */
	int metrics_syn_queue;
	double accept_stall; /* 0: never warn */
	double stop_delay;   /* on TERM: not ready, keep serving this long */
	int stats_format;    /* enum stats_format */
	int health_ready;    /* a bare --ready: --health checks readiness */
	/* given on the command line: exported to the environment */
	int auto_restart_set;
	char *kill_old_delay, *auto_restart_interval;
};

/* Settings start_server re-reads from the environment (and so from
 * --envdir) before every decision. */
struct tunables {
	int auto_restart;
	double kill_old_delay;
	double auto_restart_interval;
};

/* Parse argv. On a command-line error, return -1 with the message in
 * err (without the program name). */
int options_parse(int argc, char **argv, struct options *o, char *err,
                  size_t errlen);
void options_free(struct options *o);
/* Export ENVDIR, ENABLE_AUTO_RESTART, KILL_OLD_DELAY and
 * AUTO_RESTART_INTERVAL when given as options, as start_server does. */
void options_export_env(const struct options *o);
/* Read the tunables from the current environment. A value that is not a
 * number of seconds is warned about (once per value) and the default
 * used: the environment is re-read mid-run, where dying is no answer. */
void options_tunables(struct tunables *t);
void options_usage(FILE *fp);
/* Parse a duration in seconds: plain decimal digits with an optional
 * fraction ("1", "0.5"); -1 for anything else ("0x10", " 1", "1e3",
 * "inf", "", "-1"). */
double options_seconds(const char *s);

#endif
