/* SPDX-License-Identifier: ISC */
/* reexec.h: SIGUSR2 re-executes baton's binary, keeping sockets and workers. */
#ifndef BATON_REEXEC_H
#define BATON_REEXEC_H

#include <stddef.h>
#include <sys/types.h>

#include "options.h"

/* The version of the state format this baton writes; the new binary
 * must accept it. It also reads REEXEC_OLDEST and up, so that an older
 * baton can exec this one. 3: each listener's origin, key and fd name.
 * 4: the status file's lock fd. */
#define REEXEC_VERSION 4
#define REEXEC_OLDEST 2

/* What crosses the exec. gen fills the generations (gen_state_save) and
 * takes them back (gen_state_adopt); reexec.c packs and unpacks it. */
struct reexec_worker {
	pid_t pid; /* 0: a dead slot */
	int ready;
};

struct reexec_gen {
	unsigned long id;
	char state[16]; /* by name: a newer enum cannot misread it */
	int stop_sig;
	size_t nw;
	struct reexec_worker *w;
};

/* One listener. Version 2 carried the fd only: origin is then -1 and
 * key NULL (not known). */
struct reexec_listener {
	int fd;
	int origin;   /* enum listen_origin, or -1 */
	char *key;    /* its SERVER_STARTER_PORT key, or NULL */
	char *fdname; /* the name systemd passed it with, or NULL */
};

struct reexec_state {
	pid_t pid;      /* the process that wrote it: exec keeps the pid */
	int pidfile_fd; /* -1: none */
	size_t nls;     /* the listeners, in command-line order */
	struct reexec_listener *ls;
	unsigned long last_id, restarts;
	unsigned failures;
	int ever_served;
	double since_restart; /* seconds since the last restart */
	size_t ngens;         /* newest first */
	struct reexec_gen *gens;
	int statuslock_fd; /* -1: none (version 4 and up) */
};

/* Called as the first lines of main: "--reexec-preflight=V" answers
 * "baton-reexec V ok" and exits 0 when this binary reads state version
 * V, else "baton-reexec V unsupported (this baton reads 2 to 4)" and
 * exits 1; any other argv returns. */
void reexec_preflight_answer(int argc, char **argv);
/* Called next, before anything is read: take the state a re-exec passed
 * in its sealed memfd (named by BATON_REEXEC_FD, checked to be that
 * memfd), and forget the variable. Anything else, an inherited
 * BATON_REEXEC_STATE included, means an ordinary start. */
void reexec_take(void);

/* Exec argv again (argv[0] resolved anew, so a replaced binary takes
 * effect) with the listeners, the pid file and the generations handed
 * over, once the new binary answered a pre-flight run. Returns only when
 * it could not: baton then keeps running. */
typedef int (*reexec_save_fn)(struct reexec_state *st, char *why, size_t len);
typedef int (*reexec_adopt_fn)(const struct reexec_state *st);
/* save (gen_state_save) fills in the generations, or says why not now. */
void reexec_now(char **argv, const struct options *o, reexec_save_fn save);

/* In the new image: 1 if this is a re-exec (the listeners' fds, where
 * each came from, and the pid file are then taken back; with no --port
 * or --path, the adopted listeners are rebuilt from the state), 0 for
 * an ordinary start. */
int reexec_adopt(struct options *o);
/* Then, instead of gen_start_first(): rebuild the generations with adopt
 * (gen_state_adopt). A state it does not understand exits, leaving every
 * file in place. */
void reexec_resume(reexec_adopt_fn adopt);

/* The format, for the unit test: text with a version line first;
 * reexec_pack writes REEXEC_VERSION, reexec_unpack reads REEXEC_OLDEST
 * to REEXEC_VERSION. */
char *reexec_pack(const struct reexec_state *s);
int reexec_unpack(const char *text, struct reexec_state *s, char *err,
                  size_t errlen);
void reexec_state_free(struct reexec_state *s);

#endif
