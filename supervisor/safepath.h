/* SPDX-License-Identifier: ISC */
/* safepath.h: opening the paths baton writes, following symbolic links
 * except where the kernel's fs.protected_symlinks rule would refuse. */
#ifndef BATON_SAFEPATH_H
#define BATON_SAFEPATH_H

#include <stddef.h>
#include <sys/types.h>

/*
 * The rule, applied to every symbolic link met anywhere in the path,
 * whether or not the system has fs.protected_symlinks on: a link in a
 * sticky, world-writable directory (/tmp) is followed only when its owner
 * is baton's effective uid or the directory's owner. Every other link is
 * followed, as open(2) and start_server do (--log-file=/dev/stderr).
 * Links in /proc (/proc/self/fd/N) are followed by the kernel itself.
 */

/* open(path, flags | O_CLOEXEC, mode) under the rule. -1 with errno
 * (EACCES for a refused link, and why then says which link and why, in
 * words that fit after "PATH: "; why is "" for any other error). */
int safepath_open(const char *path, int flags, mode_t mode, char *why,
                  size_t whylen);

/* The directory path's last component lies in, opened (O_PATH, CLOEXEC)
 * under the rule, for openat/renameat/unlinkat; *base is that last
 * component, inside path. -1 with errno and why as above. */
int safepath_open_dir(const char *path, const char **base, char *why,
                      size_t whylen);

/* A new file in dir named prefix and six random characters (returned in
 * *name, malloc'd), created with O_EXCL and O_NOFOLLOW (nothing planted
 * is opened), mode 0600, O_RDWR and CLOEXEC: the temporary an atomic
 * write renames into place. -1 with errno. */
int safepath_temp(int dir, const char *prefix, char **name);

#endif
