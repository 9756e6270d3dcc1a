/* SPDX-License-Identifier: ISC */
/* daemon.h: --daemonize and the report pipe its first process waits on. */
#ifndef BATON_DAEMON_H
#define BATON_DAEMON_H

/* Fork, setsid, fork. Returns in the daemon only. The process that was
 * started waits, and exits with the daemon's start-up verdict: see
 * daemon.c for the protocol. tty_fd: where that process prints the
 * daemon's fatal message (the terminal; -1 for stderr). */
void daemonize(int tty_fd);

/* In the daemon: start-up is over and succeeded; the waiting process
 * exits 0. A no-op without --daemonize. */
void daemon_report_ok(void);

#endif
