/* SPDX-License-Identifier: ISC */
/* run-tests.c: the one runner of baton's Check unit tests, as libuv's
 * run-tests is. "run-tests" runs every case, "run-tests CASE..." the named
 * ones (a case is named after the supervisor module it tests: listen,
 * options, gen...), "run-tests --list" names them. Each tests/unit*.c file
 * adds its tests to its cases through unit_case() (run-tests.h). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run-tests.h"

#define MAX_CASES 64

static struct {
	const char *name;
	TCase *tc;
	int nofork;
	int selected;
} cases[MAX_CASES];
static int ncases;

static TCase *
get_case(const char *name, int nofork)
{
	int i;

	for (i = 0; i < ncases; i++) {
		if (strcmp(cases[i].name, name) != 0)
			continue;
		if (cases[i].nofork != nofork) {
			fprintf(stderr,
			        "run-tests: case %s is added to both "
			        "with and without Check's fork\n",
			        name);
			exit(99);
		}
		return cases[i].tc;
	}
	if (ncases == MAX_CASES) {
		fprintf(stderr, "run-tests: more than %d cases\n", MAX_CASES);
		exit(99);
	}
	cases[ncases].name = name;
	cases[ncases].tc = tcase_create(name);
	cases[ncases].nofork = nofork;
	return cases[ncases++].tc;
}

TCase *
unit_case(const char *name)
{
	return get_case(name, 0);
}

TCase *
unit_case_nofork(const char *name)
{
	return get_case(name, 1);
}

/* One Check runner for the selected cases of one fork mode; returns the
 * number of failed checks (errors included). */
static int
run(int nofork)
{
	Suite *s = suite_create(nofork ? "baton (no fork)" : "baton");
	SRunner *sr;
	int i, n = 0, failed;

	for (i = 0; i < ncases; i++)
		if (cases[i].selected && cases[i].nofork == nofork) {
			suite_add_tcase(s, cases[i].tc);
			n++;
		}
	sr = srunner_create(s);
	if (n == 0) {
		srunner_free(sr);
		return 0;
	}
	if (nofork)
		srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	/* before the next runner forks: a child would print this again */
	fflush(stdout);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed;
}

int
main(int argc, char **argv)
{
	static void (*const files[])(void) = {
	    tests_spawn,    tests_unit,     tests_options, tests_inherit,
	    tests_envdir,   tests_safepath, tests_status,  tests_reexec,
	    tests_privs,    tests_qstat,    tests_metrics, tests_gen,
	    tests_passfds,  tests_notify,   tests_log,     tests_sdnotify,
	    tests_sockdiag, tests_receipt,
	};
	size_t f;
	int i, j, failed;

	if (argc > 1 && strcmp(argv[1], "--spawn-child") == 0)
		return spawn_child_main();
	for (f = 0; f < sizeof(files) / sizeof(files[0]); f++)
		files[f]();
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (i = 0; i < ncases; i++)
			printf("%s\n", cases[i].name);
		return EXIT_SUCCESS;
	}
	for (i = 0; i < ncases; i++)
		cases[i].selected = argc < 2;
	for (j = 1; j < argc; j++) {
		for (i = 0; i < ncases; i++)
			if (strcmp(cases[i].name, argv[j]) == 0)
				break;
		if (i == ncases) {
			fprintf(stderr,
			        "run-tests: no case named %s (run-tests --list "
			        "names them)\n",
			        argv[j]);
			return 2;
		}
		cases[i].selected = 1;
	}
	/* the no-fork cases first, from a runner that has forked nothing yet */
	failed = run(1) + run(0);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
