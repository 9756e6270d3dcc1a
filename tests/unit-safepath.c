/* SPDX-License-Identifier: ISC */
/* unit-safepath.c: Check tests of the path walker every written file goes
 * through (links followed but where fs.protected_symlinks would refuse). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safepath.h"
#include "run-tests.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define OTHER_UID 65534 /* nobody: a local user who plants links */

static char dir[64];

/* tmpl with each '@' replaced by the test directory (the tables' paths) */
static void
expand(char *out, size_t len, const char *tmpl)
{
	size_t n = 0, d = strlen(dir);

	for (; *tmpl && n + d + 1 < len; tmpl++)
		if (*tmpl == '@') {
			memcpy(out + n, dir, d);
			n += d;
		} else
			out[n++] = *tmpl;
	out[n] = '\0';
}

static void
mk(const char *fmt, const char *target)
{
	char path[256], t[256];

	expand(path, sizeof(path), fmt);
	if (target == NULL) {
		int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

		ck_assert_int_ge(fd, 0);
		close(fd);
		return;
	}
	expand(t, sizeof(t), target);
	ck_assert_int_eq(symlink(t, path), 0);
}

static void
mkd(const char *fmt, mode_t mode)
{
	char path[256];

	expand(path, sizeof(path), fmt);
	ck_assert_int_eq(mkdir(path, mode), 0);
	ck_assert_int_eq(chmod(path, mode), 0); /* past the umask */
}

static void
own(const char *fmt, uid_t uid)
{
	char path[256];

	expand(path, sizeof(path), fmt);
	ck_assert_int_eq(lchown(path, uid, (gid_t)-1), 0);
}

/*
 * D/file                    a regular file
 * D/priv/rel  -> ../file    links in a directory only we write
 * D/priv/abs  -> D/file
 * D/priv/dangling -> D/made (O_CREAT makes the target, as open(2))
 * D/priv/loop -> loop
 * D/priv/up   -> D          (a directory on the way)
 * D/sticky/ (1777, ours): mine -> D/file; as root also theirs -> D/file
 *   and theirsdir -> D, both nobody's
 * D/nstick/ (1777, nobody's, as root): owners -> D/file, nobody's
 */
