/* SPDX-License-Identifier: ISC */
/* snapshot.c: the views of a snapshot that several doors share. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "snapshot.h"

unsigned long
snapshot_gen_in(const struct snapshot *s, enum gen_state st)
{
	size_t i;

	for (i = 0; i < s->ngens; i++)
		if (s->gens[i].state == st)
			return s->gens[i].id;
	return 0;
}

int
snapshot_ready(const struct snapshot *s, char *why, size_t len)
{
	unsigned long serving = snapshot_gen_in(s, GEN_SERVING);
	unsigned long starting = snapshot_gen_in(s, GEN_STARTING);

	if (s->stopping)
		snprintf(why, len, "stopping");
	else if (serving)
		snprintf(why, len, "generation %lu serves", serving);
	else if (starting)
		snprintf(why, len,
		         "no generation serves yet (generation %lu "
		         "is starting)",
		         starting);
	else
		snprintf(why, len, "no generation serves");
	return !s->stopping && serving;
}

void
snapshot_workers_by_state(const struct snapshot *s, uint64_t count[GEN_NSTATES])
{
	size_t i, k;

	memset(count, 0, GEN_NSTATES * sizeof(*count));
	for (i = 0; i < s->ngens; i++) {
		const struct snap_gen *g = &s->gens[i];

		if (!gen_state_counted(g->state))
			continue;
		for (k = 0; k < g->nw; k++)
			count[g->state] += g->w[k].alive != 0;
	}
}

const struct snap_receipt *
snapshot_last_receipt(const struct snapshot *s)
{
	size_t i;

	for (i = s->nreceipts; i > 0; i--)
		if (s->receipts[i - 1].outcome != NULL &&
		    strcmp(s->receipts[i - 1].outcome, "in_progress") != 0)
			return &s->receipts[i - 1];
	return NULL;
}

int
snapshot_receipt_line(const struct snap_receipt *r, char *buf, size_t len)
{
	char said[32] = "";
	size_t i;

	/* the outcome after the duration unless promoted, as receipt_line
	 * says it: "rolled back, " */
	if (r->outcome != NULL && strcmp(r->outcome, "promoted") != 0) {
		snprintf(said, sizeof(said), "%s, ", r->outcome);
		for (i = 0; said[i]; i++)
			if (said[i] == '_')
				said[i] = ' ';
	}
	return snprintf(
	    buf, len,
	    "restart %lu (generation %lu \xe2\x86\x92 %lu, %s): %.2f s, "
	    "%s%" PRIu64 " connection%s lost (%" PRIu64 " dropped, %" PRIu64
	    " abandoned, %" PRIu64 " cut); queue peak %" PRIu32
	    ", longest wait %" PRIu32 " ms",
	    r->id, r->previous, r->generation,
	    r->trigger != NULL && r->trigger[0] ? r->trigger : "unknown",
	    r->duration, said, r->total, r->total == 1 ? "" : "s", r->dropped,
	    r->abandoned, r->cut, r->queue_peak, r->wait_max_ms);
}
