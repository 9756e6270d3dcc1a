/* SPDX-License-Identifier: ISC */
/* parse.c: SERVER_STARTER_PORT and LISTEN_* strings to a set of entries. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Room for a quoted piece of input in a message. */
#define QUOTE_MAX 160

static void
free_set(baton_listeners *ls)
{
	if (ls == NULL)
		return;
	free(ls->v);
	free(ls->keys);
	free(ls);
}

/* Strict decimal: digits only, no sign, no blanks, no overflow past @p max.
 */
static int
parse_decimal(const char *s, size_t len, long max, long *out)
{
	long v = 0;

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (max - (s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static baton_listeners *
new_set(int source, size_t cap, const char *keys, size_t keyslen)
{
	baton_listeners *ls = calloc(1, sizeof *ls);

	if (ls == NULL)
		return NULL;
	ls->source = source;
	ls->v = calloc(cap ? cap : 1, sizeof *ls->v);
	ls->keys = malloc(keyslen + 1);
	if (ls->v == NULL || ls->keys == NULL) {
		free_set(ls);
		return NULL;
	}
	memcpy(ls->keys, keys, keyslen);
	ls->keys[keyslen] = '\0';
	return ls;
}

static int
fail_entry(const char *entry, size_t len, const char *what)
{
	char q[QUOTE_MAX];

	return baton__fail(EINVAL, "SERVER_STARTER_PORT entry \"%s\" %s",
	                   baton__quote(q, sizeof q, entry, len), what);
}

int
baton__parse_server_starter(const char *value, baton_listeners **out)
{
	size_t len = strlen(value), nseg = 1;
	baton_listeners *ls;

	*out = NULL;
	for (size_t i = 0; i < len; i++)
		if (value[i] == ';')
			nseg++;
	if (nseg > BATON__MAX_LISTENERS)
		return baton__fail(E2BIG,
		                   "SERVER_STARTER_PORT has %zu entries; "
		                   "at most %d are accepted",
		                   nseg, BATON__MAX_LISTENERS);
	ls = new_set(BATON_SOURCE_SERVER_STARTER, nseg, value, len);
	if (ls == NULL)
		return baton__fail(ENOMEM,
		                   "cannot read SERVER_STARTER_PORT: %s",
		                   strerror(ENOMEM));

	/* Split a copy in place: each ';' and each entry's last '=' become
	 * NULs, and the keys point into the copy. */
	for (char *seg = ls->keys, *next; seg != NULL; seg = next) {
		const char *entry = value + (seg - ls->keys);
		char *semi = strchr(seg, ';'), *eq;
		size_t seglen;
		long fd;

		if (semi != NULL) {
			*semi = '\0';
			next = semi + 1;
		} else {
			next = NULL;
		}
		seglen = strlen(seg);
		/* start_server's own reader (Perl split) ignores empty
		 * fields, such as the one after a trailing ';'. */
		if (seglen == 0)
			continue;
		/* The last '=': an fd never holds one, a path may. */
		eq = strrchr(seg, '=');
		if (eq == NULL) {
			free_set(ls);
			return fail_entry(entry, seglen, "has no '='");
		}
		if (eq == seg) {
			free_set(ls);
			return fail_entry(entry, seglen, "has an empty key");
		}
		if (parse_decimal(eq + 1, strlen(eq + 1), INT_MAX, &fd) < 0) {
			free_set(ls);
			return fail_entry(entry, seglen,
			                  "has no valid fd number after '='");
		}
		*eq = '\0';
		for (size_t i = 0; i < ls->count; i++) {
			if (strcmp(ls->v[i].key, seg) == 0) {
				free_set(ls);
				return fail_entry(entry, seglen,
				                  "repeats a key");
			}
			if (ls->v[i].fd == fd) {
				free_set(ls);
				return fail_entry(entry, seglen,
				                  "names an fd that another "
				                  "entry names");
			}
		}
		ls->v[ls->count].fd = (int)fd;
		ls->v[ls->count].key = seg;
		ls->count++;
	}
	*out = ls;
	return 0;
}

int
baton__parse_systemd(const char *pid, const char *fds, const char *names,
                     pid_t self, baton_listeners **out)
{
	char q[QUOTE_MAX];
	long p, n;
	size_t nnames = 0, nameslen;
	baton_listeners *ls;

	*out = NULL;
	/* As sd_listen_fds(): without both variables nothing was passed. */
	if (pid == NULL || fds == NULL)
		return 0;
	if (parse_decimal(pid, strlen(pid), INT_MAX, &p) < 0 || p == 0)
		return baton__fail(EINVAL, "LISTEN_PID=\"%s\" is not a pid",
		                   baton__quote(q, sizeof q, pid, strlen(pid)));
	/* Meant for another process (an ancestor that did not unset it):
	 * not ours, and not an error. */
	if ((pid_t)p != self)
		return 0;
	if (strspn(fds, "0123456789") != strlen(fds) || fds[0] == '\0')
		return baton__fail(EINVAL,
		                   "LISTEN_FDS=\"%s\" is not a number of fds",
		                   baton__quote(q, sizeof q, fds, strlen(fds)));
	if (parse_decimal(fds, strlen(fds), BATON__MAX_LISTENERS, &n) < 0)
		return baton__fail(E2BIG,
		                   "LISTEN_FDS=\"%s\": at most %d fds are "
		                   "accepted",
		                   baton__quote(q, sizeof q, fds, strlen(fds)),
		                   BATON__MAX_LISTENERS);

	nameslen = names != NULL ? strlen(names) : 0;
	if (names != NULL && nameslen > 0) {
		nnames = 1;
		for (size_t i = 0; i < nameslen; i++)
			if (names[i] == ':')
				nnames++;
	}
	if (names != NULL && nnames != (size_t)n)
		return baton__fail(EINVAL,
		                   "LISTEN_FDNAMES=\"%s\" has %zu names for "
		                   "LISTEN_FDS=%ld",
		                   baton__quote(q, sizeof q, names, nameslen),
		                   nnames, n);

	ls = new_set(BATON_SOURCE_SYSTEMD, (size_t)n,
	             names != NULL ? names : "unknown",
	             names != NULL ? nameslen : strlen("unknown"));
	if (ls == NULL)
		return baton__fail(ENOMEM, "cannot read LISTEN_FDS: %s",
		                   strerror(ENOMEM));
	char *name = ls->keys;
	for (long i = 0; i < n; i++) {
		char *colon = NULL;

		if (names != NULL) {
			colon = strchr(name, ':');
			if (colon != NULL)
				*colon = '\0';
			if (strlen(name) > BATON__MAX_FDNAME) {
				baton__fail(EINVAL,
				            "LISTEN_FDNAMES name \"%s\" is "
				            "longer than %d bytes",
				            baton__quote(q, sizeof q, name,
				                         strlen(name)),
				            BATON__MAX_FDNAME);
				free_set(ls); /* name points into it */
				return -1;
			}
		}
		ls->v[i].fd = 3 + (int)i;
		ls->v[i].key = name; /* "unknown" shared when unnamed */
		if (colon != NULL)
			name = colon + 1;
	}
	ls->count = (size_t)n;
	*out = ls;
	return 1;
}

void
baton_listeners_free(baton_listeners *ls)
{
	free_set(ls);
}
