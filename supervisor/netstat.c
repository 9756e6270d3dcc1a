/* SPDX-License-Identifier: ISC */
/* netstat.c: the network namespace's TCP counters, read by name from
 * /proc/net/netstat and /proc/net/snmp. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netstat.h"

/* /proc/net/netstat is some 4 kB on 6.x (TcpExt, IpExt, MPTcpExt), snmp
 * some 2 kB; room for what later kernels add. */
#define NETSTAT_BUF 32768

/* The start of the next line of text starting "SECTION: ", or NULL. */
static const char *
section_line(const char *text, const char *section)
{
	size_t n = strlen(section);

	while (text != NULL && *text != '\0') {
		if (strncmp(text, section, n) == 0 && text[n] == ':' &&
		    (text[n + 1] == ' ' || text[n + 1] == '\n'))
			return text + n + 1;
		text = strchr(text, '\n');
		text = text != NULL ? text + 1 : NULL;
	}
	return NULL;
}

/* The length of the token at s (up to a blank or the line's end). */
static size_t
token_len(const char *s)
{
	return strcspn(s, " \t\n");
}

/* s past its blanks (not past the line's end). */
static const char *
skip_blanks(const char *s)
{
	return s + strspn(s, " \t");
}

int
netstat_field(const char *text, const char *section, const char *name,
              uint64_t *v)
{
	const char *names = section_line(text, section), *values;
	size_t nlen = strlen(name);

	values =
	    names != NULL ? section_line(strchr(names, '\n'), section) : NULL;
	if (values == NULL)
		goto absent;
	/* the two lines in step, token by token */
	for (;;) {
		size_t tn, tv;

		names = skip_blanks(names);
		values = skip_blanks(values);
		tn = token_len(names);
		tv = token_len(values);
		if (tn == 0 || tv == 0)
			goto absent;
		if (tn == nlen && strncmp(names, name, nlen) == 0) {
			char *end;

			if (*values < '0' || *values > '9')
				goto absent;
			errno = 0;
			*v = strtoull(values, &end, 10);
			if (errno != 0 || (size_t)(end - values) != tv)
				goto absent;
			return 0;
		}
		names += tn;
		values += tv;
	}
absent:
	errno = EPROTO;
	return -1;
}

void
netstat_parse(const char *netstat, const char *snmp, struct netstat *c)
{
	static const struct {
		const char *section, *name;
		unsigned bit;
		size_t off;
	} rows[] = {
	    {"TcpExt", "ListenOverflows", NETSTAT_HAS_LISTEN_OVERFLOWS,
	     offsetof(struct netstat, listen_overflows)},
	    {"TcpExt", "ListenDrops", NETSTAT_HAS_LISTEN_DROPS,
	     offsetof(struct netstat, listen_drops)},
	    {"TcpExt", "TCPAbortOnClose", NETSTAT_HAS_ABORT_ON_CLOSE,
	     offsetof(struct netstat, abort_on_close)},
	    {"TcpExt", "TCPDeferAcceptDrop", NETSTAT_HAS_DEFER_ACCEPT_DROP,
	     offsetof(struct netstat, defer_accept_drop)},
	    {"Tcp", "OutRsts", NETSTAT_HAS_OUT_RSTS,
	     offsetof(struct netstat, out_rsts)},
	};
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *text =
		    rows[i].bit == NETSTAT_HAS_OUT_RSTS ? snmp : netstat;
		uint64_t v;

		if (text != NULL && netstat_field(text, rows[i].section,
		                                  rows[i].name, &v) == 0) {
			memcpy((char *)c + rows[i].off, &v, sizeof(v));
			c->have |= rows[i].bit;
		}
	}
}

int
netstat_read_file(const char *path, char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	while (off < len - 1 && (n = read(fd, buf + off, len - 1 - off)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	return 0;
}

int
netstat_read(struct netstat *c)
{
	char *ext = malloc(NETSTAT_BUF), *snmp = malloc(NETSTAT_BUF);
	int e_ok, s_ok, saved;

	if (ext == NULL || snmp == NULL) {
		free(ext);
		free(snmp);
		memset(c, 0, sizeof(*c));
		errno = ENOMEM;
		return -1;
	}
	e_ok = netstat_read_file("/proc/net/netstat", ext, NETSTAT_BUF) == 0;
	saved = errno; /* the first file's error, when both fail */
	s_ok = netstat_read_file("/proc/net/snmp", snmp, NETSTAT_BUF) == 0;
	netstat_parse(e_ok ? ext : NULL, s_ok ? snmp : NULL, c);
	free(ext);
	free(snmp);
	if (!e_ok && !s_ok) {
		errno = saved;
		return -1;
	}
	return 0;
}

uint64_t
netstat_delta(const struct netstat *then, const struct netstat *now,
              unsigned bit)
{
	uint64_t a, b;

	if (!(then->have & bit) || !(now->have & bit))
		return 0;
	switch (bit) {
	case NETSTAT_HAS_LISTEN_OVERFLOWS:
		a = then->listen_overflows, b = now->listen_overflows;
		break;
	case NETSTAT_HAS_LISTEN_DROPS:
		a = then->listen_drops, b = now->listen_drops;
		break;
	case NETSTAT_HAS_ABORT_ON_CLOSE:
		a = then->abort_on_close, b = now->abort_on_close;
		break;
	case NETSTAT_HAS_OUT_RSTS:
		a = then->out_rsts, b = now->out_rsts;
		break;
	case NETSTAT_HAS_DEFER_ACCEPT_DROP:
		a = then->defer_accept_drop, b = now->defer_accept_drop;
		break;
	default:
		return 0;
	}
	return b >= a ? b - a : 0;
}
