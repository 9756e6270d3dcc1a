/* control.h: --restart and --stop, the client side of the supervisor. */
#ifndef BATON_CONTROL_H
#define BATON_CONTROL_H

#include "options.h"

/* Each returns the process exit code. */
int control_restart(const struct options *o);
int control_stop(const struct options *o);

#endif
