/* SPDX-License-Identifier: ISC */
/* Test worker for the black-box tests: reports what it inherited, serves. */

/*
 * A supervised program as a test needs one: it reads SERVER_STARTER_PORT the
 * way every consumer does, writes a report of everything it received (fds,
 * environment, signal mask and dispositions) before it touches anything, then
 * answers on every listener it was given:
 *
 *   stream (TCP, unix)  "HTTP/1.0 200 OK ... gen=N pid=P\n"
 *   datagram (UDP)      "gen=N pid=P" echoed to the sender
 *
 * --on-signal-log FILE appends "SIG PID GEN MS" for every signal received
 * (MS: milliseconds since the epoch); the report's start_ms is when the
 * worker started, on the same clock.
 *
 * Options bend its behaviour into the cases a supervisor must cope with: a
 * slow boot, an early exit, a worker that ignores SIGTERM or drains slowly.
 * With --greet a stream connection gets "220 gen=N pid=P ready" as soon as
 * it is accepted, before the client sends anything (a server that speaks
 * first). With --launch it is instead a tiny launcher that resets signal dispositions
 * and the mask before exec'ing a command, so that tests start the supervisor
 * from a known state (a shell's background job has SIGINT/SIGQUIT ignored);
 * with --stale-socket it leaves a unix socket file nobody listens on; with
 * --free-port it prints a port the kernel says is free (lib.sh's free_port).
 *
 * Only async-signal-safe calls are made from the signal handlers: they write
 * the signal log line, set a flag and, for a stop signal, close the
 * listeners so that no further connection is accepted.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, SO_DOMAIN */
#endif

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_LISTENERS 1024 /* fd-limit.sh passes 1000 */
#define MAX_FDS 1024

extern char **environ;

struct listener {
	char key[512];
	int fd;
	int type; /* SOCK_STREAM, SOCK_DGRAM, or 0 if not a socket */
};

static struct listener listeners[MAX_LISTENERS];
static int nlisteners;
static char port_error[512];

/* Read by the signal handlers: plain data set up before they are installed. */
static volatile int lfds[MAX_LISTENERS];
static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t ignore_term;
static int siglog_fd = -1;
static char self_pid[32];
static char self_gen[32];

static char start_ms[32];
static const char *gen_env;
static const char *port_env;

static void usage(void) __attribute__((noreturn));
static void die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "worker: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(100);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
parse_seconds(const char *opt, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < 0)
		die("%s: bad number of seconds \"%s\"", opt, s);
	return v;
}

static int
parse_int(const char *opt, const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < INT_MIN ||
	    v > INT_MAX)
		die("%s: bad integer \"%s\"", opt, s);
	return (int)v;
}

