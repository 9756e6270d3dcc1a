/* SPDX-License-Identifier: ISC */
/* sampler.h: the listen queues sampled in the loop, and the diagnosis
 * lines made of them. */
#ifndef BATON_SAMPLER_H
#define BATON_SAMPLER_H

#include <ev.h>

#include "options.h"
#include "snapshot.h"

/* After the listeners are bound: take o (by reference) and the loop.
 * After each timed sample, on_sample(moved) is called, moved 1 when a
 * figure STATUS.json shows moved. */
void sampler_open(struct ev_loop *loop, const struct options *o,
                  void (*on_sample)(int moved));
/* The first sample of every listener (once; later calls do nothing). */
void sampler_first(void);
/* The first sample unless taken, and the sampling timer
 * (--metrics-interval). */
void sampler_start(void);

/* Each listener's inode and queue as last sampled into s->ls[i] (i <
 * s->nls, in the options' order); has_queue 0 for one not sampled yet. */
void sampler_fill(struct snapshot *s);

#endif
