/* SPDX-License-Identifier: ISC */
/* ratelimit.c: at most one log line per cause per interval, with the count
 * of what was held back, so that no outside party can flood the log. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "log.h"
#include "monotime.h"
#include "ratelimit.h"

static struct ev_loop *loop;
static ev_timer timer;
static struct ratelimit *pending; /* causes with an interval open */

static double
interval_of(const struct ratelimit *rl)
{
	return rl->interval > 0 ? rl->interval : RATELIMIT_INTERVAL;
}

static void
report(struct ratelimit *rl)
{
	if (rl->held > 0)
		log_warnx("%s: %lu more suppressed in the last %g s", rl->cause,
		          rl->held, interval_of(rl));
	rl->held = 0;
}

static void arm(void);

/* Close every interval that has ended, logging its count. */
static void
sweep(double now)
{
	struct ratelimit **p = &pending;

	while (*p) {
		struct ratelimit *rl = *p;

		if (now >= rl->until) {
			report(rl);
			rl->until = 0;
			rl->passed = 0;
			rl->listed = 0;
			*p = rl->next;
		} else
			p = &rl->next;
	}
}

static void
timer_cb(struct ev_loop *l, ev_timer *t, int revents)
{
	(void)t;
	(void)revents;
	/* the timer was unref'd while active and has now stopped */
	ev_ref(l);
	sweep(monotime_now());
	arm();
}

/* Wake up when the earliest open interval ends. */
static void
arm(void)
{
	struct ratelimit *rl;
	double first = 0, now;

	if (loop == NULL)
		return;
	for (rl = pending; rl; rl = rl->next)
		if (rl->held > 0 && (first == 0 || rl->until < first))
			first = rl->until;
	if (ev_is_active(&timer)) {
		ev_ref(loop);
		ev_timer_stop(loop, &timer);
	}
	if (first == 0)
		return;
	now = monotime_now();
	ev_timer_set(&timer, first > now ? first - now + 1e-3 : 1e-3, 0);
	ev_timer_start(loop, &timer);
	/* a pending count must not keep baton from exiting */
	ev_unref(loop);
}

int
ratelimit_check(struct ratelimit *rl, char *more, size_t len)
{
	int saved = errno;
	double now = monotime_now();

	if (len > 0)
		more[0] = '\0';
	if (rl->until != 0 && now < rl->until &&
	    rl->passed >= (rl->burst ? rl->burst : 1)) {
		/* the first held line of an interval sets the timer */
		if (rl->held++ == 0)
			arm();
		errno = saved;
		return 0;
	}
	if (rl->held > 0 && len > 0)
		snprintf(more, len, " (%lu more suppressed before this one)",
		         rl->held);
	rl->held = 0;
	if (rl->until == 0 || now >= rl->until) {
		rl->until = now + interval_of(rl);
		rl->passed = 0;
	}
	rl->passed++;
	if (!rl->listed) {
		rl->next = pending;
		pending = rl;
		rl->listed = 1;
	}
	errno = saved;
	return 1;
}

void
ratelimit_set_loop(struct ev_loop *l)
{
	loop = l;
	ev_timer_init(&timer, timer_cb, 0, 0);
}

void
ratelimit_flush(void)
{
	struct ratelimit *rl;

	for (rl = pending; rl; rl = rl->next)
		report(rl);
	if (loop && ev_is_active(&timer)) {
		ev_ref(loop);
		ev_timer_stop(loop, &timer);
	}
}
