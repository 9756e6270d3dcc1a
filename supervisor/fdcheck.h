/* SPDX-License-Identifier: ISC */
/* fdcheck.h: catch workers that ignore the listeners baton passed them. */
#ifndef BATON_FDCHECK_H
#define BATON_FDCHECK_H

#include <ev.h>
#include <stddef.h>
#include <sys/types.h>

#include "listen.h"

/* Once generation gen is ready: warn for each worker none of whose
 * processes (itself and its descendants) holds a listener, and for each
 * TCP socket such a process listens on that baton did not pass. The
 * workers' pids are at pids, stride bytes apart (gen.c's own array).
 * The first call also starts watching the unix socket files baton
 * created: a warning when one disappears. */
void fdcheck_generation(struct ev_loop *loop, unsigned long gen,
                        const pid_t *pids, size_t stride, size_t n,
                        const struct listener *ls, size_t nls);

#endif
