/* SPDX-License-Identifier: ISC */
/* listen.h: listener specs (--port, --path): parse, bind, fds, env string. */
#ifndef BATON_LISTEN_H
#define BATON_LISTEN_H

#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "sockopt.h"

enum listen_kind { LISTEN_TCP, LISTEN_UDP, LISTEN_UNIX };

struct listener {
	enum listen_kind kind;
	int ipv6; /* host is an IPv6 literal */
	/* each malloc'd, the listener's own; NULL when the form has none */
	char *spec;    /* as the user wrote it, for messages */
	char *key;     /* SERVER_STARTER_PORT key: "8080", "h:8080", "/p" */
	char *host;    /* NULL: 0.0.0.0 (bare port) */
	char *port;    /* decimal port, as written */
	char *path;    /* LISTEN_UNIX */
	int pin_fd;    /* fd number requested with =FD, or -1 */
	int target_fd; /* fd number in the worker */
	int fd;        /* the bound socket in baton (CLOEXEC), or -1 */
	int backlog;
	dev_t path_dev; /* the socket file baton created, removed at exit */
	ino_t path_ino;
	/* its own, from --sockopts (malloc'd); NULL when none was given, as
	 * for most listeners: see listen_own_opts */
	struct sockopts *opts;
	/* in effect (own, global, defaults; eff.name is always NULL) and
	 * what the kernel reports after bind (got.got 0 until read) */
	struct sockopts eff;
	struct sockopts_read got;
	/* the port it listens on as getsockname(2) says, 0 for unix (or
	 * before bind): the kernel's choice for --port=HOST:0, which the
	 * key keeps as written (SERVER_STARTER_PORT too) */
	int bound_port;
	int origin;   /* enum listen_origin: bound by baton or adopted */
	char *fdname; /* LISTEN_FDNAMES entry it was passed with, or NULL */
};

enum listen_origin { LISTEN_BOUND, LISTEN_SYSTEMD };

/* Parse a --port SPEC (start_server's forms, including =FD and the u
 * prefix) or a --path. On error return -1 and describe the cause in err.
 */
int listen_parse_port(const char *spec, struct listener *l, char *err,
                      size_t errlen);
int listen_parse_path(const char *path, struct listener *l, char *err,
                      size_t errlen);
/* Free everything l owns (its strings, its own options, its fd name);
 * the fd stays open. */
void listen_free(struct listener *l);
/* An empty TCP listener for spec (copied): no fd, no pin, no strings but
 * spec. For a parser or an adopter to fill. */
void listen_init(struct listener *l, const char *spec);
/* l's address (0.0.0.0 for a bare port; numeric hosts only for IPv6).
 * -1 with "cannot resolve HOST: cause" in err. Not for unix listeners. */
int listen_resolve(const struct listener *l, struct sockaddr_storage *ss,
                   socklen_t *sslen, char *err, size_t errlen);

/* Give every listener its fd number in the worker: pinned ones keep
 * theirs, the others take the lowest free numbers from 3 in order.
 * Fails when two listeners pin the same number. */
int listen_assign_fds(struct listener *ls, size_t n, char *err, size_t errlen);

/* The same address given twice (--port=8080 --port=0.0.0.0:8080, or a
 * --path twice): -1 with "--port=SPEC given twice" in err, where the
 * second bind would only have said EADDRINUSE. Two listeners that both
 * have SO_REUSEPORT may share an address; port 0 never repeats one. Run
 * after listen_set_options. */
int listen_check_twice(const struct listener *ls, size_t n, char *err,
                       size_t errlen);

/* Bind and listen; the socket is CLOEXEC in baton. -1 with err. */
int listen_bind(struct listener *l, char *err, size_t errlen);

/* "key=fd;key=fd" (malloc'd), "" when n is 0. */
char *listen_env(const struct listener *ls, size_t n);

/* l's own options, made empty on first use, for --sockopts to fill. */
struct sockopts *listen_own_opts(struct listener *l);

/* &l->eff and &l->got: l's options in effect and as read back; all
 * zero (nothing given, nothing read) before they are set. */
const struct sockopts *listen_eff(const struct listener *l);
const struct sockopts_read *listen_got(const struct listener *l);

/* Set l->eff (and l->backlog) from l->opts over the global options (may
 * be NULL) over the defaults. The parsers call it with NULL. */
void listen_set_options(struct listener *l, const struct sockopts *global,
                        long default_backlog);
/* SOCKOPT_TCP/UDP/UNIX (| SOCKOPT_IPV6): which options fit l. */
unsigned listen_class(const struct listener *l);
/* The address for messages: "0.0.0.0:8080" for a bare port, else the key. */
const char *listen_name(const struct listener *l, char *buf, size_t len);
/* Read l's options back from the kernel into l->got (listen_bind does);
 * also sets l->bound_port. */
int listen_read_options(struct listener *l, char *err, size_t errlen);
/* Log l's options (when any was given) and what the kernel made of them;
 * warnings only, when quiet. */
void listen_log_options(const struct listener *l, int quiet);
/* --check: the table of listeners with their effective options. */
void listen_print_table(FILE *f, const struct listener *ls, size_t n);
/* The LISTENER cell of --check, its length: the key, and the port the
 * kernel chose for port 0 ("127.0.0.1:0 (port 41234)"). The key is shown
 * as the log shows it (log_escape), as --stats does: one row per
 * listener, valid UTF-8, whatever bytes a --path holds. buf may be NULL
 * with len 0, to measure. */
size_t listen_check_name(const struct listener *l, char *buf, size_t len);
/* JSON members "options":{...},"requested":{...} for the status file. */
void listen_json_options(FILE *f, const struct listener *l);

/* A pinned fd the worker cannot have (at or above RLIMIT_NOFILE), or
 * more listeners than the limit leaves room for (n + 16), would fail in
 * every child: -1 with err naming the listener and the limit. */
int listen_check_pins(const struct listener *ls, size_t n, char *err,
                      size_t errlen);

/* After a re-exec: remember the socket file that is already bound. */
void listen_adopt_path(struct listener *l);

/* Remove socket files baton created (if still the same inode). */
void listen_unlink_paths(const struct listener *ls, size_t n);

/* "bound" or "systemd", for the status JSON. */
const char *listen_origin_name(const struct listener *l);
/* The listener's name for LISTEN_FDNAMES: --sockopts=name=NAME, else
 * the name systemd passed it with, else its key with every character
 * sd_listen_fds_with_names(3) refuses (':' and controls) as '_'. */
const char *listen_fdname(const struct listener *l, char *buf, size_t len);

/* "127.0.0.1:8080", "[::1]:8080", a unix path ("@" for an abstract one):
 * a socket address as the log shows it. */
void listen_addr_text(const struct sockaddr_storage *ss, char *buf, size_t len);

/* strndup/strdup for a listener's own strings: abort() when out of
 * memory (a listener is built at start-up, before anything runs). */
char *listen_strndup(const char *s, size_t n);
char *listen_strdup(const char *s);

#endif
