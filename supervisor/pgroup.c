/* SPDX-License-Identifier: ISC */
/* pgroup.c: each worker's process group, and what workers leave behind.
 *
 * Every worker runs in a process group of its own whose id is its pid
 * (spawn.c). What it starts stays in that group unless it asks
 * otherwise, so one kill(-pgid) reaches a `sh -c 'helper & exec srv'`
 * helper that would otherwise keep the listening socket (and accept
 * connections nobody answers) long after the worker is gone. A group
 * lives no longer than its worker: once the worker has exited, what is
 * left of the group gets SIGTERM, then SIGKILL after the grace.
 *
 * Rule: baton signals no number it has not proven is still its own. The
 * proof for a group is its worker, left unreaped (reap.c holds it as a
 * zombie) until the group is empty or given up on: a zombie keeps its
 * pid, which is the group's id, so no other process can be given that
 * number and become a group leader with it. Only then is the worker
 * reaped, and the group never signalled again. The proof for a single
 * process is that it is a child of ours that reap.c has not reaped (a
 * child's pid is never reused before its parent reaps it).
 *
 * baton is a child subreaper (main.c), so orphans of workers become its
 * children. At exit, pgroup_drain() stops those strays too: no process
 * baton started may outlive it holding a listener. Every deadline here
 * is on the monotonic clock: a step of the wall clock moves none of
 * them. Everything here runs from libev callbacks. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "monotime.h"
#include "pgroup.h"
#include "procstat.h"
#include "reap.h"
#include "sig.h"

/* How often a group left behind, or the strays at exit, are looked at. */
#define SWEEP_SECONDS 0.1
/* After SIGKILL, how long to wait for the kernel before giving up. */
#define KILL_WAIT 2.0
#define MAX_STRAYS 4096

struct group {
	pid_t pgid; /* = the worker's pid */
	unsigned long gen;
	int exited;     /* the worker exited: held unreaped by reap.c */
	int killed;     /* SIGKILL sent */
	size_t members; /* live processes in it, at the last walk */
	pid_t witness;  /* one of them: while it lives, no walk is needed */
	double kill_at; /* monotonic: SIGKILL what is left */
	struct group *next;
};

struct stray {
	pid_t pid, pgid;
	int killed;
};

/* The strays one walk of /proc finds. */
struct stray_scan {
	struct stray *now;
	size_t n;
};

static struct {
	struct ev_loop *loop;
	double grace;
	struct group *groups;
	ev_timer sweep;
	/* draining: baton exits once no stray is left */
	int draining;
	void (*done)(void);
	double kill_at, killed_at; /* monotonic; 0: no SIGKILL yet */
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

