/* SPDX-License-Identifier: ISC */
/* metricsd.h: the listen queues sampled in the loop, and what is made of
 * them: STATUS.json's queue objects, the .prom file, the /metrics /healthz
 * /readyz listener, and the diagnosis lines in the log. */
#ifndef BATON_METRICSD_H
#define BATON_METRICSD_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "options.h"
#include "qstat.h"

/* --metrics-listen's value: 0 when it is ADDR:PORT, [V6]:PORT or PORT
 * (every IPv4 address), else -1 with the cause in err. */
int metricsd_check_listen(const char *v, char *err, size_t errlen);

/* After the listeners are bound and before the first generation, what
 * can refuse the start: bind --metrics-listen (exit 2 when it cannot
 * be); with --metrics-file, take a first sample and write the file once
 * (exit 3 when it cannot be written). */
void metricsd_open(struct ev_loop *loop, const struct options *o);

/* Once the first worker runs (it need not wait for this): the first
 * sample, unless metricsd_open took it, and the sampling timer
 * (--metrics-interval). */
void metricsd_start(void);

/* Listener i's socket inode and queue as last sampled, for STATUS.json:
 * 0, or -1 when it has none yet. */
int metricsd_queue(size_t i, uint64_t *inode, struct qstat_track *t);

/* At exit: remove the .prom file (a stopped baton has no figures). */
void metricsd_cleanup(void);

#endif
