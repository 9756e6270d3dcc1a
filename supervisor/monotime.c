/* SPDX-License-Identifier: ISC */
/* monotime.c: the clock every deadline of baton is measured on. */
#include "config.h"

#include <time.h>

#include "monotime.h"

double
monotime_now(void)
{
	struct timespec ts;

	/* fails only for an unknown clock id: never on Linux */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
