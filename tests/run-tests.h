/* SPDX-License-Identifier: ISC */
/* run-tests.h: how each tests/unit*.c file hands its Check tests to
 * tests/run-tests, the one runner of them all. */
#ifndef BATON_RUN_TESTS_H
#define BATON_RUN_TESTS_H

#include <check.h>

/* The case named NAME (a supervisor module: "listen", "options", "gen"),
 * made on first use. Several files may add tests to one case. */
TCase *unit_case(const char *name);
/* The same, for a case whose tests run in the runner's own process (Check's
 * CK_NOFORK): spawn.c's, where Check's fork would hide what spawn does. */
TCase *unit_case_nofork(const char *name);

/* One per file: adds that file's tests to their cases. */
void tests_envdir(void);   /* unit-envdir.c */
void tests_gen(void);      /* gen-harness.c */
void tests_inherit(void);  /* unit-inherit.c */
void tests_log(void);      /* unit-log.c */
void tests_metrics(void);  /* unit-metrics.c */
void tests_notify(void);   /* unit-notify.c */
void tests_options(void);  /* unit-options.c */
void tests_passfds(void);  /* unit-passfds.c */
void tests_privs(void);    /* unit-privs.c */
void tests_qstat(void);    /* unit-qstat.c */
void tests_reexec(void);   /* unit-reexec.c */
void tests_safepath(void); /* unit-safepath.c */
void tests_sdnotify(void); /* unit-sdnotify.c */
void tests_sockdiag(void); /* unit-sockdiag.c */
void tests_receipt(void);  /* unit-receipt.c */
void tests_spawn(void);    /* spawn.c */
void tests_status(void);   /* unit-status.c */
void tests_unit(void);     /* unit.c */

/* spawn.c's re-executed child: "run-tests --spawn-child" */
int spawn_child_main(void);

#endif