/* Sleep until the deadline; a stop request cuts it short if asked to. */
static void
sleep_until(double deadline, int interruptible)
{
	for (;;) {
		double left = deadline - now();
		struct timespec ts;

		if (left <= 0)
			return;
		if (interruptible && stop_requested)
			return;
		if (left > 0.1)
			left = 0.1;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
}

/* ---- signal handling ---------------------------------------------------- */

static const struct {
	int sig;
	const char *name;
} signames[] = {
    {SIGHUP, "HUP"},     {SIGINT, "INT"},   {SIGQUIT, "QUIT"},
    {SIGUSR1, "USR1"},   {SIGUSR2, "USR2"}, {SIGTERM, "TERM"},
    {SIGWINCH, "WINCH"}, {SIGTTIN, "TTIN"}, {SIGTTOU, "TTOU"},
    {SIGCONT, "CONT"},
};

static size_t
append(char *buf, size_t len, size_t cap, const char *s)
{
	while (*s != '\0' && len + 1 < cap)
		buf[len++] = *s++;
	buf[len] = '\0';
	return len;
}

/* Milliseconds since the epoch, in decimal, without stdio: for the signal
 * handler (clock_gettime is async-signal-safe). Tests compare these times
 * with each other, so that a test script that is slow to look does not
 * shorten or stretch the delays it measures. */
static void
format_ms(char *out, size_t cap)
{
	struct timespec ts;
	unsigned long long ms;
	char rev[32];
	size_t n = 0, i;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (unsigned long long)ts.tv_sec * 1000ULL +
	     (unsigned long long)ts.tv_nsec / 1000000ULL;
	do {
		rev[n++] = (char)('0' + ms % 10);
		ms /= 10;
	} while (ms > 0 && n < sizeof(rev));
	for (i = 0; i < n && i + 1 < cap; i++)
		out[i] = rev[n - 1 - i];
	out[i] = '\0';
}

static void
on_signal(int sig)
{
	int saved = errno;
	const char *name = "?";
	size_t i, len = 0;
	char line[128], ms[32];

	for (i = 0; i < sizeof(signames) / sizeof(signames[0]); i++)
		if (signames[i].sig == sig)
			name = signames[i].name;
	if (siglog_fd >= 0) {
		format_ms(ms, sizeof(ms));
		len = append(line, len, sizeof(line), name);
		len = append(line, len, sizeof(line), " ");
		len = append(line, len, sizeof(line), self_pid);
		len = append(line, len, sizeof(line), " ");
		len = append(line, len, sizeof(line), self_gen);
		len = append(line, len, sizeof(line), " ");
		len = append(line, len, sizeof(line), ms);
		len = append(line, len, sizeof(line), "\n");
		if (write(siglog_fd, line, len) < 0) {
			/* nothing useful to do in a handler */
		}
	}
	if (sig == SIGINT || sig == SIGQUIT ||
	    (sig == SIGTERM && !ignore_term)) {
		stop_requested = 1;
		/* Stop accepting now: a connection queued from here on is
		 * left to the other generation sharing the socket. */
		for (i = 0; i < MAX_LISTENERS; i++) {
			if (lfds[i] >= 0) {
				close(lfds[i]);
				lfds[i] = -1;
			}
		}
	}
	errno = saved;
}

static void
on_alarm(int sig)
{
	(void)sig; /* only here to interrupt a blocking accept() */
}

static void
install_handlers(void)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sigfillset(&sa.sa_mask);
	sa.sa_handler = on_signal;
	/* no SA_RESTART: a blocking accept() must return on a signal */
	for (i = 0; i < sizeof(signames) / sizeof(signames[0]); i++)
		if (sigaction(signames[i].sig, &sa, NULL) < 0)
			die("sigaction %s: %s", signames[i].name,
			    strerror(errno));
	sa.sa_handler = on_alarm;
	if (sigaction(SIGALRM, &sa, NULL) < 0)
		die("sigaction ALRM: %s", strerror(errno));
}

/* ---- what we inherited -------------------------------------------------- */

struct fdinfo {
	int fd;
	char line[1024];
};

static struct fdinfo fds[MAX_FDS];
static int nfds;
static char sigblk[64] = "?", sigign[64] = "?", sigcgt[64] = "?";

/* Credential lines of /proc/self/status, reported as "status_NAME VALUE"
 * (tabs turned into spaces), read at start like the signal sets. */
static const char *const cred_keys[] = {
    "Uid",    "Gid",    "Groups", "CapInh",     "CapPrm",
    "CapEff", "CapBnd", "CapAmb", "NoNewPrivs",
};
#define NCRED (sizeof(cred_keys) / sizeof(cred_keys[0]))
static char cred_vals[NCRED][256];
static int pdeathsig = -1;
static char lowbind[64] = "?";

