/* SPDX-License-Identifier: ISC */
/* status.h: pid file (flock'd), status file (atomic, numeric order), JSON. */
#ifndef BATON_STATUS_H
#define BATON_STATUS_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

struct snapshot;

struct status_entry {
	unsigned long gen;
	pid_t pid;
};

/* Create or open the pid file and lock it (never waiting: a locked file
 * belongs to a running supervisor and is left untouched). The lock is
 * held until status_pidfile_remove(), across fork and exec. */
int status_pidfile_open(const char *path, char *err, size_t errlen);
/* Write our pid into it (after daemonizing: the pid that stays). */
int status_pidfile_write(char *err, size_t errlen);
/* The locked pid file's fd (-1 if none), and taking it over after a
 * re-exec (the flock belongs to the open file, which exec keeps). */
int status_pidfile_fd(void);
void status_pidfile_adopt(int fd, const char *path);
/* Unlink it; the lock --stop waits on goes with the process. */
void status_pidfile_remove(void);
/* Read the first line of a pid file. -1 with err. */
int status_pidfile_read(const char *path, pid_t *pid, char *err, size_t errlen);

/* The status file's lock, PATH.lock beside it, flock'd as the pid file
 * (exit 3 for a second supervisor given the same --status-file: both
 * would overwrite each other, and the first to stop would delete the
 * other's file). Checks the status file can be written first. Held for
 * life, across fork and exec; status_pidfile_write puts our pid in it.
 * -1 with err. */
int status_file_lock(const char *path, char *err, size_t errlen);
int status_file_lock_fd(void);
void status_file_lock_adopt(int fd, const char *path);
/* Unlink the lock file (after the status files); the lock goes with the
 * process. */
void status_file_unlock(void);

/* "gen:pid\n" lines sorted numerically by generation, then pid. Returns
 * the length; buf is malloc'd. */
size_t status_format(struct status_entry *e, size_t n, char **buf);
/* The status file of a snapshot: a "gen:pid" line for each live worker
 * of a generation start_server would list (gen_state_listed), as
 * status_format. NULL *buf when out of memory. */
size_t status_render(const struct snapshot *s, char **buf);
/* Parse status text: the generations it lists, sorted and unique.
 * Lines not of the form "N:..." are ignored, as start_server does. */
size_t status_parse_gens(const char *text, unsigned long *gens, size_t max);

/* Write data to path through a new temporary beside it (random name,
 * O_EXCL) and rename(2), the directory reached under safepath's rule; a
 * path that is neither a regular file nor a
 * symlink is refused (EISDIR, or EINVAL for a device, FIFO, socket). */
int status_write_atomic(const char *path, const char *data, size_t len);
/* The same, the content written by fill(f, arg) into the temporary as it
 * goes (STATUS.json with 1,000 listeners is 300 kB: built in memory
 * first, it left that much in baton's heap); fill returns 0 or -1. */
int status_write_atomic_with(const char *path,
                             int (*fill)(FILE *f, const void *arg),
                             const void *arg);
/* At start-up: whether status_write_atomic(path) could work, without
 * touching path (it may be another live supervisor's). -1 with errno,
 * and why as safepath_open's (a refused link) or "". */
int status_file_check(const char *path, char *why, size_t whylen);
/* Unlink path if it still holds what status_write_atomic last put there:
 * never a file another process has put at the path since. */
void status_unlink_own(const char *path);
/* Read a whole small regular file (malloc'd, NUL-terminated); NULL with
 * errno: EINVAL when not a regular file, EFBIG beyond 1 MiB. */
char *status_read_file(const char *path);

#endif
