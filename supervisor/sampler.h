/* SPDX-License-Identifier: ISC */
/* sampler.h: the listen queues sampled in the loop, and the diagnosis
 * lines made of them. */
#ifndef BATON_SAMPLER_H
#define BATON_SAMPLER_H

#include <ev.h>

#include "options.h"
#include "snapshot.h"

/* After the listeners are bound: take a first sample and arm the
 * sampling timer (--metrics-interval). After each sample on_sample(moved)
 * is called, moved 1 when a figure STATUS.json shows moved. */
void sampler_start(struct ev_loop *loop, const struct options *o,
                   void (*on_sample)(int moved));

/* Each listener's inode and queue as last sampled into s->ls[i] (i <
 * s->nls, in the options' order); has_queue 0 for one not sampled yet. */
void sampler_fill(struct snapshot *s);

#endif
