/* SPDX-License-Identifier: ISC */
/* sdnotify.c: baton tells its own service manager (systemd's
 * NOTIFY_SOCKET) when it serves, reloads, stops or fails, keeps its
 * watchdog fed, and can hand the listeners to its fd store. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"
#include "ratelimit.h"
#include "sdnotify.h"

/* The variables the manager set for baton alone. They leave the
 * environment at start-up (every process baton starts inherits it) and
 * come back only for the exec of a SIGUSR2 re-exec, which keeps the pid
 * and so remains the manager's main process. */
static const char *const vars[] = {"NOTIFY_SOCKET", "WATCHDOG_USEC",
                                   "WATCHDOG_PID"};
#define NVARS (sizeof(vars) / sizeof(vars[0]))
static char *saved[NVARS];

static struct sockaddr_un addr;
static socklen_t addrlen;
static int have_addr, failing;
static ev_timer watchdog;

/*
 * Never block on the manager (STYLE.md, rule 3). A manager that stops
 * reading lets its socket's queue fill, and a blocking sendmsg(2) then
 * waits until it reads again: no worker reaped, no signal answered. So
 * every datagram is sent with MSG_DONTWAIT; one that finds the queue
 * full is dropped and counted. What the manager must end up knowing is
 * baton's state: the last of READY=1, RELOADING=1 and STOPPING=1 (the
 * phase), and the last STATUS=. It is kept, and once a state message was
 * lost, a timer sends the state again every second until one goes
 * through. The first datagram to go through says in the log how many
 * were lost.
 */
#define RETRY_SECONDS 1.0
static char phase[128];            /* "READY=1\n" ..., or "" */
static char status_text[512];      /* the last STATUS= */
static char state[1024];           /* phase, then STATUS= */
static int state_lost;             /* the manager may not have it */
static unsigned long dropped;      /* datagrams lost since the queue filled */
static struct ev_loop *retry_loop; /* for the retry timer */
static ev_timer retry;

static void fatal_hook(int code, const char *line);

/* The manager's address from NOTIFY_SOCKET: an absolute path, or "@name"
 * for the abstract namespace (what systemd and sd_notify(3) accept). */
static int
parse_address(const char *s)
{
	size_t n = strlen(s);

	if ((s[0] != '/' && s[0] != '@') || n < 2 ||
	    n >= sizeof(addr.sun_path)) {
		log_warnx("ignoring NOTIFY_SOCKET=%s: neither an absolute "
		          "path nor an abstract \"@name\" that fits a unix "
		          "socket address",
		          s);
		return -1;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, s, n);
	if (s[0] == '@')
		addr.sun_path[0] = '\0';
	addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	                      (s[0] == '/')); /* a path counts its NUL */
	return 0;
}

void
sdnotify_take(void)
{
	size_t i;

	for (i = 0; i < NVARS; i++) {
		const char *v = getenv(vars[i]);

		free(saved[i]);
		saved[i] = v && *v ? strdup(v) : NULL;
		unsetenv(vars[i]);
	}
	have_addr = saved[0] && parse_address(saved[0]) == 0;
	/* --daemonize installs its own hook, but it is refused when a
	 * manager listens (main.c), so the two never compete */
	if (have_addr)
		log_set_fatal_hook(fatal_hook);
}

int
sdnotify_enabled(void)
{
	return have_addr;
}

void
sdnotify_exec_prepare(void)
{
	/* each SIGUSR2 comes here: a signal storm must not flood the log */
	static struct ratelimit rl =
	    RATELIMIT_INIT("errors keeping NOTIFY_SOCKET across re-exec");
	char more[64];
	size_t i;

	for (i = 0; i < NVARS; i++)
		if (saved[i] && setenv(vars[i], saved[i], 1) < 0 &&
		    ratelimit_check(&rl, more, sizeof(more)))
			log_warnx("cannot keep %s across re-exec: %s%s",
			          vars[i], strerror(errno), more);
}

void
sdnotify_exec_failed(void)
{
	size_t i;

	for (i = 0; i < NVARS; i++)
		unsetenv(vars[i]);
}

static void retry_cb(struct ev_loop *loop, ev_timer *w, int revents);

