/* SPDX-License-Identifier: ISC */
/* receipt.h: what one restart cost, per listener and summed, read from
 * the kernel; and the ring of the last receipts that STATUS.json shows.
 *
 * A restart runs from its trigger (SIGHUP, baton --restart, an envdir
 * change, auto-restart, a retry) to the old generation's last exit, or
 * to its failure, rollback or supersession by a newer trigger. Per
 * listener its receipt holds:
 * - dropped: the listener's own drop counter (SO_MEMINFO
 *   SK_MEMINFO_DROPS) over the window: SYNs and final ACKs the kernel
 *   dropped on a full queue, counted per packet (a client that retries
 *   counts once per try). TCP only (a UDP drop is a datagram, not a
 *   connection; unix has no counter). On a defer-accept listener the
 *   counter also counts the bare ACKs it leaves unanswered, which are
 *   no loss: there the namespace's TCPDeferAcceptDrop over the window
 *   is taken off (a lower bound when other defer-accept listeners share
 *   the namespace).
 * - abandoned: clients that gave up while queued (acceptq.h), the
 *   listener's running total over the window.
 * - cut: established connections the workers held when baton sent them
 *   SIGKILL, counted just before the signal (receipt_cut).
 * - total = dropped + abandoned + cut.
 * - queue_peak (the kernel's accept queue, the highest sampled) and
 *   wait_max_ms (the longest wait of a queued connection, sampled).
 * and, for the network namespace (every program in it, not baton's
 * alone, so printed beside total and never added to it): reset (Tcp
 * OutRsts over the window: every RST sent, the keep-alive close race's
 * among them), abort_on_close (TcpExt TCPAbortOnClose, the part of
 * those sent by a close with unread data; not added to reset, which
 * holds them already), listen_overflows and listen_drops (TcpExt).
 *
 * Unix listeners get queue_peak only: sock_diag shows neither a unix
 * client that gave up nor a drop.
 *
 * How the supervisor drives it (the wiring; nothing here has a loop):
 *
 *  trigger (gen.c starts generation N+1, or queues the HUP behind a
 *  starting one)
 *      acceptq_scan(&acceptq, now); r = receipt_ring_next(&ring);
 *      receipt_begin(r, &start, specs, n, &acceptq)   [reads the
 *      baselines: drops, abandoned totals, the namespace's counters];
 *      an in-progress receipt of an earlier trigger that this one
 *      replaces is first finished as RECEIPT_SUPERSEDED.
 *  while any receipt is in progress, every RECEIPT_TICK_MS (50 ms; the
 *  steady sampler's slower tick otherwise)
 *      acceptq_scan(&acceptq, monotime_now()); receipt_sample(r,
 *      &acceptq, full) for each receipt in progress, full once a second
 *      (RECEIPT_FULL_EVERY ticks). acceptq.dump_gap =
 *      RECEIPT_DUMP_GAP while a restart is in progress (a dump costs
 *      some 10 ms on a host with a large established hash; the fd's
 *      queue length, read every tick, costs microseconds), the steady
 *      sampler's own gap otherwise. A 50 ms tick catches a queue peak
 *      that lasts a tick; a dump every 200 ms sees a client that gives
 *      up and stays queued that long, and the longest wait to 200 ms.
 *  generation N+1 ready                       receipt_ready(r, wall)
 *  baton SIGKILLs old workers (--stop-timeout, --max-old-generations,
 *  the group of an exited worker after its grace): just before each
 *  kill()                      receipt_cut(r, &acceptq, pids, npids)
 *  the old generation's last worker gone: receipt_sample(full), then
 *      receipt_finish(r, RECEIPT_PROMOTED, now); N+1 rolled back:
 *      RECEIPT_ROLLED_BACK; it could not start at all: RECEIPT_FAILED;
 *      a newer trigger took over: RECEIPT_SUPERSEDED.
 *  after finish: log_info("%s", receipt_line()) once, and publish: the
 *  snapshot copies the ring (receipts, newest last) for STATUS.json,
 *  --stats and the metrics (lost connections by reason, the last
 *  restart's duration and total).
 * receipt_ring_find(id) gets a receipt back by its id: the ring may have
 * dropped an old one, so keep ids, not pointers, across ticks.
 *
 * Who owns what: the sampler owns the one acceptq of baton's listeners
 * (index-aligned with them and with each receipt's specs; rebuilt when
 * the listeners change, which receipt_fold survives), scans it at its
 * steady tick for the always-on queue figures (acceptq_stat: wait_max_ms,
 * idle, abandoned) and the two diagnoses (acceptq_diag_idle,
 * acceptq_window_add + acceptq_diag_abandoned, each behind a ratelimit),
 * and at RECEIPT_TICK_MS while a receipt is in progress. The generations'
 * side owns the ring and calls begin, ready, cut and finish; a kill of a
 * worker of generation G charges the in-progress receipt whose previous
 * is G (else the newest in progress). Nothing here knows gen.c or the
 * loop. */
