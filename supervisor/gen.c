/* SPDX-License-Identifier: ISC */
/* gen.c: generations of workers and the restart state machine.
 *
 * A generation is the set of workers one (re)start began. Its state
 * changes in one place, gen_set_state(), which checks the change against
 * transitions[] (the table below, row for row), logs it and tells the
 * change (gen_init's on_change: publish.c writes the status files). What
 * is published of the generations, gen_fill gives. Everything here runs
 * from libev callbacks, never in signal context, so no state changes
 * under our feet.
 *
 *   event:   intv   ready  kold   exit   spawn  rtmo   succ   cap    stop
 * -----------+---------------------------------------------------------------
 * starting   | ready  ready  .      failed failed failed .      .      -/gone
 * ready      | .      .      serv   failed .      .      .      .      -/gone
 * serving    | .      .      .      (1)    -      .      retire .      -/gone
 * retiring   | .      .      .      -/gone .      .      .      killed -/gone
 * failed     | .      .      .      -/gone -/gone .      .      .      -/gone
 * killed     | .      .      .      -/gone .      .      .      .      -/gone
 *
 *   intv  --interval elapsed         ready  every worker sent READY=1
 *   kold  --kill-old-delay is due    exit   one of its workers was reaped
 *   spawn fork or exec failed        rtmo   --ready-timeout elapsed
 *   succ  a newer one is serving     cap    over --max-old-generations
 *   stop  baton stops
 *
 *   -/gone  stays while one of its workers is alive, gone with the last
 *           (while baton stops, a worker exit in any state means this)
 *   .       impossible: a bug, logged as "internal: ...", never a crash
 *   (1)     --num-workers > 1: the worker is respawned and the generation
 *           stays serving; a single worker: retiring (then gone), and a
 *           new generation replaces it, as start_server does
 *   -       no change of state (a respawn is retried with backoff)
 *   serving on "successor serving" goes straight to gone when no worker
 *   of it is alive (all of them waiting for a respawn).
 *
 * Only a ready generation retires the serving one; a failed restart leaves
 * the serving generation alone, and is retried (a new generation) with the
 * start-up backoff until one serves, a HUP starts afresh, or
 * --restart-retries attempts failed. Each worker has a process group of
 * its own (pgroup.c): what it leaves behind goes with it. Each deadline
 * has its own ev_timer:
 * --interval, --kill-old-delay, --ready-timeout and --stop-timeout per
 * generation, a respawn per worker, and the retry backoff. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "envdir.h"
#include "fdcheck.h"
#include "gen.h"
#include "genstate.h"
#include "log.h"
#include "monotime.h"
#include "notify.h"
#include "pgroup.h"
#include "reap.h"
#include "reexec.h"
#include "sdnotify.h"
#include "sig.h"
#include "spawn.h"

/* A serving generation that lived this long has proven itself: its death
 * resets the restart backoff. */
#define STABLE_SECONDS 10.0
#define BACKOFF_MAX 30.0

enum gen_event {
	GE_INTERVAL,      /* --interval elapsed with every worker alive */
	GE_ALL_READY,     /* every worker sent READY=1 (--ready=notify) */
	GE_KILL_OLD_DUE,  /* --kill-old-delay is over (or 0) */
	GE_WORKER_EXIT,   /* one of its workers was reaped */
	GE_SPAWN_FAILED,  /* fork or exec of one of its workers failed */
	GE_READY_TIMEOUT, /* --ready-timeout elapsed before it was ready */
	GE_SUCCESSOR,     /* a newer generation is serving */
	GE_OVER_CAP,      /* more retiring than --max-old-generations */
	GE_STOP           /* baton is stopping */
};

static const char *const event_names[] = {"interval elapsed",
                                          "all ready",
                                          "kill-old-delay due",
                                          "worker exit",
                                          "spawn failed",
                                          "ready timeout",
                                          "successor serving",
                                          "over the old-generation cap",
                                          "stop"};

static const struct transition {
	enum gen_state from;
	enum gen_event ev;
	enum gen_state to;
} transitions[] = {
    {GEN_STARTING, GE_INTERVAL, GEN_READY},
    {GEN_STARTING, GE_ALL_READY, GEN_READY},
    {GEN_STARTING, GE_WORKER_EXIT, GEN_FAILED},
    {GEN_STARTING, GE_SPAWN_FAILED, GEN_FAILED},
    {GEN_STARTING, GE_READY_TIMEOUT, GEN_FAILED},
    {GEN_READY, GE_KILL_OLD_DUE, GEN_SERVING},
    {GEN_READY, GE_WORKER_EXIT, GEN_FAILED},
    {GEN_SERVING, GE_WORKER_EXIT, GEN_RETIRING},
    {GEN_SERVING, GE_SUCCESSOR, GEN_RETIRING},
    {GEN_SERVING, GE_SUCCESSOR, GEN_GONE},
    {GEN_RETIRING, GE_OVER_CAP, GEN_KILLED},
    {GEN_RETIRING, GE_WORKER_EXIT, GEN_GONE},
    {GEN_FAILED, GE_WORKER_EXIT, GEN_GONE},
    {GEN_FAILED, GE_SPAWN_FAILED, GEN_GONE},
    {GEN_KILLED, GE_WORKER_EXIT, GEN_GONE},
    /* while stopping: gone with the last worker, whatever the state */
    {GEN_STARTING, GE_WORKER_EXIT, GEN_GONE},
    {GEN_READY, GE_WORKER_EXIT, GEN_GONE},
    {GEN_SERVING, GE_WORKER_EXIT, GEN_GONE},
    {GEN_STARTING, GE_STOP, GEN_GONE},
    {GEN_READY, GE_STOP, GEN_GONE},
    {GEN_SERVING, GE_STOP, GEN_GONE},
    {GEN_RETIRING, GE_STOP, GEN_GONE},
    {GEN_FAILED, GE_STOP, GEN_GONE},
    {GEN_KILLED, GE_STOP, GEN_GONE},
};

struct gen;

struct worker {
	pid_t pid;
	int index; /* BATON_WORKER_INDEX */
	int alive, ready;
	int stopping;     /* said STOPPING=1: logged once, however often */
	char *status;     /* last STATUS= it sent */
	double started;   /* monotonic: the stable-service check */
	ev_timer respawn; /* a dead slot of a serving generation */
	struct gen *gen;
};

