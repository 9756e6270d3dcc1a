/* SPDX-License-Identifier: ISC */
/* genstate.h: the states of a generation and their names, defined once.
 * gen.c moves generations between them; every door that shows them
 * (STATUS.json, the status file, the metrics, --stats, --restart) asks
 * here what a state is called and what it means. */
#ifndef BATON_GENSTATE_H
#define BATON_GENSTATE_H

/* The numbers cross a re-exec only by name: a state may be added
 * anywhere before GEN_NSTATES (add its name to genstate.c's table). */
enum gen_state {
	GEN_STARTING, /* its workers are booting; not yet ready */
	GEN_READY,    /* ready; waiting for --kill-old-delay to serve */
	GEN_SERVING,  /* the generation new connections go to */
	GEN_RETIRING, /* replaced: sent its stop signal, workers leaving */
	GEN_FAILED,   /* never became ready; being stopped (rolled back) */
	GEN_KILLED,   /* was over a cap or --stop-timeout: SIGKILLed */
	GEN_GONE,     /* no process of it is left (freed right after) */
	GEN_NSTATES,
	/* a name this baton does not know (a newer writer's), as read */
	GEN_UNKNOWN = GEN_NSTATES
};

/* "starting", "ready", ...; "unknown" for GEN_UNKNOWN or out of range. */
const char *gen_state_name(enum gen_state s);
/* The state called name; GEN_UNKNOWN when no state is. */
enum gen_state gen_state_parse(const char *name);

/* What a state means to a reader: */
/* Its workers are listed in the start_server status file (ready,
 * serving, retiring: start_server lists the generations it runs). */
int gen_state_listed(enum gen_state s);
/* Over as far as a restart is concerned: it will not serve (failed,
 * retiring, killed, gone). */
int gen_state_settled(enum gen_state s);
/* Its workers are counted in baton_workers{state}: every state but
 * gone (and unknown). */
int gen_state_counted(enum gen_state s);

#endif
