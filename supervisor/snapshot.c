/* SPDX-License-Identifier: ISC */
/* snapshot.c: the views of a snapshot that several doors share. */
#include "config.h"

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