struct gen {
	unsigned long id;
	enum gen_state state;
	struct worker *w;
	size_t nw, nalive, nready;
	ev_timer interval;      /* --interval: still alive, so ready */
	ev_timer kill_old;      /* --kill-old-delay: ready, then serving */
	ev_timer ready_timeout; /* --ready-timeout */
	ev_timer stop_timer;    /* --stop-timeout after a stop signal */
	int stop_sig;
	ev_tstamp started, ready_at; /* wall time, for STATUS.json */
	const char *trigger;         /* what started it; NULL when adopted */
	double ready_mono;           /* monotonic: the stable-service check */
	struct gen *next;
};

static struct {
	struct ev_loop *loop;
	const struct options *o;
	struct tunables t;
	struct gen *gens; /* every generation with a process, newest first */
	struct gen *serving, *starting;
	unsigned long last_id;
	int restart_pending, stopping, ever_served;
	unsigned failures; /* consecutive, for the backoff */
	/* failed attempts of the restart under way (since the last HUP), a
	 * retry is planned or running, and when the next one starts */
	unsigned retries;
	int retrying;
	double retry_at; /* monotonic; 0: none */
	unsigned long restarts;
	ev_timer retry, tick;
	double last_restart; /* monotonic: --auto-restart-interval */
	unsigned long fail_gen;
	char fail_reason[512];
	ev_tstamp fail_at; /* wall time, for STATUS.json */
	double fail_mono;  /* monotonic: --auto-restart-interval */
	/* told of every change (publish.c): 1 at once, 0 soon */
	void (*on_change)(int now);
	int held, held_dirty; /* status_hold() depth; a change is untold */
	/* restarts that served or were rolled back; --stop-delay */
	unsigned long served, rolled_back;
	int draining, drain_sig;
	ev_timer drain;
	struct gen_hooks hooks; /* the receipts (main.c wires them) */
	int pending_told;       /* the queued restart's trigger was told */
} S;

static void gen_begin(const char *why, const char *trigger);
static void worker_exit(pid_t pid, int status, void *arg);
static void drain_cb(struct ev_loop *loop, ev_timer *t, int revents);

/* ---- telling of changes -------------------------------------------- */

/* A state change: told at once (the status files are written at once:
 * --restart reads the JSON right after it sees the status file change). */
static void
status_now(void)
{
	if (S.held) {
		S.held_dirty = 1;
		return;
	}
	S.on_change(1);
}

/* Several state changes that make one step (a promotion retires the old
 * generation) are told once, so that no reader of the status files sees
 * the half-way state (two generations "serving"). */
static void
status_hold(void)
{
	S.held++;
}

static void
status_release(void)
{
	if (--S.held == 0 && S.held_dirty) {
		S.held_dirty = 0;
		status_now();
	}
}

/* A worker's STATUS= text: written once the burst is over. */
static void
status_later(void)
{
	S.on_change(0);
}

/* ---- the one place a state changes ------------------------------------ */

static int
transition_allowed(enum gen_state from, enum gen_event ev, enum gen_state to)
{
	size_t i;

	for (i = 0; i < sizeof(transitions) / sizeof(transitions[0]); i++)
		if (transitions[i].from == from && transitions[i].ev == ev &&
		    transitions[i].to == to)
			return 1;
	return 0;
}

static void
gen_free(struct gen *g)
{
	struct gen **pp;
	size_t i;

	for (pp = &S.gens; *pp; pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	ev_timer_stop(S.loop, &g->interval);
	ev_timer_stop(S.loop, &g->kill_old);
	ev_timer_stop(S.loop, &g->ready_timeout);
	ev_timer_stop(S.loop, &g->stop_timer);
	for (i = 0; i < g->nw; i++) {
		ev_timer_stop(S.loop, &g->w[i].respawn);
		if (g->w[i].alive)
			reap_unwatch(g->w[i].pid);
		free(g->w[i].status);
	}
	if (S.serving == g)
		S.serving = NULL;
	if (S.starting == g)
		S.starting = NULL;
	free(g->w);
	free(g);
}

/* Move g to state to on event ev, log fmt (if not NULL) at info level,
 * and tell of the change. A change transitions[] does not list is a
 * bug in this file: logged, then made anyway, as the code that asked for
 * it depends on it. To GEN_GONE frees g. */
static void __attribute__((format(printf, 4, 5)))
gen_set_state(struct gen *g, enum gen_state to, enum gen_event ev,
              const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!transition_allowed(g->state, ev, to))
		log_warnx("internal: generation %lu: no transition from %s "
		          "to %s on \"%s\"",
		          g->id, gen_state_name(g->state), gen_state_name(to),
		          event_names[ev]);
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		log_info("%s", msg);
	}
	log_debug("generation %lu: %s -> %s on \"%s\"", g->id,
	          gen_state_name(g->state), gen_state_name(to),
	          event_names[ev]);
	g->state = to;
	if (to == GEN_GONE && S.hooks.gone)
		S.hooks.gone(g->id);
	if (to == GEN_GONE)
		gen_free(g);
	status_now();
}

/* ---- helpers ----------------------------------------------------------- */

/* Arm t to fire after seconds of real time. libev counts from ev_now(),
 * the time the current loop iteration began: after a long callback (a
 * spawn, a /proc walk, a blocked write) that is in the past, and the
 * deadline would come early (a --stop-timeout of 4 s fired after 3.8 s). */
static void
timer_arm(ev_timer *t, double seconds)
{
	ev_now_update(S.loop);
	ev_timer_set(t, seconds, 0);
	ev_timer_start(S.loop, t);
}

static void
describe_status(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d",
		         WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %s%s",
		         sig_name(WTERMSIG(status)),
		         WCOREDUMP(status) ? " (core dumped)" : "");
	else
		snprintf(buf, len, "changed state (status 0x%x)", status);
}

static void
stopped(void)
{
	ev_break(S.loop, EVBREAK_ALL);
}

/* The last generation is gone: baton exits once nothing it started is
 * left (pgroup.c stops the strays, within bounds). */
