/* SPDX-License-Identifier: ISC */
/* genstate.c: the names of the generation states, and what they mean. */
#include "config.h"

#include <string.h>

#include "genstate.h"

static const struct {
	const char *name;
	unsigned char listed, settled;
} states[GEN_NSTATES] = {
    [GEN_STARTING] = {"starting", 0, 0}, [GEN_READY] = {"ready", 1, 0},
    [GEN_SERVING] = {"serving", 1, 0},   [GEN_RETIRING] = {"retiring", 1, 1},
    [GEN_FAILED] = {"failed", 0, 1},     [GEN_KILLED] = {"killed", 0, 1},
    [GEN_GONE] = {"gone", 0, 1},
};

const char *
gen_state_name(enum gen_state s)
{
	return (unsigned)s < GEN_NSTATES ? states[s].name : "unknown";
}

enum gen_state
gen_state_parse(const char *name)
{
	unsigned i;

	for (i = 0; i < GEN_NSTATES; i++)
		if (strcmp(name, states[i].name) == 0)
			return (enum gen_state)i;
	return GEN_UNKNOWN;
}

int
gen_state_listed(enum gen_state s)
{
	return (unsigned)s < GEN_NSTATES && states[s].listed;
}

int
gen_state_settled(enum gen_state s)
{
	return (unsigned)s >= GEN_NSTATES || states[s].settled;
}

int
gen_state_counted(enum gen_state s)
{
	return (unsigned)s < GEN_GONE;
}
