/* SPDX-License-Identifier: ISC */
/* log.c: one line per event on stderr (which --log-file redirects). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "monotime.h"
#include "utf8.h"

/*
 * Never block on the reader (STYLE.md, rule 3). stderr is shared with the
 * workers: it is one open file description, and setting O_NONBLOCK on it
 * would hand EAGAIN to every worker that writes there (most treat that as
 * a fatal write error). So baton writes its own lines through a
 * description of its own, chosen by log_set_output():
 *
 *   - a pipe, a FIFO or a terminal: opened again through /proc/self/fd/N
 *     with O_NONBLOCK, a new description on the same pipe or device that
 *     only baton uses (the workers' stay blocking); where that is refused,
 *     written only when poll(2) finds room (see put());
 *   - a socket (the journal's stream, a socketpair): send(2) with
 *     MSG_DONTWAIT, which is non-blocking for this call alone (a socket
 *     cannot be re-opened through /proc);
 *   - a regular file or /dev/null: written as it is, since a write there
 *     never waits for a peer (a slow disk is not a peer baton could
 *     drop lines for).
 *
 * A line that would block is dropped and counted. A line cut short (a
 * socket or a terminal can take part of one) keeps its tail, which goes
 * out before anything else, so lines are never torn. Once the reader
 * takes lines again, the first thing written is the count: "312 log lines
 * dropped while stderr was blocked"; a timer (log_watch) tries every
 * second, so the count arrives even when baton has nothing else to say.
 *
 * The levels (log.h) use syslog's numbers, which are also the sd-daemon
 * priorities the journal reads from the "<N>" that starts a line.
 */

#define LINE_MAX_LEN 4096 /* PIPE_BUF on Linux: a pipe takes it whole */
#define RETRY_SECONDS 1.0

static const char *progname = "baton";
static int timestamps;
static int out_fd = STDERR_FILENO; /* where lines go */
static int own_fd = -1;            /* out_fd when we opened it */
static int out_is_socket;          /* send(MSG_DONTWAIT) rather than write */
static int out_poll;               /* write only when poll(2) sees room */
static char out_name[300] = "stderr";
static char tail[LINE_MAX_LEN]; /* the unwritten end of a cut line */
static size_t tail_len;
static unsigned long dropped; /* lines lost since the reader stopped */
static struct ev_loop *loop;
static ev_timer retry_timer;
static int tee_fd = -1;
static void (*cleanup)(void);
static void (*fatal_hook)(int, const char *);
static int journal;                  /* out_fd is the journal's stream */
static int warn_level = LOG_WARNING; /* LOG_ERR in a failing command */
static int debug_on;
static struct log_site *held_sites; /* sites with a count to report */

/* How vlog() writes a line. */
enum { WITH_ERRNO = 1, UNMARKED = 2 };

static int is_journal(const struct stat *st);

void
log_init(const char *name)
{
	struct stat st;

	progname = name;
	/* the lines before log_set_output (a command-line error, --restart
	 * run by ExecReload=) are the journal's too */
	journal = fstat(STDERR_FILENO, &st) == 0 && is_journal(&st);
}

const char *
log_progname(void)
{
	return progname;
}

void
log_timestamps(int on)
{
	timestamps = on;
}

void
log_warnings_are_errors(int on)
{
	warn_level = on ? LOG_ERR : LOG_WARNING;
}

void
log_set_debug(int on)
{
	debug_on = on;
}

int
log_debugging(void)
{
	return debug_on;
}

/* Whether st is the journal's stream: systemd names it in JOURNAL_STREAM
 * as "DEV:INODE" for the stdout and stderr it connects there. A worker
 * inherits the variable, and a --log-file replaces stderr: the check is
 * against the file actually written. */
static int
is_journal(const struct stat *st)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	char end;

	return v && S_ISSOCK(st->st_mode) &&
	       sscanf(v, "%llu:%llu%c", &dev, &ino, &end) == 2 &&
	       dev == (unsigned long long)st->st_dev &&
	       ino == (unsigned long long)st->st_ino;
}

