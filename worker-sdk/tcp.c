/* SPDX-License-Identifier: ISC */
/* tcp.c: the per-connection TCP options a worker sets on the sockets it
 * accepts (TCP_CORK, TCP_QUICKACK), which a listener cannot give it. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"

/* One boolean TCP option on a connection; what names the call and the
 * option for baton_errmsg(). */
static int
set_flag(const char *fn, const char *opt, int name, int fd, int on)
{
	int v = on ? 1 : 0;

	baton__clear_error();
	if (setsockopt(fd, IPPROTO_TCP, name, &v, sizeof(v)) < 0) {
		int e = errno;

		return baton__fail(e, "%s: cannot set %s %s on fd %d: %s", fn,
		                   opt, v ? "on" : "off", fd, strerror(e));
	}
	return 0;
}

int
baton_cork(int fd, int on)
{
	/* uncorking is what sends a partial last segment: setting
	 * TCP_CORK to 0 pushes whatever waits (tcp(7)) */
	return set_flag("baton_cork", "TCP_CORK", TCP_CORK, fd, on);
}

int
baton_quickack(int fd, int on)
{
	/* not sticky: the kernel leaves quick-ack mode on its own, so
	 * callers set it again after each read (tcp(7)) */
	return set_flag("baton_quickack", "TCP_QUICKACK", TCP_QUICKACK, fd, on);
}