static void
setup(void)
{
	strcpy(dir, "/tmp/unit-safepath.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	mk("@/file", NULL);
	mkd("@/priv", 0755);
	mk("@/priv/rel", "../file");
	mk("@/priv/abs", "@/file");
	mk("@/priv/dangling", "@/made");
	mk("@/priv/loop", "loop");
	mk("@/priv/up", "@");
	mkd("@/sticky", 01777);
	mk("@/sticky/mine", "@/file");
	mk("@/sticky/theirs", "@/file");
	mk("@/sticky/theirsdir", "@");
	mkd("@/nstick", 01777);
	mk("@/nstick/owners", "@/file");
	if (geteuid() == 0) {
		own("@/sticky/theirs", OTHER_UID);
		own("@/sticky/theirsdir", OTHER_UID);
		own("@/nstick", OTHER_UID);
		own("@/nstick/owners", OTHER_UID);
	}
}

static void
teardown(void)
{
	char cmd[128];

	expand(cmd, sizeof(cmd), "rm -rf '@'");
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

/* path (@: the test directory), and what opening it for writing gives:
 * 0 and the inode of same (@ too), or an errno; root: only as root (the
 * links are nobody's then), why: a word the refusal must say. */
static const struct {
	const char *path;
	int want;
	const char *same;
	int root;
	const char *why;
} open_cases[] = {
    {"@/file", 0, "@/file", 0, NULL},
    {"@/priv/rel", 0, "@/file", 0, NULL},
    {"@/priv/abs", 0, "@/file", 0, NULL},
    {"@/priv/dangling", 0, "@/made", 0, NULL},
    {"@/priv/loop", ELOOP, NULL, 0, NULL},
    {"@/priv/up/file", 0, "@/file", 0, NULL},
    {"@/priv/up/priv/up/priv/rel", 0, "@/file", 0, NULL},
    {"@/priv/../file", 0, "@/file", 0, NULL},
    {"@//priv///abs", 0, "@/file", 0, NULL},
    {"@/nothere/file", ENOENT, NULL, 0, NULL},
    {"@/file/x", ENOTDIR, NULL, 0, NULL},
    {"@/priv", EISDIR, NULL, 0, NULL},
    {"@/priv/", EISDIR, NULL, 0, NULL},
    {"@/priv/up/", EISDIR, NULL, 0, NULL},
    {"@/file/", ENOTDIR, NULL, 0, NULL},
    {"@/priv/abs/", ENOTDIR, NULL, 0, NULL},
    {"@/sticky/mine", 0, "@/file", 0, NULL},
    {"@/sticky/theirs", EACCES, NULL, 1,
     "symbolic link @/sticky/theirs is owned by uid 65534"},
    {"@/sticky/theirsdir/file", EACCES, NULL, 1,
     "symbolic link @/sticky/theirsdir is owned by uid 65534"},
    {"@/priv/up/sticky/theirs", EACCES, NULL, 1,
     "symbolic link @/sticky/theirs "},
    {"@/nstick/owners", 0, "@/file", 1, NULL},
};

START_TEST(test_open)
{
	char path[256], same[256], why[512], want_why[256];
	struct stat a, b;
	int fd;

	if (open_cases[_i].root && geteuid() != 0)
		return; /* no other user to plant the link as */
	expand(path, sizeof(path), open_cases[_i].path);
	errno = 0;
	fd = safepath_open(path, O_WRONLY | O_APPEND | O_CREAT, 0644, why,
	                   sizeof(why));
	if (open_cases[_i].want != 0) {
		ck_assert_msg(fd < 0, "%s: opened, want %s", path,
		              strerror(open_cases[_i].want));
		ck_assert_msg(errno == open_cases[_i].want,
		              "%s: errno %s, want %s", path, strerror(errno),
		              strerror(open_cases[_i].want));
		if (open_cases[_i].why) {
			expand(want_why, sizeof(want_why), open_cases[_i].why);
			ck_assert_msg(strstr(why, want_why) != NULL,
			              "%s: why \"%s\" lacks \"%s\"", path, why,
			              want_why);
		} else
			ck_assert_str_eq(why, "");
		return;
	}
	ck_assert_msg(fd >= 0, "%s: %s (%s)", path, strerror(errno), why);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	expand(same, sizeof(same), open_cases[_i].same);
	ck_assert_int_eq(fstat(fd, &a), 0);
	ck_assert_int_eq(stat(same, &b), 0);
	ck_assert_msg(a.st_ino == b.st_ino, "%s: not %s", path, same);
	close(fd);
}
END_TEST

/* /dev/stderr is /proc/self/fd/2, a link only the kernel can follow.
 * stderr is a pipe of ours here (the kernel checks the permissions of
 * what it is: another user's pipe would be EACCES, as for any open). */
START_TEST(test_dev_stderr)
{
	char why[512];
	struct stat a, b;
	int p[2], saved = dup(STDERR_FILENO), fd;

	ck_assert_int_ge(saved, 0);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
	fd = safepath_open("/dev/stderr", O_WRONLY | O_APPEND, 0, why,
	                   sizeof(why));
	dup2(saved, STDERR_FILENO);
	ck_assert_msg(fd >= 0, "/dev/stderr: %s", strerror(errno));
	ck_assert_int_eq(fstat(fd, &a), 0);
	ck_assert_int_eq(fstat(p[1], &b), 0);
	ck_assert(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
	close(fd);
	close(p[0]);
	close(p[1]);
	close(saved);
}
END_TEST

START_TEST(test_open_dir)
{
	char path[256], why[512];
	const char *base;
	struct stat a, b;
	int fd;

	expand(path, sizeof(path), "@/priv/up/st");
	fd = safepath_open_dir(path, &base, why, sizeof(why));
	ck_assert_int_ge(fd, 0);
	ck_assert_str_eq(base, "st");
	ck_assert_int_eq(fstat(fd, &a), 0);
	ck_assert_int_eq(stat(dir, &b), 0);
	ck_assert(a.st_ino == b.st_ino);
	close(fd);
	/* a link at the name itself is not followed: rename replaces it */
	expand(path, sizeof(path), "@/sticky/theirs");
	fd = safepath_open_dir(path, &base, why, sizeof(why));
	ck_assert_int_ge(fd, 0);
	ck_assert_str_eq(base, "theirs");
	close(fd);
	fd = safepath_open_dir("st", &base, why, sizeof(why));
	ck_assert_int_ge(fd, 0);
	ck_assert_str_eq(base, "st");
	close(fd);
	errno = 0;
	ck_assert_int_lt(safepath_open_dir("/tmp/", &base, why, sizeof(why)),
	                 0);
	ck_assert_int_eq(errno, EISDIR);
	if (geteuid() == 0) {
		expand(path, sizeof(path), "@/sticky/theirsdir/st");
		errno = 0;
		ck_assert_int_lt(
		    safepath_open_dir(path, &base, why, sizeof(why)), 0);
		ck_assert_int_eq(errno, EACCES);
		ck_assert_ptr_nonnull(strstr(why, "theirsdir is owned by"));
	}
}
END_TEST

START_TEST(test_temp)
{
	char *a, *b;
	int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC), fa, fb;
	struct stat st;

	ck_assert_int_ge(dfd, 0);
	fa = safepath_temp(dfd, "st", &a);
	fb = safepath_temp(dfd, "st", &b);
	ck_assert_int_ge(fa, 0);
	ck_assert_int_ge(fb, 0);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(strncmp(a, "st.", 3), 0);
	ck_assert_uint_eq(strlen(a), 9);
	ck_assert_int_eq(fstatat(dfd, a, &st, AT_SYMLINK_NOFOLLOW), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	free(a);
	free(b);
	close(fa);
	close(fb);
	close(dfd);
}
END_TEST

void
tests_safepath(void)
{
	TCase *tc = unit_case("safepath");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_open, 0, N(open_cases));
	tcase_add_test(tc, test_dev_stderr);
	tcase_add_test(tc, test_open_dir);
	tcase_add_test(tc, test_temp);
}
