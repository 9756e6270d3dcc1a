/* SPDX-License-Identifier: ISC */
/* internal.h: what libbaton's files share; not installed, not exported. */
#ifndef BATON_INTERNAL_H
#define BATON_INTERNAL_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "baton.h"

/* More entries than this is not a worker's environment but an attack or a
 * bug; refusing keeps every loop over the set small. */
#define BATON__MAX_LISTENERS 4096
/* systemd's limit on one LISTEN_FDNAMES name (systemd.socket(5)). */
#define BATON__MAX_FDNAME 255

struct baton_listener {
	int fd;
	const char *key; /* into baton_listeners.keys */
	int family;
	int socktype;
	int listening;
	int port;
	socklen_t addrlen;
	struct sockaddr_storage addr;
	/* "[v6]:port", or '@' + a whole sun_path + NUL */
	char address[sizeof(((struct sockaddr_un *)0)->sun_path) + 2];
};

struct baton_listeners {
	int source;
	size_t count;
	struct baton_listener *v;
	char *keys; /* one allocation holding every key */
};

/* error.c */
int baton__fail(int err, const char *fmt, ...) BATON_PRINTF(2, 3);
void baton__clear_error(void);
/* Write @p s (@p len bytes) into @p dst as a printable, quoted-safe string:
 * bytes outside 0x20-0x7e and '"' and '\\' become escapes; long input is
 * cut with "...". Returns dst. */
char *baton__quote(char *dst, size_t dstlen, const char *s, size_t len);

/* parse.c: parsing only, no system calls; the fuzz target's entry points. */
int baton__parse_server_starter(const char *value, baton_listeners **out);
/* Returns 1 and a set (fds 3..3+n-1, verified later) when the variables
 * address process @p self, 0 when they do not (LISTEN_PID or LISTEN_FDS unset,
 * another pid), -1 on malformed input. */
int baton__parse_systemd(const char *pid, const char *fds, const char *names,
                         pid_t self, baton_listeners **out);

/* verify.c: check every fd against its entry, then apply @p flags
 * (BATON_INHERITABLE). */
int baton__verify(baton_listeners *ls, unsigned flags);

#endif /* BATON_INTERNAL_H */
