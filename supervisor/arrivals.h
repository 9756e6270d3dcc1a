/* SPDX-License-Identifier: ISC */
/* arrivals.h: --stop-delay=auto: while baton is not ready any more and
 * its workers keep serving, watch for new connections, and end the wait
 * once none has arrived for a while. */
#ifndef BATON_ARRIVALS_H
#define BATON_ARRIVALS_H

#include <ev.h>

/* No arrival for this long ends the wait ... */
#define ARRIVALS_QUIET 2.0
/* ... which lasts at least this long. */
#define ARRIVALS_MIN 1.0

/* Take the loop, and quiet(why), called once when the wait may end (why
 * says why, after "waited N s; "). */
void arrivals_init(struct ev_loop *loop, void (*quiet)(const char *why));
/* The wait begins (1) or ends (0): gen.c's drain watch. */
void arrivals_watch(int on);

#endif
