/* SPDX-License-Identifier: ISC */
/* gen.h: generations of workers and the restart state machine. */
#ifndef BATON_GEN_H
#define BATON_GEN_H

#include <ev.h>
#include <sys/types.h>

#include "options.h"

struct reexec_state;

/* Take the configuration (kept by reference) and baton's loop. */
void gen_init(struct ev_loop *loop, const struct options *o);
/* Start generation 1. Exits with EXIT_EXEC when the program cannot be
 * executed at all. */
void gen_start_first(void);
/* SIGHUP (or auto-restart): start a new generation; coalesced into one
 * follow-up restart while one is under way. */
void gen_restart(const char *why);
/* Stop every worker with sig; the loop ends once all are gone. */
void gen_stop(int sig, const char *why);
/* Remove the status files written (at exit). */
void gen_remove_status(void);

/* Read-only views, for tests and logs. The serving generation (0: none);
 * the newest generation started (0: none); the state of generation id
 * ("starting", "ready", "serving", "retiring", "failed", "killed", or
 * "gone" once no process of it is left; NULL if it never was); the pid of
 * its worker index (0 if none alive). */
unsigned long gen_serving_id(void);
unsigned long gen_last_id(void);
const char *gen_state_of(unsigned long id);
pid_t gen_worker_pid(unsigned long id, int index);

/* What metrics and /readyz show (metricsd.c): the serving and starting
 * generations (0: none), whether baton is stopping (or draining for
 * --stop-delay), restarts that served or were rolled back, and live
 * workers counted by the state of their generation. */
#define GEN_VIEW_STATES 6
struct gen_view {
	unsigned long serving, starting;
	int stopping;
	unsigned long served, rolled_back;
	const char *state[GEN_VIEW_STATES];
	unsigned long workers[GEN_VIEW_STATES];
};
void gen_view(struct gen_view *v);
/* A figure STATUS.json shows changed outside gen (a queue's peak):
 * rewrite the status files soon, once per burst. */
void gen_status_touch(void);
/* Between these two the status files are written at most once, at the
 * release, and only if something changed: the first generation's files
 * wait for the first queue sample, taken once its worker runs. */
void gen_status_hold(void);
void gen_status_release(void);

/* The state a re-exec'd baton needs, into st (free with
 * reexec_state_free), or -1 with why (a phrase that follows "while"):
 * not a good time (a generation is starting, a retry is pending, baton
 * is stopping, a worker's leftovers are being stopped), or no memory. */
int gen_state_save(struct reexec_state *st, char *why, size_t len);
/* Rebuild generations from it, instead of gen_start_first(). -1 (and
 * nothing changed) when it names a state this baton does not know. */
int gen_state_adopt(const struct reexec_state *st);

#endif
