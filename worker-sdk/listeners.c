/* SPDX-License-Identifier: ISC */
/* listeners.c: the public listener API: open from the environment, look up,
 * read. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static int
finish(baton_listeners *ls, unsigned flags, baton_listeners **out)
{
	if (baton__verify(ls, flags) < 0) {
		int e = errno;

		baton_listeners_free(ls);
		errno = e;
		return -1;
	}
	*out = ls;
	return 0;
}

int
baton_listeners_parse(baton_listeners **out, const char *value, unsigned flags)
{
	baton_listeners *ls;

	if (out == NULL || value == NULL)
		return baton__fail(EINVAL, "baton_listeners_parse: %s is NULL",
		                   out == NULL ? "out" : "value");
	*out = NULL;
	baton__clear_error();
	if (baton__parse_server_starter(value, &ls) < 0)
		return -1;
	return finish(ls, flags, out);
}

static void
unset_systemd_env(void)
{
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

int
baton_listeners_open(baton_listeners **out, unsigned flags)
{
	unsigned src = flags & (BATON_SERVER_STARTER | BATON_SYSTEMD);
	const char *ssp, *pid;
	baton_listeners *ls;
	int r;

	if (out == NULL)
		return baton__fail(EINVAL, "baton_listeners_open: out is NULL");
	*out = NULL;
	baton__clear_error();
	if (src == 0)
		src = BATON_SERVER_STARTER | BATON_SYSTEMD;

	ssp = getenv("SERVER_STARTER_PORT");
	if ((src & BATON_SERVER_STARTER) && ssp != NULL) {
		if (baton__parse_server_starter(ssp, &ls) < 0)
			return -1;
		return finish(ls, flags, out);
	}
	if (src & BATON_SYSTEMD) {
		pid = getenv("LISTEN_PID");
		r = baton__parse_systemd(pid, getenv("LISTEN_FDS"),
		                         getenv("LISTEN_FDNAMES"), getpid(),
		                         &ls);
		if (flags & BATON_UNSET_ENV)
			unset_systemd_env();
		if (r < 0)
			return -1;
		if (r > 0)
			return finish(ls, flags, out);
		if (pid != NULL && getenv("LISTEN_FDS") != NULL)
			return baton__fail(
			    ENOENT,
			    "no inherited listeners: LISTEN_PID "
			    "names another process (this is %ld)%s",
			    (long)getpid(),
			    (src & BATON_SERVER_STARTER)
			        ? " and SERVER_STARTER_PORT is "
			          "not set"
			        : "");
	}
	if (src == BATON_SERVER_STARTER)
		return baton__fail(ENOENT, "no inherited listeners: "
		                           "SERVER_STARTER_PORT is not set");
	if (src == BATON_SYSTEMD)
		return baton__fail(ENOENT,
		                   "no inherited listeners: "
		                   "LISTEN_PID and LISTEN_FDS are not set");
	return baton__fail(ENOENT,
	                   "no inherited listeners: neither "
	                   "SERVER_STARTER_PORT nor LISTEN_PID and LISTEN_FDS "
	                   "are set");
}

void
baton_listeners_close(baton_listeners *ls, const baton_listener *keep)
{
	if (ls == NULL)
		return;
	for (size_t i = 0; i < ls->count; i++)
		if (&ls->v[i] != keep)
			close(ls->v[i].fd);
	baton_listeners_free(ls);
}

int
baton_listeners_source(const baton_listeners *ls)
{
	return ls->source;
}

size_t
baton_listeners_count(const baton_listeners *ls)
{
	return ls->count;
}

const baton_listener *
baton_listeners_get(const baton_listeners *ls, size_t i)
{
	if (i >= ls->count) {
		baton__fail(ERANGE,
		            "listener index %zu is out of range (%zu "
		            "listeners)",
		            i, ls->count);
		return NULL;
	}
	return &ls->v[i];
}

/* "none" or a list of the keys there are, for a not-found message. */
static const char *
known_keys(const baton_listeners *ls, char *buf, size_t len)
{
	size_t o = 0;

	if (ls->count == 0)
		return "none";
	buf[0] = '\0';
	for (size_t i = 0; i < ls->count && o < len; i++) {
		char q[96];
		int n = snprintf(buf + o, len - o, "%s\"%s\"", i ? ", " : "",
		                 baton__quote(q, sizeof q, ls->v[i].key,
		                              strlen(ls->v[i].key)));
		if (n < 0)
			break;
		o += (size_t)n;
	}
	return buf;
}

const baton_listener *
baton_listeners_find(const baton_listeners *ls, const char *key)
{
	char q[160], have[240];

	for (size_t i = 0; i < ls->count; i++)
		if (strcmp(ls->v[i].key, key) == 0)
			return &ls->v[i];
	baton__fail(ENOENT,
	            "no inherited listener has the key \"%s\" (keys: %s)",
	            baton__quote(q, sizeof q, key, strlen(key)),
	            known_keys(ls, have, sizeof have));
	return NULL;
}

const baton_listener *
baton_listeners_find_port(const baton_listeners *ls, int port)
{
	for (size_t i = 0; i < ls->count; i++)
		if (ls->v[i].family != AF_UNIX && ls->v[i].port == port)
			return &ls->v[i];
	baton__fail(ENOENT, "no inherited listener is bound to port %d", port);
	return NULL;
}

const baton_listener *
baton_listeners_find_path(const baton_listeners *ls, const char *path)
{
	char q[160];

	for (size_t i = 0; i < ls->count; i++)
		if (ls->v[i].family == AF_UNIX &&
		    strcmp(ls->v[i].address, path) == 0)
			return &ls->v[i];
	baton__fail(ENOENT, "no inherited listener is bound to path \"%s\"",
	            baton__quote(q, sizeof q, path, strlen(path)));
	return NULL;
}

int
baton_listener_fd(const baton_listener *l)
{
	return l->fd;
}

const char *
baton_listener_key(const baton_listener *l)
{
	return l->key;
}

int
baton_listener_family(const baton_listener *l)
{
	return l->family;
}

int
baton_listener_socktype(const baton_listener *l)
{
	return l->socktype;
}

int
baton_listener_listening(const baton_listener *l)
{
	return l->listening;
}

const struct sockaddr *
baton_listener_sockaddr(const baton_listener *l, socklen_t *len)
{
	if (len != NULL)
		*len = l->addrlen;
	return (const struct sockaddr *)&l->addr;
}

int
baton_listener_port(const baton_listener *l)
{
	return l->port;
}

const char *
baton_listener_path(const baton_listener *l)
{
	return l->family == AF_UNIX ? l->address : NULL;
}

const char *
baton_listener_address(const baton_listener *l)
{
	return l->address;
}
