/* SPDX-License-Identifier: ISC */
/* sockopt.c: listener options: parse, merge, set, read back, describe. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sockopt.h"

/* Seconds of TCP_DEFER_ACCEPT for a bare --defer-accept (31 s once the
 * kernel rounds it): a client that sends at once is accepted at once, one
 * that stays silent reaches a worker only after that long. */
#define DEFER_ACCEPT_DEFAULT 30

/* The def's level when it is not a socket option. */
#define LEVEL_NONE (-1)
#define LEVEL_FILE (-2)

enum vtype {
	V_COUNT,
	V_COUNT0,
	V_SECONDS,
	V_BOOL,
	V_SIZE,
	V_MODE,
	V_USER,
	V_GROUP
};

static const struct def {
	const char *key;   /* in --sockopts; NULL: not settable */
	const char *flag;  /* the global option */
	const char *cname; /* the socket option, for messages */
	const char *json;  /* member name in the JSON status */
	unsigned fits;     /* SOCKOPT_TCP | SOCKOPT_UDP | SOCKOPT_UNIX */
	int ipv6;          /* only on the IPv6 wildcard [::] */
	enum vtype type;
	int level, optname; /* level LEVEL_NONE: not a socket option;
	                       LEVEL_FILE: optname is a file status flag
	                       (fcntl F_SETFL), not a socket option */
	enum sockopt_stage stage;
} defs[SOCKOPT_COUNT] = {
    [SOCKOPT_BACKLOG] = {"backlog", "--backlog", "the listen backlog",
                         "backlog", SOCKOPT_TCP | SOCKOPT_UNIX, 0, V_COUNT, -1,
                         0, SOCKOPT_BEFORE_LISTEN},
    [SOCKOPT_DEFER_ACCEPT] = {"defer-accept", "--defer-accept",
                              "TCP_DEFER_ACCEPT", "defer_accept", SOCKOPT_TCP,
                              0, V_SECONDS, IPPROTO_TCP, TCP_DEFER_ACCEPT,
                              SOCKOPT_BEFORE_LISTEN},
    [SOCKOPT_FASTOPEN] = {"fastopen", "--fastopen", "TCP_FASTOPEN", "fastopen",
                          SOCKOPT_TCP, 0, V_COUNT0, IPPROTO_TCP, TCP_FASTOPEN,
                          SOCKOPT_BEFORE_LISTEN},
    [SOCKOPT_REUSEPORT] = {"reuseport", "--reuseport", "SO_REUSEPORT",
                           "reuseport", SOCKOPT_TCP | SOCKOPT_UDP, 0, V_BOOL,
                           SOL_SOCKET, SO_REUSEPORT, SOCKOPT_BEFORE_BIND},
    [SOCKOPT_V6ONLY] = {"v6only", "--dual-stack", "IPV6_V6ONLY", "v6only",
                        SOCKOPT_TCP | SOCKOPT_UDP, 1, V_BOOL, IPPROTO_IPV6,
                        IPV6_V6ONLY, SOCKOPT_BEFORE_BIND},
    [SOCKOPT_FREEBIND] = {"freebind", "--freebind", "IP_FREEBIND", "freebind",
                          SOCKOPT_TCP | SOCKOPT_UDP, 0, V_BOOL, IPPROTO_IP,
                          IP_FREEBIND, SOCKOPT_BEFORE_BIND},
    [SOCKOPT_NODELAY] = {"nodelay", "--nodelay", "TCP_NODELAY", "nodelay",
                         SOCKOPT_TCP, 0, V_BOOL, IPPROTO_TCP, TCP_NODELAY,
                         SOCKOPT_BEFORE_BIND},
    [SOCKOPT_CORK] = {"cork", "--cork", "TCP_CORK", "cork", SOCKOPT_TCP, 0,
                      V_BOOL, IPPROTO_TCP, TCP_CORK, SOCKOPT_BEFORE_BIND},
    [SOCKOPT_KEEPALIVE] = {"keepalive", "--keepalive", "SO_KEEPALIVE",
                           "keepalive", SOCKOPT_TCP, 0, V_BOOL, SOL_SOCKET,
                           SO_KEEPALIVE, SOCKOPT_BEFORE_BIND},
    [SOCKOPT_RCVBUF] = {"rcvbuf", "--rcvbuf", "SO_RCVBUF", "rcvbuf",
                        SOCKOPT_TCP | SOCKOPT_UDP, 0, V_SIZE, SOL_SOCKET,
                        SO_RCVBUF, SOCKOPT_BEFORE_BIND},
    [SOCKOPT_SNDBUF] = {"sndbuf", "--sndbuf", "SO_SNDBUF", "sndbuf",
                        SOCKOPT_TCP | SOCKOPT_UDP, 0, V_SIZE, SOL_SOCKET,
                        SO_SNDBUF, SOCKOPT_BEFORE_BIND},
    [SOCKOPT_MODE] = {"mode", "--socket-mode", "the mode", "mode", SOCKOPT_UNIX,
                      0, V_MODE, -1, 0, SOCKOPT_BEFORE_BIND},
    [SOCKOPT_OWNER] = {"owner", "--socket-owner", "the owner", "uid",
                       SOCKOPT_UNIX, 0, V_USER, -1, 0, SOCKOPT_BEFORE_BIND},
    [SOCKOPT_GROUP] = {"group", "--socket-group", "the group", "gid",
                       SOCKOPT_UNIX, 0, V_GROUP, -1, 0, SOCKOPT_BEFORE_BIND},
    /* O_NONBLOCK is the open file description's: baton, the workers and
     * every generation share it. nginx assumes an inherited listener is
     * non-blocking (its binary upgrade passes them so) and otherwise
     * sleeps in accept() after losing a race for a connection. */
    [SOCKOPT_NONBLOCK] = {"nonblock", "--nonblock", "O_NONBLOCK", "nonblock",
                          SOCKOPT_TCP | SOCKOPT_UDP | SOCKOPT_UNIX, 0, V_BOOL,
                          LEVEL_FILE, O_NONBLOCK, SOCKOPT_BEFORE_BIND},
    [SOCKOPT_REUSEADDR] = {NULL, NULL, "SO_REUSEADDR", "reuseaddr",
                           SOCKOPT_TCP | SOCKOPT_UDP, 0, V_BOOL, SOL_SOCKET,
                           SO_REUSEADDR, SOCKOPT_BEFORE_BIND},
};