static void
format_addr(const struct sockaddr_storage *ss, socklen_t len, char *out,
            size_t cap)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(out, cap, "%s:%u", host, ntohs(in->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
		    (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(out, cap, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else if (ss->ss_family == AF_UNIX) {
		const struct sockaddr_un *un = (const struct sockaddr_un *)ss;
		size_t plen = len > offsetof(struct sockaddr_un, sun_path)
		                  ? len - offsetof(struct sockaddr_un, sun_path)
		                  : 0;
		if (plen == 0)
			snprintf(out, cap, "unnamed");
		else if (un->sun_path[0] == '\0')
			snprintf(out, cap, "@%.*s", (int)plen - 1,
			         un->sun_path + 1);
		else
			snprintf(out, cap, "%.*s",
			         (int)strnlen(un->sun_path, plen),
			         un->sun_path);
	} else {
		snprintf(out, cap, "family%d", ss->ss_family);
	}
}

static const char *
family_name(int family)
{
	switch (family) {
	case AF_INET:
		return "inet";
	case AF_INET6:
		return "inet6";
	case AF_UNIX:
		return "unix";
	default:
		return "other";
	}
}

static const char *
type_name(int type)
{
	switch (type) {
	case SOCK_STREAM:
		return "stream";
	case SOCK_DGRAM:
		return "dgram";
	case SOCK_SEQPACKET:
		return "seqpacket";
	default:
		return "other";
	}
}

static void
describe_fd(int fd, char *out, size_t cap)
{
	char path[64], target[PATH_MAX];
	ssize_t n;
	int fdflags, flflags;
	struct stat st;
	size_t len;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		n = 0;
	target[n] = '\0';
	fdflags = fcntl(fd, F_GETFD);
	flflags = fcntl(fd, F_GETFL);
	snprintf(out, cap, "fd %d cloexec=%d nonblock=%d target=%.300s", fd,
	         fdflags >= 0 && (fdflags & FD_CLOEXEC) ? 1 : 0,
	         flflags >= 0 && (flflags & O_NONBLOCK) ? 1 : 0, target);
	if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode)) {
		int type = 0, domain = 0, acc = 0, reuse = 0, v6only = -1;
		socklen_t sl = sizeof(int);
		struct sockaddr_storage ss;
		socklen_t slen = sizeof(ss);
		char addr[PATH_MAX + 8];

		getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl);
		sl = sizeof(int);
		getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &sl);
		sl = sizeof(int);
		getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &sl);
		sl = sizeof(int);
		getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, &sl);
		if (domain == AF_INET6) {
			sl = sizeof(int);
			getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &sl);
		}
		memset(&ss, 0, sizeof(ss));
		if (getsockname(fd, (struct sockaddr *)&ss, &slen) == 0)
			format_addr(&ss, slen, addr, sizeof(addr));
		else
			snprintf(addr, sizeof(addr), "error");
		len = strlen(out);
		snprintf(out + len, cap - len,
		         " type=%s family=%s addr=%.300s listening=%d "
		         "reuseaddr=%d",
		         type_name(type), family_name(domain), addr, acc,
		         reuse ? 1 : 0);
		if (v6only >= 0) {
			len = strlen(out);
			snprintf(out + len, cap - len, " v6only=%d", v6only);
		}
	}
}

static int
getopt_int(int fd, int level, int name)
{
	socklen_t sl = sizeof(int);
	int v = -1;

	if (getsockopt(fd, level, name, &v, &sl) < 0)
		return -1;
	return v;
}

/* "sockopt FD ..." report line: the options a listener carries, as the
 * kernel reports them (-1: not readable on this socket). */
static int
describe_sockopts(int fd, char *out, size_t cap)
{
	int type = getopt_int(fd, SOL_SOCKET, SO_TYPE);
	int domain = getopt_int(fd, SOL_SOCKET, SO_DOMAIN);
	size_t len;

	if (type < 0 || domain < 0)
		return -1;
	snprintf(out, cap, "sockopt %d", fd);
	len = strlen(out);
	if (domain == AF_UNIX) {
		struct sockaddr_un un;
		socklen_t slen = sizeof(un);
		struct stat st;

		memset(&un, 0, sizeof(un));
		if (getsockname(fd, (struct sockaddr *)&un, &slen) == 0 &&
		    un.sun_path[0] != '\0' && stat(un.sun_path, &st) == 0)
			snprintf(out + len, cap - len,
			         " mode=%04o uid=%ld gid=%ld",
			         (unsigned)(st.st_mode & 07777),
			         (long)st.st_uid, (long)st.st_gid);
		return 0;
	}
	if (domain != AF_INET && domain != AF_INET6)
		return 0;
	snprintf(out + len, cap - len,
	         " reuseaddr=%d reuseport=%d freebind=%d rcvbuf=%d sndbuf=%d",
	         getopt_int(fd, SOL_SOCKET, SO_REUSEADDR),
	         getopt_int(fd, SOL_SOCKET, SO_REUSEPORT),
	         getopt_int(fd, IPPROTO_IP, IP_FREEBIND),
	         getopt_int(fd, SOL_SOCKET, SO_RCVBUF),
	         getopt_int(fd, SOL_SOCKET, SO_SNDBUF));
	len = strlen(out);
	if (domain == AF_INET6) {
		snprintf(out + len, cap - len, " v6only=%d",
		         getopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY));
		len = strlen(out);
	}
	if (type == SOCK_STREAM) {
		struct tcp_info ti;
		socklen_t sl = sizeof(ti);
		long backlog = -1;

		memset(&ti, 0, sizeof(ti));
		/* on a listener, tcpi_sacked is the backlog in effect */
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &sl) == 0 &&
		    ti.tcpi_state == TCP_LISTEN)
			backlog = (long)ti.tcpi_sacked;
		snprintf(out + len, cap - len,
		         " defer_accept=%d fastopen=%d nodelay=%d keepalive=%d"
		         " backlog=%ld",
		         getopt_int(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT),
		         getopt_int(fd, IPPROTO_TCP, TCP_FASTOPEN),
		         getopt_int(fd, IPPROTO_TCP, TCP_NODELAY),
		         getopt_int(fd, SOL_SOCKET, SO_KEEPALIVE), backlog);
	}
	return 0;
}

