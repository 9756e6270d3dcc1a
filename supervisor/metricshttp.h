/* SPDX-License-Identifier: ISC */
/* metricshttp.h: the /metrics, /healthz and /readyz listener. */
#ifndef BATON_METRICSHTTP_H
#define BATON_METRICSHTTP_H

#include <stddef.h>

#include <ev.h>

#include "snapshot.h"

/* Bind addr (--metrics-listen; exit 2 when it cannot be) and serve it.
 * get(s, listeners) gives the snapshot for an answer (listeners 0: the
 * listener array may be left out), 0 or -1 with errno; put(s) frees
 * it. nls: the number of listeners (the fds they hold, the size of a
 * /metrics body). Every interval seconds, a paused listener is resumed
 * and the connections closed for room are reported. */
void metricshttp_start(struct ev_loop *loop, const char *addr, double interval,
                       size_t nls,
                       int (*get)(struct snapshot *s, int listeners),
                       void (*put)(struct snapshot *s));

#endif
