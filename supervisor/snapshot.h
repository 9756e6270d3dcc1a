/* SPDX-License-Identifier: ISC */
/* snapshot.h: everything baton publishes, in one struct.
 *
 * The supervisor builds one snapshot per change (publish.c asks gen.c for
 * the generations and the sampler for the queues); --stats, --health and
 * --restart get the same struct back by parsing STATUS.json. Every door
 * renders it: STATUS.json (statusjson.c), the start_server status file
 * (status.c), /healthz and /readyz and --health (snapshot_ready), the
 * .prom file, /metrics and --stats --format=prom (metrics.c), --stats
 * text. A published field is one member here plus one row per format. */
#ifndef BATON_SNAPSHOT_H
#define BATON_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "genstate.h"
#include "qstat.h"

struct snap_worker {
	int index;
	long pid;
	int alive, ready;
	const char *status; /* last STATUS= text; NULL is written as null */
};

struct snap_gen {
	unsigned long id;
	enum gen_state state;
	double started;  /* epoch seconds, written with 3 decimals */
	double ready_at; /* < 0: not ready (null) */
	/* what started it (gen.c's gen_begin callers): "start" (the
	 * first), "hup" (SIGHUP, which baton --restart sends; a HUP queued
	 * behind a starting generation too), "auto-restart"
	 * (--enable-auto-restart), "retry" (a failed generation, or a
	 * dead single worker, started again). NULL is null (not known: an
	 * older writer, or a generation adopted across a re-exec) */
	const char *trigger;
	size_t nw;
	struct snap_worker *w;
};

struct snap_listener {
	const char *key;
	int fd;
	enum qstat_kind kind; /* "tcp", "udp", "unix" */
	char origin[16];      /* "bound" (by baton) or "systemd" (adopted) */
	const char *fdname;   /* its LISTEN_FDNAMES name; NULL is null */
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
	/* The accept queue's connections as last scanned (sock_diag, TCP
	 * only), written in the queue object: the longest wait of a queued
	 * one (ms), the queued ones that have sent nothing, and the clients
	 * that gave up while queued since baton started. has_acceptq 0 is
	 * null for the three (not TCP, not scanned yet, an older writer). */
	int has_acceptq;
	uint32_t wait_max_ms, idle;
	uint64_t abandoned;
};

/* One listener in a restart's receipt (receipt.h says what each figure
 * counts). */
struct snap_receipt_listener {
	const char *key;
	uint64_t dropped, abandoned, cut, total;
	uint32_t queue_peak, wait_max_ms;
};

/* What one restart cost (receipt.h), as STATUS.json's "receipts" has
 * it: the listeners summed, and each. */
struct snap_receipt {
	unsigned long id;
	const char *trigger; /* "hup", "retry", ...; NULL is null */
	unsigned long generation, previous; /* previous 0: none (null) */
	/* epoch seconds; ready_at and finished_at < 0 while unknown (null) */
	double started_at, ready_at, finished_at;
	double duration;     /* seconds from the trigger to the finish (or the
	                    last sample while in progress), monotonic */
	const char *outcome; /* "in_progress", "promoted", "rolled_back",
	                        "failed", "superseded" */
	uint64_t dropped, abandoned, cut, total;
	/* the network namespace's counters over the window (every program
	 * in it): never added to total */
	uint64_t reset, abort_on_close, listen_overflows, listen_drops;
	uint32_t queue_peak, wait_max_ms;
	/* the listeners with a figure other than 0, in baton's order */
	size_t nl;
	struct snap_receipt_listener *l;
};

struct snapshot {
	long pid;
	unsigned long restarts;
	int restart_pending, stopping;
	long stop_timeout;
	unsigned long last_generation;
	size_t nls;
	struct snap_listener *ls;
	size_t ngens; /* newest first, as baton keeps them */
	struct snap_gen *gens;
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
	/* The last restarts' receipts, oldest first (at most 16), and the
	 * connections every finished restart lost, by reason, since baton
	 * started (has_lost 0: not known, an older writer: null). */
	size_t nreceipts;
	struct snap_receipt *receipts;
	int has_lost;
	uint64_t lost_dropped, lost_abandoned, lost_cut;
};

/* ---- views that several doors share ---------------------------------- */

/* The newest generation in state st (0: none). */
unsigned long snapshot_gen_in(const struct snapshot *s, enum gen_state st);
/* /readyz and --health: 1 when a generation serves and baton is not
 * stopping; else 0. why (both ways): "generation 3 serves",
 * "stopping", "no generation serves yet (generation 4 is starting)". */
int snapshot_ready(const struct snapshot *s, char *why, size_t len);
/* Live workers per state (baton_workers{state}), count[GEN_NSTATES]. */
void snapshot_workers_by_state(const struct snapshot *s,
                               uint64_t count[GEN_NSTATES]);
/* The newest receipt that is final (not in progress); NULL: none. */
const struct snap_receipt *snapshot_last_receipt(const struct snapshot *s);
/* A receipt as the log says it when a restart finishes:
 *   restart 7 (generation 6 → 7, hup): 1.42 s, 0 connections lost (0
 *   dropped, 0 abandoned, 0 cut); queue peak 14, longest wait 38 ms
 * Returns what snprintf returns. */
int snapshot_receipt_line(const struct snap_receipt *r, char *buf, size_t len);

#endif