static void
check_stopped(void)
{
	if (S.stopping && S.gens == NULL)
		pgroup_drain(stopped);
}

/* The backoff before restarting after the n-th failure in a row: 0 for
 * the first, then 1, 2, 4 ... seconds up to BACKOFF_MAX. */
static double
backoff(unsigned failures)
{
	double d = 0;

	if (failures > 1)
		d = (double)(1u << (failures - 2 > 5 ? 5 : failures - 2));
	return d > BACKOFF_MAX ? BACKOFF_MAX : d;
}

/* SIGKILL to the worker and everything in its process group. */
static void
kill_worker(struct worker *w)
{
	pgroup_kill(w->pid, SIGKILL);
}

/* The hooks' kill: the live workers of g are about to get SIGKILL. */
static void
tell_kill(struct gen *g)
{
	pid_t *pids;
	size_t i, n = 0;

	if (S.hooks.kill == NULL ||
	    (pids = calloc(g->nw + 1, sizeof(*pids))) == NULL)
		return;
	for (i = 0; i < g->nw; i++)
		if (g->w[i].alive)
			pids[n++] = g->w[i].pid;
	S.hooks.kill(g->id, pids, n);
	free(pids);
}

/* --stop-timeout after a stop signal: SIGKILL what is left. */
static void
stop_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct gen *g = t->data;
	size_t i;

	tell_kill(g);
	for (i = 0; i < g->nw; i++) {
		if (!g->w[i].alive)
			continue;
		log_warnx("worker %ld (generation %lu) still alive %gs after "
		          "SIG%s: sending SIGKILL to its process group",
		          (long)g->w[i].pid, g->id, S.o->stop_timeout,
		          sig_name(g->stop_sig));
		kill_worker(&g->w[i]);
	}
}

/* Send sig to every live worker of g, and arm the SIGKILL deadline. */
static void
gen_signal(struct gen *g, int sig)
{
	size_t i;

	g->stop_sig = sig;
	for (i = 0; i < g->nw; i++) {
		if (!g->w[i].alive)
			continue;
		log_info("sending SIG%s to worker %ld (generation %lu)",
		         sig_name(sig), (long)g->w[i].pid, g->id);
		/* proof: an alive worker is one whose exit worker_exit has
		 * not seen, so reap.c has not reaped it: its pid is its own */
		if (kill(g->w[i].pid, sig) < 0 && errno != ESRCH)
			log_warn("cannot send SIG%s to worker %ld",
			         sig_name(sig), (long)g->w[i].pid);
	}
	if (S.o->stop_timeout > 0 && g->nalive > 0 &&
	    !ev_is_active(&g->stop_timer)) {
		timer_arm(&g->stop_timer, S.o->stop_timeout);
	}
}

/* The deadlines of becoming ready: over once it is, or never will be. */
static void
stop_start_timers(struct gen *g)
{
	ev_timer_stop(S.loop, &g->interval);
	ev_timer_stop(S.loop, &g->kill_old);
	ev_timer_stop(S.loop, &g->ready_timeout);
}

/* ---- restarts ---------------------------------------------------------- */

/* Start the next attempt after delay seconds (at once for 0). */
static void
start_retry(double delay)
{
	if (delay == 0) {
		gen_begin("retrying", "retry");
		return;
	}
	timer_arm(&S.retry, delay);
}

static void
schedule_retry(void)
{
	double delay = backoff(S.failures);

	if (delay > 0)
		log_info("retrying in %gs (%u consecutive failures)", delay,
		         S.failures);
	start_retry(delay);
}

static void
retry_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	gen_begin("retrying", "retry");
}

/* A failed generation: when is the next attempt (-1: none)? Decided
 * before the status write that records the failure, so that --restart
 * reads the failure and "baton keeps retrying" in one file. Nothing
 * serving: retried for ever, as at start-up. A restart rolled back:
 * retried too (start_server does), at most --restart-retries times. */
static double
plan_retry(void)
{
	double delay;

	S.retry_at = 0;
	S.retrying = 0;
	if (S.stopping || (S.serving && S.restart_pending))
		return -1; /* a queued HUP starts a fresh attempt at once */
	if (S.serving == NULL) {
		S.failures++;
		delay = backoff(S.failures);
	} else {
		S.retries++;
		if (S.o->restart_retries >= 0 &&
		    S.retries > (unsigned)S.o->restart_retries)
			return -1;
		delay = backoff(S.retries);
	}
	S.retrying = 1;
	/* on the monotonic clock, as every deadline; only STATUS.json shows
	 * it as wall time (gen_fill). The retry itself is an ev_timer. */
	if (delay > 0)
		S.retry_at = monotime_now() + delay;
	return delay;
}

/* A rolled-back restart, in the log: what next. */
static void
log_rollback(const char *reason, double delay)
{
	char next[96] = "";

	if (delay > 0)
		snprintf(next, sizeof(next), "; retrying in %gs", delay);
	else if (delay == 0)
		snprintf(next, sizeof(next), "; retrying at once");
	else if (S.o->restart_retries > 0 && !S.restart_pending)
		snprintf(next, sizeof(next),
		         "; giving up after %u attempts (--restart-retries=%d)",
		         S.retries, S.o->restart_retries);
	log_warnx("restart failed: generation %lu %s; generation %lu keeps "
	          "serving%s",
	          S.fail_gen, reason, S.serving->id, next);
}

/* A generation that will never serve: stop what is left of it, and
 * retry with backoff (or roll back for good: --restart-retries). The
 * serving generation, if any, is left alone. */
