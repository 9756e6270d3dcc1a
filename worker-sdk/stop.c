/* SPDX-License-Identifier: ISC */
/* stop.c: the worker's stop deadline, from BATON_STOP_TIMEOUT. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* baton's own ceiling for --stop-timeout: a larger value is not baton's */
#define STOP_MAX 100000000.0

double
baton_stop_timeout(void)
{
	const char *e = getenv("BATON_STOP_TIMEOUT"), *p;
	double v = 0, scale = 1;
	char q[64];

	baton__clear_error();
	if (e == NULL)
		return baton__fail(ENOENT, "BATON_STOP_TIMEOUT is not set");
	/* digits, then optionally '.' and digits, read by hand: strtod
	 * would take "1e3", " 2", "inf" and a locale's decimal comma */
	for (p = e; *p >= '0' && *p <= '9' && v <= STOP_MAX; p++)
		v = v * 10 + (*p - '0');
	if (p != e && *p == '.' && p[1] >= '0' && p[1] <= '9')
		for (p++; *p >= '0' && *p <= '9'; p++) {
			scale /= 10;
			v += (*p - '0') * scale;
		}
	if (p == e || *p != '\0' || v <= 0 || v > STOP_MAX)
		return baton__fail(EINVAL,
		                   "BATON_STOP_TIMEOUT=\"%s\" is not a number "
		                   "of seconds above 0",
		                   baton__quote(q, sizeof q, e, strlen(e)));
	return v;
}