/* Must run before this program opens anything. */
static void
scan_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int self;

	if (d == NULL)
		die("opendir /proc/self/fd: %s", strerror(errno));
	self = dirfd(d);
	while ((de = readdir(d)) != NULL && nfds < MAX_FDS) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (de->d_name[0] == '.' || *end != '\0' || fd == self)
			continue;
		fds[nfds].fd = (int)fd;
		describe_fd((int)fd, fds[nfds].line, sizeof(fds[nfds].line));
		nfds++;
	}
	closedir(d);
}

static int
cmp_fd(const void *a, const void *b)
{
	return ((const struct fdinfo *)a)->fd - ((const struct fdinfo *)b)->fd;
}

static void
read_sigsets(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *v = strchr(line, ':');

		if (v == NULL)
			continue;
		*v++ = '\0';
		v += strspn(v, " \t");
		v[strcspn(v, "\n")] = '\0';
		for (size_t k = 0; k < NCRED; k++)
			if (strcmp(line, cred_keys[k]) == 0) {
				char *t;

				snprintf(cred_vals[k], sizeof(cred_vals[k]),
				         "%s", v);
				for (t = cred_vals[k]; *t; t++)
					if (*t == '\t')
						*t = ' ';
				while (t > cred_vals[k] && t[-1] == ' ')
					*--t = '\0';
			}
		if (strcmp(line, "SigBlk") == 0)
			snprintf(sigblk, sizeof(sigblk), "%s", v);
		else if (strcmp(line, "SigIgn") == 0)
			snprintf(sigign, sizeof(sigign), "%s", v);
		else if (strcmp(line, "SigCgt") == 0)
			snprintf(sigcgt, sizeof(sigcgt), "%s", v);
	}
	fclose(f);
}

/* Whether this process may bind a TCP port below 1024 on loopback:
 * "ok PORT", or the errno name of the refusal (EACCES). Ports in use are
 * skipped; the socket is closed at once. */
static void
probe_low_bind(void)
{
	int port, start = 600 + (int)(getpid() % 300), i;

	for (i = 0; i < 300; i++) {
		struct sockaddr_in sin;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r, e;

		if (fd < 0)
			break;
		port = start + i;
		if (port >= 1024)
			port -= 424; /* wrap into 600..1023 */
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((unsigned short)port);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		r = bind(fd, (struct sockaddr *)&sin, sizeof(sin));
		e = errno;
		close(fd);
		if (r == 0) {
			snprintf(lowbind, sizeof(lowbind), "ok %d", port);
			return;
		}
		if (e != EADDRINUSE) {
			snprintf(lowbind, sizeof(lowbind), "%s",
			         e == EACCES  ? "EACCES"
			         : e == EPERM ? "EPERM"
			                      : strerror(e));
			return;
		}
	}
	snprintf(lowbind, sizeof(lowbind), "no free port");
}

/* SERVER_STARTER_PORT is "key=fd;key=fd" (possibly empty); each entry is
 * split on its first '=', as Server::Starter::server_ports() does. */
