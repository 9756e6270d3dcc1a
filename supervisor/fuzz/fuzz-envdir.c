/* SPDX-License-Identifier: ISC */
/* fuzz-envdir.c: libFuzzer target for --envdir (envdir_load). */

/*
 * Input: records separated by NUL bytes, at most MAX_FILES. A record is
 * a name selector byte, then (when the selector's 0x80 bit is set) a
 * byte choosing a suffix from SUFFIXES, then the file's contents. The
 * name is names[selector % NNAMES] (the variables baton and its workers
 * care about, and a few odd file names): a small set, because envdir
 * remembers every name it ever saw for the life of the process and
 * walks them all on every load (with free-form names the rate fell
 * below 700 runs/s within minutes).
 *
 * Each run empties one directory (created once per process), writes the
 * records but the last into it, points ENVDIR at it and calls
 * envdir_load(); then the last record changes one file (0x40 in its
 * selector: removes it) and envdir_load() runs again; then the directory
 * is emptied and a third load must give back the environment the process
 * started with (envdir.h: a removed file restores the old value).
 *
 * Checks, each behind a macro so that it can be flipped:
 *   FUZZ_ENVDIR_RESERVED: after a load, no variable of baton's own
 *     protocols (BATON_*, SERVER_STARTER_*, LISTEN_*, NOTIFY_SOCKET,
 *     WATCHDOG_*) is set that was not set at start-up, and ENVDIR still
 *     names the harness's directory. Fires on code that lets an envdir
 *     set them (a file named ENVDIR swapped the directory read).
 *   FUZZ_ENVDIR_RESTORE: the third load restores the start-up
 *     environment exactly.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envdir.h"
#include "log.h"
#include "quiet.h"

#ifndef FUZZ_ENVDIR_RESERVED
#define FUZZ_ENVDIR_RESERVED 1
#endif
#ifndef FUZZ_ENVDIR_RESTORE
#define FUZZ_ENVDIR_RESTORE 1
#endif

#define MAX_FILES 8
#define FUZZ_MAX_INPUT 4096

extern char **environ;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"FOO",
                                    "BAR",
                                    "X",
                                    "PATH",
                                    "HOME",
                                    "lower",
                                    "_",
                                    "1ABC",
                                    " sp",
                                    "-",
                                    ".hidden",
                                    "..x",
                                    "a=b",
                                    "=",
                                    "ENVDIR",
                                    "ENABLE_AUTO_RESTART",
                                    "KILL_OLD_DELAY",
                                    "AUTO_RESTART_INTERVAL",
                                    "BATON_",
                                    "BATON_GENERATION",
                                    "SERVER_STARTER_PORT",
                                    "SERVER_STARTER_GENERATION",
                                    "SERVER_STARTER",
                                    "LISTEN_FDS",
                                    "LISTEN_PID",
                                    "LISTEN_FDNAMES",
                                    "LISTEN",
                                    "NOTIFY_SOCKET",
                                    "NOTIFY_SOCKETS",
                                    "WATCHDOG_USEC",
                                    "WATCHDOG_PID",
                                    "WATCHDOG"};
#define NNAMES (sizeof(names) / sizeof(names[0]))
/* what a name may end with (0x80 in the selector) */
#define SUFFIXES "X_=.1a\n"

static char dir[64];
static char **start_env; /* sorted copy of environ at start-up */
static size_t nstart_env;

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A sorted copy of environ (the strings are copied too). */
static char **
env_snapshot(size_t *n)
{
	char **v;
	size_t i, k = 0;

	while (environ[k] != NULL)
		k++;
	v = calloc(k + 1, sizeof(*v));
	if (v == NULL)
		abort();
	for (i = 0; i < k; i++)
		if ((v[i] = strdup(environ[i])) == NULL)
			abort();
	qsort(v, k, sizeof(*v), cmp_str);
	*n = k;
	return v;
}

static void
env_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	(void)argc;
	(void)argv;
	log_init("baton");
	snprintf(dir, sizeof(dir), "%s/baton-fuzz-envdir.XXXXXX", base);
	if (mkdtemp(dir) == NULL) {
		perror("baton fuzz: mkdtemp");
		abort();
	}
	if (setenv("ENVDIR", dir, 1) < 0)
		abort();
	start_env = env_snapshot(&nstart_env);
	quiet_init();
	return 0;
}