static void
gen_fail(struct gen *g, enum gen_event ev, const char *reason)
{
	double delay;

	S.fail_gen = g->id;
	S.fail_at = ev_now(S.loop);
	S.fail_mono = monotime_now();
	S.rolled_back++;
	if (S.hooks.failed)
		S.hooks.failed(g->id, S.serving != NULL && !S.stopping);
	snprintf(S.fail_reason, sizeof(S.fail_reason), "%s", reason);
	if (S.starting == g)
		S.starting = NULL;
	stop_start_timers(g);
	delay = plan_retry();
	gen_set_state(g, GEN_FAILED, ev, NULL);
	if (g->nalive == 0)
		gen_set_state(g, GEN_GONE, ev, NULL);
	else
		gen_signal(g, SIGTERM);
	if (S.stopping) {
		check_stopped();
		return;
	}
	if (S.serving) {
		log_rollback(reason, delay);
		/* the reload is over (READY=1), even while retries follow */
		sdnotify_rolled_back(S.fail_gen, reason, S.serving->id,
		                     S.restart_pending);
	} else if (delay > 0)
		log_info("retrying in %gs (%u consecutive failures)", delay,
		         S.failures);
	if (S.serving && S.restart_pending) {
		S.restart_pending = 0;
		S.retries = 0;
		gen_begin("queued restart", "hup");
	} else if (delay >= 0)
		start_retry(delay);
}

/* --max-old-generations: beyond the cap, the oldest retiring generation
 * is killed outright (it was already asked to stop). */
static void
enforce_old_cap(void)
{
	struct gen *g, *oldest;
	int n;
	size_t i;

	if (S.o->max_old_generations <= 0)
		return;
	for (;;) {
		n = 0;
		oldest = NULL;
		for (g = S.gens; g; g = g->next)
			if (g->state == GEN_RETIRING && g->nalive > 0) {
				n++;
				oldest = g; /* the list is newest first */
			}
		if (n <= S.o->max_old_generations || oldest == NULL)
			return;
		log_warnx("%d retiring generations (--max-old-generations=%d): "
		          "sending SIGKILL to generation %lu",
		          n, S.o->max_old_generations, oldest->id);
		tell_kill(oldest);
		for (i = 0; i < oldest->nw; i++)
			if (oldest->w[i].alive)
				kill_worker(&oldest->w[i]);
		/* gone once its workers are reaped */
		gen_set_state(oldest, GEN_KILLED, GE_OVER_CAP, NULL);
	}
}

static void
gen_retire(struct gen *g)
{
	size_t i;

	for (i = 0; i < g->nw; i++)
		ev_timer_stop(S.loop, &g->w[i].respawn);
	if (g->nalive == 0) {
		gen_set_state(g, GEN_GONE, GE_SUCCESSOR,
		              "generation %lu retired", g->id);
		return;
	}
	gen_set_state(g, GEN_RETIRING, GE_SUCCESSOR, NULL);
	gen_signal(g, S.o->sig_hup);
	enforce_old_cap();
}

static void
gen_promote(struct gen *g)
{
	struct gen *old = S.serving;

	S.serving = g;
	S.starting = NULL;
	S.last_restart = monotime_now();
	S.retries = 0;
	S.retrying = 0;
	S.retry_at = 0;
	S.served += g->id > 1;
	fdcheck_generation(S.loop, g->id, &g->w[0].pid, sizeof(*g->w), g->nw,
	                   S.o->ls, S.o->nls);
	status_hold();
	if (old) {
		gen_set_state(
		    g, GEN_SERVING, GE_KILL_OLD_DUE,
		    "generation %lu is ready; retiring generation %lu", g->id,
		    old->id);
		gen_retire(old);
	} else
		gen_set_state(g, GEN_SERVING, GE_KILL_OLD_DUE,
		              "generation %lu is serving", g->id);
	if (S.hooks.promoted)
		S.hooks.promoted(g->id);
	status_release();
	S.ever_served = 1;
	sdnotify_serving(g->id, S.restart_pending);
	if (S.restart_pending) {
		S.restart_pending = 0;
		gen_begin("queued restart", "hup");
	}
}

/* Every worker of g is ready (ev says how we know): retire the serving
 * generation now, or after --kill-old-delay. */
static void
gen_ready(struct gen *g, enum gen_event ev)
{
	g->ready_at = ev_now(S.loop);
	g->ready_mono = monotime_now();
	if (S.hooks.ready)
		S.hooks.ready(g->id);
	stop_start_timers(g);
	options_tunables(&S.t);
	if (S.serving && S.t.kill_old_delay > 0) {
		gen_set_state(g, GEN_READY, ev,
		              "generation %lu is ready; retiring generation "
		              "%lu in %gs (kill-old-delay)",
		              g->id, S.serving->id, S.t.kill_old_delay);
		timer_arm(&g->kill_old, S.t.kill_old_delay);
		return;
	}
	/* ready and at once serving: one write, by gen_promote */
	status_hold();
	gen_set_state(g, GEN_READY, ev, NULL);
	S.held_dirty = 0;
	S.held--;
	gen_promote(g);
}

/* --interval: start_server's readiness, still alive after it. */
static void
interval_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct gen *g = t->data;

	if (g->state == GEN_STARTING && g->nalive == g->nw)
		gen_ready(g, GE_INTERVAL);
}

static void
kill_old_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct gen *g = t->data;

	if (g->state == GEN_READY && g->nalive == g->nw)
		gen_promote(g);
}

static void
ready_timeout_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct gen *g = t->data;
	char reason[128];

	if (g->state != GEN_STARTING)
		return;
	snprintf(reason, sizeof(reason),
	         "failed: %zu of %zu workers ready after %gs (--ready-timeout)",
	         g->nready, g->nw, S.o->ready_timeout);
	log_warnx("generation %lu %s", g->id, reason);
	gen_fail(g, GE_READY_TIMEOUT, reason);
}

/* ---- workers ----------------------------------------------------------- */

static int worker_spawn(struct gen *g, size_t i, char *reason, size_t len);

static void
respawn_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = t->data;
	char reason[512];

	if (w->gen->state != GEN_SERVING || S.stopping)
		return;
	if (worker_spawn(w->gen, (size_t)w->index, reason, sizeof(reason)) <
	    0) {
		log_warnx("generation %lu: worker %d %s", w->gen->id, w->index,
		          reason);
		S.failures++;
		timer_arm(t, backoff(S.failures) > 1 ? backoff(S.failures) : 1);
	}
	status_now();
}

/* A worker of a generation on its way up died: roll it back. */
static void
new_worker_died(struct gen *g, struct worker *w, const char *how)
{
	char reason[256];

	log_compat_warnx("new worker %ld (generation %lu) failed to start: %s",
	                 (long)w->pid, g->id, how);
	snprintf(reason, sizeof(reason),
	         "failed: worker %ld %s before it was ready", (long)w->pid,
	         how);
	gen_fail(g, GE_WORKER_EXIT, reason);
}