/* The --sockopts keys that are no row of defs[]: another spelling of a
 * row's value, and the listener's name (a string, not a value). */
static const struct alias {
	const char *key;
	enum sockopt_id id;
	const char *value;
} aliases[] = {
    {"dual-stack", SOCKOPT_V6ONLY, "0"},
};
#define NAME_KEY "name"

#define BIT(id) (1u << (id))

const char *
sockopt_key(enum sockopt_id id)
{
	return defs[id].key;
}

const char *
sockopt_flag(enum sockopt_id id)
{
	return defs[id].flag;
}

int
sockopt_fits(enum sockopt_id id, unsigned cls)
{
	if ((defs[id].fits & cls) == 0)
		return 0;
	return !defs[id].ipv6 || (cls & SOCKOPT_IPV6_ANY);
}

/* Options set, read back and shown on a socket: those that fit, and
 * IPV6_V6ONLY on every IPv6 one (start_server sets it; the kernel forces
 * it on an address other than [::]). */
static int
shown(enum sockopt_id id, unsigned cls)
{
	return sockopt_fits(id, cls) ||
	       (id == SOCKOPT_V6ONLY && (cls & SOCKOPT_IPV6));
}

const char *
sockopt_fits_text(enum sockopt_id id)
{
	if (defs[id].ipv6)
		return "[::]:PORT listeners only (any other IPv6 address "
		       "takes IPv6 alone)";
	switch (defs[id].fits) {
	case SOCKOPT_TCP:
		return "TCP listeners only";
	case SOCKOPT_TCP | SOCKOPT_UDP:
		return "TCP and UDP listeners only";
	case SOCKOPT_TCP | SOCKOPT_UNIX:
		return "TCP and unix listeners only";
	case SOCKOPT_TCP | SOCKOPT_UDP | SOCKOPT_UNIX:
		return "any listener";
	default:
		return "unix listeners (--path) only";
	}
}

/* ---- values ------------------------------------------------------------ */

int
sockopt_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)*s))
		return -1; /* no sign, no space */
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_size(const char *s, long *out)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end == 'k' || *end == 'K')
		shift = 10;
	else if (*end == 'm' || *end == 'M')
		shift = 20;
	else if (*end == 'g' || *end == 'G')
		shift = 30;
	if (shift)
		end++;
	if (*end != '\0' || v == 0 || v > (unsigned long long)INT_MAX >> shift)
		return -1;
	*out = (long)(v << shift);
	return 0;
}

