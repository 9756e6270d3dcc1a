/* SPDX-License-Identifier: ISC */
/* ratelimit.h: at most one log line per cause per interval, and a count
 * of the lines held back. */
#ifndef BATON_RATELIMIT_H
#define BATON_RATELIMIT_H

#include <stddef.h>

#include <ev.h>

/* Every line an outside party can cause (a datagram, a connection, a file
 * change, a signal) goes through one of these, one per cause:
 *
 *	static struct ratelimit rl = RATELIMIT_INIT("notify datagrams from "
 *	                                            "other uids");
 *	char more[64];
 *
 *	if (ratelimit_check(&rl, more, sizeof(more)))
 *		log_warnx("ignoring notify datagrams from uid %ld: ...%s",
 *		          (long)uid, more);
 *
 * The first line of an interval passes (the first `burst` lines, for a
 * cause whose few distinct lines should all be seen, such as the reserved
 * envdir names); the others in it are counted, and
 * the count is logged when the interval ends (from a timer, once
 * ratelimit_set_loop has been called) or else with the next line that
 * passes, through `more`. Times are CLOCK_MONOTONIC: a clock step neither
 * silences a cause nor lets it flood. */
struct ratelimit {
	const char *cause; /* names the held-back lines in the count */
	double interval;   /* seconds; 0: RATELIMIT_INTERVAL */
	unsigned burst;    /* lines let through per interval; 0: 1 */
	double until;      /* monotonic end of the current interval; 0: none */
	unsigned passed;   /* lines let through in it */
	unsigned long held;
	struct ratelimit *next; /* on the list the timer goes through */
	int listed;
};

/* The default interval, in seconds. */
#define RATELIMIT_INTERVAL 10.0

#define RATELIMIT_INIT(why) RATELIMIT_INIT_BURST(why, 1)
#define RATELIMIT_INIT_BURST(why, n)                                           \
	{                                                                      \
		.cause = (why), .burst = (n)                                   \
	}

/* 1 when a line may be logged now: then `more` (len bytes) holds "" or
 * " (N more suppressed before this one)" to append to it. 0 when the line
 * is held back (and counted). errno is left as it was. */
int ratelimit_check(struct ratelimit *rl, char *more, size_t len);

/* Let a timer log each cause's count when its interval ends, as
 * "CAUSE: N more suppressed in the last S s". The timer does not
 * keep the loop alive. */
void ratelimit_set_loop(struct ev_loop *loop);

/* Log every pending count now (at exit, before a re-exec). */
void ratelimit_flush(void);

#endif