void
log_set_output(int fd, const char *name)
{
	char self[64];
	struct stat st;
	int fd2 = -1, is_socket = 0, use_poll = 0;

	/* closed (EBADF): written as it is, which fails without waiting */
	if (fstat(fd, &st) < 0)
		st.st_mode = 0;
	if (S_ISFIFO(st.st_mode) || (S_ISCHR(st.st_mode) && isatty(fd))) {
		/* O_NOCTTY: a daemon (a session leader) must not acquire
		 * the terminal it is given */
		snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
		fd2 = open(self, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd2 >= 0 && fd2 < 3) {
			/* stdio must stay free for the workers' */
			int moved = fcntl(fd2, F_DUPFD_CLOEXEC, 3);

			close(fd2);
			fd2 = moved;
		}
		/* refused (EACCES: a pipe another user made, as a
		 * container's stdio is for a baton run as an unprivileged
		 * user), or a FIFO with no reader (ENXIO) */
		use_poll = fd2 < 0;
	} else if (S_ISSOCK(st.st_mode))
		is_socket = 1;
	journal = is_journal(&st);
	if (own_fd >= 0)
		close(own_fd);
	own_fd = fd2;
	out_fd = fd2 >= 0 ? fd2 : fd;
	out_is_socket = is_socket;
	out_poll = use_poll;
	snprintf(out_name, sizeof(out_name), "%s", name);
	/* the tail of a line for the old target means nothing to the new */
	tail_len = 0;
}

void
log_set_tee_fd(int fd)
{
	if (tee_fd >= 0 && tee_fd != fd)
		close(tee_fd);
	tee_fd = fd;
}

void
log_set_fatal_hook(void (*fn)(int, const char *))
{
	fatal_hook = fn;
}

void
log_set_atexit(void (*fn)(void))
{
	cleanup = fn;
}

/* The log's one escaper (STYLE.md rule 6). Control bytes as C escapes
 * (\n, \t, \xNN): a message stays one line and a terminal is not driven
 * by a value taken from the command line or a file. Well-formed UTF-8 is
 * left alone (UTF-8 paths); a byte that is not part of it is \xNN too,
 * so the line is valid UTF-8 (journald stores any other as a blob) and
 * still says which byte it was. */
void
log_escape(char *out, size_t len, const char *in)
{
	size_t o = 0, n;

	if (len == 0)
		return;
	for (; *in && o + 5 < len; in += n) {
		unsigned char c = (unsigned char)*in;

		n = utf8_len((const unsigned char *)in, (size_t)-1);
		if (c == '\n' || c == '\t' || c == '\r') {
			out[o++] = '\\';
			out[o++] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
		} else if (c < 0x20 || c == 0x7f || n == 0)
			o += (size_t)snprintf(out + o, len - o, "\\x%02x", c);
		else if (o + n < len) {
			memcpy(out + o, in, n);
			o += n;
			continue;
		} else
			break; /* no room for the whole character */
		n = 1;
	}
	out[o] = '\0';
}

/* The word after the program name: only baton's own warnings and the
 * debug lines carry one (log.h). */
static const char *
marker(int level, int flags)
{
	if (flags & UNMARKED)
		return "";
	return level == LOG_WARNING ? "warning: "
	       : level == LOG_DEBUG ? "debug: "
	                            : "";
}

/* The line's prefix: the journal's priority, the time (with --log-file),
 * the program name and the level's word. *text is set to the offset of
 * what a person reads on a terminal: the line after the priority and the
 * time. */
static size_t
prefix(char *out, size_t outlen, int level, int flags, size_t *text)
{
	char prio[8] = "", stamp[64] = "";
	int n;

	if (timestamps) {
		struct timeval tv;
		struct tm tm;

		gettimeofday(&tv, NULL);
		localtime_r(&tv.tv_sec, &tm);
		n = (int)strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S",
		                  &tm);
		snprintf(stamp + n, sizeof(stamp) - (size_t)n, ".%03ld ",
		         (long)tv.tv_usec / 1000);
	}
	if (journal)
		snprintf(prio, sizeof(prio), "<%d>", level);
	*text = strlen(prio) + strlen(stamp);
	n = snprintf(out, outlen, "%s%s%s: %s", prio, stamp, progname,
	             marker(level, flags));
	return n < 0 ? 0 : (size_t)n >= outlen ? outlen - 1 : (size_t)n;
}

