/* SPDX-License-Identifier: ISC */
/* reap.c: baton's children, seen exiting and reaped in one place.
 *
 * libev's default loop reaps every child itself (waitpid(-1) on
 * SIGCHLD) the moment it exits. A worker's pid is also the id of its
 * process group (pgroup.c), and once the worker is reaped and what it
 * left behind has exited, the kernel may give that number to an
 * unrelated process, which may make it a process group of its own
 * (setsid): a kill(-pgid) meant for the leftovers would then hit it. So
 * baton runs a loop of its own (ev_loop_new has no child watcher) and
 * reaps here: exits are seen with waitid(WNOWAIT), which leaves the
 * child a zombie. A zombie keeps its pid, and the group id it carries,
 * in use: no other process can be given either number. A child watched
 * with hold stays so until its owner lets go (reap_release); every
 * other child (the log command, orphans adopted as subreaper) is reaped
 * at once. Everything runs from the loop, never in signal context. */
#include "config.h"

#include <stdint.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "procstat.h"
#include "reap.h"

struct watch {
	pid_t pid;
	int hold;
	int exited; /* seen; a held zombie from then on */
	reap_fn *fn;
	void *arg;
};

static struct {
	struct ev_loop *loop;
	ev_signal chld;
	struct watch *w;
	size_t n, cap;
} R;

static struct watch *
find(pid_t pid)
{
	size_t i;

	for (i = 0; i < R.n; i++)
		if (R.w[i].pid == pid)
			return &R.w[i];
	return NULL;
}

static void
forget(pid_t pid)
{
	struct watch *w = find(pid);

	if (w)
		*w = R.w[--R.n];
}

int
reap_watch(pid_t pid, int hold, reap_fn *fn, void *arg)
{
	struct watch *w;

	if (R.n == R.cap) {
		size_t cap = R.cap ? 2 * R.cap : 16;

		if ((w = realloc(R.w, cap * sizeof(*w))) == NULL)
			return -1;
		R.w = w;
		R.cap = cap;
	}
	forget(pid);
	R.w[R.n].pid = pid;
	R.w[R.n].hold = hold;
	R.w[R.n].exited = 0;
	R.w[R.n].fn = fn;
	R.w[R.n].arg = arg;
	R.n++;
	return 0;
}

void
reap_unwatch(pid_t pid)
{
	struct watch *w = find(pid);

	if (w && w->exited)
		reap_release(pid);
	else
		forget(pid);
}

/* Reap pid, a child of ours (a zombie or about to be one: never
 * blocks). */
static void
reap_one(pid_t pid)
{
	siginfo_t si;
	int r;

	memset(&si, 0, sizeof(si));
	while ((r = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG)) < 0 &&
	       errno == EINTR)
		;
	/* ECHILD: not (or no longer) a child of ours: nothing to reap */
	if (r < 0 && errno != ECHILD)
		log_warn("cannot reap child %ld", (long)pid);
}

void
reap_release(pid_t pid)
{
	forget(pid);
	reap_one(pid);
}

/* The wait(2) status of an exit waitid() described. */
static int
wait_status(const siginfo_t *si)
{
	switch (si->si_code) {
	case CLD_EXITED:
		return (si->si_status & 0xff) << 8;
	case CLD_DUMPED:
		return (si->si_status & 0x7f) | 0x80;
	default: /* CLD_KILLED */
		return si->si_status & 0x7f;
	}
}

/* Has pid exited? 1 with its status, 0 if not, -1 if it is not a child
 * of ours (any more). Nothing is reaped. */
static int
peek(pid_t pid, int *status)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno == EINTR ? 0 : -1;
	if (si.si_pid == 0)
		return 0;
	*status = wait_status(&si);
	return 1;
}

/* The watched children that exited since the last look: announced one
 * by one, each found afresh, as a callback may change the table. */
static void
check_watched(void)
{
	struct watch *w, seen;
	int status, r;
	size_t i;

again:
	for (i = 0; i < R.n; i++) {
		w = &R.w[i];
		if (w->exited || (r = peek(w->pid, &status)) == 0)
			continue;
		if (r < 0) {
			/* reaped behind our back: nothing holds it now */
			log_warnx("internal: child %ld was reaped elsewhere",
			          (long)w->pid);
			status = -1;
		}
		seen = *w;
		if (w->hold && r > 0)
			w->exited = 1;
		else
			reap_release(seen.pid);
		seen.fn(seen.pid, status, seen.arg);
		goto again;
	}
}

/* One process of the walk: an exited child nobody watches. */
static int
unwatched_cb(pid_t pid, const struct procstat *ps, void *arg)
{
	(void)arg;
	if (ps->ppid == getpid() && ps->state == 'Z' && find(pid) == NULL)
		reap_one(pid);
	return 0;
}

/* Our children, from /proc/self/task/TID/children (baton has one
 * thread), or from the whole of /proc where the kernel has no such
 * file. The children that are not watched and have exited are reaped. */
static void
reap_unwatched_scan(void)
{
	char path[64];
	FILE *f;
	long pid;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/children",
	         (long)getpid());
	if ((f = fopen(path, "re")) != NULL) {
		while (fscanf(f, "%ld", &pid) == 1)
			if (find((pid_t)pid) == NULL)
				reap_one((pid_t)pid);
		fclose(f);
		return;
	}
	if (procstat_walk(SIZE_MAX, unwatched_cb, NULL) < 0)
		log_warn("cannot open /proc to look for exited children");
}

/* The children nobody watches: reaped. waitid(P_ALL, WNOWAIT) names the
 * oldest exited child; a held zombie hides the ones behind it, so then
 * the list of our children is read instead. */
static void
reap_unwatched(void)
{
	struct watch *w;
	siginfo_t si;
	int n;

	for (n = 0; n < 1024; n++) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
		    si.si_pid == 0)
			return;
		if ((w = find(si.si_pid)) == NULL)
			reap_one(si.si_pid);
		else if (!w->exited)
			check_watched(); /* it exited since we looked */
		else
			break;
	}
	reap_unwatched_scan();
}

void
reap_poll(void)
{
	check_watched();
	reap_unwatched();
}

static void
chld_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
	(void)loop;
	(void)s;
	(void)revents;
	reap_poll();
}

void
reap_init(struct ev_loop *loop)
{
	R.loop = loop;
	ev_signal_init(&R.chld, chld_cb, SIGCHLD);
	/* first among equals: a child's exit is handled before a signal
	 * that came with it asks what is still running */
	ev_set_priority(&R.chld, EV_MAXPRI);
	ev_signal_start(loop, &R.chld);
	/* children say when they exit; waiting for that keeps nothing
	 * alive on its own (as libev's own child watcher) */
	ev_unref(loop);
	/* children that exited before the loop ran (the log command) */
	ev_feed_signal_event(loop, SIGCHLD);
}
