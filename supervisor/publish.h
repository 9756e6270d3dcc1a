/* SPDX-License-Identifier: ISC */
/* publish.h: the one builder of the snapshot (snapshot.h), and the one
 * writer of every file made from it: STATUS.json, the start_server status
 * file and the .prom file. gen.c and the sampler tell it that something
 * changed (through callbacks main.c wires); it asks both for the figures. */
#ifndef BATON_PUBLISH_H
#define BATON_PUBLISH_H

#include <ev.h>

#include "options.h"
#include "snapshot.h"

/* After sampler_open and gen_init: with --metrics-file, take the first
 * sample (sampler_first) and write the file once (exit 3 when it cannot
 * be); check that the status file can be written (exit 3 when not).
 * Keeps o by reference. */
void publish_init(struct ev_loop *loop, const struct options *o);

/* gen.c's callback: a state changed (now 1: write at once; --restart
 * reads the JSON right after it sees the status file change), or a
 * worker's STATUS= text did (now 0: written once the burst is over,
 * STATUS_DELAY later). */
void publish_changed(int now);
/* Between these two the status files are written at most once, at the
 * release, and only if something changed (nests). */
void publish_hold(void);
void publish_release(void);
/* The sampler's callback, after each sample: moved 1 when a figure
 * STATUS.json shows moved (rewritten soon, once per burst); the .prom
 * file is written at every sample. */
void publish_sampled(int moved);

/* The snapshot now, into s (arrays malloc'd, strings borrowed from baton's
 * own state: free with publish_snapshot_free before the next change).
 * listeners 0 leaves the listener array out (a /readyz answer needs no
 * queue). -1 with errno when out of memory. */
int publish_snapshot(struct snapshot *s, int listeners);
void publish_snapshot_free(struct snapshot *s);

/* At exit: remove the status files and the .prom file written. */
void publish_cleanup(void);

#endif
