/* SPDX-License-Identifier: ISC */
/* listen-systemd.h: listeners adopted from baton's own service manager
 * (LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES), at start-up and after a
 * re-exec. */
#ifndef BATON_LISTEN_SYSTEMD_H
#define BATON_LISTEN_SYSTEMD_H

#include <stddef.h>

#include "listen.h"

/* sd_listen_fds(3) for baton itself: when LISTEN_PID is baton's pid,
 * adopt each of the LISTEN_FDS fds from 3 (made CLOEXEC) as the --port
 * or --path it matches by family, address, port and type; with no
 * listener given at all, adopt every one, keyed by its address. Every
 * LISTEN_* variable is removed from the environment in any case. A
 * passed fd no listener matches is an error (-1, err), and so is one
 * that is no listening TCP or unix stream socket or UDP socket (netlink,
 * vsock, a connection from Accept=yes), and a LISTEN_FDNAMES whose count
 * is not LISTEN_FDS (as sd_listen_fds_with_names). Otherwise the
 * number of adopted listeners whose options differ from those asked
 * for (each one warned about). */
int listen_take_systemd_fds(struct listener **ls, size_t *n, char *err,
                            size_t errlen);
/* After a re-exec: l, from the command line, was adopted from systemd
 * with fd name fdname (NULL: not known); its socket file, if any, is
 * systemd's and never removed. l->fd is already set. */
void listen_readopt(struct listener *l, const char *fdname);
/* After a re-exec with no --port or --path: append to *ls the listener
 * adopted from systemd on fd, keyed by its address as
 * listen_take_systemd_fds keys it. -1 with err when fd is no socket it
 * could have adopted. The caller then runs listen_assign_fds. */
int listen_readopt_fd(struct listener **ls, size_t *n, int fd,
                      const char *fdname, char *err, size_t errlen);

#endif