/* The queue is full: one more datagram lost. */
static void
drop(const char *msg)
{
	if (dropped++ == 0)
		log_warnx("the service manager's socket NOTIFY_SOCKET=%s is "
		          "full; dropping notifications until it reads again",
		          saved[0]);
	if (msg == state || strstr(msg, "STATUS="))
		state_lost = 1;
	if (retry_loop && !ev_is_active(&retry)) {
		ev_timer_init(&retry, retry_cb, RETRY_SECONDS, RETRY_SECONDS);
		ev_timer_start(retry_loop, &retry);
		ev_unref(retry_loop); /* it must not keep baton running */
	}
}

static int send_msg(const char *msg, int fd);

/* A datagram went through: the manager reads again. */
static void
caught_up(const char *msg)
{
	if (msg == state) /* the whole state went through */
		state_lost = 0;
	if (dropped == 0)
		return;
	log_info("%lu notification%s to the service manager dropped while "
	         "its socket was full",
	         dropped, dropped == 1 ? "" : "s");
	dropped = 0;
	if (retry_loop && ev_is_active(&retry)) {
		ev_ref(retry_loop);
		ev_timer_stop(retry_loop, &retry);
	}
	if (state_lost) {
		state_lost = 0;
		(void)send_msg(state, -1); /* the state it missed */
	}
}

static void
retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	/* the state if it was lost, else a harmless keep-alive (a
	 * WATCHDOG=1 that comes early) */
	(void)send_msg(state_lost ? state : "WATCHDOG=1", -1);
}

/* One datagram, with fd in SCM_RIGHTS when fd >= 0, never waiting for
 * room in the manager's queue. A manager that is gone is reported once,
 * not at every watchdog tick. */
static int
send_msg(const char *msg, int fd)
{
	static struct ratelimit rl_send =
	    RATELIMIT_INIT("errors notifying the service manager");
	char cbuf[CMSG_SPACE(sizeof(int))], more[64];
	struct iovec iov = {(void *)msg, strlen(msg)};
	struct msghdr mh;
	int s;

	if (!have_addr)
		return -1;
	memset(&mh, 0, sizeof(mh));
	mh.msg_name = &addr;
	mh.msg_namelen = addrlen;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		struct cmsghdr *c;

		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		if (ratelimit_check(&rl_send, more, sizeof(more)))
			log_warnx("cannot create a socket for NOTIFY_SOCKET: "
			          "%s%s",
			          strerror(errno), more);
		return -1;
	}
	if (sendmsg(s, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			drop(msg);
			close(s);
			return -1;
		}
		/* a manager that fails and recovers in turn would make a
		 * line each time: limited as well as once per failure */
		if (!failing && ratelimit_check(&rl_send, more, sizeof(more)))
			log_warnx("cannot notify the service manager at "
			          "NOTIFY_SOCKET=%s: %s%s",
			          saved[0], strerror(errno), more);
		failing = 1;
		close(s);
		return -1;
	}
	failing = 0;
	close(s);
	caught_up(msg);
	return 0;
}

/* msg, then "STATUS=" and the formatted text with any newline made a
 * space (a newline would start another field). */
static void
send_status(const char *msg, const char *fmt, va_list ap)
{
	char buf[1024];
	char *p;

	vsnprintf(status_text, sizeof(status_text), fmt, ap);
	for (p = status_text; *p; p++)
		if (*p == '\n')
			*p = ' ';
	if (strncmp(msg, "READY=1", 7) == 0 ||
	    strncmp(msg, "RELOADING=1", 11) == 0 ||
	    strncmp(msg, "STOPPING=1", 10) == 0)
		snprintf(phase, sizeof(phase), "%s", msg);
	snprintf(state, sizeof(state), "%sSTATUS=%s", phase, status_text);
	snprintf(buf, sizeof(buf), "%sSTATUS=%s", msg, status_text);
	/* a message that is the whole state brings the manager up to date
	 * (caught_up); a STATUS= alone does not when the phase before it
	 * was lost */
	send_msg(strcmp(buf, state) == 0 ? state : buf, -1);
}

static void __attribute__((format(printf, 2, 3)))
send_with_status(const char *msg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	send_status(msg, fmt, ap);
	va_end(ap);
}

void
sdnotify_status(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	send_status("", fmt, ap);
	va_end(ap);
}

void
sdnotify_serving(unsigned long gen, int pending)
{
	if (!pending)
		send_with_status("READY=1\n", "generation %lu serving", gen);
}

