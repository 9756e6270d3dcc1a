/* SPDX-License-Identifier: ISC */
/* fuzz-options.c: libFuzzer target for the command line (options_parse). */

/*
 * Input: the arguments after the program name, separated by NUL or
 * newline bytes (at most MAX_ARGS of them); the seed corpus is written
 * that way, one argv per file. Each run parses them with options_parse
 * and frees the result with options_free, through the public functions
 * only, so the target outlives a rewrite of options.c.
 *
 * Beyond "no crash, no leak, no UB": the parser must neither exit nor
 * print (libFuzzer reports an exit; quiet.h traps on output), an error
 * comes with a printable message, and a success leaves a coherent
 * struct.
 */
#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "options.h"
#include "quiet.h"

#define MAX_ARGS 64
#define FUZZ_MAX_INPUT 4096

/* 1: reset glibc's getopt with optind = 0 before each parse, as a
 * program calling options_parse twice must (the brief's rule); 0: rely
 * on options_parse alone (shows whether it resets getopt itself). */
#ifndef FUZZ_OPTIONS_GETOPT_RESET
#define FUZZ_OPTIONS_GETOPT_RESET 1
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("baton");
	/* the environment overrides are read elsewhere (options_tunables),
	 * but keep them out of the way in case a rewrite reads them here */
	unsetenv("ENVDIR");
	unsetenv("ENABLE_AUTO_RESTART");
	unsetenv("KILL_OLD_DELAY");
	unsetenv("AUTO_RESTART_INTERVAL");
	quiet_init();
	return 0;
}

static void
reset_getopt(void)
{
#if FUZZ_OPTIONS_GETOPT_RESET
	/* glibc forgets its position inside a previous argv (__nextchar)
	 * only when optind is 0; one call on an empty argv does that */
	static char prog[] = "baton";
	char *empty[] = {prog, NULL};

	optind = 0;
	opterr = 0;
	(void)getopt(1, empty, "");
#endif
	optind = 0;
}

static void
check_result(int rc, const struct options *o, const char *err)
{
	if (rc != 0 && rc != -1)
		__builtin_trap();
	if (rc < 0) {
		/* an error has a message, one printable line */
		if (err[0] == '\0')
			__builtin_trap();
		for (const char *p = err; *p != '\0'; p++)
			if (*p == '\n')
				__builtin_trap();
		return;
	}
	if (o->argv == NULL || (o->nls > 0 && o->ls == NULL))
		__builtin_trap();
	for (size_t i = 0; i < o->nls; i++)
		if (o->ls[i].key == NULL || o->ls[i].spec == NULL)
			__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char prog[] = "baton";
	char *buf, *argv[MAX_ARGS + 2], err[1024];
	struct options o;
	size_t start = 0;
	int argc = 0, rc;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[argc++] = prog;
	for (size_t i = 0; i <= size && argc <= MAX_ARGS; i++) {
		if (i < size && buf[i] != '\0' && buf[i] != '\n')
			continue;
		/* an empty input is no argument; an empty token is "" */
		if (i == size && start == size)
			break;
		buf[i] = '\0';
		argv[argc++] = buf + start;
		start = i + 1;
	}
	argv[argc] = NULL;

	reset_getopt();
	err[0] = '\0';
	quiet_begin();
	rc = options_parse(argc, argv, &o, err, sizeof(err));
	quiet_end("options_parse");
	check_result(rc, &o, err);
	if (rc == 0)
		options_free(&o);
	free(buf);
	return 0;
}
