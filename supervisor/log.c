/* SPDX-License-Identifier: ISC */
/* log.c: one line per event on stderr (which --log-file redirects). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "utf8.h"

static const char *progname = "baton";
static int timestamps;
static int out_fd = STDERR_FILENO;
static int tee_fd = -1;
static void (*cleanup)(void);
static void (*fatal_hook)(int, const char *);

void
log_init(const char *name)
{
	progname = name;
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
log_set_fd(int fd)
{
	out_fd = fd;
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

/* Format the whole line first and write it with one write(2), so lines
 * from baton and its workers sharing the log do not interleave. */
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

static void
vlog(int with_errno, int saved, const char *fmt, va_list ap, char *out,
     size_t outlen)
{
	char raw[2048], msg[2048], stamp[64] = "";
	int n;

	vsnprintf(raw, sizeof(raw), fmt, ap);
	/* one line each, whatever a user put in a value we quote */
	log_escape(msg, sizeof(msg), raw);
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
	if (with_errno)
		n = snprintf(out, outlen, "%s%s: %s: %s\n", stamp, progname,
		             msg, strerror(saved));
	else
		n = snprintf(out, outlen, "%s%s: %s\n", stamp, progname, msg);
	if (n < 0)
		return;
	if ((size_t)n >= outlen)
		n = (int)outlen - 1;
	(void)!write(out_fd, out, (size_t)n);
}

#define LOGFN(name, with_errno)                                                \
	void name(const char *fmt, ...)                                        \
	{                                                                      \
		char line[4096];                                               \
		int saved = errno;                                             \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		vlog(with_errno, saved, fmt, ap, line, sizeof(line));          \
		va_end(ap);                                                    \
		errno = saved;                                                 \
	}

LOGFN(log_info, 0)
LOGFN(log_warn, 1)
LOGFN(log_warnx, 0)

static void __attribute__((noreturn))
vfatal(int code, int with_errno, const char *fmt, va_list ap)
{
	char line[4096];
	const char *m = line;
	int saved = errno;

	vlog(with_errno, saved, fmt, ap, line, sizeof(line));
	/* a terminal gets the message without the log's timestamp */
	if (timestamps && strchr(line, ' '))
		m = strchr(line, ' ') + 1;
	if (fatal_hook) {
		errno = with_errno ? saved : 0; /* the hook may report it */
		fatal_hook(code, m);
	}
	/* start-up failed after output went to --log-file: the user at the
	 * terminal must see why too */
	if (tee_fd >= 0)
		(void)!write(tee_fd, m, strlen(m));
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
