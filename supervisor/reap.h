/* SPDX-License-Identifier: ISC */
/* reap.h: baton's children, seen exiting and reaped in one place. */
#ifndef BATON_REAP_H
#define BATON_REAP_H

#include <ev.h>
#include <sys/types.h>

/* A watched child exited: status is a wait(2) status. */
typedef void reap_fn(pid_t pid, int status, void *arg);

/* Watch SIGCHLD on loop (a loop of baton's own: libev's default loop
 * reaps every child itself). */
void reap_init(struct ev_loop *loop);
/* Call fn when pid exits. With hold, pid stays a zombie after fn, which
 * keeps its pid and process-group id from being reused, until
 * reap_release(pid); without, it is reaped before fn runs. */
int reap_watch(pid_t pid, int hold, reap_fn *fn, void *arg);
/* Forget pid: reaped, unannounced, when it exits. */
void reap_unwatch(pid_t pid);
/* A held zombie: reap it now. */
void reap_release(pid_t pid);
/* Look for exited children now (a SIGCHLD may have gone to the image
 * before a re-exec). */
void reap_poll(void);

#endif
