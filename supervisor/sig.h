/* SPDX-License-Identifier: ISC */
/* sig.h: signal names <-> numbers, as start_server and kill(1) spell them. */
#ifndef BATON_SIG_H
#define BATON_SIG_H

#include <signal.h>

/* "TERM", "SIGTERM", "term" or "15"; returns the number or -1. */
int sig_parse(const char *name);
/* "TERM" for SIGTERM; "15" style for unnamed ones (static buffer). */
const char *sig_name(int sig);

/* The signals baton acts on (HUP, INT, QUIT, TERM, USR1, USR2) blocked,
 * or unblocked. main() blocks them first thing, so that one arriving
 * during start-up (or across a re-exec) waits, pending, for the ev_signal
 * watchers instead of killing baton with the workers orphaned; it
 * unblocks them once the watchers are started, and libev then delivers
 * what is pending. -1 with errno on failure. */
int sig_block_control(void);
int sig_unblock_control(void);
/* The same block, keeping the mask it replaced in old (to put back with
 * sigprocmask(SIG_SETMASK) when an exec fails). */
int sig_block_control_save(sigset_t *old);
/* In a child about to exec: default dispositions, SIGPIPE ignored. */
void sig_reset_for_exec(void);

#endif
