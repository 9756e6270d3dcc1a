/* SPDX-License-Identifier: ISC */
/* metrics.h: Prometheus text format 0.0.4 and the node_exporter .prom file. */
#ifndef BATON_METRICS_H
#define BATON_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

/* ---- the text format: a growing buffer of families ------------------- */

/* Text being built. Families come one at a time, each with one HELP and
 * one TYPE line and then its samples; no timestamps (a scraper or
 * node_exporter stamps them). On an error (bad name, a sample outside its
 * family, a family repeated, no memory) the call returns -1 with errno
 * and the text stays as it was before the call. */
struct metrics_text {
	char *buf; /* NUL-terminated; NULL until something is written */
	size_t len, cap;
	int fd;       /* -1: kept in buf; else written out as it grows */
	char *family; /* the current family's name */
	char **seen;  /* every family begun, to refuse a second HELP/TYPE */
	size_t nseen;
};

struct metrics_label {
	const char *name;  /* [a-zA-Z_][a-zA-Z0-9_]*, not starting "__" */
	const char *value; /* any bytes but NUL; escaped here: \\ \" \n,
	                    * and U+FFFD for what is not UTF-8 and for the
	                    * other control characters */
};

void metrics_text_init(struct metrics_text *t);
void metrics_text_free(struct metrics_text *t);
/* Stream t to fd: from now on, whenever a family or sample ends with
 * METRICS_CHUNK bytes or more in buf, buf is written to fd and emptied,
 * so that the text of 1,000 listeners never sits in memory whole. A
 * write error fails that call with errno. metrics_text_flush writes the
 * rest. */
#define METRICS_CHUNK 8192
void metrics_text_stream(struct metrics_text *t, int fd);
int metrics_text_flush(struct metrics_text *t);
/* Make room for cap bytes at once: a text known to be large then takes
 * one block, not a series of ever larger ones left behind in the heap.
 * -1 with errno when there is no memory. */
int metrics_text_reserve(struct metrics_text *t, size_t cap);
/* Empty t for the next rendering, keeping its buffer (one per scrape or
 * file write, without a malloc each time once it has grown). */
void metrics_text_reset(struct metrics_text *t);
/* Begin family name ([a-zA-Z_:][a-zA-Z0-9_:]*), type "gauge" or "counter"
 * (or "untyped"); help is escaped (backslash, newline). */
int metrics_family(struct metrics_text *t, const char *name, const char *type,
                   const char *help);
/* One sample of the current family: name must be the family's. */
int metrics_sample(struct metrics_text *t, const char *name,
                   const struct metrics_label *labels, size_t nlabels,
                   uint64_t value);
/* The same for a value in milliseconds, written in seconds ("0.038"). */
int metrics_sample_ms(struct metrics_text *t, const char *name,
                      const struct metrics_label *labels, size_t nlabels,
                      uint64_t ms);

/* ---- baton's families ------------------------------------------------- */

/* Render the families into t (appending):
 *   baton_listener_accept_queue_length / _peak, baton_listener_backlog
 *     (gauges, listeners with a queue), baton_listener_drops_total
 *     (counter, listeners with drops), baton_listener_syn_queue_length
 *     (gauge, listeners sampled for SYNs), baton_listener_port (gauge,
 *     TCP and UDP: the kernel's choice for port 0), all labelled
 *     listener, proto, and fd too on the listeners whose listener and
 *     proto labels another one shares (two reuseport sockets on one
 *     address);
 *   baton_generation (gauge), baton_workers{state} (gauge),
 *   baton_restarts_total{result="served"|"rolled_back"} (counter);
 *   baton_listener_accept_wait_seconds, baton_listener_queued_idle
 *     (gauges) and baton_listener_abandoned_total (counter), TCP
 *     listeners scanned; baton_restart_lost_connections_total{reason=
 *     "dropped"|"abandoned"|"cut"} (counter, when known),
 *     baton_last_restart_duration_seconds and
 *     baton_last_restart_lost_connections (gauges, once a restart
 *     finished).
 * A listener family no listener has is left out whole. */
int metrics_render(struct metrics_text *t, const struct snapshot *s);

/* ---- the .prom file --------------------------------------------------- */

/* 0 when path may be a metrics file (its name ends in ".prom", with
 * something before it, as node_exporter's textfile collector reads only
 * those); else -1 with a message in err: "--metrics-file PATH: the name
 * must end in .prom". */
int metrics_file_check(const char *path, char *err, size_t errlen);

/* Replace path with s rendered, atomically: stream it into a temporary
 * file with a random name (O_EXCL, not ending in .prom, so the collector
 * never reads it) in the same directory, mode 0644, and rename it over
 * path. A reader sees the old file or the new one, never a part. Returns
 * 0, or -1 with "cannot write metrics file PATH: cause" in err. */
int metrics_file_write(const char *path, const struct snapshot *s, char *err,
                       size_t errlen);

/* Remove the metrics file at a clean stop; a missing file is no error.
 * Returns 0, or -1 with errno. */
int metrics_file_remove(const char *path);

#endif
