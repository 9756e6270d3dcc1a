/* SPDX-License-Identifier: ISC */
/* procstat.c: one reader of /proc/PID/stat. Its line is "pid (comm) S ppid
 * pgrp ...", and comm may hold anything, spaces and ")" included: the
 * fields are counted from the last ')'. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procstat.h"

int
procstat_read(pid_t pid, struct procstat *ps)
{
	char path[64], buf[512], *p, *end;
	ssize_t n;
	long v;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		errno = n == 0 ? ENOENT : errno;
		return -1;
	}
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || p[2] == '\0' ||
	    p[3] != ' ') {
		errno = EINVAL;
		return -1;
	}
	ps->state = p[2];
	v = strtol(p + 4, &end, 10);
	if (end == p + 4 || *end != ' ') {
		errno = EINVAL;
		return -1;
	}
	ps->ppid = (pid_t)v;
	p = end + 1;
	v = strtol(p, &end, 10);
	if (end == p) {
		errno = EINVAL;
		return -1;
	}
	ps->pgrp = (pid_t)v;
	return 0;
}
