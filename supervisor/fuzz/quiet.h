/* SPDX-License-Identifier: ISC */
/* quiet.h: catch a parser that writes to stdout or stderr (fuzz targets). */
#ifndef BATON_FUZZ_QUIET_H
#define BATON_FUZZ_QUIET_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The parsers return their messages in a buffer; main decides what is
 * printed. While a parser runs, fds 1 and 2 point at an unlinked file;
 * anything found there afterwards is a finding (printed, then a trap so
 * that libFuzzer keeps the input). Header-only: each target includes it
 * once.
 */
static int quiet_file = -1, quiet_saved[3] = {-1, -1, -1};

static void
quiet_init(void)
{
	char name[] = "/tmp/baton-fuzz-quiet.XXXXXX";

	quiet_file = mkstemp(name);
	if (quiet_file < 0) {
		perror("baton fuzz: mkstemp");
		abort();
	}
	unlink(name);
	quiet_saved[1] = dup(1);
	quiet_saved[2] = dup(2);
	if (quiet_saved[1] < 0 || quiet_saved[2] < 0)
		abort();
}

static void
quiet_begin(void)
{
	fflush(stdout);
	fflush(stderr);
	if (ftruncate(quiet_file, 0) < 0 || lseek(quiet_file, 0, SEEK_SET) < 0)
		abort();
	dup2(quiet_file, 1);
	dup2(quiet_file, 2);
}

/* Back to the terminal. what names the call, for the report; NULL:
 * output is allowed (warnings) and dropped. */
static void
quiet_end(const char *what)
{
	struct stat st;
	char buf[512];
	ssize_t n;

	fflush(stdout);
	fflush(stderr);
	dup2(quiet_saved[1], 1);
	dup2(quiet_saved[2], 2);
	if (what == NULL || fstat(quiet_file, &st) < 0 || st.st_size == 0)
		return;
	n = pread(quiet_file, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	fprintf(stderr, "baton fuzz: %s wrote to the terminal: %s\n", what,
	        buf);
	__builtin_trap();
}

#endif