static void
parse_port_env(void)
{
	const char *p = port_env;

	if (p == NULL || *p == '\0')
		return;
	while (*p != '\0') {
		const char *semi = strchr(p, ';');
		size_t len = semi ? (size_t)(semi - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		char num[32];
		char *end;
		long fd;

		if (eq == NULL || eq == p || (size_t)(eq - p) >= 512 ||
		    len - (size_t)(eq - p) - 1 >= sizeof(num) ||
		    nlisteners >= MAX_LISTENERS) {
			snprintf(port_error, sizeof(port_error),
			         "bad entry \"%.*s\"", (int)len, p);
			return;
		}
		memcpy(num, eq + 1, len - (size_t)(eq - p) - 1);
		num[len - (size_t)(eq - p) - 1] = '\0';
		errno = 0;
		fd = strtol(num, &end, 10);
		if (errno != 0 || end == num || *end != '\0' || fd < 0 ||
		    fd > INT_MAX) {
			snprintf(port_error, sizeof(port_error),
			         "bad fd in \"%.*s\"", (int)len, p);
			return;
		}
		memcpy(listeners[nlisteners].key, p, (size_t)(eq - p));
		listeners[nlisteners].key[eq - p] = '\0';
		listeners[nlisteners].fd = (int)fd;
		nlisteners++;
		p += len;
		if (*p == ';')
			p++;
	}
}

static void
expand_path(const char *tmpl, char *out, size_t cap)
{
	size_t len = 0;

	out[0] = '\0';
	for (; *tmpl != '\0' && len + 1 < cap; tmpl++) {
		if (tmpl[0] == '%' && tmpl[1] == 'p') {
			len = append(out, len, cap, self_pid);
			tmpl++;
		} else if (tmpl[0] == '%' && tmpl[1] == 'g') {
			len = append(out, len, cap, self_gen);
			tmpl++;
		} else {
			out[len++] = *tmpl;
			out[len] = '\0';
		}
	}
}

static void
write_report(const char *tmpl)
{
	char path[PATH_MAX], tmp[PATH_MAX + 32], cwd[PATH_MAX];
	FILE *f;
	int i;
	char **e;
	mode_t mask;

	expand_path(tmpl, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	f = fopen(tmp, "we");
	if (f == NULL)
		die("cannot write report %s: %s", tmp, strerror(errno));
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		snprintf(cwd, sizeof(cwd), "?");
	fprintf(f, "pid %ld\n", (long)getpid());
	fprintf(f, "start_ms %s\n", start_ms);
	fprintf(f, "ppid %ld\n", (long)getppid());
	fprintf(f, "pgid %ld\n", (long)getpgrp());
	fprintf(f, "sid %ld\n", (long)getsid(0));
	fprintf(f, "uid %ld\n", (long)getuid());
	fprintf(f, "cwd %s\n", cwd);
	mask = umask(022);
	umask(mask);
	fprintf(f, "umask %04o\n", (unsigned)mask);
	fprintf(f, "port_env %s\n", port_env ? "set" : "unset");
	fprintf(f, "port %s\n", port_env ? port_env : "");
	fprintf(f, "generation %s\n", gen_env ? gen_env : "");
	for (i = 0; i < nlisteners; i++)
		fprintf(f, "listener %s %d %s\n", listeners[i].key,
		        listeners[i].fd,
		        listeners[i].type == SOCK_STREAM  ? "stream"
		        : listeners[i].type == SOCK_DGRAM ? "dgram"
		                                          : "none");
	if (port_error[0] != '\0')
		fprintf(f, "port_error %s\n", port_error);
	fprintf(f, "fds");
	for (i = 0; i < nfds; i++)
		fprintf(f, " %d", fds[i].fd);
	fprintf(f, "\n");
	for (i = 0; i < nfds; i++)
		fprintf(f, "%s\n", fds[i].line);
	for (i = 0; i < nfds; i++) {
		char line[512];

		if (describe_sockopts(fds[i].fd, line, sizeof(line)) == 0)
			fprintf(f, "%s\n", line);
	}
	fprintf(f, "sigblk %s\n", sigblk);
	fprintf(f, "sigign %s\n", sigign);
	fprintf(f, "sigcgt %s\n", sigcgt);
	for (i = 0; i < (int)NCRED; i++)
		fprintf(f, "status_%s %s\n", cred_keys[i], cred_vals[i]);
	fprintf(f, "pdeathsig %d\n", pdeathsig);
	fprintf(f, "lowbind %s\n", lowbind);
	for (e = environ; *e != NULL; e++)
		fprintf(f, "env %s\n", *e);
	fprintf(f, "end\n");
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0)
		die("cannot write report %s: %s", tmp, strerror(errno));
	if (rename(tmp, path) < 0)
		die("cannot rename %s to %s: %s", tmp, path, strerror(errno));
}

/* ---- readiness ---------------------------------------------------------- */

static void
notify_ready(void)
{
	const char *ns = getenv("NOTIFY_SOCKET");
	struct sockaddr_un un;
	socklen_t len;
	size_t plen;
	int fd;

	if (ns == NULL || *ns == '\0') {
		fprintf(stderr,
		        "worker: --notify-ready: NOTIFY_SOCKET unset\n");
		return;
	}
	plen = strlen(ns);
	if (plen >= sizeof(un.sun_path)) {
		fprintf(stderr, "worker: NOTIFY_SOCKET too long\n");
		return;
	}
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	memcpy(un.sun_path, ns, plen);
	if (ns[0] == '@')
		un.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen +
	                  (ns[0] == '@' ? 0 : 1));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *)&un,
	           len) < 0)
		fprintf(stderr, "worker: cannot notify %s: %s\n", ns,
		        strerror(errno));
	close(fd);
}

