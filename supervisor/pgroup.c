/* SPDX-License-Identifier: ISC */
/* pgroup.c: each worker's process group, and what workers leave behind.
 *
 * Every worker runs in a process group of its own whose id is its pid
 * (spawn.c). What it starts stays in that group unless it asks
 * otherwise, so one kill(-pgid) reaches a `sh -c 'helper & exec srv'`
 * helper that would otherwise keep the listening socket (and accept
 * connections nobody answers) long after the worker is gone. A group
 * lives no longer than its worker: once the worker is reaped, what is
 * left of the group gets SIGTERM, then SIGKILL after the grace.
 *
 * baton is a child subreaper (main.c), so orphans of workers become its
 * children, and libev reaps every child (ev_child watchers or not). At
 * exit, pgroup_drain() stops those strays too: no process baton started
 * may outlive it holding a listener. Everything here runs from libev
 * callbacks. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pgroup.h"
#include "procstat.h"
#include "sig.h"

/* How often a group left behind, or the strays at exit, are looked at. */
#define SWEEP_SECONDS 0.1
/* After SIGKILL, how long to wait for the kernel before giving up. */
#define KILL_WAIT 2.0
#define MAX_STRAYS 4096

struct group {
	pid_t pgid; /* = the worker's pid */
	unsigned long gen;
	int exited;        /* the worker is reaped */
	int killed;        /* SIGKILL sent */
	ev_tstamp kill_at; /* once exited: SIGKILL what is left */
	struct group *next;
};

struct stray {
	pid_t pid, pgid;
	int killed;
};

static struct {
	struct ev_loop *loop;
	double grace;
	struct group *groups;
	ev_timer sweep;
	/* draining: baton exits once no stray is left */
	int draining;
	void (*done)(void);
	ev_tstamp kill_at, give_up_at;
	struct stray strays[MAX_STRAYS];
	size_t nstrays;
} P;

static void sweep_cb(struct ev_loop *loop, ev_timer *t, int revents);

void
pgroup_init(struct ev_loop *loop, double stop_timeout)
{
	P.loop = loop;
	P.grace = stop_timeout > 0 ? stop_timeout : PGROUP_GRACE;
	ev_timer_init(&P.sweep, sweep_cb, SWEEP_SECONDS, SWEEP_SECONDS);
}

static struct group *
find_group(pid_t pgid)
{
	struct group *g;

	for (g = P.groups; g; g = g->next)
		if (g->pgid == pgid)
			return g;
	return NULL;
}

void
pgroup_add(pid_t pid, unsigned long gen)
{
	struct group *g = find_group(pid);

	/* a pid reused by a new worker: the old group was empty */
	if (g == NULL) {
		if ((g = calloc(1, sizeof(*g))) == NULL)
			return; /* its leftovers are then found at exit */
		g->next = P.groups;
		P.groups = g;
	}
	g->pgid = pid;
	g->gen = gen;
	g->exited = g->killed = 0;
}

static void
drop_group(struct group *dead)
{
	struct group **pp;

	for (pp = &P.groups; *pp; pp = &(*pp)->next)
		if (*pp == dead) {
			*pp = dead->next;
			free(dead);
			return;
		}
}

void
pgroup_kill(pid_t pid, int sig)
{
	if (kill(-pid, sig) == 0)
		return;
	/* ESRCH: the worker moved to a group of its own making (or is
	 * gone); its pid still reaches it */
	if (errno != ESRCH)
		log_warn("cannot send SIG%s to process group %ld",
		         sig_name(sig), (long)pid);
	if (kill(pid, sig) < 0 && errno != ESRCH)
		log_warn("cannot send SIG%s to worker %ld", sig_name(sig),
		         (long)pid);
}

static void
sweep_start(void)
{
	if (!ev_is_active(&P.sweep))
		ev_timer_start(P.loop, &P.sweep);
}

void
pgroup_worker_exited(pid_t pid)
{
	struct group *g = find_group(pid);

	if (g == NULL)
		return;
	/* signal 0 first: an empty group (the usual case) is not logged */
	if (kill(-pid, 0) < 0) {
		drop_group(g);
		return;
	}
	log_info("worker %ld (generation %lu) left processes in its process "
	         "group: sending SIGTERM",
	         (long)pid, g->gen);
	if (kill(-pid, SIGTERM) < 0 && errno != ESRCH)
		log_warn("cannot send SIGTERM to process group %ld", (long)pid);
	g->exited = 1;
	g->kill_at = ev_now(P.loop) + P.grace;
	sweep_start();
}

/* The groups of reaped workers: dropped once empty, SIGKILL at their
 * deadline, forgotten KILL_WAIT after it (a process stuck in the
 * kernel is beyond baton's reach). */
