/* SPDX-License-Identifier: ISC */
/* logfile.h: --log-file, to a file or into a "| command" that baton keeps
 * running. */
#ifndef BATON_LOGFILE_H
#define BATON_LOGFILE_H

#include <ev.h>

/* At start-up: make the file, or a pipe to the command, baton's stdout and
 * stderr (which workers inherit); turn on timestamps. Exits with
 * EXIT_FILE on failure, naming spec. Does not start the command yet. */
void logfile_open(const char *spec);

/* --daemonize, in the daemon: the command's stdout and stderr, which were
 * baton's own before --log-file (the caller's terminal or pipe), become
 * /dev/null, so that the caller sees end-of-file once the first process
 * has exited. Call before logfile_start_command. */
void logfile_detach(void);

/* Start the "| command" (a no-op for a file, or when it runs already).
 * Exits with EXIT_FILE if it cannot be forked: at start-up only. */
void logfile_start_command(void);

/* Watch the command on loop and restart it, with backoff, when it exits;
 * it never keeps the loop alive. */
void logfile_watch(struct ev_loop *loop);

/* SIGUSR1: reopen the log file (for rotation); logs what it did. */
void logfile_reopen(void);

/* SIGUSR2: around reexec_now. Before, hand the command (its pid, the
 * pipe's read end) over to the next image through the environment;
 * after a failed or refused exec, take that back. */
void logfile_exec_prepare(void);
void logfile_exec_failed(void);

/* In a re-executed baton, instead of logfile_open: output is already in
 * place; take the command back so that it is still restarted. */
/* A fresh start: drop any inherited hand-over variable. */
void logfile_ignore_state(void);
void logfile_adopt(const char *spec);

#endif
