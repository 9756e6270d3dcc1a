/* SPDX-License-Identifier: ISC */
/* einhorn.h: the command socket einhorn's worker libraries acknowledge on. */
#ifndef BATON_EINHORN_H
#define BATON_EINHORN_H

#include <ev.h>
#include <stddef.h>

#include "notify.h"

/* Create a unix stream socket in a private directory under $TMPDIR (or
 * /tmp) for EINHORN_SOCK_PATH, and watch it. A {"command":"worker:ack"}
 * line (JSON, or the %-escaped YAML of einhorn's Ruby client) from a
 * process of the workers' uid or baton's is passed to cb as "READY=1"
 * with the sender's pid from SO_PEERCRED; cb NULL: acknowledgements are
 * taken and dropped. Returns 0, or -1 with errno. */
int einhorn_open(struct ev_loop *loop, notify_cb *cb);
/* The socket's path, or NULL when none is open. */
const char *einhorn_path(void);
/* Close the socket and remove its file and directory (at exit, before a
 * re-exec). */
void einhorn_close(void);
/* After einhorn_close, when the re-exec failed: a new socket (a new path,
 * which workers started from now on are given). 0, or -1 with errno. */
int einhorn_reopen(void);

/* Is line (NUL-terminated, without its newline) einhorn's worker:ack
 * command? JSON ({"command":"worker:ack","pid":1}) or the Ruby client's
 * YAML with %0A for newlines ("---%0Acommand: worker:ack%0Apid: 1%0A"). */
int einhorn_is_ack(const char *line);

#endif