static void
serving_worker_died(struct gen *g, struct worker *w, const char *how)
{
	log_compat_warnx(
	    "worker %ld (generation %lu) %s unexpectedly; restarting",
	    (long)w->pid, g->id, how);
	/* a replaced worker proves itself from its own start */
	if (monotime_now() -
	        (w->started > g->ready_mono ? w->started : g->ready_mono) >=
	    STABLE_SECONDS)
		S.failures = 0;
	S.failures++;
	if (g->nw > 1) {
		/* replace this one worker; the rest keep serving */
		double d = backoff(S.failures);

		if (d > 0)
			log_info("restarting worker %d of generation %lu in "
			         "%gs",
			         w->index, g->id, d);
		timer_arm(&w->respawn, d);
		status_now();
		return;
	}
	/* start_server: a new generation replaces a dead worker */
	S.serving = NULL;
	gen_set_state(g, GEN_RETIRING, GE_WORKER_EXIT, NULL);
	if (S.starting == NULL && !ev_is_active(&S.retry))
		schedule_retry();
	if (g->nalive == 0)
		gen_set_state(g, GEN_GONE, GE_WORKER_EXIT,
		              "generation %lu is gone", g->id);
}

/* A worker of a generation that is retiring, failed, killed, or of any
 * generation while baton stops. */
static void
old_worker_died(struct gen *g, struct worker *w, const char *how)
{
	if (S.stopping)
		log_info("worker %ld (generation %lu) %s", (long)w->pid, g->id,
		         how);
	else
		log_info("old worker %ld (generation %lu) %s", (long)w->pid,
		         g->id, how);
	if (g->nalive > 0)
		status_now();
	else if (g->state == GEN_RETIRING && !S.stopping)
		gen_set_state(g, GEN_GONE, GE_WORKER_EXIT,
		              "generation %lu is gone", g->id);
	else
		gen_set_state(g, GEN_GONE, GE_WORKER_EXIT, NULL);
}

/* reap.c saw worker pid exit; it stays an unreaped zombie, which keeps
 * its pid and its group id from being reused, until pgroup.c has swept
 * its group. */
static void
worker_exit(pid_t pid, int status, void *arg)
{
	struct worker *w = arg;
	struct gen *g = w->gen;
	char how[128];

	w->alive = 0;
	g->nalive--;
	if (w->ready) {
		w->ready = 0;
		g->nready--;
	}
	describe_status(status, how, sizeof(how));
	if (S.stopping)
		old_worker_died(g, w, how);
	else if (g->state == GEN_STARTING || g->state == GEN_READY)
		new_worker_died(g, w, how);
	else if (g->state == GEN_SERVING)
		serving_worker_died(g, w, how);
	else
		old_worker_died(g, w, how);
	/* nothing of a worker outlives it (a helper kept the port); after
	 * the lines above, which may free g and w. pgroup reaps it. */
	pgroup_worker_exited(pid);
	check_stopped();
}

static const char *
stage_action(int stage)
{
	switch (stage) {
	case SPAWN_CHDIR:
		return "cannot chdir to";
	case SPAWN_DUP:
		return "cannot put the listeners in place for";
	default:
		return "cannot exec";
	}
}

/* The child that failed before exec, in reason; fatal for the very first
 * start, where nothing could ever serve. */
static void
spawn_failed(struct gen *g, const struct spawn_failure *f, char *reason,
             size_t len)
{
	const char *obj = f->stage == SPAWN_CHDIR ? S.o->dir : S.o->argv[0];
	char what[256];

	snprintf(what, sizeof(what), "%s %s", stage_action(f->stage), obj);
	if (f->what[0]) /* a credential step: spawn says which */
		snprintf(what, sizeof(what), "%s for generation %lu", f->what,
		         g->id);
	if (!S.ever_served && g->id == 1)
		fatalx(f->stage == SPAWN_CHDIR ? EXIT_FILE : EXIT_EXEC,
		       "%s: %s", what, strerror(f->err));
	snprintf(reason, len, "failed: %s: %s", what, strerror(f->err));
}

/* Start worker i of g. On failure describe it in reason and return -1
 * (a child that failed before exec is still watched, to be reaped). */
static int
worker_spawn(struct gen *g, size_t i, char *reason, size_t len)
{
	struct worker *w = &g->w[i];
	struct spawn_req req = {0};
	struct spawn_failure f;
	char num[32], **envp;
	pid_t pid;

	/* BATON_WORKER_INDEX only with --num-workers: a single worker sees
	 * exactly the environment start_server gives */
	envp = spawn_env(g->id, g->nw > 1 ? (int)i : -1, notify_address(),
	                 S.o->stop_timeout);
	if (envp == NULL)
		fatalx(EXIT_SOFTWARE, "out of memory");
	req.envp = envp;
	req.argv = S.o->argv;
	req.dir = S.o->dir;
	req.ls = S.o->ls;
	req.nls = S.o->nls;
	req.pdeathsig = S.o->die_with_supervisor ? SIGKILL : 0;
	req.parent = getpid();
	pid = spawn_worker(&req, &f);
	free(envp);
	if (pid < 0) {
		snprintf(reason, len, "failed: cannot fork: %s",
		         strerror(errno));
		return -1;
	}
	w->pid = pid;
	w->alive = 1;
	w->started = monotime_now();
	pgroup_add(pid, g->id);
	w->ready = 0;
	w->stopping = 0;
	free(w->status);
	w->status = NULL;
	g->nalive++;
	if (reap_watch(pid, 1, worker_exit, w) < 0)
		fatalx(EXIT_SOFTWARE, "out of memory");
	if (f.stage != SPAWN_OK) {
		spawn_failed(g, &f, reason, len);
		return -1;
	}
	log_info("starting new worker %ld (generation %lu%s)", (long)pid, g->id,
	         g->nw > 1
	             ? (snprintf(num, sizeof(num), ", worker %zu", i), num)
	             : "");
	return 0;
}

