/* SPDX-License-Identifier: ISC */
/* spawn.h: fork/exec of one worker with the listeners in place. */
#ifndef BATON_SPAWN_H
#define BATON_SPAWN_H

#include <sys/types.h>

#include "listen.h"

struct spawn_req {
	char *const *argv; /* argv[0] is searched in PATH */
	char *const *envp; /* the worker's environment, or NULL: environ */
	const char *dir;   /* chdir before exec, or NULL */
	const struct listener *ls; /* moved to their target_fd */
	size_t nls;
	int pdeathsig; /* signal the worker gets when baton dies, or 0 */
	pid_t parent;  /* baton's pid, to close the pdeathsig race */
};

enum spawn_stage {
	SPAWN_OK,
	SPAWN_DUP,
	SPAWN_CHDIR,
	SPAWN_EXEC,
	SPAWN_PRIVS,     /* a credential step (privs.h); what says which */
	SPAWN_PDEATHSIG, /* PR_SET_PDEATHSIG */
	SPAWN_SETPGID    /* its own process group */
};

struct spawn_failure {
	int stage; /* enum spawn_stage */
	int err;   /* errno in the child */
	int step;  /* SPAWN_PRIVS: the enum privs_step */
	long arg;  /* SPAWN_PRIVS: the id or capability of that step */
	/* SPAWN_PRIVS, SPAWN_PDEATHSIG and SPAWN_SETPGID: "cannot
	 * setresuid(65534)",
	 * written by the parent; "" for the other stages */
	char what[128];
};

/* Fork and exec a worker with the current environment, under the
 * credentials privs_setup() checked (resolved afresh for each spawn, in
 * the parent). Returns the
 * child's pid, or -1 with errno when fork failed. When the child could
 * not get as far as exec, f->stage says where and f->err why; the child
 * has then exited with status 127 and is still to be reaped. */
pid_t spawn_worker(const struct spawn_req *r, struct spawn_failure *f);

/* The environment of one worker: environ, with SERVER_STARTER_GENERATION
 * set to generation, BATON_WORKER_INDEX to worker_index (left out when
 * -1), NOTIFY_SOCKET to notify_socket (left out when NULL) and
 * BATON_STOP_TIMEOUT to stop_timeout (--stop-timeout; left out when 0);
 * environ's own values of those names are dropped, and its
 * BATON_STOP_TIMEOUT always. One malloc'd block (free(3) it), pointing
 * into environ; NULL with errno on ENOMEM. */
char **spawn_env(unsigned long generation, int worker_index,
                 const char *notify_socket, double stop_timeout);

/* Mark every fd from 3 up close-on-exec: fds baton inherited must not
 * leak into workers. */
void spawn_cloexec_inherited(void);

#endif
