/* SPDX-License-Identifier: ISC */
/* privs.h: worker credentials and capabilities (libcap in the parent, raw
 * syscalls in the child). */
#ifndef BATON_PRIVS_H
#define BATON_PRIVS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* What the command line asks of the workers' credentials, filled by the
 * caller: privs.c needs these four and nothing else of the options. NULL
 * and 0 leave the workers with baton's own user and capabilities. */
struct privs_opts {
	const char *user;                 /* --user=USER[:GROUP] */
	const char *supplementary_groups; /* --supplementary-groups */
	const char *worker_caps;          /* --worker-caps=CAP,... */
	int no_new_privs;                 /* --no-new-privs */
};

/* What one child applies: plain data prepared in the parent, so that the
 * child makes no allocation and no NSS or libcap call. Bit n of a mask is
 * capability n. */
struct privs_child {
	int set_ids; /* --user: setgroups, setresgid, setresuid */
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* supplementary groups */
	size_t ngroups;
	int keepcaps;      /* PR_SET_KEEPCAPS across setresuid */
	uint64_t bnd_drop; /* dropped from the bounding set */
	int set_caps;      /* capset(eff, prm, inh) after setresuid */
	uint64_t eff, prm, inh;
	int amb_clear; /* PR_CAP_AMBIENT_CLEAR_ALL, then raise amb */
	uint64_t amb;
	int verify_uid;  /* setresuid(0, 0, 0) must then fail */
	int verify_caps; /* the permitted set must then be prm */
	int no_new_privs;
	char *env[3]; /* USER=, LOGNAME=, HOME= (--user only) */
};

/* The step of privs_apply (or privs_prepare) that failed. */
enum privs_step {
	PRIVS_RESOLVE = 1,
	PRIVS_SETGROUPS,
	PRIVS_SETRESGID,
	PRIVS_KEEPCAPS,
	PRIVS_BOUNDING,
	PRIVS_SETRESUID,
	PRIVS_CAPSET,
	PRIVS_AMBIENT_CLEAR,
	PRIVS_AMBIENT_RAISE,
	PRIVS_VERIFY_UID,
	PRIVS_VERIFY_CAPS,
	PRIVS_NO_NEW_PRIVS
};

/* Check --user, --supplementary-groups, --worker-caps and --no-new-privs
 * against the system and baton's own capabilities, and remember them for
 * every spawn. Also notes whether baton runs with ambient capabilities
 * its workers must not inherit. With none of them given, that note is
 * all it makes (one capget(2) on most systems): it runs before the first
 * worker starts. Returns -1 with the cause in err. */
int privs_setup(const struct privs_opts *o, char *err, size_t errlen);

/* --check: "workers run as USER:GROUP, groups ..., ambient caps ...,
 * no_new_privs yes|no". */
void privs_print(FILE *fp);

/* In the parent, before each fork: resolve the user and groups now (a
 * group change shows at the next generation). Returns -1 with errno;
 * *step then says what failed. */
int privs_prepare(struct privs_child *c, int *step);
void privs_release(struct privs_child *c);

/* base (NULL: environ) with USER, LOGNAME and HOME of the worker user,
 * in a new array the caller frees; NULL when nothing changes or out of
 * memory. */
char **privs_envp(const struct privs_child *c, char *const *base);

/* In the child, after fork: async-signal-safe. Returns -1 with errno;
 * *step and *arg then say what failed. */
int privs_apply(const struct privs_child *c, int *step, long *arg);

/* A user in n supplementary groups, against the kernel's limit max:
 * 0 when setgroups(2) can take them, else -1 with "user USER is in N
 * groups; the limit is MAX" in err. */
int privs_groups_fit(const char *user, long n, long max, char *err,
                     size_t errlen);

/* "cannot setresuid(65534)" for a failed step (in the parent). */
void privs_describe(int step, long arg, char *buf, size_t len);

#endif
