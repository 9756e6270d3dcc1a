/* SPDX-License-Identifier: ISC */
/* fuzz-env.c: libFuzzer target for the SERVER_STARTER_PORT and LISTEN_*
 * parsers and the fd checks behind them. */

/*
 * Input: the first byte picks the parser (even: SERVER_STARTER_PORT, odd:
 * systemd), the rest is the variable's value, or for systemd up to three
 * '\n'-separated values LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES (a missing
 * one is unset). LISTEN_PID matches when it is 4242.
 *
 * So that the fd checks and the key matching run on real sockets, the
 * target holds a few at fixed numbers (the seed corpus names them):
 *   100  TCP  127.0.0.1:47811 listening     101  TCP [::1]:47812 listening
 *   102  UDP  127.0.0.1:47813               103  unix @baton-fuzz listening
 *   104  TCP  connected (not listening)     105  a pipe (not a socket)
 * and, where fds 3-6 are free, the same sockets as 3-6 for LISTEN_FDS.
 * A port that is taken falls back to one the kernel chooses.
 *
 * Beyond "no crash, no leak, no UB", it checks that every error message is
 * printable: the library quotes hostile input, and a caller prints it.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
bound(int family, int type, const char *host, int port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(family, type, 0), one = 1;

	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&ss, 0, sizeof ss);
	for (int attempt = 0; attempt < 2; attempt++) {
		if (family == AF_INET) {
			struct sockaddr_in *sin = (void *)&ss;

			sin->sin_family = AF_INET;
			sin->sin_port = htons(attempt ? 0 : port);
			inet_pton(AF_INET, host, &sin->sin_addr);
			len = sizeof *sin;
		} else {
			struct sockaddr_in6 *sin6 = (void *)&ss;

			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(attempt ? 0 : port);
			inet_pton(AF_INET6, host, &sin6->sin6_addr);
			len = sizeof *sin6;
		}
		if (bind(fd, (struct sockaddr *)&ss, len) == 0)
			break;
	}
	if (type == SOCK_STREAM)
		listen(fd, 8);
	return fd;
}

static void
place(int fd, int at)
{
	if (fd >= 0 && fd != at)
		dup2(fd, at);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_un sun;
	int fds[6], p[2], u, c;

	(void)argc;
	(void)argv;
	fds[0] = bound(AF_INET, SOCK_STREAM, "127.0.0.1", 47811);
	fds[1] = bound(AF_INET6, SOCK_STREAM, "::1", 47812);
	fds[2] = bound(AF_INET, SOCK_DGRAM, "127.0.0.1", 47813);
	u = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, "\0baton-fuzz", 11);
	if (bind(u, (struct sockaddr *)&sun,
	         offsetof(struct sockaddr_un, sun_path) + 11) == 0)
		listen(u, 8);
	fds[3] = u;
	c = socket(AF_INET, SOCK_STREAM, 0);
	{
		struct sockaddr_in to;

		memset(&to, 0, sizeof to);
		to.sin_family = AF_INET;
		to.sin_port = htons(47811);
		inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
		connect(c, (struct sockaddr *)&to, sizeof to);
	}
	fds[4] = c;
	if (pipe(p) == 0)
		fds[5] = p[0];
	for (int i = 0; i < 6; i++)
		place(fds[i], 100 + i);
	for (int i = 0; i < 4; i++)
		if (fcntl(3 + i, F_GETFD) == -1)
			dup2(100 + i, 3 + i);
	return 0;
}

static void
check_message(void)
{
	for (const char *m = baton_errmsg(); *m != '\0'; m++)
		if (*m < 0x20 || *m > 0x7e)
			__builtin_trap();
}

static void
look(baton_listeners *ls, const char *key)
{
	size_t n = baton_listeners_count(ls);

	for (size_t i = 0; i < n; i++) {
		const baton_listener *l = baton_listeners_get(ls, i);
		socklen_t len;

		if (l == NULL || baton_listener_key(l) == NULL ||
		    baton_listener_address(l) == NULL)
			__builtin_trap();
		(void)baton_listener_sockaddr(l, &len);
		(void)baton_listener_path(l);
	}
	if (baton_listeners_get(ls, n) != NULL)
		__builtin_trap();
	baton_listeners_find(ls, key);
	check_message();
	baton_listeners_find_port(ls, 47811);
	baton_listeners_find_path(ls, "@baton-fuzz");
	check_message();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	baton_listeners *ls = NULL;
	char *buf;
	int r;

	if (size < 1 || size > 16384)
		return 0;
	buf = malloc(size);
	if (buf == NULL)
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';

	if ((data[0] & 1) == 0) {
		r = baton__parse_server_starter(buf, &ls);
		if (r == 0 && ls != NULL)
			r = baton__verify(ls, BATON_INHERITABLE);
		check_message();
		if (ls != NULL)
			look(ls, buf);
	} else {
		char *part[3] = {NULL, NULL, NULL}, *s = buf;

		for (int i = 0; i < 3 && s != NULL; i++) {
			char *nl = strchr(s, '\n');

			part[i] = s;
			if (nl != NULL)
				*nl = '\0';
			s = nl != NULL ? nl + 1 : NULL;
		}
		r = baton__parse_systemd(part[0], part[1], part[2], 4242, &ls);
		if (r > 0)
			r = baton__verify(ls, BATON_INHERITABLE);
		check_message();
		if (ls != NULL)
			look(ls, part[2] != NULL ? part[2] : "unknown");
	}
	baton_listeners_free(ls);
	free(buf);
	return 0;
}