static int
sweep_groups(ev_tstamp now)
{
	struct group *g, *next;
	int pending = 0;

	for (g = P.groups; g; g = next) {
		next = g->next;
		if (!g->exited)
			continue;
		if (kill(-g->pgid, 0) < 0 || now >= g->kill_at + KILL_WAIT) {
			drop_group(g);
			continue;
		}
		pending = 1;
		if (!g->killed && now >= g->kill_at) {
			log_warnx("processes of worker %ld (generation %lu) "
			          "still running %gs after SIGTERM: sending "
			          "SIGKILL to its process group",
			          (long)g->pgid, g->gen, P.grace);
			if (kill(-g->pgid, SIGKILL) < 0 && errno != ESRCH)
				log_warn("cannot send SIGKILL to process "
				         "group %ld",
				         (long)g->pgid);
			g->killed = 1;
		}
	}
	return pending;
}

/* ---- strays at exit ---------------------------------------------------- */

/* ppid and pgrp of pid from /proc/PID/stat; -1 if it is gone or a
 * zombie (libev reaps those). */
static int
proc_stat(pid_t pid, pid_t *ppid, pid_t *pgrp)
{
	struct procstat ps;

	if (procstat_read(pid, &ps) < 0 || ps.state == 'Z' || ps.state == 'X')
		return -1;
	*ppid = ps.ppid;
	*pgrp = ps.pgrp;
	return 0;
}

/* A process baton started: its own child outside baton's own group (the
 * log command and a re-exec's pre-flight stay in it; workers and
 * everything they start do not), or a member of a worker's group. */
static int
is_ours(pid_t pid, pid_t ppid, pid_t pgrp)
{
	if (pid == getpid())
		return 0;
	if (ppid == getpid() && pgrp != getpgrp())
		return 1;
	return pgrp != getpgrp() && find_group(pgrp) != NULL;
}

static void
stray_name(const struct stray *s, char *buf, size_t len)
{
	struct group *g = find_group(s->pgid);

	if (g)
		snprintf(buf, len,
		         "stray process %ld (from worker %ld, "
		         "generation %lu)",
		         (long)s->pid, (long)g->pgid, g->gen);
	else
		snprintf(buf, len, "stray process %ld", (long)s->pid);
}

/* A stray seen for the first time gets SIGTERM (logged). */
static void
stray_found(pid_t pid, pid_t pgrp, struct stray *now, size_t *nnow)
{
	struct stray *s = NULL;
	char name[128];
	size_t i;

	for (i = 0; i < P.nstrays; i++)
		if (P.strays[i].pid == pid)
			s = &P.strays[i];
	if (*nnow >= MAX_STRAYS)
		return;
	now[*nnow].pid = pid;
	now[*nnow].pgid = pgrp;
	now[*nnow].killed = s ? s->killed : 0;
	if (s == NULL) {
		stray_name(&now[*nnow], name, sizeof(name));
		log_warnx("%s still running: sending SIGTERM", name);
		if (kill(pid, SIGTERM) < 0 && errno != ESRCH)
			log_warn("cannot send SIGTERM to %s", name);
	}
	(*nnow)++;
}

/* Walk /proc for the strays; returns how many still run. */
static size_t
scan_strays(void)
{
	static struct stray now[MAX_STRAYS];
	struct dirent *de;
	size_t n = 0;
	pid_t pid, ppid, pgrp;
	char *end;
	DIR *d;

	if ((d = opendir("/proc")) == NULL) {
		log_warn("cannot open /proc to look for stray processes");
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		pid = (pid_t)strtol(de->d_name, &end, 10);
		if (*end != '\0' || pid <= 0)
			continue;
		if (proc_stat(pid, &ppid, &pgrp) == 0 &&
		    is_ours(pid, ppid, pgrp))
			stray_found(pid, pgrp, now, &n);
	}
	closedir(d);
	memcpy(P.strays, now, n * sizeof(*now));
	P.nstrays = n;
	return n;
}

int
pgroup_strays(void)
{
	return (int)scan_strays();
}

static void
kill_strays(void)
{
	char name[128];
	size_t i;

	for (i = 0; i < P.nstrays; i++) {
		if (P.strays[i].killed)
			continue;
		stray_name(&P.strays[i], name, sizeof(name));
		log_warnx("%s still running %gs after SIGTERM: sending SIGKILL",
		          name, P.grace);
		if (kill(P.strays[i].pid, SIGKILL) < 0 && errno != ESRCH)
			log_warn("cannot send SIGKILL to %s", name);
		P.strays[i].killed = 1;
	}
}

static void
drain_done(void)
{
	ev_timer_stop(P.loop, &P.sweep);
	P.draining = 0;
	P.done();
}

static void
sweep_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	ev_tstamp now = ev_now(loop);
	int pending = sweep_groups(now);

	if (!P.draining) {
		if (!pending)
			ev_timer_stop(loop, t);
		return;
	}
	if (scan_strays() == 0) {
		drain_done();
		return;
	}
	if (now >= P.give_up_at) {
		log_warnx("%zu stray processes survive SIGKILL; exiting anyway",
		          P.nstrays);
		drain_done();
	} else if (now >= P.kill_at)
		kill_strays();
}

void
pgroup_drain(void (*done)(void))
{
	if (P.draining)
		return;
	P.done = done;
	P.nstrays = 0;
	if (scan_strays() == 0) {
		done();
		return;
	}
	P.draining = 1;
	P.kill_at = ev_now(P.loop) + P.grace;
	P.give_up_at = P.kill_at + KILL_WAIT;
	sweep_start();
}