/* ---- serving ------------------------------------------------------------ */

/* --greet: speak first, as an SMTP, FTP or MySQL server does, before the
 * client has sent anything. */
static int greet;

static void
serve_stream(int lfd)
{
	struct itimerval it;
	struct timeval tv;
	char buf[8192], resp[256];
	size_t got = 0;
	int c, n;

	/* The listener is blocking and shared with other generations: if one
	 * of them takes the connection first, accept() would block; a short
	 * timer bounds that wait. */
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = 200000;
	setitimer(ITIMER_REAL, &it, NULL);
	c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	if (c < 0)
		return;
	if (greet) {
		n = snprintf(resp, sizeof(resp), "220 gen=%s pid=%s ready\r\n",
		             self_gen, self_pid);
		(void)send(c, resp, (size_t)n, MSG_NOSIGNAL);
	}
	tv.tv_sec = 2;
	tv.tv_usec = 0;
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (;;) {
		ssize_t r = recv(c, buf + got, sizeof(buf) - 1 - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL ||
		    strstr(buf, "\n\n") != NULL || got >= sizeof(buf) - 1)
			break;
	}
	n = snprintf(resp, sizeof(resp),
	             "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
	             "Connection: close\r\n\r\ngen=%s pid=%s\n",
	             self_gen, self_pid);
	if (send(c, resp, (size_t)n, MSG_NOSIGNAL) < 0) {
		/* the client went away: nothing to do */
	}
	close(c);
}

static void
serve_dgram(int lfd)
{
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	char buf[2048], resp[128];
	ssize_t r;
	int n;

	r = recvfrom(lfd, buf, sizeof(buf), MSG_DONTWAIT,
	             (struct sockaddr *)&from, &flen);
	if (r < 0)
		return;
	n = snprintf(resp, sizeof(resp), "gen=%s pid=%s", self_gen, self_pid);
	sendto(lfd, resp, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL,
	       (struct sockaddr *)&from, flen);
}

static void
serve(double exit_at, int exit_code)
{
	struct pollfd pfd[MAX_LISTENERS];
	int idx[MAX_LISTENERS];

	for (;;) {
		int n = 0, i, r, timeout = 100;

		if (stop_requested)
			return;
		if (exit_at > 0 && now() >= exit_at) {
			fprintf(stderr, "worker: pid %s gen %s exits with %d\n",
			        self_pid, self_gen, exit_code);
			exit(exit_code);
		}
		for (i = 0; i < nlisteners; i++) {
			if (lfds[i] < 0 || listeners[i].type == 0)
				continue;
			pfd[n].fd = lfds[i];
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			idx[n] = i;
			n++;
		}
		r = poll(pfd, (nfds_t)n, timeout);
		if (r <= 0 || stop_requested)
			continue;
		for (i = 0; i < n; i++) {
			int l = idx[i];

			if (!(pfd[i].revents & POLLIN) || lfds[l] < 0)
				continue;
			if (listeners[l].type == SOCK_STREAM)
				serve_stream(lfds[l]);
			else
				serve_dgram(lfds[l]);
			if (stop_requested)
				break;
		}
	}
}

/* ---- launcher ----------------------------------------------------------- */

/* Start a command from a known state: default dispositions, empty mask, and
 * (unless --keep-fds) no fd but stdio, whatever the test harness leaked to
 * us (make's jobserver pipe, the TAP driver's descriptors). --leak-fd N then
 * deliberately hands the command an inheritable /dev/null on fd N. */
static int
launch(int argc, char **argv)
{
	struct sigaction sa;
	sigset_t none;
	int sig, i, k, keep = 0, leak[16], nleak = 0;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "--keep-fds") == 0) {
			keep = 1;
		} else if (strcmp(argv[i], "--leak-fd") == 0 && i + 1 < argc &&
		           nleak < 16) {
			leak[nleak++] = parse_int("--leak-fd", argv[++i]);
		} else {
			break;
		}
	}
	if (i >= argc)
		usage();
	if (!keep) {
		long max = sysconf(_SC_OPEN_MAX);
		int fd;

		if (max < 0 || max > 65536)
			max = 65536;
		for (fd = 3; fd < max; fd++)
			close(fd);
	}
	for (k = 0; k < nleak; k++) {
		int fd = open("/dev/null", O_RDONLY);

		if (fd < 0 || (fd != leak[k] && dup2(fd, leak[k]) < 0))
			die("--leak-fd %d: %s", leak[k], strerror(errno));
		if (fd != leak[k])
			close(fd);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++) {
		/* fails harmlessly for KILL and STOP; glibc refuses its own
		 * two real-time signals (32, 33), which a parent may still
		 * have left ignored: reset those with the raw system call
		 * (an all-zero kernel sigaction is SIG_DFL, no flags). */
		if (sigaction(sig, &sa, NULL) < 0 && errno == EINVAL) {
#ifdef SYS_rt_sigaction
			unsigned long ksa[8];

			memset(ksa, 0, sizeof(ksa));
			syscall(SYS_rt_sigaction, sig, ksa, NULL, (size_t)8);
#endif
		}
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvp(argv[i], argv + i);
	fprintf(stderr, "worker --launch: cannot exec %s: %s\n", argv[i],
	        strerror(errno));
	return 127;
}