void
sdnotify_rolled_back(unsigned long failed, const char *reason,
                     unsigned long serving, int pending)
{
	if (!pending)
		send_with_status("READY=1\n",
		                 "restart failed: generation %lu %s; "
		                 "generation %lu keeps serving",
		                 failed, reason, serving);
}

void
sdnotify_reloading(void)
{
	static struct ratelimit rl =
	    RATELIMIT_INIT("errors reading CLOCK_MONOTONIC");
	struct timespec ts;
	char msg[128], more[64];

	if (!have_addr)
		return;
	/* systemd matches this time against the reload it started: a
	 * RELOADING=1 without it may be taken for an older one */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0) {
		/* once per SIGHUP: limited as any line a signal causes */
		if (ratelimit_check(&rl, more, sizeof(more)))
			log_warnx("cannot read CLOCK_MONOTONIC: %s%s",
			          strerror(errno), more);
		return;
	}
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu\n",
	         (unsigned long long)ts.tv_sec * 1000000ULL +
	             (unsigned long long)ts.tv_nsec / 1000ULL);
	send_with_status(msg, "restarting: starting a new generation");
}

void
sdnotify_stopping(void)
{
	send_with_status("STOPPING=1\n", "stopping");
}

/* The errno whose text ends the line ("...: Address already in use"),
 * or 0. The parsers and wrappers that fill an error buffer (listen_bind,
 * the pid file, a failed exec) name the cause with strerror(errno) last,
 * and their callers exit with fatalx(), which has no errno to give: the
 * cause is in the text, and the text is this process's own strerror. */
static int
errno_of_text(const char *line, size_t n)
{
	int e;

	for (e = 1; e < 200; e++) {
		const char *t = strerror(e);
		size_t tn = strlen(t);

		if (n >= tn + 2 && memcmp(line + n - tn - 2, ": ", 2) == 0 &&
		    memcmp(line + n - tn, t, tn) == 0 &&
		    strncmp(t, "Unknown error", 13) != 0)
			return e;
	}
	return 0;
}

/* log.c's fatal path: errno is the cause of fatal(), 0 after fatalx().
 * baton.1 promises ERRNO= whenever a system call failed. */
static void
fatal_hook(int code, const char *line)
{
	char msg[128] = "";
	int err = errno;
	size_t n = strcspn(line, "\n");

	if (err <= 0)
		err = errno_of_text(line, n);
	if (err > 0)
		snprintf(msg, sizeof(msg), "ERRNO=%d\n", err);
	(void)code; /* the manager sees the exit status itself */
	send_with_status(msg, "%.*s", (int)n, line);
}

static void
watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	send_msg("WATCHDOG=1", -1);
}

void
sdnotify_watchdog_start(struct ev_loop *loop)
{
	unsigned long long usec;
	char *end;

	if (!have_addr)
		return;
	retry_loop = loop; /* to retry what the manager could not take */
	if (dropped && !ev_is_active(&retry)) {
		ev_timer_init(&retry, retry_cb, RETRY_SECONDS, RETRY_SECONDS);
		ev_timer_start(loop, &retry);
		ev_unref(loop);
	}
	if (saved[1] == NULL)
		return;
	/* sd_watchdog_enabled(3): WATCHDOG_PID, when set, names the
	 * process meant; a variable meant for another is not ours */
	if (saved[2] && strtol(saved[2], NULL, 10) != (long)getpid())
		return;
	errno = 0;
	usec = strtoull(saved[1], &end, 10);
	if (errno || *end || usec == 0) {
		log_warnx("ignoring WATCHDOG_USEC=%s: not a positive number "
		          "of microseconds",
		          saved[1]);
		return;
	}
	ev_timer_init(&watchdog, watchdog_cb, 0, (double)usec / 2e6);
	ev_timer_start(loop, &watchdog);
	/* the watchdog alone must not keep baton running */
	ev_unref(loop);
}

int
sdnotify_fdstore(const struct listener *ls, size_t nls)
{
	char name[256], msg[300]; /* systemd's FDNAME_MAX is 255 */
	size_t i;
	int n = 0;

	if (!have_addr)
		return -1;
	for (i = 0; i < nls; i++) {
		/* the name it gets back in LISTEN_FDNAMES */
		listen_fdname(&ls[i], name, sizeof(name));
		snprintf(msg, sizeof(msg), "FDSTORE=1\nFDNAME=%s", name);
		if (send_msg(msg, ls[i].fd) == 0)
			n++;
	}
	return n;
}
