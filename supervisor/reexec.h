/* reexec.h: SIGUSR2 re-executes baton's binary, keeping sockets and workers. */
#ifndef BATON_REEXEC_H
#define BATON_REEXEC_H

#include "options.h"

/* Exec argv again (argv[0] resolved anew, so a replaced binary takes
 * effect) with the listeners, the pid file and the generations handed
 * over. Returns only when it could not: baton then keeps running. */
void reexec_now(char **argv, const struct options *o);

/* In the new image: if this is a re-exec, take the listeners' fds and the
 * pid file back and return the generations' state (to pass to
 * gen_state_adopt); NULL for an ordinary start. */
char *reexec_adopt(struct options *o);

#endif
