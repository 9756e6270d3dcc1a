/* SPDX-License-Identifier: ISC */
/* statusjson.h: the JSON status (STATUS.json): one struct, its writer and
 * its reader, so a format change breaks a compile or a unit test. */
#ifndef BATON_STATUSJSON_H
#define BATON_STATUSJSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "qstat.h"

struct status_json_worker {
	int index;
	long pid;
	int alive, ready;
	const char *status; /* last STATUS= text; NULL is written as null */
};

struct status_json_gen {
	unsigned long id;
	char state[16];  /* "starting", "serving", ...: by name */
	double started;  /* epoch seconds, written with 3 decimals */
	double ready_at; /* < 0: not ready (null) */
	size_t nw;
	struct status_json_worker *w;
};

struct status_json_listener {
	const char *key;
	int fd;
	char type[8];       /* "tcp", "udp", "unix" */
	char origin[16];    /* "bound" (by baton) or "systemd" (adopted) */
	const char *fdname; /* its LISTEN_FDNAMES name; NULL is null */
	/* the port it listens on, as the kernel says (its choice for
	 * HOST:0); 0 is null (unix, or an older writer) */
	int port;
	/* writer only: appends the listener's own members ("options":{...})
	 * after "type"; the reader skips them as unknown keys */
	void (*options)(FILE *f, const void *arg);
	const void *arg;
	/* The socket's inode, for readers outside (--stats); 0 is null. */
	uint64_t inode;
	/* The queue as last sampled: "queue":{"len":N,"limit":N,"peak":N,
	 * "drops":N,"syn":N,"sampled_at":T}, a figure the kernel does not
	 * give being null (queue.last.flags says which); has_queue 0 is
	 * "queue":null (not sampled yet, or an older writer). */
	int has_queue;
	struct qstat_track queue;
};

struct status_json {
	long pid;
	unsigned long restarts;
	int restart_pending, stopping;
	long stop_timeout;
	unsigned long last_generation;
	size_t nls;
	struct status_json_listener *ls;
	size_t ngens; /* newest first, as baton keeps them */
	struct status_json_gen *gens;
	/* The supervisor's deadlines in seconds, from which --restart
	 * computes how long to wait. has_deadlines 0 (what a zeroed struct
	 * says): unknown, the three written as null. ready_timeout: how
	 * long a generation may take to be ready past --interval, < 0 for
	 * no limit (null); stop_timeout 0 is no limit too. */
	int has_deadlines;
	double interval, ready_timeout, kill_old_delay;
	/* A failed restart is being retried: the next attempt starts at
	 * retry_at (epoch seconds; <= 0: not known, written as null). */
	int retrying;
	double retry_at;
	/* restarts that served and generations rolled back (metrics) */
	unsigned long served, rolled_back;
	int has_failure; /* last_failure is null when 0 */
	unsigned long fail_gen;
	double fail_time;
	const char *fail_reason;
};

/* Write s as one line of JSON ending in "\n". -1 (errno) on a write
 * error. Strings are escaped; bytes that are not UTF-8 become U+FFFD. */
int status_json_write(FILE *f, const struct status_json *s);
/* The same into a malloc'd buffer (*len without the NUL); NULL on ENOMEM. */
char *status_json_format(const struct status_json *s, size_t *len);

/* Read text written by status_json_write (or a later version: unknown
 * keys are skipped). Strict JSON, bounded in depth, sizes and counts;
 * every key the writer always writes is required, except the deadlines
 * and the retry fields, which older versions do not write. -1 with err on bad
 * input; on success out's strings and arrays are malloc'd: free them
 * with status_json_free(). */
int status_json_parse(const char *text, struct status_json *out, char *err,
                      size_t errlen);
void status_json_free(struct status_json *s);

#endif
