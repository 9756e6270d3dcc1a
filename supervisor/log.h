/* SPDX-License-Identifier: ISC */
/* log.h: log lines and fatal exits. */
#ifndef BATON_LOG_H
#define BATON_LOG_H

/*
 * The one error idiom of the supervisor:
 *
 *  - A parser (options, listener specs, state formats) fills an error
 *    buffer, `char *err, size_t errlen`, with a whole message that quotes
 *    the bad input, and returns -1. Its caller decides: fatalx() at
 *    start-up, log_warnx() and carry on at run time.
 *  - A system-call wrapper returns -1 with errno set and prints nothing;
 *    the caller names the object:
 *        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
 *                log_warn("cannot open pid file %s", path);
 *    log_warn and fatal append ": strerror(errno)".
 *  - Only main() and fatal()/fatalx() exit. Library code never does.
 *
 * Messages read "<what failed> <object>: <cause>", one line, and use the
 * same words as baton.1's DIAGNOSTICS.
 */

#include <ev.h>
#include <stdarg.h>

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
 * output was blocked, even when baton has nothing else to say. */
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

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn appends ": strerror(errno)"; log_warnx does not. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
void fatalx(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* Called by fatal() before exit, to remove files baton created. */
void log_set_atexit(void (*fn)(void));

#endif