static struct gen *
gen_alloc(unsigned long id, size_t nw)
{
	struct gen *g = calloc(1, sizeof(*g));
	size_t i;

	if (g == NULL || (g->w = calloc(nw ? nw : 1, sizeof(*g->w))) == NULL)
		fatalx(EXIT_SOFTWARE, "out of memory");
	g->id = id;
	g->nw = nw;
	g->started = ev_now(S.loop);
	ev_timer_init(&g->interval, interval_cb, 0, 0);
	g->interval.data = g;
	ev_timer_init(&g->kill_old, kill_old_cb, 0, 0);
	g->kill_old.data = g;
	ev_timer_init(&g->ready_timeout, ready_timeout_cb, 0, 0);
	g->ready_timeout.data = g;
	ev_timer_init(&g->stop_timer, stop_timer_cb, 0, 0);
	g->stop_timer.data = g;
	for (i = 0; i < nw; i++) {
		g->w[i].gen = g;
		g->w[i].index = (int)i;
		ev_timer_init(&g->w[i].respawn, respawn_cb, 0, 0);
		g->w[i].respawn.data = &g->w[i];
	}
	return g;
}

/* The hooks' trigger for g (a restart: not the first generation), or,
 * for the queued HUP's generation, told at the HUP, its number. */
static void
tell_trigger(struct gen *g, const char *trigger)
{
	unsigned long prev = S.serving ? S.serving->id : 0;

	int queued = S.pending_told && strcmp(trigger, "hup") == 0;

	/* another start (a retry) before the queued HUP's supersedes it:
	 * that HUP gets a receipt of its own when it starts */
	S.pending_told = 0;
	if (queued && S.hooks.started)
		S.hooks.started(g->id, prev);
	else if (!queued && g->id > 1 && S.hooks.trigger)
		S.hooks.trigger(trigger, g->id, prev);
}

/* Start a generation: why is said in the log (NULL: nothing), trigger
 * is published (snapshot.h: a short stable word). */
static void
gen_begin(const char *why, const char *trigger)
{
	struct gen *g;
	char reason[512];
	size_t i;

	ev_timer_stop(S.loop, &S.retry);
	S.retry_at = 0;
	if (envdir_load() < 0)
		log_warn("cannot read envdir %s", getenv("ENVDIR"));
	options_tunables(&S.t);
	g = gen_alloc(++S.last_id, (size_t)S.o->num_workers);
	g->state = GEN_STARTING;
	g->trigger = trigger;
	g->next = S.gens;
	S.gens = g;
	S.starting = g;
	if (g->id > 1)
		S.restarts++;
	tell_trigger(g, trigger);
	if (why)
		log_info("starting generation %lu (%s)", g->id, why);
	for (i = 0; i < g->nw; i++)
		if (worker_spawn(g, i, reason, sizeof(reason)) < 0) {
			log_warnx("generation %lu %s", g->id, reason);
			gen_fail(g, GE_SPAWN_FAILED, reason);
			return;
		}
	if (S.o->ready == READY_INTERVAL) {
		timer_arm(&g->interval, S.o->interval);
	}
	if (S.o->ready_timeout > 0) {
		timer_arm(&g->ready_timeout, S.o->ready_timeout);
	}
	/* --restart reads the starting generation from the JSON status */
	status_now();
}

/* ---- the notify socket ------------------------------------------------- */

static struct worker *
find_worker(pid_t pid)
{
	struct gen *g;
	size_t i;

	for (g = S.gens; g; g = g->next)
		for (i = 0; i < g->nw; i++)
			if (g->w[i].alive && g->w[i].pid == pid)
				return &g->w[i];
	for (g = S.gens; g; g = g->next)
		for (i = 0; i < g->nw; i++)
			if (g->w[i].alive && notify_descends(pid, g->w[i].pid))
				return &g->w[i];
	return NULL;
}

/* A datagram on the notify socket: find the worker it came from (or
 * whose descendant sent it); anything else is ignored. */
static void
notify_message(pid_t pid, const char *msg)
{
	struct worker *w = find_worker(pid);
	struct gen *g;
	char *status;

	if (w == NULL)
		return;
	g = w->gen;
	log_debug("notify message from pid %ld accepted for worker %ld "
	          "(generation %lu): %s",
	          (long)pid, (long)w->pid, g->id, msg);
	if ((status = notify_field(msg, "STATUS")) != NULL) {
		free(w->status);
		w->status = status;
		status_later();
	}
	/* a worker (or anything it runs) may send this in a loop: one line
	 * per worker, not one per datagram (rule 5), as READY=1 below */
	if ((status = notify_field(msg, "STOPPING")) != NULL) {
		if (!w->stopping)
			log_info("worker %ld (generation %lu) is stopping",
			         (long)w->pid, g->id);
		w->stopping = 1;
		free(status);
	}
	status = notify_field(msg, "READY");
	if (status && strcmp(status, "1") == 0 && !w->ready) {
		w->ready = 1;
		g->nready++;
		log_info("worker %ld (generation %lu) is ready", (long)w->pid,
		         g->id);
		if (g->state == GEN_STARTING && g->nready == g->nw &&
		    S.o->ready == READY_NOTIFY)
			gen_ready(g, GE_ALL_READY);
		else
			status_now();
	}
	free(status);
}

/* ---- the public side --------------------------------------------------- */

static void
tick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct gen *g;
	double elapsed;
	int has_old = 0;

	if (S.stopping)
		return;
	if (envdir_load() < 0)
		log_warn("cannot read envdir %s", getenv("ENVDIR"));
	options_tunables(&S.t);
	if (!S.t.auto_restart || S.serving == NULL || S.starting != NULL ||
	    ev_is_active(&S.retry))
		return;
	for (g = S.gens; g; g = g->next)
		if (g->state == GEN_RETIRING)
			has_old = 1;
	/* a failed restart counts as one: retrying it every tick would
	 * turn auto-restart into a crash loop */
	elapsed = monotime_now() -
	          (S.fail_mono > S.last_restart ? S.fail_mono : S.last_restart);
	if (elapsed >= 2 * S.t.auto_restart_interval)
		gen_begin("forced auto-restart", "auto-restart");
	else if (elapsed >= S.t.auto_restart_interval && !has_old)
		gen_begin("auto-restart", "auto-restart");
}

