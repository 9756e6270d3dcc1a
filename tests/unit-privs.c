/* SPDX-License-Identifier: ISC */
/* unit-privs.c: Check tables for privs.c: start-up refusals, step texts. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privs.h"
#include "run-tests.h"

/* ---- privs_setup: what is refused, and the message ----------------------- */

static const struct {
	const char *user, *groups, *caps;
	const char *err; /* NULL: accepted; else a substring of the message */
	int root_only;   /* needs CAP_SETUID/CAP_SETGID to get this far */
} setup_cases[] = {
    {NULL, NULL, NULL, NULL, 0},
    {"no-such-user-x", NULL, NULL,
     "cannot use --user=no-such-user-x: no such user", 1},
    {"nobody:no-such-group-x", NULL, NULL,
     "cannot use --user=nobody:no-such-group-x: no such group", 1},
    {"nobody", "no-such-group-x", NULL,
     "cannot use --supplementary-groups=no-such-group-x: no such group", 1},
    {"nobody", ",", NULL, "cannot use --supplementary-groups=,", 1},
    {NULL, "none", NULL, "cannot use --supplementary-groups without --user", 0},
    {NULL, NULL, "no_such_cap",
     "cannot use --worker-caps=no_such_cap: no such capability "
     "\"no_such_cap\"",
     0},
    {NULL, NULL, "net_bind_service,", "no such capability \"\"", 0},
    {"4000000", NULL, NULL, "uid 4000000 has no password entry", 1},
    {"nobody", NULL, NULL, NULL, 1},
    {"nobody:nogroup", "none", "net_bind_service,cap_chown", NULL, 1},
    {"65534:65534", "auto", NULL, NULL, 1},
    {"4000000:4000000", "none", NULL, NULL, 1},
};

START_TEST(test_setup)
{
	struct privs_opts o;
	char err[512] = "";
	int r;

	if (setup_cases[_i].root_only && geteuid() != 0)
		return;
	memset(&o, 0, sizeof(o));
	o.user = setup_cases[_i].user;
	o.supplementary_groups = setup_cases[_i].groups;
	o.worker_caps = setup_cases[_i].caps;
	r = privs_setup(&o, err, sizeof(err));
	if (setup_cases[_i].err == NULL)
		ck_assert_msg(r == 0, "case %d refused: %s", _i, err);
	else {
		ck_assert_int_eq(r, -1);
		ck_assert_msg(strstr(err, setup_cases[_i].err) != NULL,
		              "case %d: \"%s\" lacks \"%s\"", _i, err,
		              setup_cases[_i].err);
	}
}
END_TEST

/* What a spawn gets from --user=nobody --worker-caps=net_bind_service. */
START_TEST(test_prepare_nobody)
{
	struct privs_opts o;
	struct privs_child c;
	char err[512], **envp;
	char u[] = "USER=root", path[] = "PATH=/bin", home[] = "HOME=/root";
	char *base[] = {u, path, home, NULL};
	char user[] = "nobody", caps[] = "net_bind_service";
	int step;

	if (geteuid() != 0)
		return;
	memset(&o, 0, sizeof(o));
	o.user = user;
	o.worker_caps = caps;
	o.no_new_privs = 1;
	ck_assert_int_eq(privs_setup(&o, err, sizeof(err)), 0);
	ck_assert_int_eq(privs_prepare(&c, &step), 0);
	ck_assert_int_eq(c.set_ids, 1);
	ck_assert_int_eq(c.uid, 65534);
	ck_assert_uint_eq(c.prm, 0x400);
	ck_assert_uint_eq(c.eff, 0x400);
	ck_assert_uint_eq(c.amb, 0x400);
	ck_assert_uint_eq(c.bnd_drop & 0x400, 0);
	ck_assert_int_eq(c.verify_uid, 1);
	ck_assert_int_eq(c.no_new_privs, 1);
	envp = privs_envp(&c, base);
	ck_assert_ptr_nonnull(envp);
	ck_assert_str_eq(envp[0], "PATH=/bin");
	ck_assert_str_eq(envp[1], "USER=nobody");
	ck_assert_str_eq(envp[2], "LOGNAME=nobody");
	ck_assert_ptr_nonnull(strstr(envp[3], "HOME="));
	ck_assert_ptr_null(envp[4]);
	free(envp);
	privs_release(&c);
}
END_TEST

/* ---- the texts of the child's steps --------------------------------------- */

static const struct {
	int step;
	long arg;
	const char *text;
} describe_cases[] = {
    {PRIVS_SETRESUID, 65534, "cannot setresuid(65534)"},
    {PRIVS_SETRESGID, 65534, "cannot setresgid(65534)"},
    {PRIVS_SETGROUPS, 2, "cannot setgroups(2 groups)"},
    {PRIVS_AMBIENT_RAISE, 10,
     "cannot raise the ambient capability cap_net_bind_service"},
    {PRIVS_BOUNDING, 21, "cannot drop from the bounding set cap_sys_admin"},
    {PRIVS_NO_NEW_PRIVS, 0, "cannot prctl(PR_SET_NO_NEW_PRIVS)"},
};

START_TEST(test_describe)
{
	char buf[128];

	privs_describe(describe_cases[_i].step, describe_cases[_i].arg, buf,
	               sizeof(buf));
	ck_assert_str_eq(buf, describe_cases[_i].text);
}
END_TEST

/* ---- the group limit -------------------------------------------------------- */

static const struct {
	const char *user;
	long n, max;
	const char *text; /* NULL: fits */
} groups_cases[] = {
    {"nobody", 0, 65536, NULL},
    {"nobody", 1, 65536, NULL},
    {"nobody", 65536, 65536, NULL},
    {"nobody", 65537, 65536,
     "user nobody is in 65537 groups; the limit is 65536"},
    {"app", 33, 32, "user app is in 33 groups; the limit is 32"},
    {"app", 32, 32, NULL},
    {"1000", 100000, 65536,
     "user 1000 is in 100000 groups; the limit is 65536"},
};

START_TEST(test_groups_fit)
{
	char err[128] = "";
	int rc = privs_groups_fit(groups_cases[_i].user, groups_cases[_i].n,
	                          groups_cases[_i].max, err, sizeof(err));

	if (groups_cases[_i].text == NULL) {
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(err, "");
	} else {
		ck_assert_int_eq(rc, -1);
		ck_assert_str_eq(err, groups_cases[_i].text);
	}
}
END_TEST

void
tests_privs(void)
{
	TCase *tc = unit_case("privs");

	tcase_add_loop_test(tc, test_setup, 0,
	                    sizeof(setup_cases) / sizeof(setup_cases[0]));
	tcase_add_test(tc, test_prepare_nobody);
	tcase_add_loop_test(tc, test_describe, 0,
	                    sizeof(describe_cases) / sizeof(describe_cases[0]));
	tcase_add_loop_test(tc, test_groups_fit, 0,
	                    sizeof(groups_cases) / sizeof(groups_cases[0]));
}
