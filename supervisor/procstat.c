/* SPDX-License-Identifier: ISC */
/* procstat.c: the one reader of /proc. A stat line is "pid (comm) S ppid
 * pgrp ...", and comm may hold anything, spaces and ")" included: the
 * fields are counted from the last ')'. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procstat.h"

/* Fields 6 (session) to 21 (itrealvalue), between pgrp and starttime. */
#define SKIP_TO_STARTTIME 16

/* The fields after comm: "S ppid pgrp ... starttime". */
static int
parse_fields(const char *p, struct procstat *ps)
{
	char *end;
	long v;
	int i;

	if (p[0] != ' ' || p[1] == '\0' || p[2] != ' ')
		return -1;
	ps->state = p[1];
	p += 3;
	v = strtol(p, &end, 10);
	if (end == p || *end != ' ')
		return -1;
	ps->ppid = (pid_t)v;
	p = end + 1;
	v = strtol(p, &end, 10);
	if (end == p)
		return -1;
	ps->pgrp = (pid_t)v;
	/* the start time is a bonus: a line cut short leaves it 0 */
	ps->starttime = 0;
	for (i = 0; i < SKIP_TO_STARTTIME && end != NULL; i++)
		end = strchr(end + 1, ' ');
	if (end != NULL)
		ps->starttime = strtoull(end + 1, NULL, 10);
	return 0;
}

int
procstat_read(pid_t pid, struct procstat *ps)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd, saved;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	saved = errno;
	close(fd);
	if (n <= 0) {
		/* ESRCH: the process died between open and read */
		errno = n == 0 || saved == ESRCH ? ENOENT : saved;
		return -1;
	}
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL || parse_fields(p + 1, ps) < 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* A /proc entry's name as a pid; 0 for anything else ("self", "net"). */
static pid_t
name_pid(const char *name)
{
	char *end;
	long v;

	if (name[0] < '1' || name[0] > '9')
		return 0;
	v = strtol(name, &end, 10);
	return *end == '\0' && v > 0 ? (pid_t)v : 0;
}

long
procstat_walk(size_t max, procstat_fn fn, void *arg)
{
	struct procstat ps;
	struct dirent *de;
	long n = 0;
	pid_t pid;
	DIR *d;

	if ((d = opendir("/proc")) == NULL)
		return -1;
	while ((size_t)n < max && (de = readdir(d)) != NULL) {
		if ((pid = name_pid(de->d_name)) == 0 ||
		    procstat_read(pid, &ps) < 0)
			continue;
		n++;
		if (fn(pid, &ps, arg) != 0)
			break;
	}
	closedir(d);
	return n;
}

uint64_t
procstat_sock_inode(const char *target)
{
	char *end;
	unsigned long long v;

	if (strncmp(target, "socket:[", 8) != 0 || target[8] < '0' ||
	    target[8] > '9')
		return 0;
	v = strtoull(target + 8, &end, 10);
	return *end == ']' && end[1] == '\0' ? (uint64_t)v : 0;
}

int
procstat_fds(pid_t pid, procstat_fd_fn fn, void *arg)
{
	char path[64], target[4096];
	struct procstat_fd f;
	struct dirent *de;
	ssize_t len;
	int dfd;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : -1;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -1;
	}
	/* readlinkat on the open directory: no path walk per descriptor */
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		len = readlinkat(dfd, de->d_name, target, sizeof(target) - 1);
		if (len <= 0)
			continue; /* closed meanwhile */
		target[len] = '\0';
		f.fd = atoi(de->d_name);
		f.target = target;
		f.sock_inode = procstat_sock_inode(target);
		if (fn(&f, arg) != 0)
			break;
	}
	closedir(d);
	return 0;
}

struct inode_arg {
	uint64_t *ino;
	size_t *n, max;
};

static int
inode_cb(const struct procstat_fd *f, void *arg)
{
	struct inode_arg *a = arg;

	if (f->sock_inode != 0)
		a->ino[(*a->n)++] = f->sock_inode;
	return *a->n >= a->max;
}

int
procstat_socket_inodes(pid_t pid, uint64_t *ino, size_t *n, size_t max)
{
	struct inode_arg a = {ino, n, max};

	if (*n >= max)
		return 0;
	return procstat_fds(pid, inode_cb, &a);
}
