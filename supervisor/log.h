/* log.h: log lines, fatal exits and the exit-code table. */
#ifndef BATON_LOG_H
#define BATON_LOG_H

#include <stdarg.h>

/* The exit codes baton documents in baton.1; never reuse a number. */
enum {
	EXIT_OK = 0,
	EXIT_USAGE = 1,    /* command line: unknown option, bad value */
	EXIT_LISTEN = 2,   /* a listener could not be set up */
	EXIT_FILE = 3,     /* pid/status/log file, envdir, --dir */
	EXIT_CONTROL = 4,  /* --restart / --stop failed */
	EXIT_EXEC = 5,     /* the worker program cannot be executed */
	EXIT_SOFTWARE = 70 /* internal error */
};

/* Name printed before every line: "baton" or "start_server". */
void log_init(const char *progname);
const char *log_progname(void);
/* Prefix each line with a timestamp (used once output goes to a file). */
void log_timestamps(int on);
/* Once set, fatal() writes its exit code and message to this fd too
 * (the --daemonize parent waits on it). */
void log_set_report_fd(int fd);
/* Until start-up is over, fatal() also writes to this fd (the terminal
 * baton was started from, once --log-file took stderr). */
void log_set_tee_fd(int fd);
/* Tell the waiting --daemonize parent that start-up succeeded. */
void log_report_ok(void);

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
