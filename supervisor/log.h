/* SPDX-License-Identifier: ISC */
/* log.h: log lines and fatal exits. */
#ifndef BATON_LOG_H
#define BATON_LOG_H

/*
 * The error idiom of the supervisor. A function that fails returns -1 (or
 * NULL) and prints nothing; what it hands its caller depends on who can
 * name the object:
 *
 *  1. A system-call wrapper whose caller holds the object (the path, the
 *     pid, the fd it passed) returns -1 with errno set. The caller names
 *     the object, and log_warn() or fatal() append ": strerror(errno)":
 *        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
 *                log_warn("cannot open pid file %s", path);
 *
 *  2. A function whose message needs what only it knows fills an error
 *     buffer, `char *err, size_t errlen`, and returns -1. Always: every
 *     -1 leaves a message in err. Two kinds do:
 *
 *     a. Parsers and validators (options, listener specs, socket
 *        options, credentials, state formats): the message quotes the
 *        bad input. errno is not used; where a lookup failed (a user
 *        name), its cause ends the line.
 *     b. Operations of several steps on an object the caller names only
 *        in part: binding a listener (resolve, socket, options, bind,
 *        listen: the failing step, and the address it resolved to),
 *        adopting an fd from systemd or across re-exec, the pid file and
 *        status lock (open, check, lock, write: which file), a file
 *        written through a temporary, setting or reading back one of a
 *        listener's options, the --check probe of accepted sockets. The
 *        message reads "cannot <step> <object>: <cause>"; when a system
 *        call failed, the cause is its strerror, last on the line, which
 *        is where sdnotify.c reads ERRNO= back from. errno itself is
 *        unspecified afterwards: the cause is in the text.
 *
 *     err holds the whole line, or the part a caller that holds the
 *     object completes: a value parser's cause, "port is not a number",
 *     behind "invalid --port value \"x\": "; the probe's step and cause
 *     behind "cannot see what sockets accepted on ADDR get: ". The caller
 *     adds nothing else and decides: fatalx(CODE, "%s", err) at start-up,
 *     log_warnx("%s", err) at run time; never fatal() or log_warn(),
 *     whose errno is no longer the cause.
 *
 *  3. Only main() and fatal()/fatalx() exit. Library code never does.
 *
 * Messages read "<what failed> <object>: <cause>", one line, and use the
 * same words as baton.1's DIAGNOSTICS.
 */

#include <ev.h>
#include <stdarg.h>
#include <stddef.h>

#include "exitcode.h" /* so that every user of fatal() has the codes */

/* Name printed before every line: "baton" or "start_server". */
void log_init(const char *progname);
const char *log_progname(void);
/* Prefix each line with a timestamp (used once output goes to a file). */
void log_timestamps(int on);
/* Where baton's own lines go (default: stderr, written as it is): fd,
 * written without ever blocking (see log.c), and named in the count of
 * lines dropped while it was blocked ("stderr", "log file PATH"). Call
 * again after fd was replaced (dup2). */
void log_set_output(int fd, const char *name);
/* Retry every second on loop to report the lines dropped while the
 * output was blocked, and the debug lines held back (struct log_site),
 * even when baton has nothing else to say. */
void log_watch(struct ev_loop *loop);
/* Until start-up is over, fatal() also writes to this fd (the terminal
 * baton was started from, once --log-file took stderr); -1 to stop. */
void log_set_tee_fd(int fd);
/* Called by fatal() with the exit code and the line (without timestamp),
 * before the clean-up, with errno the cause (0 after fatalx()): the
 * --daemonize report pipe (daemon.c), the service manager (sdnotify.c). */
void log_set_fatal_hook(void (*fn)(int code, const char *line));

/* in with control bytes, and bytes that are not UTF-8, escaped (\n, \t,
 * \xNN), into out: the one escaper of log lines. */
void log_escape(char *out, size_t len, const char *in);

/*
 * Levels. Each line has one, shown where it costs no text that a person
 * or a script already matches (baton.1, DIAGNOSTICS, Levels):
 *
 *   error    fatal(), fatalx(); and log_warn/log_warnx in a command that
 *            fails with that line (log_warnings_are_errors)
 *                                        "baton: cannot bind ...: ..."
 *   warning  log_warn, log_warnx         "baton: warning: ..."
 *            log_compat_warnx            "baton: ..." (no marker)
 *   info     log_info                    "baton: ..."
 *   debug    log_debug, with --verbose   "baton: debug: ..."
 *
 * Info and error lines keep the shape every existing script matches
 * (start_server's "starting new worker", DIAGNOSTICS' "cannot bind");
 * only baton's own warnings and the debug lines carry a word. When
 * stderr is the systemd journal (JOURNAL_STREAM names its device and
 * inode), each line also starts with its sd-daemon priority, <3>, <4>,
 * <6> or <7>, which journald strips and files ("journalctl -p warning").
 */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn appends ": strerror(errno)"; log_warnx does not. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A warning in the place of one start_server prints (a new worker that
 * failed to start, a worker that died): a warning to the journal, but
 * its text unmarked, as start_server's is. */
void log_compat_warnx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* Until called with 0, a log_warn/log_warnx line is the error the
 * running command ends with (--restart, --stop, --stats, --health, a
 * bad command line): no "warning: " marker, priority <3>. */
void log_warnings_are_errors(int on);

/* --verbose: log_debug lines are written (off by default). */
void log_set_debug(int on);
int log_debugging(void);

/* One log_debug call site: its lines are limited to LOG_DEBUG_BURST per
 * second, the rest counted and the count logged when the second is over
 * (log_watch's timer) or with the site's next line. A debug line can
 * come from a worker's datagram, so it is limited like any line an
 * outside party can cause (STYLE.md rule 5). */
struct log_site {
	const char *func; /* names the site in the count */
	double until;     /* monotonic end of the current second; 0: none */
	unsigned passed;  /* lines let through in it */
	unsigned long held;
	struct log_site *next; /* on the list of sites holding a count */
	int listed;
};
#define LOG_DEBUG_BURST 20

void log_debug_at(struct log_site *site, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The arguments are evaluated only with --verbose. */
#define log_debug(...)                                                         \
	do {                                                                   \
		static struct log_site log_site_ = {.func = __func__};         \
		if (log_debugging())                                           \
			log_debug_at(&log_site_, __VA_ARGS__);                 \
	} while (0)

void fatal(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
void fatalx(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* Called by fatal() before exit, to remove files baton created. */
void log_set_atexit(void (*fn)(void));

#endif
