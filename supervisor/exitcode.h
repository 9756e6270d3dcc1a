/* SPDX-License-Identifier: ISC */
/* exitcode.h: the exit-code table baton documents in baton.1 (EXIT STATUS). */
#ifndef BATON_EXITCODE_H
#define BATON_EXITCODE_H

/* Scripts test these numbers: never renumber one or reuse a number. */
enum {
	EXIT_OK = 0,
	EXIT_USAGE = 1,    /* command line: unknown option, bad value */
	EXIT_LISTEN = 2,   /* a listener could not be set up */
	EXIT_FILE = 3,     /* pid/status/log file, envdir, --dir */
	EXIT_CONTROL = 4,  /* --restart / --stop failed */
	EXIT_EXEC = 5,     /* the worker program cannot be executed */
	EXIT_LOST = 6,     /* --restart --max-lost: it lost more */
	EXIT_SOFTWARE = 70 /* internal error */
};

#endif
