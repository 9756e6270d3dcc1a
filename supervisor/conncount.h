/* SPDX-License-Identifier: ISC */
/* conncount.h: the established connections each generation's workers
 * (and their process groups) hold on baton's listeners, sampled in the
 * loop; the drain of a retired generation in the log, and
 * --kill-when-drained. */
#ifndef BATON_CONNCOUNT_H
#define BATON_CONNCOUNT_H

#include <ev.h>
#include <stdint.h>

#include "options.h"
#include "snapshot.h"

/* The wiring main.c gives (nothing here calls gen.c or publish.c). */
struct conncount_hooks {
	/* the generations now (publish_snapshot, without listeners) and
	 * its free */
	int (*get)(struct snapshot *s, int listeners);
	void (*put)(struct snapshot *s);
	/* after a sample: moved 1 when a count changed (publish_sampled) */
	void (*on_sample)(int moved);
	/* --kill-when-drained: SIGKILL the process groups of generation
	 * id, which is retiring and has held nothing for a while; why
	 * follows "because" in its log line. */
	void (*kill_drained)(unsigned long id, const char *why);
};

/* After the listeners are bound: take o (by reference), the loop and
 * the hooks; the first sample comes at once. */
void conncount_start(struct ev_loop *loop, const struct options *o,
                     const struct conncount_hooks *h);
/* A generation changed state: sample soon (within this loop iteration's
 * end), so that a generation starting to retire has its count from its
 * first second, and one that is gone has its drain logged. */
void conncount_changed(void);
/* Each generation's count as last sampled into s->gens[i].connections
 * (has_connections 0 for one not counted yet). */
void conncount_fill(struct snapshot *s);

/* What the last sample cost: CPU seconds, sockets mapped, processes
 * of the workers' groups read (for bench/ and the log at --verbose). */
struct conncount_cost {
	double cpu;
	uint64_t sockets, procs, samples;
};
void conncount_last_cost(struct conncount_cost *c);

#endif
