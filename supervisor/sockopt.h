/* SPDX-License-Identifier: ISC */
/* sockopt.h: listener options: parse, merge, set, read back, describe. */
#ifndef BATON_SOCKOPT_H
#define BATON_SOCKOPT_H

#include <stddef.h>
#include <stdio.h>

/* Every option a listener can carry. REUSEADDR is not an option (start_server
 * always sets it on TCP and UDP); it is here to be read back and shown. */
enum sockopt_id {
	SOCKOPT_BACKLOG,
	SOCKOPT_DEFER_ACCEPT,
	SOCKOPT_FASTOPEN,
	SOCKOPT_REUSEPORT,
	SOCKOPT_V6ONLY,
	SOCKOPT_FREEBIND,
	SOCKOPT_NODELAY,
	SOCKOPT_CORK,
	SOCKOPT_KEEPALIVE,
	SOCKOPT_RCVBUF,
	SOCKOPT_SNDBUF,
	SOCKOPT_MODE,
	SOCKOPT_OWNER,
	SOCKOPT_GROUP,
	SOCKOPT_NONBLOCK,
	SOCKOPT_REUSEADDR,
	SOCKOPT_COUNT
};

/* The kind of socket, as bits, to say which options fit it. */
enum {
	SOCKOPT_TCP = 1,
	SOCKOPT_UDP = 2,
	SOCKOPT_UNIX = 4,
	SOCKOPT_IPV6 = 8,     /* with TCP or UDP: an IPv6 address */
	SOCKOPT_IPV6_ANY = 16 /* and it is [::], the only one that can
	                         take IPv4 too */
};

/* A set of option values. given has bit (1u << id) for every option the
 * user asked for; the other values are the defaults (after merging) or 0.
 * A struct sockopts owns its name: a copy by assignment shares it, so
 * exactly one of the two may be passed to sockopt_free (hand the name over
 * and set the other's to NULL). */
struct sockopts {
	unsigned given;
	/* every value fits 32 bits (sizes, counts and seconds are at most
	 * INT_MAX; a uid or gid is kept as its 32 bits, -1 for none): a
	 * listener holds two sets of them */
	int val[SOCKOPT_COUNT];
	/* --sockopts=name=NAME: the listener's LISTEN_FDNAMES entry (sd
	 * limits it to 255 characters), malloc'd; NULL when not given. A
	 * pointer, not an array: 1,000 listeners each held three 256-byte
	 * buffers that were almost always empty. */
	char *name;
};

/* What the kernel applied: got has bit (1u << id) for every value read
 * back. */
struct sockopts_read {
	unsigned got;
	int val[SOCKOPT_COUNT];
};

/* Kernel limits of this network namespace; -1 when unreadable. */
struct sockopt_kernel {
	long somaxconn, max_syn_backlog, syncookies, fastopen, rmem_max,
	    wmem_max;
};

/* The per-listener key ("defer-accept") and the global flag
 * ("--defer-accept") of an option; NULL when there is none. */
const char *sockopt_key(enum sockopt_id id);
const char *sockopt_flag(enum sockopt_id id);
/* Every key --sockopts takes, from the option table: "backlog,
 * defer-accept, ..., dual-stack, name". SOCKOPT_KEYS_LEN holds them. */
#define SOCKOPT_KEYS_LEN 256
void sockopt_known_keys(char *buf, size_t len);
/* Does the option apply to a socket of class cls (SOCKOPT_* bits)? */
int sockopt_fits(enum sockopt_id id, unsigned cls);
/* "TCP listeners", "unix listeners (--path)", ...: where id fits. */
const char *sockopt_fits_text(enum sockopt_id id);

/* Parse one value of option id (NULL: the option was given without a
 * value). -1 with the cause in err. */
int sockopt_parse_value(enum sockopt_id id, const char *s, long *out, char *err,
                        size_t errlen);
/* Record a global flag: parse and mark given. */
int sockopt_set(struct sockopts *so, enum sockopt_id id, const char *s,
                char *err, size_t errlen);
