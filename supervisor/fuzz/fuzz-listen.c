/* SPDX-License-Identifier: ISC */
/* fuzz-listen.c: libFuzzer target for the --port and --path parsers. */

/*
 * Input: one SPEC (a NUL-terminated copy of the bytes, so an embedded NUL
 * ends it early as it would on a command line). Each run gives it to
 * listen_parse_port and to listen_parse_path, and frees what they made.
 * Beyond "no crash, no leak, no UB": neither prints, an error has a
 * message, a success has a key and a sane port and fd pin.
 *
 * FUZZ_LISTEN_ONE_LINE (default 1): the message is one line (STYLE.md:
 * "one line"), so a spec holding a newline must be quoted with the
 * newline escaped. Set it to 0 to fuzz past that finding.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listen.h"
#include "log.h"
#include "quiet.h"

#define FUZZ_MAX_INPUT 4096

#ifndef FUZZ_LISTEN_ONE_LINE
#define FUZZ_LISTEN_ONE_LINE 1
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("baton");
	quiet_init();
	return 0;
}

static void
check_err(const char *err)
{
	if (err[0] == '\0')
		__builtin_trap();
#if FUZZ_LISTEN_ONE_LINE
	if (strchr(err, '\n') != NULL) {
		fprintf(stderr, "baton fuzz: the message spans lines: %s\n",
		        err);
		__builtin_trap();
	}
#endif
}

static void
check_port(const struct listener *l, const char *spec)
{
	long port;

	if (l->key == NULL || l->port == NULL || l->spec == NULL ||
	    strcmp(l->spec, spec) != 0)
		__builtin_trap();
	if (l->kind != LISTEN_TCP && l->kind != LISTEN_UDP)
		__builtin_trap();
	port = strtol(l->port, NULL, 10);
	if (port < 0 || port > 65535 || l->pin_fd < -1 || l->pin_fd > 65535)
		__builtin_trap();
	/* the key ends with the port as written */
	if (strlen(l->key) < strlen(l->port) ||
	    strcmp(l->key + strlen(l->key) - strlen(l->port), l->port) != 0)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct listener l;
	char *spec, err[512];
	int rc;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	spec = malloc(size + 1);
	if (spec == NULL)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';

	err[0] = '\0';
	quiet_begin();
	rc = listen_parse_port(spec, &l, err, sizeof(err));
	quiet_end("listen_parse_port");
	if (rc == 0) {
		check_port(&l, spec);
		listen_free(&l);
	} else if (rc == -1)
		check_err(err);
	else
		__builtin_trap();

	err[0] = '\0';
	quiet_begin();
	rc = listen_parse_path(spec, &l, err, sizeof(err));
	quiet_end("listen_parse_path");
	if (rc == 0) {
		if (l.kind != LISTEN_UNIX || l.path == NULL ||
		    strcmp(l.path, spec) != 0 || l.key == NULL)
			__builtin_trap();
		listen_free(&l);
	} else if (rc == -1)
		check_err(err);
	else
		__builtin_trap();
	free(spec);
	return 0;
}
