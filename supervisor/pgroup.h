/* SPDX-License-Identifier: ISC */
/* pgroup.h: each worker's process group, and what workers leave behind. */
#ifndef BATON_PGROUP_H
#define BATON_PGROUP_H

#include <ev.h>
#include <sys/types.h>

/* The default loop, and the grace before SIGKILL (--stop-timeout; 0: the
 * default of PGROUP_GRACE seconds). */
#define PGROUP_GRACE 5.0
void pgroup_init(struct ev_loop *loop, double stop_timeout);
/* A worker started (or adopted across a re-exec): its group is its pid. */
void pgroup_add(pid_t pid, unsigned long gen);
/* sig to every process of worker pid's group (to pid alone when the
 * worker left the group); logs a failure other than ESRCH. */
void pgroup_kill(pid_t pid, int sig);
/* Worker pid exited and is held unreaped (reap.c): SIGTERM whatever is
 * left in its group, SIGKILL after the grace; the worker is reaped
 * (reap_release) once its group is empty or given up on. */
void pgroup_worker_exited(pid_t pid);
/* 1 while the group of an exited worker is being stopped. */
int pgroup_pending(void);
/* baton is about to exit and no worker is left: SIGTERM every process it
 * started that still runs (its orphans, adopted as subreaper, and the
 * rest of the workers' groups), SIGKILL after the grace, then done()
 * once none is left (at most the grace and 2 s later). */
void pgroup_drain(void (*done)(void));
/* The number of such processes now (tests, logs). */
int pgroup_strays(void);

#endif
