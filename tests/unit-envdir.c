/* SPDX-License-Identifier: ISC */
/* unit-envdir.c: Check tests of the envdir loader and the notify value
 * sanitiser. */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "envdir.h"
#include "notify.h"
#include "run-tests.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static char dir[64];

/* Each test runs in its own forked process: a fresh envdir and module. */
static void
setup(void)
{
	strcpy(dir, "/tmp/unit-envdir.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	setenv("ENVDIR", dir, 1);
}

static void
setup_fallback(void)
{
	setup();
	envdir_use_inotify(0);
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static void
put_file(const char *name, const char *content)
{
	char path[256], tmp[256];
	FILE *f;

	/* atomically, as a deploy tool would: no half-written value read */
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.tmp-%s", dir, name);
	f = fopen(tmp, "w");
	ck_assert_ptr_nonnull(f);
	fputs(content, f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(rename(tmp, path), 0);
}

static void
rm_file(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_int_eq(unlink(path), 0);
}

/* ---- files -> environment ------------------------------------------- */

static const struct {
	const char *name, *content;
	const char *want; /* NULL: unset */
} file_cases[] = {
    {"FOO", "v1\nsecond line\n", "v1"},
    {"NOEOL", "value", "value"},
    {"NEWLINE", "\n", ""},
    {"EMPTY", "", NULL},
    {"SPACES", "  a b  \n", "  a b  "},
    {".HIDDEN", "x\n", NULL},
    {"BATON_REEXEC_STATE", "forged\n", NULL},
    {"SERVER_STARTER_PORT", "80=3\n", NULL},
    {"SERVER_STARTER_GENERATION", "9\n", NULL},
    {"LISTEN_FDS", "3\n", NULL},
    {"LISTEN_PID", "1\n", NULL},
    {"NOTIFY_SOCKET", "@x\n", NULL},
    {"WATCHDOG_USEC", "1\n", NULL},
    {"KILL_OLD_DELAY", "3\n", "3"},
    {"BATONX", "ok\n", "ok"},
};

START_TEST(test_file_to_env)
{
	const char *got;

	unsetenv(file_cases[_i].name);
	put_file(file_cases[_i].name, file_cases[_i].content);
	ck_assert_int_ge(envdir_load(), 0);
	got = getenv(file_cases[_i].name);
	if (file_cases[_i].want == NULL)
		ck_assert_msg(got == NULL, "%s: want unset, got \"%s\"",
		              file_cases[_i].name, got);
	else
		ck_assert_msg(got && strcmp(got, file_cases[_i].want) == 0,
		              "%s: want \"%s\", got \"%s\"",
		              file_cases[_i].name, file_cases[_i].want,
		              got ? got : "(unset)");
}
END_TEST

START_TEST(test_reserved_keeps_value)
{
	setenv("SERVER_STARTER_PORT", "8080=3", 1);
	put_file("SERVER_STARTER_PORT", "1=1\n");
	ck_assert_int_eq(envdir_load(), 0);
	ck_assert_str_eq(getenv("SERVER_STARTER_PORT"), "8080=3");
	ck_assert(envdir_reserved("BATON_X"));
	ck_assert(envdir_reserved("WATCHDOG_PID"));
	ck_assert(!envdir_reserved("BATON"));
	ck_assert(!envdir_reserved("NOTIFY_SOCKET_X"));
	/* it names the directory being read: a file would swap it */
	ck_assert(envdir_reserved("ENVDIR"));
	ck_assert(!envdir_reserved("ENVDIRX"));
}
END_TEST

/* Values as long as exec carries ("NAME=value" and its NUL in 131,072
 * bytes), whole; one byte more: not set (never cut). */
static const struct {
	const char *name;
	size_t len;
	int set;
} long_cases[] = {
    {"L100K", 100000, 1},
    {"LEDGE", 131065, 1},
    {"LOVER", 131066, 0},
    {"LHUGE", 1000000, 0},
};

START_TEST(test_long_values)
{
	size_t len = long_cases[_i].len;
	char *v = malloc(len + 2);
	const char *got;

	ck_assert_ptr_nonnull(v);
	memset(v, 'x', len);
	v[len] = '\n';
	v[len + 1] = '\0';
	unsetenv(long_cases[_i].name);
	put_file(long_cases[_i].name, v);
	free(v);
	ck_assert_int_ge(envdir_load(), 0);
	got = getenv(long_cases[_i].name);
	if (long_cases[_i].set) {
		ck_assert_ptr_nonnull(got);
		ck_assert_uint_eq(strlen(got), len);
	} else
		ck_assert_ptr_null(got);
}
END_TEST

START_TEST(test_removed_restores)
{
	setenv("HAD", "before", 1);
	unsetenv("NEW");
	put_file("HAD", "one\n");
	put_file("NEW", "two\n");
	ck_assert_int_eq(envdir_load(), 2);
	ck_assert_str_eq(getenv("HAD"), "one");
	put_file("HAD", "three\n");
	ck_assert_int_eq(envdir_load(), 2);
	ck_assert_str_eq(getenv("HAD"), "three");
	rm_file("HAD");
	rm_file("NEW");
	ck_assert_int_eq(envdir_load(), 0);
	/* the value before envdir, not its first envdir value */
	ck_assert_str_eq(getenv("HAD"), "before");
	ck_assert_ptr_null(getenv("NEW"));
	ck_assert_uint_eq(envdir_live_strings(), 1); /* "HAD=before" */
}
END_TEST

START_TEST(test_nothing_changed_no_read)
{
	char name[32];
	unsigned long before;
	int i;

	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "V%d", i);
		put_file(name, "x\n");
	}
	ck_assert_int_eq(envdir_load(), 200);
	before = envdir_files_read();
	ck_assert_uint_ge(before, 200);
	for (i = 0; i < 50; i++)
		ck_assert_int_eq(envdir_load(), 200);
	ck_assert_uint_eq(envdir_files_read(), before);
	put_file("V7", "changed\n");
	ck_assert_int_eq(envdir_load(), 200);
	ck_assert_str_eq(getenv("V7"), "changed");
	/* one file changed: one file read */
	ck_assert_uint_eq(envdir_files_read(), before + 1);
}
END_TEST

START_TEST(test_envdir_switch)
{
	char other[64], path[128];
	FILE *f;

	put_file("A", "1\n");
	ck_assert_int_eq(envdir_load(), 1);
	strcpy(other, "/tmp/unit-envdir2.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(other));
	snprintf(path, sizeof(path), "%s/B", other);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("2\n", f);
	fclose(f);
	setenv("ENVDIR", other, 1);
	ck_assert_int_eq(envdir_load(), 1);
	ck_assert_ptr_null(getenv("A"));
	ck_assert_str_eq(getenv("B"), "2");
	unlink(path);
	rmdir(other);
}
END_TEST

/* Lines of the captured stderr holding s. */
static int
count_lines(const char *path, const char *s)
{
	char line[1024];
	FILE *f = fopen(path, "r");
	int n = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, s) != NULL;
	fclose(f);
	return n;
}

START_TEST(test_unreadable_warns_once)
{
	char log[96], path[256];
	int fd, saved, i;

	/* a symlink to itself: unreadable even for root */
	snprintf(path, sizeof(path), "%s/LOOP", dir);
	ck_assert_int_eq(symlink("LOOP", path), 0);
	snprintf(log, sizeof(log), "%s.log", dir);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	saved = dup(2);
	dup2(fd, 2);
	for (i = 0; i < 20; i++)
		envdir_load();
	/* a change of it (a new symlink) is news again: one more warning */
	unlink(path);
	ck_assert_int_eq(symlink("LOOP", path), 0);
	for (i = 0; i < 20; i++)
		envdir_load();
	put_file("BATON_X", "1\n");
	for (i = 0; i < 20; i++)
		envdir_load();
	dup2(saved, 2);
	close(fd);
	ck_assert_int_eq(count_lines(log, "LOOP"), 2);
	ck_assert_int_eq(count_lines(log, "ignoring BATON_X: reserved"), 1);
	unlink(log);
}
END_TEST

START_TEST(test_changes_bounded_memory)
{
	struct mallinfo2 m0, m1;
	char value[64];
	int i;

	put_file("CHANGING", "start\n");
	envdir_load();
	m0 = mallinfo2();
	/* 2,000 rounds: 10,000 took over the 60 s timeout on a loaded
	 * machine, and 2,000 values kept would be 80 kB, far past the bound */
	for (i = 0; i < 2000; i++) {
		snprintf(value, sizeof(value), "value-%d-%s\n", i,
		         "padding-padding-padding");
		put_file("CHANGING", value);
		ck_assert_int_eq(envdir_load(), 1);
	}
	m1 = mallinfo2();
	ck_assert_str_eq(getenv("CHANGING"),
	                 "value-1999-padding-padding-padding");
	ck_assert_uint_eq(envdir_live_strings(), 1);
	/* setenv would keep all 2,000 values: about 80 kB */
	ck_assert_msg(m1.uordblks < m0.uordblks + 16384,
	              "heap grew by %zu bytes", m1.uordblks - m0.uordblks);
}
END_TEST

/* ---- notify value sanitiser ------------------------------------------- */

static const struct {
	const char *in;
	size_t max;
	const char *want;
} utf8_cases[] = {
    {"plain ascii", 256, "plain ascii"},
    {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 256,
     "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
    {"bad \xff byte", 256, "bad \xef\xbf\xbd byte"},
    {"\xc3", 256, "\xef\xbf\xbd"},                 /* truncated */
    {"\xc0\xaf", 256, "\xef\xbf\xbd\xef\xbf\xbd"}, /* overlong */
    {"\xed\xa0\x80", 256, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* D800 */
    {"\xf4\x90\x80\x80", 256,
     "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* > 10FFFF */
    {"a\tb\rc\x1b[31md\x7f", 256, "abc[31md"},
    {"c1 \xc2\x85 gone", 256, "c1  gone"},
    {"abcdef", 4, "abcd"},
    {"ab\xc3\xa9", 3, "ab"}, /* never half a character */
    {"ab\xff", 4, "ab"},
    {"", 256, ""},
};

START_TEST(test_sanitize)
{
	char *got = notify_sanitize(
	    utf8_cases[_i].in, strlen(utf8_cases[_i].in), utf8_cases[_i].max);

	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, utf8_cases[_i].want);
	ck_assert_uint_le(strlen(got), utf8_cases[_i].max);
	free(got);
}
END_TEST

START_TEST(test_field_bounded)
{
	char msg[1200], *v;

	memset(msg, 'x', sizeof(msg));
	memcpy(msg, "READY=1\nSTATUS=", 15);
	msg[sizeof(msg) - 1] = '\0';
	v = notify_field(msg, "STATUS");
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(strlen(v), NOTIFY_VALUE_MAX);
	free(v);
	v = notify_field(msg, "READY");
	ck_assert_str_eq(v, "1");
	free(v);
}
END_TEST

void
tests_envdir(void)
{
	TCase *tc = unit_case("envdir");
	TCase *tf = unit_case("envdir-stat");
	TCase *tn = unit_case("notify");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_file_to_env, 0, N(file_cases));
	tcase_add_test(tc, test_reserved_keeps_value);
	tcase_add_loop_test(tc, test_long_values, 0, N(long_cases));
	tcase_add_test(tc, test_removed_restores);
	tcase_add_test(tc, test_nothing_changed_no_read);
	tcase_add_test(tc, test_envdir_switch);
	tcase_add_test(tc, test_unreadable_warns_once);
	tcase_add_test(tc, test_changes_bounded_memory);
	/* the same without inotify: the stat comparison */
	tcase_add_checked_fixture(tf, setup_fallback, teardown);
	tcase_set_timeout(tf, 60);
	tcase_add_loop_test(tf, test_file_to_env, 0, N(file_cases));
	tcase_add_test(tf, test_removed_restores);
	tcase_add_test(tf, test_nothing_changed_no_read);
	tcase_add_test(tf, test_envdir_switch);
	tcase_add_test(tf, test_unreadable_warns_once);
	tcase_add_test(tf, test_changes_bounded_memory);
	/* notify.c's value sanitiser */
	tcase_add_loop_test(tn, test_sanitize, 0, N(utf8_cases));
	tcase_add_test(tn, test_field_bounded);
}
