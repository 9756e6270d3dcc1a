/* SPDX-License-Identifier: ISC */
/* notify.c: sd_notify-protocol messages to the supervisor, and the worker's
 * generation. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal.h"

#define NOTIFY_MAX 4096

int
baton_notify(const char *state)
{
	struct sockaddr_un sun;
	const char *e = getenv("NOTIFY_SOCKET");
	char q[160];
	socklen_t len;
	size_t n, statelen;
	ssize_t sent;
	int fd, err;

	baton__clear_error();
	if (state == NULL || state[0] == '\0')
		return baton__fail(EINVAL, "baton_notify: the state is empty");
	if (e == NULL || e[0] == '\0')
		return 0;

	n = strlen(e);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (e[0] != '/' && e[0] != '@')
		return baton__fail(
		    EINVAL,
		    "NOTIFY_SOCKET=\"%s\" is neither an absolute "
		    "path nor an abstract name (@name)",
		    baton__quote(q, sizeof q, e, n));
	if (n > sizeof sun.sun_path ||
	    (e[0] == '/' && n == sizeof sun.sun_path))
		return baton__fail(ENAMETOOLONG,
		                   "NOTIFY_SOCKET=\"%s\" is longer than a unix "
		                   "socket address can be",
		                   baton__quote(q, sizeof q, e, n));
	memcpy(sun.sun_path, e, n);
	if (e[0] == '@')
		sun.sun_path[0] = '\0'; /* abstract: no terminating NUL */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	                  (e[0] == '/'));

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		err = errno;
		return baton__fail(err,
		                   "cannot create a socket for NOTIFY_SOCKET: "
		                   "%s",
		                   strerror(err));
	}
	statelen = strlen(state);
	do
		sent = sendto(fd, state, statelen, MSG_NOSIGNAL,
		              (struct sockaddr *)&sun, len);
	while (sent == -1 && errno == EINTR);
	err = errno;
	close(fd);
	if (sent == -1)
		return baton__fail(
		    err, "cannot send to NOTIFY_SOCKET=\"%s\": %s",
		    baton__quote(q, sizeof q, e, n), strerror(err));
	return 1;
}

int
baton_notifyf(const char *fmt, ...)
{
	char buf[NOTIFY_MAX + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return baton__fail(EINVAL, "baton_notifyf: bad format");
	if ((size_t)n >= sizeof buf)
		return baton__fail(EMSGSIZE,
		                   "baton_notifyf: the state is %d bytes, "
		                   "more than %d",
		                   n, NOTIFY_MAX);
	return baton_notify(buf);
}

long
baton_generation(void)
{
	const char *e = getenv("SERVER_STARTER_GENERATION");
	char q[64];
	long v = 0;

	baton__clear_error();
	if (e == NULL)
		return baton__fail(ENOENT,
		                   "SERVER_STARTER_GENERATION is not set");
	for (const char *p = e;; p++) {
		if (*p == '\0' && p != e)
			return v;
		if (*p < '0' || *p > '9' || v > (LONG_MAX - 9) / 10)
			break;
		v = v * 10 + (*p - '0');
	}
	return baton__fail(EINVAL,
	                   "SERVER_STARTER_GENERATION=\"%s\" is not a "
	                   "generation number",
	                   baton__quote(q, sizeof q, e, strlen(e)));
}