static int
parse_bool(const char *s, long *out)
{
	static const char *const on[] = {"1", "on", "yes", "true"};
	static const char *const off[] = {"0", "off", "no", "false"};
	size_t i;

	for (i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
		if (strcasecmp(s, on[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, off[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int
parse_id(enum vtype type, const char *s, long *out, char *err, size_t errlen)
{
	const char *what = type == V_USER ? "user" : "group";

	if (*s == '\0') {
		snprintf(err, errlen, "empty %s name", what);
		return -1;
	}
	if (isdigit((unsigned char)*s)) {
		/* (uid_t)-1 means "unchanged" to chown: not an id */
		if (sockopt_parse_long(s, 0, (long)UINT_MAX - 1, out) < 0) {
			snprintf(err, errlen, "not a %s name or number", what);
			return -1;
		}
		return 0;
	}
	errno = 0;
	if (type == V_USER) {
		struct passwd *pw = getpwnam(s);

		if (pw != NULL) {
			*out = (long)pw->pw_uid;
			return 0;
		}
	} else {
		struct group *gr = getgrnam(s);

		if (gr != NULL) {
			*out = (long)gr->gr_gid;
			return 0;
		}
	}
	if (errno != 0 && errno != ENOENT && errno != ESRCH)
		snprintf(err, errlen, "cannot look up %s %s: %s", what, s,
		         strerror(errno));
	else
		snprintf(err, errlen, "no such %s", what);
	return -1;
}

int
sockopt_parse_value(enum sockopt_id id, const char *s, long *out, char *err,
                    size_t errlen)
{
	enum vtype type = defs[id].type;

	if (s == NULL) {
		if (type == V_BOOL) {
			*out = 1;
			return 0;
		}
		if (type == V_SECONDS) {
			*out = DEFER_ACCEPT_DEFAULT;
			return 0;
		}
		snprintf(err, errlen, "a value is required");
		return -1;
	}
	switch (type) {
	case V_COUNT:
		if (sockopt_parse_long(s, 1, INT_MAX, out) == 0)
			return 0;
		snprintf(err, errlen, "not a positive integer");
		return -1;
	case V_COUNT0:
		if (sockopt_parse_long(s, 0, INT_MAX, out) == 0)
			return 0;
		snprintf(err, errlen, "not a queue length (0 to %d)", INT_MAX);
		return -1;
	case V_SECONDS:
		if (sockopt_parse_long(s, 0, INT_MAX, out) == 0)
			return 0;
		snprintf(err, errlen, "not a whole number of seconds");
		return -1;
	case V_BOOL:
		if (parse_bool(s, out) == 0)
			return 0;
		snprintf(err, errlen, "not on or off");
		return -1;
	case V_SIZE:
		if (parse_size(s, out) == 0)
			return 0;
		snprintf(err, errlen,
		         "not a size in bytes (N, Nk, Nm or Ng, at most %d)",
		         INT_MAX);
		return -1;
	case V_MODE: {
		size_t n = strlen(s);
		char *end;
		long v;

		if (n == 0 || n > 4 || strspn(s, "01234567") != n) {
			snprintf(err, errlen, "not an octal mode such as 0660");
			return -1;
		}
		v = strtol(s, &end, 8);
		if (v > 0777) {
			snprintf(err, errlen,
			         "only permission bits (0000 to 0777) may be "
			         "set");
			return -1;
		}
		*out = v;
		return 0;
	}
	case V_USER:
	case V_GROUP:
		return parse_id(type, s, out, err, errlen);
	}
	return -1;
}

int
sockopt_set(struct sockopts *so, enum sockopt_id id, const char *s, char *err,
            size_t errlen)
{
	long v;

	if (sockopt_parse_value(id, s, &v, err, errlen) < 0)
		return -1;
	/* a uid or gid above INT_MAX wraps; (uid_t) gives it back */
	so->val[id] = (int)v;
	so->given |= BIT(id);
	return 0;
}

/* What sd_listen_fds_with_names(3) accepts as a name: 1 to 255
 * printable ASCII characters, no ':' (the list separator). */
static int
sockopt_set_name(struct sockopts *so, const char *value, char *err,
                 size_t errlen)
{
	const char *p;

	if (value == NULL || *value == '\0' || strlen(value) > 255) {
		snprintf(err, errlen,
		         "name takes 1 to 255 characters: name=NAME");
		return -1;
	}
	for (p = value; *p; p++)
		if (*p == ':' || *p < 0x20 || *p > 0x7e) {
			snprintf(err, errlen,
			         "name=%s: only printable characters other "
			         "than ':' may be used",
			         value);
			return -1;
		}
	/* the last name= wins, as the last of any other option does */
	free(so->name);
	if ((so->name = strdup(value)) == NULL)
		abort();
	return 0;
}

void
sockopt_known_keys(char *buf, size_t len)
{
	size_t off = 0, i;
	int id;

	buf[0] = '\0';
	for (id = 0; id < SOCKOPT_COUNT && off < len; id++)
		if (defs[id].key)
			off += (size_t)snprintf(buf + off, len - off, "%s%s",
			                        off ? ", " : "", defs[id].key);
	for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]) && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, ", %s",
		                        aliases[i].key);
	if (off < len)
		snprintf(buf + off, len - off, ", %s", NAME_KEY);
}

/* The row that item names, by a key of defs[] or of aliases[] (then *value is
 * the alias's, when none was written). SOCKOPT_COUNT for any other. */
static int
find_key(const char *item, const char **value)
{
	size_t i;
	int id;

	for (id = 0; id < SOCKOPT_COUNT; id++)
		if (defs[id].key && strcmp(defs[id].key, item) == 0)
			return id;
	for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcmp(aliases[i].key, item) == 0 && *value == NULL) {
			*value = aliases[i].value;
			return aliases[i].id;
		}
	return SOCKOPT_COUNT;
}

/* One NAME[=VALUE] item of a --sockopts list into so. */
static int
parse_item(char *item, unsigned cls, struct sockopts *so, char *err,
           size_t errlen)
{
	char *eq = strchr(item, '='), cause[160], known[SOCKOPT_KEYS_LEN];
	const char *value = NULL;
	int id;

	if (eq != NULL) {
		*eq = '\0';
		value = eq + 1;
	}
	if (strcmp(item, NAME_KEY) == 0) /* a string: not one of defs[] */
		return sockopt_set_name(so, value, err, errlen);
	if (strcmp(item, "quickack") == 0) {
		/* the classic advice; it does nothing (inherit.c) */
		snprintf(err, errlen,
		         "quickack is not a listener option: the kernel does "
		         "not carry TCP_QUICKACK to accepted sockets (it is "
		         "each connection's delayed-ACK mode, which listen(2) "
		         "resets); a worker sets it on its connection "
		         "(baton_quickack(3))");
		return -1;
	}
	if ((id = find_key(item, &value)) == SOCKOPT_COUNT) {
		sockopt_known_keys(known, sizeof(known));
		snprintf(err, errlen, "unknown option \"%s\" (known: %s)", item,
		         known);
		return -1;
	}
	if (cls != 0 && !sockopt_fits((enum sockopt_id)id, cls)) {
		snprintf(err, errlen, "%s applies to %s", item,
		         sockopt_fits_text((enum sockopt_id)id));
		return -1;
	}
	if (sockopt_set(so, (enum sockopt_id)id, value, cause, sizeof(cause)) <
	    0) {
		if (value)
			snprintf(err, errlen, "%s=%s: %s", item, value, cause);
		else
			snprintf(err, errlen, "%s: %s", item, cause);
		return -1;
	}
	return 0;
}

int
sockopt_parse_list(const char *list, unsigned cls, struct sockopts *so,
                   char *err, size_t errlen)
{
	char *copy, *item, *save = NULL;
	int rc = 0;

	if (*list == '\0') {
		snprintf(err, errlen, "empty list");
		return -1;
	}
	/* strtok_r would skip empty fields: "a,,b" and ",a" are typos */
	if (strstr(list, ",,") || list[0] == ',' ||
	    list[strlen(list) - 1] == ',') {
		snprintf(err, errlen, "empty option in the list");
		return -1;
	}
	copy = strdup(list);
	if (copy == NULL)
		abort();
	for (item = strtok_r(copy, ",", &save); item != NULL && rc == 0;
	     item = strtok_r(NULL, ",", &save))
		rc = parse_item(item, cls, so, err, errlen);
	free(copy);
	return rc;
}

void
sockopt_merge(const struct sockopts *global, const struct sockopts *own,
              unsigned cls, long default_backlog, struct sockopts *out)
{
	int id;

	memset(out, 0, sizeof(*out));
	out->val[SOCKOPT_BACKLOG] = (int)default_backlog;
	out->val[SOCKOPT_V6ONLY] = 1;    /* as start_server */
	out->val[SOCKOPT_MODE] = 0777;   /* start_server binds under umask 0 */
	out->val[SOCKOPT_REUSEADDR] = 1; /* as start_server */
	out->val[SOCKOPT_OWNER] = -1;    /* unchanged */
	out->val[SOCKOPT_GROUP] = -1;
	for (id = 0; id < SOCKOPT_COUNT; id++) {
		if (!sockopt_fits((enum sockopt_id)id, cls))
			continue;
		if (own->given & BIT(id)) {
			out->val[id] = own->val[id];
			out->given |= BIT(id);
		} else if (global->given & BIT(id)) {
			out->val[id] = global->val[id];
			out->given |= BIT(id);
		}
	}
}

void
sockopt_free(struct sockopts *so)
{
	free(so->name);
	so->name = NULL;
}

int
sockopt_check_global(const struct sockopts *global, const unsigned *cls,
                     size_t n, char *err, size_t errlen)
{
	size_t i;
	int id;

	for (id = 0; id < SOCKOPT_COUNT; id++) {
		/* --backlog is start_server's: accepted whatever listeners */
		if (id == SOCKOPT_BACKLOG || !(global->given & BIT(id)))
			continue;
		for (i = 0; i < n; i++)
			if (sockopt_fits((enum sockopt_id)id, cls[i]))
				break;
		if (i == n) {
			snprintf(err, errlen,
			         "%s applies to %s, and there is none",
			         defs[id].flag,
			         sockopt_fits_text((enum sockopt_id)id));
			return -1;
		}
	}
	return 0;
}

/* Well-known ports where the server sends a greeting and the client waits
 * for it: TCP_DEFER_ACCEPT there holds every connection for the whole
 * defer period ("the MySQL greeting never comes until I type something").
 * Not here, though often listed with them: 465, 993 and 995 (implicit TLS:
 * the client's ClientHello is the first byte, the greeting follows the
 * handshake) and 5432 (a PostgreSQL client sends its startup message
 * first). SSH: both sides send a banner, but some clients wait for the
 * server's. */
static const struct {
	int port;
	const char *proto;
} speaks_first[] = {
    {21, "FTP"},     {22, "SSH"},   {25, "SMTP"},
    {110, "POP3"},   {143, "IMAP"}, {587, "SMTP submission"},
    {3306, "MySQL"},
};

const char *
sockopt_speaks_first(int port)
{
	size_t i;

	for (i = 0; i < sizeof(speaks_first) / sizeof(speaks_first[0]); i++)
		if (speaks_first[i].port == port)
			return speaks_first[i].proto;
	return NULL;
}

/* ---- the kernel -------------------------------------------------------- */

/* Turn file status flag bit (O_NONBLOCK) on or off on fd's open file
 * description. -1 with errno. */
static int
set_file_flag(int fd, int bit, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	if (!!(fl & bit) == !!on)
		return 0;
	return fcntl(fd, F_SETFL, on ? fl | bit : fl & ~bit);
}

int
sockopt_apply(int fd, const struct sockopts *so, unsigned cls,
              enum sockopt_stage stage, const char *name, char *err,
              size_t errlen)
{
	int id;

	for (id = 0; id < SOCKOPT_COUNT; id++) {
		const struct def *d = &defs[id];
		int v;

		if (d->level == LEVEL_NONE || d->stage != stage ||
		    !shown((enum sockopt_id)id, cls))
			continue;
		/* start_server's two; the rest only when asked for */
		if (!(so->given & BIT(id)) && id != SOCKOPT_REUSEADDR &&
		    id != SOCKOPT_V6ONLY)
			continue;
		v = (int)so->val[id];
		if (d->level == LEVEL_FILE) {
			if (set_file_flag(fd, d->optname, v) < 0) {
				snprintf(err, errlen, "cannot set %s on %s: %s",
				         d->cname, name, strerror(errno));
				return -1;
			}
			continue;
		}
		if (setsockopt(fd, d->level, d->optname, &v, sizeof(v)) < 0) {
			snprintf(err, errlen, "cannot set %s on %s: %s",
			         d->cname, name, strerror(errno));
			return -1;
		}
	}
	return 0;
}

int
sockopt_apply_file(int fd, const struct sockopts *so, unsigned cls,
                   const char *name, char *err, size_t errlen)
{
	int id;

	for (id = 0; id < SOCKOPT_COUNT; id++) {
		const struct def *d = &defs[id];

		if (d->level != LEVEL_FILE || !(so->given & BIT(id)) ||
		    !sockopt_fits((enum sockopt_id)id, cls))
			continue;
		if (set_file_flag(fd, d->optname, (int)so->val[id]) < 0) {
			snprintf(err, errlen, "cannot set %s on %s: %s",
			         d->cname, name, strerror(errno));
			return -1;
		}
	}
	return 0;
}

int
sockopt_read(int fd, unsigned cls, struct sockopts_read *r, const char *name,
             char *err, size_t errlen)
{
	int id;

	memset(r, 0, sizeof(*r));
	for (id = 0; id < SOCKOPT_COUNT; id++) {
		const struct def *d = &defs[id];
		socklen_t sl = sizeof(int);
		int v = 0;

		if (d->level == LEVEL_NONE || !shown((enum sockopt_id)id, cls))
			continue;
		if (d->level == LEVEL_FILE) {
			int fl = fcntl(fd, F_GETFL);

			if (fl < 0) {
				snprintf(err, errlen,
				         "cannot read %s back on %s: %s",
				         d->cname, name, strerror(errno));
				return -1;
			}
			r->val[id] = (fl & d->optname) != 0;
			r->got |= BIT(id);
			continue;
		}
		if (getsockopt(fd, d->level, d->optname, &v, &sl) < 0) {
			snprintf(err, errlen, "cannot read %s back on %s: %s",
			         d->cname, name, strerror(errno));
			return -1;
		}
		r->val[id] = v;
		r->got |= BIT(id);
	}
	if (cls & SOCKOPT_TCP) {
		/* for a listener, tcpi_sacked is sk_max_ack_backlog: the
		 * backlog after listen(2) clamped it */
		struct tcp_info ti;
		socklen_t sl = sizeof(ti);

		memset(&ti, 0, sizeof(ti));
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &sl) < 0) {
			snprintf(err, errlen, "cannot read TCP_INFO on %s: %s",
			         name, strerror(errno));
			return -1;
		}
		if (ti.tcpi_state == TCP_LISTEN) {
			r->val[SOCKOPT_BACKLOG] = (int)ti.tcpi_sacked;
			r->got |= BIT(SOCKOPT_BACKLOG);
		}
	}
	return 0;
}

