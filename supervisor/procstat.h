/* SPDX-License-Identifier: ISC */
/* procstat.h: one reader of /proc/PID/stat (state, parent, process group). */
#ifndef BATON_PROCSTAT_H
#define BATON_PROCSTAT_H

#include <sys/types.h>

struct procstat {
	char state; /* R, S, D, T, t, Z, X ... */
	pid_t ppid, pgrp;
};

/* Read pid's line. 0, or -1 with errno (ENOENT: gone or no /proc;
 * EINVAL: a line not understood). */
int procstat_read(pid_t pid, struct procstat *ps);

#endif