/* Parse a --sockopts list, "key[=value],key[=value]...", into so, for a
 * listener of class cls; an option that does not fit cls is an error. */
int sockopt_parse_list(const char *list, unsigned cls, struct sockopts *so,
                       char *err, size_t errlen);
/* The options in effect on a listener of class cls: its own, else the
 * global ones that fit it, else the defaults (backlog: default_backlog,
 * v6only on, mode 0777, reuseaddr on). out->name is always NULL: the name
 * stays with own, so out needs no sockopt_free. */
void sockopt_merge(const struct sockopts *global, const struct sockopts *own,
                   unsigned cls, long default_backlog, struct sockopts *out);
/* Free so's name (NULL after). The values need no freeing. */
void sockopt_free(struct sockopts *so);

/* A global flag that fits none of the listeners is a usage error. */
int sockopt_check_global(const struct sockopts *global, const unsigned *cls,
                         size_t n, char *err, size_t errlen);

/* Stages of binding at which options are set. */
enum sockopt_stage { SOCKOPT_BEFORE_BIND, SOCKOPT_BEFORE_LISTEN };
/* Set the options of so that belong to this stage on fd; name is the
 * listener for messages. -1 with "cannot set X on NAME: cause" in err. */
int sockopt_apply(int fd, const struct sockopts *so, unsigned cls,
                  enum sockopt_stage stage, const char *name, char *err,
                  size_t errlen);
/* Set the options of so that are the fd's, not the socket's (O_NONBLOCK),
 * and those only: unlike socket options they can change on a socket that
 * is already bound and listening, as one taken back across a re-exec from
 * a baton that did not set them. -1 with "cannot set X on NAME: cause". */
int sockopt_apply_file(int fd, const struct sockopts *so, unsigned cls,
                       const char *name, char *err, size_t errlen);
/* Read the options of a TCP or UDP socket back from the kernel. */
int sockopt_read(int fd, unsigned cls, struct sockopts_read *r,
                 const char *name, char *err, size_t errlen);

void sockopt_kernel_read(struct sockopt_kernel *k);

/* Describe the options given, for the log: "backlog 128, defer-accept
 * 5 s -> 7 s effective (...), nodelay on"; "" when none was given. */
void sockopt_describe(const struct sockopts *so, const struct sockopts_read *r,
                      unsigned cls, char *buf, size_t len);
/* The same as "key=value" words, for the --check table. */
void sockopt_words(const struct sockopts *so, const struct sockopts_read *r,
                   unsigned cls, char *buf, size_t len);
/* The effective options as JSON members: "backlog":128,"nodelay":true,...
 * followed by "requested":{...} for the options given. */
void sockopt_json(FILE *f, const struct sockopts *so,
                  const struct sockopts_read *r, unsigned cls);
/* Each warning or note about what the kernel did with so (clamped backlog,
 * rounded defer-accept, capped buffers, Fast Open disabled by sysctl):
 * note(warn, message), warn 1 for a warning, 0 for information. */
void sockopt_notes(const struct sockopts *so, const struct sockopts_read *r,
                   unsigned cls, const struct sockopt_kernel *k,
                   const char *name,
                   void (*note)(int warn, const char *msg, void *arg),
                   void *arg);
/* The value of id as messages say it: "5 s", "on", "0660", "www-data". */
void sockopt_value_text(enum sockopt_id id, long v, char *buf, size_t len);
/* The owner and group asked for, as chown(1) spells them: "www:www",
 * "www", ":www". */
const char *sockopt_owner_text(const struct sockopts *so, char *buf,
                               size_t len);
/* The protocol of a well-known port where the server speaks first
 * ("SMTP" for 25), NULL for any other port. */
const char *sockopt_speaks_first(int port);
/* The kernel limits as lines for --check. */
void sockopt_print_kernel(FILE *f, const struct sockopt_kernel *k);

/* A decimal integer from min to max: digits only (no sign, no space,
 * nothing after). 0, or -1 when s is not one. */
int sockopt_parse_long(const char *s, long min, long max, long *out);

#endif