/* Leave a socket file nobody listens on, as a crashed server does. */
static int
stale_socket(const char *path)
{
	struct sockaddr_un un;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(un.sun_path))
		die("%s: path too long", path);
	memcpy(un.sun_path, path, strlen(path));
	if (fd < 0 || bind(fd, (struct sockaddr *)&un, sizeof(un)) < 0 ||
	    listen(fd, 1) < 0)
		die("cannot make a socket at %s: %s", path, strerror(errno));
	return 0; /* exit closes it, the file stays */
}

/*
 * Print a port in LO..HI on which no TCP or UDP socket, v4 or v6, is bound
 * now, for lib.sh's free_port. The kernel is asked (bind, which checks its
 * own tables) instead of reading the whole host's /proc/net/tcp* for every
 * candidate, which took 0.65 s a port on a busy host. The probe sockets are
 * dual-stack (:: with IPV6_V6ONLY off), so a bind conflicts with any IPv4 or
 * IPv6 address on that port; without IPv6, 0.0.0.0. The candidate is ours
 * to choose, not bind(port 0)'s: the kernel picks port 0 from the ephemeral
 * range, where the tests' own outgoing connections take ports (a connected
 * socket on the port makes the supervisor's later bind fail), and
 * IP_LOCAL_PORT_RANGE can only narrow that range, not move it below.
 * Exit 1 when 200 candidates were all taken.
 */
static int
probe_socket(int type, int *family)
{
	int fd = socket(AF_INET6, type | SOCK_CLOEXEC, 0), off = 0;

	*family = AF_INET6;
	if (fd >= 0 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	*family = AF_INET;
	return socket(AF_INET, type | SOCK_CLOEXEC, 0);
}

static int
probe_bind(int fd, int family, unsigned port)
{
	struct sockaddr_in6 in6;
	struct sockaddr_in in;

	if (family == AF_INET6) {
		memset(&in6, 0, sizeof(in6));
		in6.sin6_family = AF_INET6;
		in6.sin6_addr = in6addr_any;
		in6.sin6_port = htons((uint16_t)port);
		return bind(fd, (struct sockaddr *)&in6, sizeof(in6));
	}
	memset(&in, 0, sizeof(in));
	in.sin_family = AF_INET;
	in.sin_addr.s_addr = htonl(INADDR_ANY);
	in.sin_port = htons((uint16_t)port);
	return bind(fd, (struct sockaddr *)&in, sizeof(in));
}

static int
free_port(const char *lo_s, const char *hi_s)
{
	unsigned lo = (unsigned)parse_int("--free-port", lo_s);
	unsigned hi = (unsigned)parse_int("--free-port", hi_s);
	int tries;

	if (lo < 1 || hi > 65535 || lo > hi)
		die("--free-port %u %u: not a port range", lo, hi);
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));
	for (tries = 0; tries < 200; tries++) {
		unsigned port = lo + (unsigned)random() % (hi - lo + 1);
		int family, ufamily, ok;
		int t = probe_socket(SOCK_STREAM, &family);
		int u = probe_socket(SOCK_DGRAM, &ufamily);

		if (t < 0 || u < 0)
			die("--free-port: cannot make a socket: %s",
			    strerror(errno));
		ok = probe_bind(t, family, port) == 0 &&
		     probe_bind(u, ufamily, port) == 0;
		close(t);
		close(u);
		if (ok) {
			printf("%u\n", port);
			return 0;
		}
	}
	return 1;
}

static void
usage(void)
{
	fprintf(
	    stderr,
	    "usage: worker [--report FILE] [--on-signal-log FILE]\n"
	    "              [--boot-delay S] [--exit-after S] [--exit-code N]\n"
	    "              [--exit-immediately N] [--ignore-term]\n"
	    "              [--term-delay S] [--notify-ready] [--quiet] "
	    "[--greet]\n"
	    "       worker --launch -- COMMAND [ARG...]\n"
	    "FILE may contain %%p (pid) and %%g (generation).\n");
	exit(100);
}

