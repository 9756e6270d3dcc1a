/* SPDX-License-Identifier: ISC */
/* receipts.h: the restarts' receipts while baton runs (receipt.h is the
 * engine): the ring of the last ones, the one accept-queue scanner of
 * baton's listeners (acceptq.h), the fast tick while a restart is in
 * progress, the always-on queue figures and their two diagnoses.
 *
 * gen.c tells of a restart's steps through the hooks main.c gives it
 * (gen_set_hooks: these functions); the sampler's tick calls
 * receipts_steady (main.c wires it); publish.c asks receipts_fill. This
 * file knows neither. */
#ifndef BATON_RECEIPTS_H
#define BATON_RECEIPTS_H

#include <ev.h>
#include <sys/types.h>

#include "options.h"
#include "snapshot.h"

/* After the listeners are bound: take o (by reference) and the loop;
 * on_change(now) is told when a receipt begins or ends (publish.c's
 * publish_changed). */
void receipts_open(struct ev_loop *loop, const struct options *o,
                   void (*on_change)(int now));

/* The steady scan, at the sampler's tick: the queue figures and the
 * diagnoses. 1 when a figure STATUS.json shows moved. */
int receipts_steady(void);

/* A restart's steps, as gen.c tells them. A trigger (generation: the
 * one it starts, or will start once the starting one is done; previous:
 * the one serving, 0 none) supersedes every receipt in progress. */
void receipts_trigger(const char *trigger, unsigned long generation,
                      unsigned long previous);
/* The queued restart's generation started (with previous serving). */
void receipts_started(unsigned long generation, unsigned long previous);
void receipts_ready(unsigned long generation);
void receipts_promoted(unsigned long generation);
/* The last process of generation is gone. */
void receipts_gone(unsigned long generation);
/* generation will never serve: rolled back (another serves) or failed. */
void receipts_failed(unsigned long generation, int rolled_back);
/* Just before SIGKILL to pids[n] (workers of generation, each leading
 * its process group). */
void receipts_kill(unsigned long generation, const pid_t *pids, size_t n);

/* The listeners' accept-queue figures (s->ls, s->nls set) and the
 * receipts into s: s->receipts and each one's listeners malloc'd, the
 * strings borrowed. -1 when out of memory (what was allocated is in s). */
int receipts_fill(struct snapshot *s);

/* At exit. */
void receipts_close(void);

#endif