void
gen_init(struct ev_loop *loop, const struct options *o,
         void (*on_change)(int now))
{
	S.loop = loop;
	S.o = o;
	S.on_change = on_change;
	pgroup_init(loop, o->stop_timeout);
	ev_timer_init(&S.retry, retry_cb, 0, 0);
	ev_timer_init(&S.drain, drain_cb, 0, 0);
	if (o->ready == READY_NOTIFY && notify_open(loop, notify_message) < 0)
		fatal(EXIT_SOFTWARE, "cannot create the notify socket");
	ev_timer_init(&S.tick, tick_cb, 1, 1);
	options_tunables(&S.t);
	if (S.t.auto_restart || getenv("ENVDIR")) {
		ev_timer_start(loop, &S.tick);
		/* a wake-up per second must not keep the loop alive */
		ev_unref(loop);
	}
}

void
gen_set_hooks(const struct gen_hooks *h)
{
	S.hooks = *h;
}

void
gen_start_first(void)
{
	gen_begin(NULL, "start");
}

void
gen_restart(const char *why)
{
	if (S.stopping || S.draining) {
		log_info("%s: ignored while stopping", why);
		return;
	}
	sdnotify_reloading();
	if (S.starting) {
		log_info("%s: generation %lu is still starting; one more "
		         "restart will follow it",
		         why, S.starting->id);
		/* a new restart, superseding the one under way */
		if (!S.restart_pending && S.hooks.trigger) {
			S.hooks.trigger("hup", S.last_id + 1, S.starting->id);
			S.pending_told = 1;
		}
		S.restart_pending = 1;
		status_now();
		return;
	}
	/* during a retry's backoff too: a new HUP is a new attempt, now,
	 * with the count of failed attempts reset */
	log_info("%s, starting a new generation", why);
	S.failures = 0;
	S.retries = 0;
	S.retrying = 0;
	S.retry_at = 0;
	gen_begin(NULL, "hup");
}

static void
drain_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	gen_stop(S.drain_sig, "--stop-delay is over");
}

/* --stop-delay: /readyz says 503 at once and the workers keep serving
 * while load balancers take baton out; the stop follows the delay, or a
 * second stop signal. 1 while the delay runs. */
static int
drain_first(int sig, const char *why)
{
	if (S.draining) {
		if (ev_is_active(&S.drain))
			log_info("%s: stopping now, before the end of "
			         "--stop-delay",
			         why);
		ev_timer_stop(S.loop, &S.drain);
		return 0;
	}
	if (S.o->stop_delay <= 0 || S.serving == NULL)
		return 0;
	S.draining = 1;
	S.drain_sig = sig;
	log_info("%s: not ready any more; the workers keep serving %gs "
	         "(--stop-delay)",
	         why, S.o->stop_delay);
	/* the service manager hears it once, now: the delay is part of
	 * the stop (gen_stop skips its own while draining) */
	sdnotify_stopping();
	timer_arm(&S.drain, S.o->stop_delay);
	status_now();
	return 1;
}

void
gen_stop(int sig, const char *why)
{
	struct gen *g, *next;
	size_t i;

	if (S.stopping) {
		log_info("%s: already stopping", why);
		return;
	}
	if (drain_first(sig, why))
		return;
	log_info("%s: stopping all workers with SIG%s", why, sig_name(sig));
	S.stopping = 1;
	if (!S.draining)
		sdnotify_stopping();
	S.restart_pending = 0;
	S.pending_told = 0;
	ev_timer_stop(S.loop, &S.retry);
	if (ev_is_active(&S.tick)) {
		ev_ref(S.loop);
		ev_timer_stop(S.loop, &S.tick);
	}
	for (g = S.gens; g; g = next) {
		next = g->next;
		stop_start_timers(g);
		for (i = 0; i < g->nw; i++)
			ev_timer_stop(S.loop, &g->w[i].respawn);
		/* every worker waiting for a respawn: nothing to wait for */
		if (g->nalive == 0)
			gen_set_state(g, GEN_GONE, GE_STOP, NULL);
		else
			gen_signal(g, sig);
	}
	check_stopped();
}

unsigned long
gen_serving_id(void)
{
	return S.serving ? S.serving->id : 0;
}

unsigned long
gen_last_id(void)
{
	return S.last_id;
}

const char *
gen_state_of(unsigned long id)
{
	struct gen *g;

	for (g = S.gens; g; g = g->next)
		if (g->id == id)
			return gen_state_name(g->state);
	return id > 0 && id <= S.last_id ? gen_state_name(GEN_GONE) : NULL;
}

pid_t
gen_worker_pid(unsigned long id, int index)
{
	struct gen *g;

	for (g = S.gens; g; g = g->next)
		if (g->id == id && index >= 0 && (size_t)index < g->nw)
			return g->w[index].alive ? g->w[index].pid : 0;
	return 0;
}

/* Everything but the listeners (publish.c adds them). The arrays are
 * malloc'd; the strings point into our own state. */
int
gen_fill(struct snapshot *s)
{
	struct gen *g;
	size_t i, k;

	s->pid = (long)getpid();
	s->restarts = S.restarts;
	s->restart_pending = S.restart_pending;
	s->stop_timeout = (long)(S.o->stop_timeout + 0.999);
	s->stopping = S.stopping || S.draining;
	s->served = S.served;
	s->rolled_back = S.rolled_back;
	s->last_generation = S.last_id;
	for (g = S.gens; g; g = g->next)
		s->ngens++;
	if ((s->gens = calloc(s->ngens + 1, sizeof(*s->gens))) == NULL)
		return -1;
	for (g = S.gens, i = 0; g; g = g->next, i++) {
		struct snap_gen *jg = &s->gens[i];

		jg->id = g->id;
		jg->state = g->state;
		jg->started = g->started;
		jg->ready_at = g->ready_at > 0 ? g->ready_at : -1;
		jg->trigger = g->trigger;
		jg->nw = g->nw;
		if ((jg->w = calloc(g->nw + 1, sizeof(*jg->w))) == NULL)
			return -1;
		for (k = 0; k < g->nw; k++) {
			jg->w[k].index = g->w[k].index;
			jg->w[k].pid = (long)g->w[k].pid;
			jg->w[k].alive = g->w[k].alive;
			jg->w[k].ready = g->w[k].ready;
			jg->w[k].status = g->w[k].status;
		}
	}
	s->has_deadlines = 1;
	s->interval = S.o->interval;
	s->ready_timeout = S.o->ready_timeout > 0         ? S.o->ready_timeout
	                   : S.o->ready == READY_INTERVAL ? 0
	                                                  : -1;
	s->kill_old_delay = S.t.kill_old_delay;
	s->retrying = S.retrying;
	/* the epoch time a person reads: now plus what is left */
	s->retry_at =
	    S.retry_at > 0 ? ev_time() + (S.retry_at - monotime_now()) : 0;
	s->has_failure = S.fail_gen != 0;
	s->fail_gen = S.fail_gen;
	s->fail_time = S.fail_at;
	s->fail_reason = S.fail_reason;
	return 0;
}