static long
read_sysctl(const char *name)
{
	char path[128], buf[64];
	ssize_t n;
	long v;
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	v = strtol(buf, NULL, 10);
	return v < 0 ? -1 : v;
}

void
sockopt_kernel_read(struct sockopt_kernel *k)
{
	k->somaxconn = read_sysctl("net/core/somaxconn");
	k->max_syn_backlog = read_sysctl("net/ipv4/tcp_max_syn_backlog");
	k->syncookies = read_sysctl("net/ipv4/tcp_syncookies");
	k->fastopen = read_sysctl("net/ipv4/tcp_fastopen");
	k->rmem_max = read_sysctl("net/core/rmem_max");
	k->wmem_max = read_sysctl("net/core/wmem_max");
}

/* ---- describing -------------------------------------------------------- */

struct buf {
	char *p;
	size_t len, off;
};

static void put(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->off >= b->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->off, b->len - b->off, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->off += (size_t)n;
	if (b->off >= b->len)
		b->off = b->len - 1;
}

static void
id_name(enum sockopt_id id, long v, char *out, size_t len)
{
	if (id == SOCKOPT_OWNER) {
		struct passwd *pw = getpwuid((uid_t)v);

		if (pw != NULL) {
			snprintf(out, len, "%s", pw->pw_name);
			return;
		}
	} else {
		struct group *gr = getgrgid((gid_t)v);

		if (gr != NULL) {
			snprintf(out, len, "%s", gr->gr_name);
			return;
		}
	}
	/* an id is 32 bits, kept in an int: 4294967294 is stored as -2 */
	snprintf(out, len, "%lu", (unsigned long)(uint32_t)v);
}