static void
empty_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		abort();
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

/* The file name a record selects, into name; the record's contents
 * follow at *rest. */
static void
record_name(const uint8_t *rec, size_t len, char *name, size_t *rest)
{
	size_t n;

	*rest = 0;
	if (len == 0) {
		strcpy(name, "FOO");
		return;
	}
	n = strlen(names[rec[0] % NNAMES]);
	memcpy(name, names[rec[0] % NNAMES], n);
	*rest = 1;
	if ((rec[0] & 0x80) && len > 1) {
		/* a few suffixes only: the names stay a small set */
		name[n++] = SUFFIXES[rec[1] % (sizeof(SUFFIXES) - 1)];
		*rest = 2;
	}
	name[n] = '\0';
}

static void
write_file(const char *name, const uint8_t *p, size_t len)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		abort();
	if (len > 0 && write(fd, p, len) != (ssize_t)len)
		abort();
	close(fd);
}

static int
reserved(const char *entry)
{
	static const char *const prefixes[] = {"BATON_", "SERVER_STARTER_",
	                                       "LISTEN_", "WATCHDOG_"};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(entry, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return strncmp(entry, "NOTIFY_SOCKET=", 14) == 0;
}

static int
in_start_env(const char *entry)
{
	size_t len = strcspn(entry, "=");

	for (size_t i = 0; i < nstart_env; i++)
		if (strncmp(start_env[i], entry, len) == 0 &&
		    start_env[i][len] == '=')
			return 1;
	return 0;
}

static void
check_reserved(void)
{
#if FUZZ_ENVDIR_RESERVED
	for (char **e = environ; *e != NULL; e++)
		if (reserved(*e) && !in_start_env(*e)) {
			fprintf(stderr,
			        "baton fuzz: envdir set the reserved variable "
			        "%s\n",
			        *e);
			__builtin_trap();
		}
	if (getenv("ENVDIR") == NULL || strcmp(getenv("ENVDIR"), dir) != 0) {
		fprintf(stderr, "baton fuzz: envdir changed ENVDIR to %s\n",
		        getenv("ENVDIR") ? getenv("ENVDIR") : "(unset)");
		__builtin_trap();
	}
#endif
}

static void
check_restored(void)
{
#if FUZZ_ENVDIR_RESTORE
	size_t n;
	char **now = env_snapshot(&n);

	for (size_t i = 0; i < n || i < nstart_env; i++)
		if (i >= n || i >= nstart_env ||
		    strcmp(now[i], start_env[i]) != 0) {
			fprintf(stderr,
			        "baton fuzz: environment not restored: "
			        "\"%s\" instead of \"%s\"\n",
			        i < n ? now[i] : "(none)",
			        i < nstart_env ? start_env[i] : "(none)");
			__builtin_trap();
		}
	env_free(now, n);
#endif
}

static void
load(void)
{
	/* the harness owns ENVDIR (check_reserved traps if a file changed
	 * it; with the check off, it is set again here) */
	if (setenv("ENVDIR", dir, 1) < 0)
		abort();
	quiet_begin();
	(void)envdir_load();
	quiet_end(NULL); /* warnings are allowed */
	check_reserved();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *rec[MAX_FILES];
	size_t len[MAX_FILES], nrec = 0, start = 0, rest;
	char name[64];

	if (size > FUZZ_MAX_INPUT)
		return 0;
	for (size_t i = 0; i <= size && nrec < MAX_FILES; i++)
		if (i == size || data[i] == '\0') {
			rec[nrec] = data + start;
			len[nrec++] = i - start;
			start = i + 1;
		}

	empty_dir();
	for (size_t r = 0; r + 1 < nrec; r++) {
		record_name(rec[r], len[r], name, &rest);
		write_file(name, rec[r] + rest, len[r] - rest);
	}
	load();

	record_name(rec[nrec - 1], len[nrec - 1], name, &rest);
	if (len[nrec - 1] > 0 && (rec[nrec - 1][0] & 0x40)) {
		char path[128];

		snprintf(path, sizeof(path), "%s/%s", dir, name);
		unlink(path);
	} else
		write_file(name, rec[nrec - 1] + rest, len[nrec - 1] - rest);
	load();

	empty_dir();
	load();
	check_restored();
	return 0;
}
