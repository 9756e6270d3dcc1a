/* SPDX-License-Identifier: ISC */
/* sdnotify.h: baton -> its own service manager (sd_notify: READY,
 * RELOADING, STATUS, STOPPING, ERRNO, WATCHDOG, FDSTORE). */
#ifndef BATON_SDNOTIFY_H
#define BATON_SDNOTIFY_H

#include <ev.h>
#include <stddef.h>

struct listener;

/* Take NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID out of the
 * environment (workers and the log command must never see the
 * manager's socket) and keep them for baton. With a NOTIFY_SOCKET, a
 * fatal error is reported as ERRNO=/STATUS= before baton exits. */
void sdnotify_take(void);
/* Does a service manager listen (NOTIFY_SOCKET was set)? */
int sdnotify_enabled(void);
/* WATCHDOG=1 every WATCHDOG_USEC / 2, when the manager asked baton. */
void sdnotify_watchdog_start(struct ev_loop *loop);

/* Generation gen serves: READY=1 and STATUS=. Nothing while a restart
 * is pending: READY=1 would end a reload that has not happened yet. */
void sdnotify_serving(unsigned long gen, int pending);
/* Generation failed was rolled back and serving still serves. */
void sdnotify_rolled_back(unsigned long failed, const char *reason,
                          unsigned long serving, int pending);
/* A HUP: RELOADING=1 with MONOTONIC_USEC (what Type=notify-reload
 * needs to match the reload to the signal it sent). */
void sdnotify_reloading(void);
/* STOPPING=1. */
void sdnotify_stopping(void);
/* STATUS= only (after a re-exec, for instance). */
void sdnotify_status(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Hand the listeners to the manager's fd store (FDSTORE=1, one
 * datagram per listener with FDNAME= its listen_fdname() and the fd in
 * SCM_RIGHTS), so that connections queue while baton itself restarts.
 * Returns the number of listeners stored, or -1 when there is no
 * manager. */
int sdnotify_fdstore(const struct listener *ls, size_t nls);

/* Around a self re-exec: put the variables back into the environment
 * so the new image takes them again, and out again if exec failed. */
void sdnotify_exec_prepare(void);
void sdnotify_exec_failed(void);

#endif