	/* a pid given to a new worker: the old group was released */
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

/* The group is empty or given up on: reap its worker, after which its
 * number may be anyone's, and forget it. */
static void
release_group(struct group *dead)
{
	struct group **pp;

	for (pp = &P.groups; *pp; pp = &(*pp)->next)
		if (*pp == dead) {
			*pp = dead->next;
			reap_release(dead->pgid);
			free(dead);
			return;
		}
}

int
pgroup_pending(void)
{
	struct group *g;

	for (g = P.groups; g; g = g->next)
		if (g->exited)
			return 1;
	return 0;
}

void
pgroup_kill(pid_t pid, int sig)
{
	/* proof: pid is a worker gen.c has not let go of, so unreaped (a
	 * zombie at worst): its pid and group id are still its own */
	if (kill(-pid, sig) == 0)
		return;
	/* ESRCH: the worker moved to a group of its own making; its pid
	 * still reaches it (same proof) */
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

/* One process of the walk: a live member of a group whose worker
 * exited (the zombie worker itself is not one). */
static int
member_cb(pid_t pid, const struct procstat *ps, void *arg)
{
	struct group *g;

	(void)arg;
	if (ps->state != 'Z' && ps->state != 'X' &&
	    (g = find_group(ps->pgrp)) != NULL && g->exited && pid != g->pgid) {
		g->members++;
		g->witness = pid;
	}
	return 0;
}

/* Count the live processes of each group whose worker exited: one walk
 * of /proc for all, some 7 us per process (0.7 ms with 92 processes,
 * measured). kill(-pgid, 0) cannot tell, as it succeeds on the zombie. */
static void
count_members(void)
{
	struct group *g;

	for (g = P.groups; g; g = g->next) {
		g->members = 0;
		g->witness = 0;
	}
	if (procstat_walk(SIZE_MAX, member_cb, NULL) < 0) {
		log_warn("cannot open /proc to look for leftover processes");
		/* the grace runs out, and the SIGKILL follows as before */
		for (g = P.groups; g; g = g->next)
			g->members = 1;
	}
}

/* Is g's witness still a live member? Then g is not empty, without a
 * walk of /proc. (Its pid may have been reused meanwhile; a process in
 * group g is a member all the same, as the held worker keeps the
 * group's number.) */
static int
witness_alive(const struct group *g)
{
	struct procstat ps;

	return g->witness > 0 && procstat_read(g->witness, &ps) == 0 &&
	       ps.state != 'Z' && ps.state != 'X' && ps.pgrp == g->pgid;
}

/* Count again unless every group's witness still lives. */
static void
recount_members(void)
{
	struct group *g;

	for (g = P.groups; g; g = g->next)
		if (g->exited && !witness_alive(g)) {
			count_members();
			return;
		}
}

void
pgroup_worker_exited(pid_t pid)
{
	struct group *g = find_group(pid);

	if (g == NULL) {
		reap_release(pid);
		return;
	}
	g->exited = 1;
	count_members();
	/* an empty group (the usual case) is not logged */
	if (g->members == 0) {
		release_group(g);
		return;
	}
	log_info("worker %ld (generation %lu) left processes in its process "
	         "group: sending SIGTERM",
	         (long)pid, g->gen);
	/* proof: the worker, a zombie held by reap.c, keeps the number */
	if (kill(-pid, SIGTERM) < 0 && errno != ESRCH)
		log_warn("cannot send SIGTERM to process group %ld", (long)pid);
	g->kill_at = monotime_now() + P.grace;
	sweep_start();
}

/* The groups of exited workers: released once empty, SIGKILL at their
 * deadline, released KILL_WAIT after it (a process stuck in the kernel
 * is beyond baton's reach; it keeps the number in use all the same). */
static int
sweep_groups(double now)
{
	struct group *g, *next;
	int pending = 0;

	if (!pgroup_pending())
		return 0;
	recount_members();
	for (g = P.groups; g; g = next) {
		next = g->next;
		if (!g->exited)
			continue;
		if (g->members == 0) {
			release_group(g);
			continue;
		}
		if (g->killed && now >= g->kill_at + KILL_WAIT) {
			count_members(); /* the exact number, once */
			log_warnx("%zu processes of worker %ld (generation "
			          "%lu) survive SIGKILL; giving up on them",
			          g->members, (long)g->pgid, g->gen);
			release_group(g);
			continue;
		}
		pending = 1;
		if (!g->killed && now >= g->kill_at) {
			log_warnx("processes of worker %ld (generation %lu) "
			          "still running %gs after SIGTERM: sending "
			          "SIGKILL to its process group",
			          (long)g->pgid, g->gen, P.grace);
			/* proof: the zombie worker, still held, keeps the
			 * number (released only above) */
			if (kill(-g->pgid, SIGKILL) < 0 && errno != ESRCH)
				log_warn("cannot send SIGKILL to process "
				         "group %ld",
				         (long)g->pgid);
			g->killed = 1;
			/* the wait for the kernel starts now, however late
			 * this tick came */
			g->kill_at = now;
		}
	}
	return pending;
}

/* ---- strays at exit ---------------------------------------------------- */

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

/* sig to a stray found by the scan of this same callback. A member of a
 * worker's group is reached through the group: its worker, unreaped,
 * proves the group's number, where the member's own pid could have been
 * freed and reused since the scan. Any other stray is a child of ours
 * (is_ours), alive at the scan and not reaped since (reap.c reaps only
 * from its own callback): its pid is still its own. */
static void
stray_signal(const struct stray *s, int sig, const char *name)
{
	if (find_group(s->pgid) != NULL) {
		if (kill(-s->pgid, sig) < 0 && errno != ESRCH)
			log_warn("cannot send SIG%s to %s", sig_name(sig),
			         name);
	} else if (kill(s->pid, sig) < 0 && errno != ESRCH)
		log_warn("cannot send SIG%s to %s", sig_name(sig), name);
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
		stray_signal(&now[*nnow], SIGTERM, name);
	}
	(*nnow)++;
}

/* One process of the walk: a stray when baton started it and it is
 * neither gone nor a zombie (reap.c reaps ours). */
static int
stray_cb(pid_t pid, const struct procstat *ps, void *arg)
{
	struct stray_scan *sc = arg;

	if (ps->state != 'Z' && ps->state != 'X' &&
	    is_ours(pid, ps->ppid, ps->pgrp))
		stray_found(pid, ps->pgrp, sc->now, &sc->n);
	return 0;
}

/* Walk /proc for the strays; returns how many still run. */
static size_t
scan_strays(void)
{
	static struct stray now[MAX_STRAYS];
	struct stray_scan sc = {now, 0};

	if (procstat_walk(SIZE_MAX, stray_cb, &sc) < 0) {
		log_warn("cannot open /proc to look for stray processes");
		return 0;
	}
	memcpy(P.strays, now, sc.n * sizeof(*now));
	P.nstrays = sc.n;
	return sc.n;
}

int
pgroup_strays(void)
{
	return (int)scan_strays();
}

/* SIGKILL to the strays of the scan just made (in this callback). */
static void
kill_strays(double now)
{
	char name[128];
	size_t i;

	for (i = 0; i < P.nstrays; i++) {
		if (P.strays[i].killed)
			continue;
		stray_name(&P.strays[i], name, sizeof(name));
		log_warnx("%s still running %gs after SIGTERM: sending SIGKILL",
		          name, P.grace);
		stray_signal(&P.strays[i], SIGKILL, name);
		P.strays[i].killed = 1;
		if (P.killed_at == 0)
			P.killed_at = now;
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
	double now = monotime_now();
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
	if (now >= P.kill_at)
		kill_strays(now);
	/* given up KILL_WAIT after the first SIGKILL, and only once every
	 * stray still running was sent one (kill_strays, just above): never
	 * "survive SIGKILL" without a SIGKILL */
	if (P.killed_at > 0 && now >= P.killed_at + KILL_WAIT) {
		log_warnx("%zu stray processes survive SIGKILL; exiting anyway",
		          P.nstrays);
		drain_done();
	}
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
	P.kill_at = monotime_now() + P.grace;
	P.killed_at = 0;
	sweep_start();
}
