/* SPDX-License-Identifier: ISC */
/* control.h: --restart, --stop, --stats and --health, the client side of the
 * supervisor. */
#ifndef BATON_CONTROL_H
#define BATON_CONTROL_H

#include "options.h"
#include "statusjson.h"

/* Each returns the process exit code. */
int control_restart(const struct options *o);
int control_stop(const struct options *o);
/* --stats: the listen queues of the baton of --status-file, read now by
 * inode (any local user may); 4 when it is not running. */
int control_stats(const struct options *o);
/* --health [--ready]: 0 when it runs (and, with --ready, a generation
 * serves and it is not stopping), else 1 with the reason. */
int control_health(const struct options *o);
/* How long --restart waits by default for a supervisor whose status
 * says s (NULL or no deadlines: unknown): the sum of its deadlines and
 * a margin, or 600 s when one of them is unbounded. */
double control_default_timeout(const struct snapshot *s);

#endif
