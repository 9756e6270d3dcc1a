/* SPDX-License-Identifier: ISC */
/* envdir.h: start_server's --envdir, applied to baton's own environment. */
#ifndef BATON_ENVDIR_H
#define BATON_ENVDIR_H

#include <stddef.h>

/* Bring baton's environment up to date with $ENVDIR (one variable per
 * file, the first line its value; names starting with '.' or holding '='
 * skipped; an empty file unsets the variable). A variable whose file was
 * removed, or cannot be read, gets back the value it had before envdir
 * first set it (start_server restores the value from start-up instead: a
 * bug). The first line is taken whole up to what exec carries (131,072
 * bytes for NAME=value and its NUL); a longer one is not set, with a
 * warning. Names baton and the worker protocols own (envdir_reserved()) are
 * never set: such a file is skipped with one warning.
 *
 * Cheap to call often: the directory is watched with inotify and only the
 * files named by its events are read again (all of them after lost
 * events or when the directory or $ENVDIR changes); without inotify a
 * stat comparison picks the changed files. A file that cannot be read is
 * reported once per change of it, not at every call.
 *
 * Returns the number of variables the envdir sets now, or -1 with errno
 * when $ENVDIR is set but cannot be read; the same error again at the
 * following calls returns 0, so that it is reported once. A missing
 * directory is not an error. */
int envdir_load(void);

/* Is name reserved for baton (BATON_*, SERVER_STARTER_*, LISTEN_*,
 * NOTIFY_SOCKET, WATCHDOG_*, ENVDIR)? */
int envdir_reserved(const char *name);

/* For tests: files opened for reading so far, and the "NAME=value"
 * strings envdir owns now (at most one per variable). */
unsigned long envdir_files_read(void);
size_t envdir_live_strings(void);
/* For tests: 0 takes the stat-comparison fallback (default 1). */
void envdir_use_inotify(int on);

#endif