#ifndef BATON_RECEIPT_H
#define BATON_RECEIPT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "netstat.h"
#include "qstat.h"

struct acceptq;

/* How often to sample while a restart is in progress, a full sample
 * every RECEIPT_FULL_EVERY ticks, and the least time between two
 * sock_diag dumps of the accept queues meanwhile (seconds). */
#define RECEIPT_TICK_MS 50
#define RECEIPT_FULL_EVERY 20
#define RECEIPT_DUMP_GAP 0.2
/* The receipts STATUS.json keeps, newest last. */
#define RECEIPT_RING 16
#define RECEIPT_TRIGGER_MAX 16

enum receipt_outcome {
	RECEIPT_IN_PROGRESS,
	RECEIPT_PROMOTED,
	RECEIPT_ROLLED_BACK,
	RECEIPT_FAILED,
	RECEIPT_SUPERSEDED
};

/* "in_progress", "promoted", "rolled_back", "failed", "superseded". */
const char *receipt_outcome_name(enum receipt_outcome o);
/* The outcome called name: 0, or -1 when none is. */
int receipt_outcome_parse(const char *name, enum receipt_outcome *o);

/* A moment: wall time for what a person reads, monotonic time for
 * durations (seconds, monotime_now()). */
struct receipt_when {
	double wall, mono;
};

/* What receipt_begin is told of the restart. */
struct receipt_start {
	unsigned long id;         /* 1, 2, ... */
	const char *trigger;      /* "hup", "auto-restart", ... (copied) */
	unsigned long generation; /* the new one */
	unsigned long previous;   /* the one serving; 0: none */
	struct receipt_when start;
};

/* A listener, as receipt_begin is told of it: in baton's listener order,
 * the same as the acceptq's. */
struct receipt_spec {
	const char *key; /* as the user wrote it (copied) */
	enum qstat_kind kind;
	int fd;           /* baton's socket, read while in progress; -1 */
	int defer_accept; /* TCP_DEFER_ACCEPT set on it */
};

/* One listener at one moment (receipt_read fills it). */
struct receipt_reading {
	int has_drops, has_len, has_scan;
	uint32_t drops; /* SK_MEMINFO_DROPS (a 32-bit counter) */
	uint32_t len;   /* the accept queue */
	uint32_t wait_max_ms;
	uint64_t abandoned; /* acceptq's running total */
};

struct receipt_listener {
	char *key;
	enum qstat_kind kind;
	int fd, defer_accept;
	/* the reading at the start (base.abandoned: at the last sample) */
	struct receipt_reading base;
	uint64_t dropped, abandoned, cut;
	uint32_t queue_peak, wait_max_ms;
};

struct receipt {
	unsigned long id;
	char trigger[RECEIPT_TRIGGER_MAX];
	unsigned long generation, previous;
	enum receipt_outcome outcome;
	/* epoch seconds; ready_at and finished_at < 0 while unknown (null) */
	double started_at, ready_at, finished_at;
	double started_mono, last_mono; /* last sample, or the finish */
	size_t n;
	struct receipt_listener *l;
	struct netstat ns_base;
	/* the namespace's counters over the window */
	uint64_t reset, abort_on_close, listen_overflows, listen_drops;
	uint64_t defer_accept_drop;
	unsigned long samples;
};

/* The listeners summed. */
struct receipt_sum {
	uint64_t dropped, abandoned, cut, total;
	uint32_t queue_peak, wait_max_ms;
};

/* Set r up (any former content freed) from the listeners' readings at
 * the start, base[n] (may be NULL: nothing known), and the namespace's
 * ns (NULL: none). 0, or -1 with errno (ENOMEM). */
