/* SPDX-License-Identifier: ISC */
/* passfds.h: --pass-fds-as, the environment that tells a worker its fds. */
#ifndef BATON_PASSFDS_H
#define BATON_PASSFDS_H

#include <stddef.h>

#include "listen.h"

/* Dialects, as bits; 0 means the default, server-starter alone. */
enum {
	PASSFDS_SERVER_STARTER = 1, /* SERVER_STARTER_PORT, _GENERATION */
	PASSFDS_SYSTEMD = 2,        /* LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES */
	PASSFDS_NGINX = 4,          /* NGINX="3;4;" */
	PASSFDS_UNICORN = 8,        /* UNICORN_FD="3,4" */
	PASSFDS_EINHORN = 16        /* EINHORN_FD_COUNT, EINHORN_FD_0 ... */
};

/* Parse a --pass-fds-as LIST ("systemd,nginx") into *mask. -1 with err
 * quoting the unknown name. */
int passfds_parse(const char *list, unsigned *mask, char *err, size_t errlen);

/* A dialect's rule on fd numbers that the listeners' numbers break (the
 * systemd protocol numbers fds 3, 4, ... without gaps): -1 with err
 * naming the listener. */
int passfds_check(unsigned mask, const struct listener *ls, size_t n, char *err,
                  size_t errlen);

/* The dialects every worker gets (main sets them once). */
void passfds_set(unsigned mask);

/* In the parent, before fork: envp (NULL: environ) with the variables of
 * the dialects set, those of server-starter removed when it is not one
 * of them. Returns a malloc'd array (free with passfds_env_free), or
 * NULL when envp serves as it is (server-starter alone). */
char **passfds_env(char *const *envp, const struct listener *ls, size_t n);
void passfds_env_free(char **envp);

/* In the child, after fork and before exec (async-signal-safe, no
 * allocation): write the child's own pid into the LISTEN_PID slot that
 * passfds_env prepared. Nothing when there is none. */
void passfds_child(void);

#endif