/* The value of id as the log says it: "5 s", "on", "0660", "www-data". */
void
sockopt_value_text(enum sockopt_id id, long v, char *out, size_t len)
{
	switch (defs[id].type) {
	case V_BOOL:
		snprintf(out, len, "%s", v ? "on" : "off");
		break;
	case V_SECONDS:
		if (v == 0)
			snprintf(out, len, "off");
		else
			snprintf(out, len, "%ld s", v);
		break;
	case V_COUNT0:
		if (v == 0)
			snprintf(out, len, "off");
		else
			snprintf(out, len, "%ld", v);
		break;
	case V_MODE:
		snprintf(out, len, "%04lo", (unsigned long)v);
		break;
	case V_USER:
	case V_GROUP:
		id_name(id, v, out, len);
		break;
	default:
		snprintf(out, len, "%ld", v);
	}
}

void
sockopt_describe(const struct sockopts *so, const struct sockopts_read *r,
                 unsigned cls, char *out, size_t len)
{
	struct buf b = {out, len, 0};
	const char *sep = "";
	int id;

	out[0] = '\0';
	for (id = 0; id < SOCKOPT_COUNT; id++) {
		char asked[64], got[64];

		if (!sockopt_fits((enum sockopt_id)id, cls) ||
		    !(so->given & BIT(id)))
			continue;
		sockopt_value_text((enum sockopt_id)id, so->val[id], asked,
		                   sizeof(asked));
		put(&b, "%s%s %s", sep, defs[id].key, asked);
		sep = ", ";
		if (!(r->got & BIT(id)) || r->val[id] == so->val[id])
			continue;
		sockopt_value_text((enum sockopt_id)id, r->val[id], got,
		                   sizeof(got));
		put(&b, " -> %s effective", got);
		if (id == SOCKOPT_DEFER_ACCEPT && so->val[id] > 0)
			put(&b, " (the kernel rounds up to its SYN-ACK "
			        "retransmission schedule)");
	}
}

