/* SPDX-License-Identifier: ISC */
/* tcpaddr.c: a passive TCP address as --metrics-listen takes it:
 * ADDR:PORT, [V6]:PORT or PORT (every IPv4 address), numeric only. */
#include "config.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "tcpaddr.h"

int
tcpaddr_resolve(const char *v, struct addrinfo **res, char *err, size_t errlen)
{
	struct addrinfo hints;
	char host[256] = "";
	const char *port = v, *colon = strrchr(v, ':');
	int rc;

	if (v[0] == '[') {
		const char *end = strchr(v, ']');

		if (end == NULL || end[1] != ':' || (size_t)(end - v) > 255)
			goto bad;
		memcpy(host, v + 1, (size_t)(end - v - 1));
		port = end + 2;
	} else if (colon) {
		if ((size_t)(colon - v) > 255 || memchr(v, ':', colon - v))
			goto bad;
		memcpy(host, v, (size_t)(colon - v));
		port = colon + 1;
	}
	if (*port == '\0' || strspn(port, "0123456789") != strlen(port) ||
	    strlen(port) > 5 || atoi(port) < 1 || atoi(port) > 65535)
		goto bad;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = host[0] ? AF_UNSPEC : AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((rc = getaddrinfo(host[0] ? host : NULL, port, &hints, res)) != 0) {
		snprintf(err, errlen, "%s", gai_strerror(rc));
		return -1;
	}
	return 0;
bad:
	snprintf(err, errlen,
	         "use ADDR:PORT, [IPV6]:PORT or PORT (a numeric address)");
	return -1;
}

int
tcpaddr_check(const char *v, char *err, size_t errlen)
{
	struct addrinfo *res;

	if (tcpaddr_resolve(v, &res, err, errlen) < 0)
		return -1;
	freeaddrinfo(res);
	return 0;
}