static ssize_t
put(const char *buf, size_t n)
{
	struct pollfd p = {out_fd, POLLOUT, 0};

	if (out_is_socket)
		return send(out_fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	/* the shared description, blocking: write only when the pipe has a
	 * free page, which takes a line (at most PIPE_BUF) whole. A worker
	 * that fills it between the poll and the write makes baton wait
	 * until the reader takes one page: the one case left that can wait,
	 * when baton cannot have a description of its own. */
	if (out_poll && poll(&p, 1, 0) == 0) {
		errno = EAGAIN;
		return -1;
	}
	return write(out_fd, buf, n);
}

/* Write buf whole: 0 when it went out (or failed for good: EPIPE, EIO,
 * which no retry would mend), -1 when the reader does not take anything
 * now. A part that went out leaves the rest in tail. */
static int
put_line(const char *buf, size_t n)
{
	ssize_t w = put(buf, n);

	if (w < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : 0;
	if ((size_t)w < n) {
		tail_len = n - (size_t)w;
		memcpy(tail, buf + w, tail_len);
	}
	return 0;
}

/* Finish a line cut short: 0 once nothing is left over. */
static int
flush_tail(void)
{
	ssize_t w;

	if (tail_len == 0)
		return 0;
	w = put(tail, tail_len);
	if (w < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -1;
		tail_len = 0; /* gone for good */
		return 0;
	}
	memmove(tail, tail + w, tail_len - (size_t)w);
	tail_len -= (size_t)w;
	return tail_len ? -1 : 0;
}

static void retry_cb(struct ev_loop *l, ev_timer *w, int revents);

/* A timer to see when the reader is back. */
static void
start_retry(void)
{
	if (loop == NULL || ev_is_active(&retry_timer))
		return;
	ev_timer_init(&retry_timer, retry_cb, RETRY_SECONDS, RETRY_SECONDS);
	ev_timer_start(loop, &retry_timer);
	/* waiting for a reader must not keep baton running */
	ev_unref(loop);
}

/* The reader stopped taking lines: one more lost. */
static void
drop_line(void)
{
	dropped++;
	start_retry();
}

/* Before the next line: what was left over, then the count of lines
 * lost. 0 when the way is clear. */
static int
catch_up(void)
{
	char line[LINE_MAX_LEN];
	size_t n, text;
	int m;

	if (flush_tail() < 0)
		return -1;
	if (dropped) {
		n = prefix(line, sizeof(line), LOG_WARNING, 0, &text);
		m = snprintf(line + n, sizeof(line) - n,
		             "%lu log line%s dropped while %s was blocked\n",
		             dropped, dropped == 1 ? "" : "s", out_name);
		if (m < 0 || put_line(line, n + (size_t)m) < 0)
			return -1;
		dropped = 0;
	}
	if (loop && ev_is_active(&retry_timer) && held_sites == NULL) {
		ev_ref(loop); /* given up when it started */
		ev_timer_stop(loop, &retry_timer);
	}
	return 0;
}

static void report_held(double now);

static void
retry_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
	(void)catch_up();
	report_held(monotime_now());
}

void
log_watch(struct ev_loop *l)
{
	loop = l;
	if (dropped || tail_len || held_sites) /* during start-up */
		start_retry();
}

/* One line, written with one write(2) so that lines from baton and its
 * workers sharing the log do not interleave, or dropped. */
static void
emit(const char *line, size_t n)
{
	if (catch_up() < 0 || put_line(line, n) < 0)
		drop_line();
}

/* Format and write one line at level; returns the offset of the text a
 * person reads (see prefix()). */
static size_t
vlog(int level, int flags, int saved, const char *fmt, va_list ap, char *out,
     size_t outlen)
{
	char raw[2048], msg[2048];
	size_t p, text;
	int n;

	vsnprintf(raw, sizeof(raw), fmt, ap);
	/* one line each, whatever a user put in a value we quote */
	log_escape(msg, sizeof(msg), raw);
	p = prefix(out, outlen, level, flags, &text);
	if (flags & WITH_ERRNO)
		n = snprintf(out + p, outlen - p, "%s: %s\n", msg,
		             strerror(saved));
	else
		n = snprintf(out + p, outlen - p, "%s\n", msg);
	if (n < 0)
		return text;
	n += (int)p;
	if ((size_t)n >= outlen) {
		n = (int)outlen - 1;
		out[n - 1] = '\n'; /* a cut line still ends the line */
	}
	emit(out, (size_t)n);
	return text;
}

#define LOGFN(name, level, flags)                                              \
	void name(const char *fmt, ...)                                        \
	{                                                                      \
		char line[4096];                                               \
		int saved = errno;                                             \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		(void)vlog(level, flags, saved, fmt, ap, line, sizeof(line));  \
		va_end(ap);                                                    \
		errno = saved;                                                 \
	}

LOGFN(log_info, LOG_INFO, 0)
LOGFN(log_warn, warn_level, WITH_ERRNO)
LOGFN(log_warnx, warn_level, 0)
LOGFN(log_compat_warnx, warn_level, UNMARKED)

/* A debug line; the format is the caller's, the rest fixed. */
static void __attribute__((format(printf, 1, 2)))
debug_line(const char *fmt, ...)
{
	char line[4096];
	va_list ap;

	va_start(ap, fmt);
	(void)vlog(LOG_DEBUG, 0, 0, fmt, ap, line, sizeof(line));
	va_end(ap);
}

/* The count of a site's lines held back in a second that is over. */
static void
report_site(struct log_site *site)
{
	if (site->held > 0)
		debug_line("debug lines from %s: %lu more suppressed in the "
		           "last 1 s",
		           site->func, site->held);
	site->held = 0;
}

/* Every count whose second is over (from log_watch's timer). */
static void
report_held(double now)
{
	struct log_site **p = &held_sites;

	while (*p) {
		struct log_site *site = *p;

		if (now >= site->until) {
			*p = site->next;
			site->listed = 0;
			report_site(site);
		} else
			p = &site->next;
	}
}

/* Whether a line of site may go out now (LOG_DEBUG_BURST a second);
 * counts it otherwise. */
static int
site_admits(struct log_site *site)
{
	double now = monotime_now();

	if (now >= site->until) {
		/* a count the timer has not given yet (or had no loop to
		 * run on) comes before the new second's first line */
		report_site(site);
		site->until = now + 1.0;
		site->passed = 0;
	}
	if (site->passed < LOG_DEBUG_BURST) {
		site->passed++;
		return 1;
	}
	site->held++;
	if (!site->listed) {
		site->listed = 1;
		site->next = held_sites;
		held_sites = site;
		start_retry();
	}
	return 0;
}

void
log_debug_at(struct log_site *site, const char *fmt, ...)
{
	char line[4096];
	int saved = errno;
	va_list ap;

	if (!debug_on || !site_admits(site))
		return;
	va_start(ap, fmt);
	(void)vlog(LOG_DEBUG, 0, saved, fmt, ap, line, sizeof(line));
	va_end(ap);
	errno = saved;
}

static void __attribute__((noreturn))
vfatal(int code, int with_errno, const char *fmt, va_list ap)
{
	char line[4096];
	const char *m;
	int saved = errno;

	/* a terminal and the hooks get the message without the journal's
	 * priority and the log's timestamp */
	m = line + vlog(LOG_ERR, with_errno ? WITH_ERRNO : 0, saved, fmt, ap,
	                line, sizeof(line));
	if (fatal_hook) {
		errno = with_errno ? saved : 0; /* the hook may report it */
		fatal_hook(code, m);
	}
	/* start-up failed after output went to --log-file: the user at the
	 * terminal must see why too. It may be a pipe nobody reads: wait
	 * for room a little, not for ever (a line fits in one free page of
	 * a pipe, which POLLOUT promises) */
	if (tee_fd >= 0) {
		struct pollfd p = {tee_fd, POLLOUT, 0};

		if (poll(&p, 1, 1000) == 1 && (p.revents & POLLOUT))
			(void)!write(tee_fd, m, strlen(m));
	}
	if (cleanup)
		cleanup();
	exit(code);
}

void
fatal(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfatal(code, 1, fmt, ap);
	va_end(ap);
}

void
fatalx(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfatal(code, 0, fmt, ap);
	va_end(ap);
}