void
sockopt_words(const struct sockopts *so, const struct sockopts_read *r,
              unsigned cls, char *out, size_t len)
{
	/* REUSEADDR first, as it is always there on TCP and UDP; the
	 * backlog has a column of its own */
	static const enum sockopt_id order[] = {
	    SOCKOPT_REUSEADDR, SOCKOPT_DEFER_ACCEPT, SOCKOPT_FASTOPEN,
	    SOCKOPT_REUSEPORT, SOCKOPT_V6ONLY,       SOCKOPT_FREEBIND,
	    SOCKOPT_NODELAY,   SOCKOPT_CORK,         SOCKOPT_KEEPALIVE,
	    SOCKOPT_RCVBUF,    SOCKOPT_SNDBUF,       SOCKOPT_MODE,
	    SOCKOPT_OWNER,     SOCKOPT_GROUP,        SOCKOPT_NONBLOCK};
	struct buf b = {out, len, 0};
	const char *sep = "";
	size_t i;

	out[0] = '\0';
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		enum sockopt_id id = order[i];
		const char *key = defs[id].key ? defs[id].key : "reuseaddr";
		char value[64];
		long v;

		if (!shown(id, cls))
			continue;
		v = r->got & BIT(id) ? r->val[id] : so->val[id];
		if ((id == SOCKOPT_OWNER || id == SOCKOPT_GROUP) && v == -1)
			continue;
		if (defs[id].type == V_MODE)
			snprintf(value, sizeof(value), "%04lo",
			         (unsigned long)v);
		else if (defs[id].type == V_USER || defs[id].type == V_GROUP)
			id_name(id, v, value, sizeof(value));
		else
			snprintf(value, sizeof(value), "%ld", v);
		put(&b, "%s%s=%s", sep, key, value);
		sep = " ";
		if ((so->given & BIT(id)) && (r->got & BIT(id)) &&
		    r->val[id] != so->val[id])
			put(&b, "(asked=%d)", so->val[id]);
	}
}