int receipt_init(struct receipt *r, const struct receipt_start *s,
                 const struct receipt_spec *l, size_t n,
                 const struct receipt_reading *base, const struct netstat *ns);

/* Read the listeners of r now into rd[r->n]: aq's figures (NULL, or one
 * of another size than r: none) and, with ns (a full reading), each
 * fd's queue and drops (qstat_read_fd) and the namespace's counters into
 * ns. Without ns (a light reading, for the fast tick) a TCP listener's
 * queue is aq's, read by its scan, and nothing else is read but a unix
 * listener's queue (one exact sock_diag lookup). */
void receipt_read(const struct receipt *r, const struct acceptq *aq,
                  struct receipt_reading *rd, struct netstat *ns);

/* receipt_init from readings taken now (baton's sockets, aq's last scan,
 * /proc/net). 0, or -1 with errno (ENOMEM). */
int receipt_begin(struct receipt *r, const struct receipt_start *s,
                  const struct receipt_spec *l, size_t n,
                  const struct acceptq *aq);

/* Fold readings now[r->n] (NULL: none) and the namespace's ns (NULL:
 * none) taken at monotonic time mono into r: peaks, and every counter's
 * change since the start. */
void receipt_fold(struct receipt *r, const struct receipt_reading *now,
                  const struct netstat *ns, double mono);

/* receipt_read and receipt_fold, now (aq's last scan: scan it first):
 * full (the drop counters and /proc/net, some 0.2 ms) or light (aq's
 * figures alone for TCP). The counters are cumulative, so full samples
 * at the start (receipt_begin), once a second or so, and just before
 * the finish give the same receipt as full samples at every tick; the
 * peaks need the fast tick. */
void receipt_sample(struct receipt *r, const struct acceptq *aq, int full);

/* Add per[r->n] connections to the listeners' cut. */
void receipt_add_cut(struct receipt *r, const uint64_t *per);

/* Count the established connections on r's listeners that the processes
 * about to be SIGKILLed hold, into cut: every process whose pid or
 * process group is one of pids[n] (each worker leads its own group),
 * its descriptors from /proc mapped onto one sock_diag dump (aq's
 * listeners, index-aligned with r's). Call it just before the kill:
 * after it the connections are gone. 0, or -1 with errno (a process
 * whose descriptors cannot be read (EACCES), or sock_diag failed: then
 * nothing is added). */
int receipt_cut(struct receipt *r, struct acceptq *aq, const pid_t *pids,
                size_t n);

void receipt_ready(struct receipt *r, double wall);

/* The restart is over with outcome at t (sample once more first: the
 * figures are those of the last sample). */
void receipt_finish(struct receipt *r, enum receipt_outcome outcome,
                    const struct receipt_when *t);

void receipt_sum(const struct receipt *r, struct receipt_sum *s);

/* Seconds from the trigger to the finish (to the last sample while in
 * progress). */
double receipt_duration(const struct receipt *r);

/* The log line:
 *   restart 7 (generation 6 → 7, hup): 1.42 s, 0 connections lost (0
 *   dropped, 0 abandoned, 0 cut); queue peak 14, longest wait 38 ms
 * (one line), the outcome after the duration when it is not
 * "promoted" ("1.42 s, rolled back, ..."). Returns what snprintf
 * returns. */
int receipt_line(const struct receipt *r, char *buf, size_t len);

/* Free what r holds (r is then empty). */
void receipt_clear(struct receipt *r);

/* The last RECEIPT_RING receipts. */
struct receipt_ring {
	struct receipt r[RECEIPT_RING];
	size_t first, n; /* the oldest's slot, and how many */
};

/* A cleared slot for a new receipt, newest: the oldest is freed when the
 * ring is full. */
struct receipt *receipt_ring_next(struct receipt_ring *ring);
/* The i-th receipt, 0 the oldest; NULL past the last. */
const struct receipt *receipt_ring_at(const struct receipt_ring *ring,
                                      size_t i);
/* The receipt with this id still in the ring, or NULL. */
struct receipt *receipt_ring_find(struct receipt_ring *ring, unsigned long id);
void receipt_ring_free(struct receipt_ring *ring);

#endif