int
main(int argc, char **argv)
{
	const char *report = NULL, *siglog = NULL;
	double boot_delay = 0, exit_after = -1, term_delay = 0, exit_at = -1;
	int exit_code = 0, exit_now = -1, notify = 0, quiet = 0, i;

	if (argc > 1 && strcmp(argv[1], "--launch") == 0)
		return launch(argc, argv);
	if (argc == 3 && strcmp(argv[1], "--stale-socket") == 0)
		return stale_socket(argv[2]);
	if (argc == 4 && strcmp(argv[1], "--free-port") == 0)
		return free_port(argv[2], argv[3]);

	format_ms(start_ms, sizeof(start_ms));
	/* Before anything opens a file: what did we inherit? */
	scan_fds();
	qsort(fds, (size_t)nfds, sizeof(fds[0]), cmp_fd);
	read_sigsets();

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--ignore-term") == 0) {
			ignore_term = 1;
			continue;
		}
		if (strcmp(a, "--notify-ready") == 0) {
			notify = 1;
			continue;
		}
		if (strcmp(a, "--quiet") == 0) {
			quiet = 1;
			continue;
		}
		if (strcmp(a, "--greet") == 0) {
			greet = 1;
			continue;
		}
		if (v == NULL)
			usage();
		i++;
		if (strcmp(a, "--report") == 0)
			report = v;
		else if (strcmp(a, "--on-signal-log") == 0)
			siglog = v;
		else if (strcmp(a, "--boot-delay") == 0)
			boot_delay = parse_seconds(a, v);
		else if (strcmp(a, "--exit-after") == 0)
			exit_after = parse_seconds(a, v);
		else if (strcmp(a, "--exit-code") == 0)
			exit_code = parse_int(a, v);
		else if (strcmp(a, "--exit-immediately") == 0)
			exit_now = parse_int(a, v);
		else if (strcmp(a, "--term-delay") == 0)
			term_delay = parse_seconds(a, v);
		else
			usage();
	}

	gen_env = getenv("SERVER_STARTER_GENERATION");
	port_env = getenv("SERVER_STARTER_PORT");
	snprintf(self_pid, sizeof(self_pid), "%ld", (long)getpid());
	snprintf(self_gen, sizeof(self_gen), "%.20s",
	         gen_env && *gen_env ? gen_env : "?");
	parse_port_env();
	for (i = 0; i < MAX_LISTENERS; i++)
		lfds[i] = -1;
	for (i = 0; i < nlisteners; i++) {
		int type = 0;
		socklen_t sl = sizeof(type);

		if (getsockopt(listeners[i].fd, SOL_SOCKET, SO_TYPE, &type,
		               &sl) < 0)
			type = 0;
		listeners[i].type =
		    type == SOCK_STREAM || type == SOCK_DGRAM ? type : 0;
		lfds[i] = listeners[i].fd;
	}

	if (siglog != NULL) {
		char path[PATH_MAX];

		expand_path(siglog, path, sizeof(path));
		siglog_fd =
		    open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (siglog_fd < 0)
			die("cannot open %s: %s", path, strerror(errno));
	}
	install_handlers();
	if (report != NULL) {
		/* credentials as the worker sees them */
		if (prctl(PR_GET_PDEATHSIG, &pdeathsig) < 0)
			pdeathsig = -1;
		probe_low_bind();
		write_report(report);
	}
	if (exit_now >= 0) {
		if (!quiet)
			fprintf(stderr, "worker: pid %s gen %s exits with %d\n",
			        self_pid, self_gen, exit_now);
		return exit_now;
	}
	if (boot_delay > 0)
		sleep_until(now() + boot_delay, 1);
	if (!stop_requested) {
		if (notify)
			notify_ready();
		if (!quiet)
			fprintf(stderr, "worker: pid %s gen %s serving %s\n",
			        self_pid, self_gen, port_env ? port_env : "");
		if (exit_after >= 0)
			exit_at = now() + exit_after;
		serve(exit_at, exit_code);
	}
	/* stop requested: the handler already closed the listeners */
	if (term_delay > 0)
		sleep_until(now() + term_delay, 0);
	if (!quiet)
		fprintf(stderr, "worker: pid %s gen %s stopping\n", self_pid,
		        self_gen);
	return 0;
}