void
sockopt_json(FILE *f, const struct sockopts *so, const struct sockopts_read *r,
             unsigned cls)
{
	const char *sep = "";
	int id, pass;

	for (pass = 0; pass < 2; pass++) {
		fputs(pass ? ",\"requested\":{" : "\"options\":{", f);
		sep = "";
		for (id = 0; id < SOCKOPT_COUNT; id++) {
			long v;

			if (!shown((enum sockopt_id)id, cls))
				continue;
			if (pass == 1 && !(so->given & BIT(id)))
				continue;
			v = pass == 0 && (r->got & BIT(id)) ? r->val[id]
			                                    : so->val[id];
			if ((id == SOCKOPT_OWNER || id == SOCKOPT_GROUP) &&
			    v == -1)
				continue;
			fprintf(f, "%s\"%s\":", sep, defs[id].json);
			if (defs[id].type == V_BOOL)
				fputs(v ? "true" : "false", f);
			else if (defs[id].type == V_MODE)
				fprintf(f, "\"%04lo\"", (unsigned long)v);
			else if (defs[id].type == V_USER ||
			         defs[id].type == V_GROUP)
				fprintf(f, "%lu", (unsigned long)(uint32_t)v);
			else
				fprintf(f, "%ld", v);
			sep = ",";
		}
		fputc('}', f);
	}
}

const char *
sockopt_owner_text(const struct sockopts *so, char *buf, size_t len)
{
	char user[64] = "", group[64] = "";

	if (so->given & BIT(SOCKOPT_OWNER))
		id_name(SOCKOPT_OWNER, so->val[SOCKOPT_OWNER], user,
		        sizeof(user));
	if (so->given & BIT(SOCKOPT_GROUP))
		id_name(SOCKOPT_GROUP, so->val[SOCKOPT_GROUP], group,
		        sizeof(group));
	snprintf(buf, len, "%s%s%s", user, group[0] ? ":" : "", group);
	return buf;
}

