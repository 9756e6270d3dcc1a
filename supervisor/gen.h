/* SPDX-License-Identifier: ISC */
/* gen.h: generations of workers and the restart state machine. */
#ifndef BATON_GEN_H
#define BATON_GEN_H

#include <ev.h>
#include <sys/types.h>

#include "options.h"
#include "snapshot.h"

struct reexec_state;

/* Take the configuration (kept by reference) and baton's loop.
 * on_change(now) is told of every change of what gen_fill gives: now 1
 * for a state change (once per step: a promotion is one), 0 for a
 * worker's STATUS= text (written later, once per burst). */
void gen_init(struct ev_loop *loop, const struct options *o,
              void (*on_change)(int now));
/* What gen.c tells of a restart's steps (main.c gives receipts.c's
 * functions; a NULL member is not told): a restart's trigger (generation
 * the one it starts, or will start once the starting one is done;
 * previous the one serving, 0 none), the queued restart's generation
 * started, ready, promoted (serving), the last process of a generation
 * gone, a generation that will never serve (rolled_back: another
 * serves), and the workers of a generation about to get SIGKILL. */
struct gen_hooks {
	void (*trigger)(const char *trigger, unsigned long generation,
	                unsigned long previous);
	void (*started)(unsigned long generation, unsigned long previous);
	void (*ready)(unsigned long generation);
	void (*promoted)(unsigned long generation);
	void (*gone)(unsigned long generation);
	void (*failed)(unsigned long generation, int rolled_back);
	void (*kill)(unsigned long generation, const pid_t *pids, size_t n);
};
/* After gen_init: h is copied. */
void gen_set_hooks(const struct gen_hooks *h);
/* Start generation 1. Exits with EXIT_EXEC when the program cannot be
 * executed at all. */
void gen_start_first(void);
/* SIGHUP (or auto-restart): start a new generation; coalesced into one
 * follow-up restart while one is under way. */
void gen_restart(const char *why);
/* Stop every worker with sig; the loop ends once all are gone. */
void gen_stop(int sig, const char *why);

/* Read-only views, for tests and logs. The serving generation (0: none);
 * the newest generation started (0: none); the state of generation id
 * ("starting", "ready", "serving", "retiring", "failed", "killed", or
 * "gone" once no process of it is left; NULL if it never was); the pid of
 * its worker index (0 if none alive). */
unsigned long gen_serving_id(void);
unsigned long gen_last_id(void);
const char *gen_state_of(unsigned long id);
pid_t gen_worker_pid(unsigned long id, int index);

/* The snapshot's generations and counters, everything but the
 * listeners, into s (zeroed by the caller): the arrays are malloc'd
 * (s->gens and each s->gens[i].w), the strings borrowed. -1 when out of
 * memory (what was allocated is in s, to be freed). */
int gen_fill(struct snapshot *s);

/* The state a re-exec'd baton needs, into st (free with
 * reexec_state_free), or -1 with why (a phrase that follows "while"):
 * not a good time (a generation is starting, a retry is pending, baton
 * is stopping, a worker's leftovers are being stopped), or no memory. */
int gen_state_save(struct reexec_state *st, char *why, size_t len);
/* Rebuild generations from it, instead of gen_start_first(). -1 (and
 * nothing changed) when it names a state this baton does not know. */
int gen_state_adopt(const struct reexec_state *st);

#endif