/* ---- carrying the state across a self re-exec ----------------------- */

/* Why a re-exec must wait for a settled state, in why; -1 if it need
 * not. */
static int
not_settled(char *why, size_t len)
{
	double left;

	if (S.stopping || S.draining)
		snprintf(why, len, "baton is stopping");
	else if (S.starting)
		snprintf(why, len, "a generation is starting (generation %lu)",
		         S.starting->id);
	else if (ev_is_active(&S.retry)) {
		/* nothing is starting: a failed start (or a dead single
		 * worker) waits out the backoff before the next attempt */
		left = ev_timer_remaining(S.loop, &S.retry);
		snprintf(
		    why, len,
		    "a retry is pending (the next attempt starts in %.0fs, "
		    "after the retry backoff)",
		    left > 0 ? left + 0.5 : 0);
	} else if (pgroup_pending())
		/* what the exited workers left is being stopped, and its
		 * proof (the unreaped worker, pgroup.c) does not cross exec */
		snprintf(why, len,
		         "processes a worker left behind are being stopped "
		         "(at most --stop-timeout and 2s)");
	else
		return -1;
	return 0;
}

/* Counters, then each generation (newest first) with its workers; the
 * text format is reexec.c's. -1 with why while the state is not settled
 * (a generation starting, a retry pending, baton stopping ...): a
 * re-exec waits for a settled state. */
int
gen_state_save(struct reexec_state *st, char *why, size_t len)
{
	struct gen *g;
	size_t n = 0, i;

	if (not_settled(why, len) == 0)
		return -1;
	st->last_id = S.last_id;
	st->restarts = S.restarts;
	st->failures = S.failures;
	st->ever_served = S.ever_served;
	st->since_restart = monotime_now() - S.last_restart;
	for (g = S.gens; g; g = g->next)
		st->ngens++;
	if ((st->gens = calloc(st->ngens + 1, sizeof(*st->gens))) == NULL) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	for (g = S.gens; g; g = g->next, n++) {
		struct reexec_gen *rg = &st->gens[n];

		rg->id = g->id;
		snprintf(rg->state, sizeof(rg->state), "%s",
		         gen_state_name(g->state));
		rg->stop_sig = g->stop_sig;
		rg->nw = g->nw;
		if ((rg->w = calloc(g->nw + 1, sizeof(*rg->w))) == NULL) {
			snprintf(why, len, "out of memory");
			return -1;
		}
		for (i = 0; i < g->nw; i++) {
			rg->w[i].pid = g->w[i].alive ? g->w[i].pid : 0;
			rg->w[i].ready = g->w[i].ready;
		}
	}
	return 0;
}

/* The names, not the enum's numbers, cross the exec: a name this baton
 * does not know cannot be adopted. */
static int
adoptable(enum gen_state st)
{
	return st != GEN_UNKNOWN;
}

static void
adopt_workers(struct gen *g, const struct reexec_gen *rg)
{
	size_t i;

	for (i = 0; i < rg->nw; i++) {
		if (rg->w[i].pid <= 0)
			continue;
		g->w[i].pid = rg->w[i].pid;
		g->w[i].alive = 1;
		pgroup_add(g->w[i].pid, g->id);
		g->w[i].ready = rg->w[i].ready;
		g->nalive++;
		g->nready += rg->w[i].ready != 0;
		/* still our children: exec keeps the pid (reexec.c made
		 * sure each one is), and nothing reaped them (reap.c) */
		g->w[i].started = monotime_now();
		if (reap_watch(g->w[i].pid, 1, worker_exit, &g->w[i]) < 0)
			fatalx(EXIT_SOFTWARE, "out of memory");
	}
}

int
gen_state_adopt(const struct reexec_state *st)
{
	struct gen **tail = &S.gens;
	size_t k;

	/* every name first: an unknown one changes nothing */
	for (k = 0; k < st->ngens; k++)
		if (!adoptable(gen_state_parse(st->gens[k].state))) {
			log_warnx("re-exec state: generation %lu is in state "
			          "\"%s\", unknown to this baton",
			          st->gens[k].id, st->gens[k].state);
			return -1;
		}
	S.last_id = st->last_id;
	S.restarts = st->restarts;
	S.failures = st->failures;
	S.ever_served = st->ever_served;
	S.last_restart = monotime_now() - st->since_restart;
	for (k = 0; k < st->ngens; k++) {
		const struct reexec_gen *rg = &st->gens[k];
		struct gen *g = gen_alloc(rg->id, rg->nw);

		g->state = gen_state_parse(rg->state);
		g->stop_sig = rg->stop_sig;
		g->ready_at = ev_now(S.loop);
		g->ready_mono = monotime_now();
		adopt_workers(g, rg);
		*tail = g;
		tail = &g->next;
		if (g->state == GEN_SERVING)
			S.serving = g;
		else if (g->stop_sig && S.o->stop_timeout > 0 &&
		         g->nalive > 0) {
			timer_arm(&g->stop_timer, S.o->stop_timeout);
		}
	}
	if (S.serving)
		log_info("re-executed: generation %lu keeps serving",
		         S.serving->id);
	/* workers that exited while baton was exec'ing are zombies whose
	 * SIGCHLD went to the old image: make reap.c look for them now */
	ev_feed_signal_event(S.loop, SIGCHLD);
	S.on_change(1);
	return 0;
}