static void notef(void (*note)(int, const char *, void *), void *arg, int warn,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
notef(void (*note)(int, const char *, void *), void *arg, int warn,
      const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	note(warn, msg, arg);
}

/* The backlog against net.core.somaxconn and tcp_max_syn_backlog. */
static void
notes_backlog(const struct sockopts *so, const struct sockopts_read *r,
              unsigned cls, const struct sockopt_kernel *k, const char *name,
              void (*note)(int warn, const char *msg, void *arg), void *arg)
{
	int have = (so->given & BIT(SOCKOPT_BACKLOG)) &&
	           (r->got & BIT(SOCKOPT_BACKLOG));

	if (have && r->val[SOCKOPT_BACKLOG] < so->val[SOCKOPT_BACKLOG])
		notef(note, arg, 1,
		      "backlog %d on %s is clamped to %d by "
		      "net.core.somaxconn; raise it with: sysctl -w "
		      "net.core.somaxconn=%d",
		      so->val[SOCKOPT_BACKLOG], name, r->val[SOCKOPT_BACKLOG],
		      so->val[SOCKOPT_BACKLOG]);
	if ((cls & SOCKOPT_TCP) && (so->given & BIT(SOCKOPT_BACKLOG)) &&
	    k->max_syn_backlog > 0 &&
	    so->val[SOCKOPT_BACKLOG] > k->max_syn_backlog) {
		if (k->syncookies > 0)
			notef(note, arg, 0,
			      "backlog %d on %s is above "
			      "net.ipv4.tcp_max_syn_backlog (%ld); "
			      "syncookies are on "
			      "(net.ipv4.tcp_syncookies=%ld), so a full SYN "
			      "queue is answered with cookies",
			      so->val[SOCKOPT_BACKLOG], name,
			      k->max_syn_backlog, k->syncookies);
		else
			notef(note, arg, 1,
			      "backlog %d on %s is above "
			      "net.ipv4.tcp_max_syn_backlog (%ld) and "
			      "syncookies are off "
			      "(net.ipv4.tcp_syncookies=0): half-open "
			      "connections beyond about 3/4 of it are "
			      "dropped; raise it with: sysctl -w "
			      "net.ipv4.tcp_max_syn_backlog=%d",
			      so->val[SOCKOPT_BACKLOG], name,
			      k->max_syn_backlog, so->val[SOCKOPT_BACKLOG]);
	}
}

void
sockopt_notes(const struct sockopts *so, const struct sockopts_read *r,
              unsigned cls, const struct sockopt_kernel *k, const char *name,
              void (*note)(int warn, const char *msg, void *arg), void *arg)
{
	long asked, got;
	int id;

#define HAVE(id) ((so->given & BIT(id)) && (r->got & BIT(id)))
	notes_backlog(so, r, cls, k, name, note, arg);
	if ((so->given & BIT(SOCKOPT_FASTOPEN)) &&
	    so->val[SOCKOPT_FASTOPEN] > 0) {
		/* 0x2: server side on; 0x400: on for every listener */
		if (k->fastopen >= 0 && !(k->fastopen & 0x402))
			notef(note, arg, 1,
			      "TCP Fast Open is set on %s but the kernel's "
			      "server side is off (net.ipv4.tcp_fastopen=%ld); "
			      "turn it on with: sysctl -w "
			      "net.ipv4.tcp_fastopen=%ld",
			      name, k->fastopen, k->fastopen | 3);
		if (HAVE(SOCKOPT_FASTOPEN) &&
		    r->val[SOCKOPT_FASTOPEN] < so->val[SOCKOPT_FASTOPEN])
			notef(note, arg, 1,
			      "fastopen queue %d on %s is clamped to %d by "
			      "net.core.somaxconn",
			      so->val[SOCKOPT_FASTOPEN], name,
			      r->val[SOCKOPT_FASTOPEN]);
	}
	for (id = SOCKOPT_RCVBUF; id <= SOCKOPT_SNDBUF; id++) {
		const char *sysctl = id == SOCKOPT_RCVBUF ? "net.core.rmem_max"
		                                          : "net.core.wmem_max";
		long max = id == SOCKOPT_RCVBUF ? k->rmem_max : k->wmem_max;

		if (!HAVE(id))
			continue;
		asked = so->val[id];
		got = r->val[id];
		/* the kernel stores twice the value, for its bookkeeping */
		if (got / 2 < asked)
			notef(note, arg, 1,
			      "%s %ld on %s is capped by %s (%ld): the kernel "
			      "reports %ld; raise it with: sysctl -w %s=%ld",
			      defs[id].key, asked, name, sysctl, max, got,
			      sysctl, asked);
	}
	for (id = 0; id < SOCKOPT_COUNT; id++) {
		if (defs[id].type != V_BOOL || !HAVE(id))
			continue;
		if (!r->val[id] != !so->val[id])
			notef(note, arg, 1,
			      "the kernel reports %s %s on %s after it was "
			      "set %s",
			      defs[id].cname, r->val[id] ? "on" : "off", name,
			      so->val[id] ? "on" : "off");
	}
#undef HAVE
}

void
sockopt_print_kernel(FILE *f, const struct sockopt_kernel *k)
{
	static const char *const fmt = "  %-29s %8s  %s\n";
	char v[6][32];
	const long vals[6] = {k->somaxconn, k->max_syn_backlog, k->syncookies,
	                      k->fastopen,  k->rmem_max,        k->wmem_max};
	size_t i;

	for (i = 0; i < 6; i++) {
		if (vals[i] < 0)
			snprintf(v[i], sizeof(v[i]), "?");
		else
			snprintf(v[i], sizeof(v[i]), "%ld", vals[i]);
	}
	fputs("kernel limits (this network namespace):\n", f);
	fprintf(f, fmt, "net.core.somaxconn", v[0],
	        "listen(2) backlogs are clamped to it");
	fprintf(f, fmt, "net.ipv4.tcp_max_syn_backlog", v[1],
	        "half-open connections kept when syncookies are off");
	fprintf(f, fmt, "net.ipv4.tcp_syncookies", v[2],
	        k->syncookies == 0   ? "off"
	        : k->syncookies == 1 ? "on when a SYN queue overflows"
	        : k->syncookies > 1  ? "always on"
	                             : "");
	fprintf(f, fmt, "net.ipv4.tcp_fastopen", v[3],
	        k->fastopen < 0         ? ""
	        : (k->fastopen & 0x402) ? "server side on"
	                                : "server side off: --fastopen has "
	                                  "no effect");
	fprintf(f, fmt, "net.core.rmem_max", v[4],
	        "largest --rcvbuf (the kernel stores twice the value)");
	fprintf(f, fmt, "net.core.wmem_max", v[5], "largest --sndbuf");
}
