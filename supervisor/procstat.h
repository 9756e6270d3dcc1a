/* SPDX-License-Identifier: ISC */
/* procstat.h: the one reader of /proc: a pid's stat line, every pid, a
 * pid's descriptors and the sockets among them. */
#ifndef BATON_PROCSTAT_H
#define BATON_PROCSTAT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct procstat {
	char state; /* R, S, D, T, t, Z, X ... */
	pid_t ppid, pgrp;
	/* field 22, clock ticks after boot: with the pid, names one
	 * process for good (a reused pid has a later start) */
	unsigned long long starttime;
};

/* Read pid's line. 0, or -1 with errno (ENOENT: gone or no /proc;
 * EINVAL: a line not understood). */
int procstat_read(pid_t pid, struct procstat *ps);

/* Called per process; returns 0 to go on, anything else to stop the
 * walk there. */
typedef int (*procstat_fn)(pid_t pid, const struct procstat *ps, void *arg);

/* fn for each process of /proc, with its stat line. A process that exits
 * meanwhile (its line unreadable) is skipped; at most max processes are
 * read (the pid space bounds it anyway, max bounds a caller's tables).
 * Returns how many were passed to fn, or -1 with errno when /proc cannot
 * be opened. */
long procstat_walk(size_t max, procstat_fn fn, void *arg);

/* One descriptor of a process. */
struct procstat_fd {
	int fd;
	const char *target;  /* the link's text: "socket:[123]", a path ... */
	uint64_t sock_inode; /* from "socket:[INODE]"; 0: not a socket */
};

/* Called per descriptor; returns 0 to go on, anything else to stop. */
typedef int (*procstat_fd_fn)(const struct procstat_fd *f, void *arg);

/* fn for each descriptor of pid, from /proc/PID/fd: one readlinkat per
 * descriptor. Returns 0 (also when pid is gone: no descriptor), or -1
 * with errno when they cannot be read (EACCES: another user's process).
 */
int procstat_fds(pid_t pid, procstat_fd_fn fn, void *arg);

/* The inodes of pid's sockets, appended to ino[*n], up to max: the
 * cheap path for mapping a process's sockets onto a sock_diag dump.
 * Unsorted, as /proc lists them. Returns as procstat_fds. */
int procstat_socket_inodes(pid_t pid, uint64_t *ino, size_t *n, size_t max);

/* "socket:[123]" → 123; 0 for anything else. */
uint64_t procstat_sock_inode(const char *target);

#endif
