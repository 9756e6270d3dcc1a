/* SPDX-License-Identifier: ISC */
/* privs.c: worker credentials and capabilities (libcap in the parent, raw
 * syscalls in the child). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privs.h"

#define BIT(n) ((uint64_t)1 << (n))

enum supp_mode { SUPP_AUTO, SUPP_NONE, SUPP_LIST };

/* What privs_setup checked, for every later spawn. */
static struct {
	char *user, *group; /* --user split at ':' (group NULL: primary) */
	enum supp_mode supp;
	const char *supp_list; /* --supplementary-groups=G1,G2 */
	uint64_t want;         /* --worker-caps */
	int no_new_privs;
	int amb_clear;          /* baton has ambient caps: clear them */
	uint64_t eff, prm, inh; /* baton's own sets */
	uint64_t bnd;           /* baton's bounding set */
	int setpcap;            /* baton may drop from the bounding set */
	long too_many;          /* the user's group count over the limit */
} P;

/* ---- parsing and resolving (parent) ------------------------------------ */

static int
parse_id(const char *s, unsigned long *id)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*id = strtoul(s, &end, 10);
	return errno || *end || *id >= (unsigned long)(uid_t)-1 ? -1 : 0;
}

/* A group name or number; -1 with errno (ENOENT: no such group). */
static int
resolve_group(const char *s, gid_t *gid)
{
	struct group *gr;
	unsigned long id;

	errno = 0;
	gr = getgrnam(s);
	if (gr != NULL) {
		*gid = gr->gr_gid;
		return 0;
	}
	if (parse_id(s, &id) == 0) {
		*gid = (gid_t)id;
		return 0;
	}
	if (errno == 0)
		errno = ENOENT;
	return -1;
}

/* The user as a name or a number; *pw NULL for a number without a
 * password entry (then a group must be given). */
static int
resolve_user(const char *s, uid_t *uid, struct passwd **pw)
{
	unsigned long id;

	errno = 0;
	*pw = getpwnam(s);
	if (*pw == NULL && parse_id(s, &id) == 0) {
		errno = 0;
		*pw = getpwuid((uid_t)id);
		*uid = (uid_t)id;
		return 0;
	}
	if (*pw == NULL) {
		if (errno == 0)
			errno = ENOENT;
		return -1;
	}
	*uid = (*pw)->pw_uid;
	return 0;
}

/* The kernel's limit on supplementary groups (NGROUPS_MAX, 65536 on
 * Linux since 2.6.4; sysconf says what this kernel has). */
static long
groups_limit(void)
{
	long max = sysconf(_SC_NGROUPS_MAX);

	return max > 0 ? max : NGROUPS_MAX;
}

int
privs_groups_fit(const char *user, long n, long max, char *err, size_t errlen)
{
	if (n <= max)
		return 0;
	snprintf(err, errlen, "user %s is in %ld groups; the limit is %ld",
	         user, n, max);
	return -1;
}

/* The supplementary groups as --supplementary-groups asks; user is the
 * name for "auto", NULL when the uid has no password entry. */
static int
resolve_groups(struct privs_child *c, const char *user)
{
	const char *p;
	int n = 16;

	if (P.supp == SUPP_NONE || (P.supp == SUPP_AUTO && user == NULL))
		return 0;
	if (P.supp == SUPP_AUTO) {
		/* initgroups semantics, without touching baton's own */
		for (;;) {
			int got = n;
			gid_t *g =
			    realloc(c->groups, (size_t)n * sizeof(gid_t));

			if (g == NULL)
				return -1;
			c->groups = g;
			if (getgrouplist(user, c->gid, c->groups, &got) >= 0 &&
			    got <= groups_limit()) {
				c->ngroups = (size_t)got;
				return 0;
			}
			/* more than setgroups(2) takes: the count is said
			 * (privs_groups_fit), never "Argument list too long" */
			if (got > groups_limit()) {
				P.too_many = got;
				errno = E2BIG;
				return -1;
			}
			if (got <= n) {
				errno = E2BIG;
				return -1;
			}
			n = got;
		}
	}
	for (p = P.supp_list; *p; p += *p == ',') {
		char name[256];
		size_t len = strcspn(p, ",");
		gid_t *g;

		if (len == 0 || len >= sizeof(name)) {
			errno = EINVAL;
			return -1;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		p += len;
		g = realloc(c->groups, (c->ngroups + 1) * sizeof(gid_t));
		if (g == NULL)
			return -1;
		c->groups = g;
		if (resolve_group(name, &c->groups[c->ngroups]) < 0)
			return -1;
		c->ngroups++;
	}
	return 0;
}

static int
set_env(char **var, const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 2;

	*var = malloc(n);
	if (*var == NULL)
		return -1;
	snprintf(*var, n, "%s=%s", name, value);
	return 0;
}

/* uid, gid, groups and the environment of --user, resolved now. */
static int
resolve_ids(struct privs_child *c)
{
	struct passwd *pw;
	const char *name, *home;
	char num[32];

	if (resolve_user(P.user, &c->uid, &pw) < 0)
		return -1;
	if (P.group) {
		if (resolve_group(P.group, &c->gid) < 0)
			return -1;
	} else if (pw != NULL)
		c->gid = pw->pw_gid;
	else {
		errno = ENOENT;
		return -1;
	}
	snprintf(num, sizeof(num), "%lu", (unsigned long)c->uid);
	name = pw ? pw->pw_name : num;
	home = pw && pw->pw_dir && *pw->pw_dir ? pw->pw_dir : "/";
	if (set_env(&c->env[0], "USER", name) < 0 ||
	    set_env(&c->env[1], "LOGNAME", name) < 0 ||
	    set_env(&c->env[2], "HOME", home) < 0)
		return -1;
	/* (the copy in USER=: pw is NSS's buffer, not to be kept) */
	return resolve_groups(c, pw ? c->env[0] + strlen("USER=") : NULL);
}

int
privs_prepare(struct privs_child *c, int *step)
{
	memset(c, 0, sizeof(*c));
	*step = PRIVS_RESOLVE;
	P.too_many = 0;
	c->no_new_privs = P.no_new_privs;
	if (P.user == NULL) {
		/* baton's own user: only the ambient set changes */
		if (P.want) {
			c->set_caps = 1;
			c->eff = P.eff;
			c->prm = P.prm;
			c->inh =
			    P.inh | P.want; /* an ambient cap must be here */
		}
		c->amb_clear = P.amb_clear || P.want;
		c->amb = P.want;
		return 0;
	}
	c->set_ids = 1;
	if (resolve_ids(c) < 0) {
		int saved = errno;

		privs_release(c);
		errno = saved;
		return -1;
	}
	if (c->uid == 0)
		return 0; /* root gets every capability at exec anyway */
	/* keep the wanted ones across setresuid, then exactly those */
	c->keepcaps = 1;
	c->bnd_drop = P.setpcap ? P.bnd & ~P.want : 0;
	c->set_caps = 1;
	c->eff = c->prm = c->inh = P.want;
	c->amb_clear = 1;
	c->amb = P.want;
	c->verify_uid = !(P.want & BIT(CAP_SETUID));
	c->verify_caps = 1;
	return 0;
}

void
privs_release(struct privs_child *c)
{
	free(c->groups);
	free(c->env[0]);
	free(c->env[1]);
	free(c->env[2]);
	memset(c, 0, sizeof(*c));
}

char **
privs_envp(const struct privs_child *c, char *const *base)
{
	extern char **environ;
	static const char *const names[3] = {"USER=", "LOGNAME=", "HOME="};
	size_t n = 0, out = 0, i, k;
	char **envp;

	if (c->env[0] == NULL)
		return NULL;
	if (base == NULL)
		base = environ;
	while (base[n])
		n++;
	envp = calloc(n + 4, sizeof(*envp));
	if (envp == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		for (k = 0; k < 3; k++)
			if (strncmp(base[i], names[k], strlen(names[k])) == 0)
				break;
		if (k == 3)
			envp[out++] = base[i];
	}
	for (k = 0; k < 3; k++)
		envp[out++] = c->env[k];
	return envp;
}

/* ---- start-up checks (parent) ------------------------------------------- */

/* A capability by libcap's name, with or without "cap_". */
static int
cap_by_name(const char *s, cap_value_t *v)
{
	char full[80];

	if (cap_from_name(s, v) == 0)
		return 0;
	snprintf(full, sizeof(full), "cap_%s", s);
	return cap_from_name(full, v);
}

/* baton's effective, permitted and inheritable sets in one capget(2),
 * with the kernel's own structures (also in the child: libcap's
 * cap_get_proc allocates). */
static int
raw_capget(uint64_t *eff, uint64_t *prm, uint64_t *inh)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return -1;
	*eff = (uint64_t)d[0].effective | (uint64_t)d[1].effective << 32;
	*prm = (uint64_t)d[0].permitted | (uint64_t)d[1].permitted << 32;
	*inh = (uint64_t)d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

/* Bit masks of baton's own capability sets; the bounding set only for
 * --user (it is dropped from there alone), one prctl(2) per capability.
 * An ambient capability is always permitted and inheritable too, so
 * only those are asked about: none as an ordinary user, none as root
 * with the usual empty inheritable set. */
static int
read_own_caps(int bounding)
{
	cap_value_t v, max = cap_max_bits();

	if (raw_capget(&P.eff, &P.prm, &P.inh) < 0)
		return -1;
	for (v = 0; v < 64; v++)
		if ((P.prm & P.inh & BIT(v)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, (long)v, 0L,
		          0L) == 1)
			P.amb_clear = 1;
	for (v = 0; bounding && v < max && v < 64; v++)
		if (cap_get_bound(v) == 1)
			P.bnd |= BIT(v);
	P.setpcap = (P.eff & BIT(CAP_SETPCAP)) != 0;
	return 0;
}

static int
parse_caps(const char *list, char *err, size_t errlen)
{
	const char *p = list;

	for (;;) {
		char name[64], *cname;
		size_t len = strcspn(p, ",");
		cap_value_t v = -1;

		if (len > 0 && len < sizeof(name)) {
			memcpy(name, p, len);
			name[len] = '\0';
			if (cap_by_name(name, &v) < 0)
				v = -1;
		}
		/* (a name libcap knows but this kernel does not is unknown) */
		if (v < 0 || v >= 64 || v >= cap_max_bits()) {
			snprintf(err, errlen,
			         "cannot use --worker-caps=%s: no such "
			         "capability \"%.*s\"",
			         list, (int)len, p);
			return -1;
		}
		if (!(P.prm & BIT(v))) {
			cname = cap_to_name(v);
			snprintf(err, errlen,
			         "cannot use --worker-caps=%s: baton does not "
			         "hold %s",
			         list, cname ? cname : name);
			cap_free(cname);
			return -1;
		}
		P.want |= BIT(v);
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

static int
check_user(const struct privs_opts *o, char *err, size_t errlen)
{
	struct privs_child c;
	int step, saved;

	P.user = strdup(o->user);
	if (P.user == NULL) {
		snprintf(err, errlen, "cannot use --user=%s: %s", o->user,
		         strerror(ENOMEM));
		return -1;
	}
	P.group = strchr(P.user, ':');
	if (P.group)
		*P.group++ = '\0';
	if (o->supplementary_groups == NULL)
		P.supp = P.group ? SUPP_NONE : SUPP_AUTO;
	else if (strcmp(o->supplementary_groups, "auto") == 0)
		P.supp = SUPP_AUTO;
	else if (strcmp(o->supplementary_groups, "none") == 0)
		P.supp = SUPP_NONE;
	else {
		P.supp = SUPP_LIST;
		P.supp_list = o->supplementary_groups;
	}
	if (!(P.eff & BIT(CAP_SETUID)) || !(P.eff & BIT(CAP_SETGID))) {
		snprintf(err, errlen,
		         "cannot use --user=%s: baton lacks %s (run it as root "
		         "or give it that capability)",
		         o->user,
		         !(P.eff & BIT(CAP_SETUID)) ? "CAP_SETUID"
		                                    : "CAP_SETGID");
		return -1;
	}
	if (privs_prepare(&c, &step) == 0) {
		privs_release(&c);
		return 0;
	}
	saved = errno;
	/* say which name is wrong */
	if (saved == E2BIG && P.too_many > 0) {
		char why[200];

		privs_groups_fit(P.user, P.too_many, groups_limit(), why,
		                 sizeof(why));
		snprintf(err, errlen, "cannot use --user=%s: %s", o->user, why);
	} else if (resolve_user(P.user, &c.uid, &(struct passwd *){NULL}) < 0)
		snprintf(err, errlen, "cannot use --user=%s: no such user",
		         o->user);
	else if (P.group && resolve_group(P.group, &c.gid) < 0)
		snprintf(err, errlen, "cannot use --user=%s: no such group",
		         o->user);
	else if (!P.group && getpwnam(P.user) == NULL &&
	         getpwuid(c.uid) == NULL)
		snprintf(err, errlen,
		         "cannot use --user=%s: uid %s has no password entry: "
		         "name a group (--user=%s:GROUP)",
		         o->user, P.user, P.user);
	else
		snprintf(
		    err, errlen, "cannot use --supplementary-groups=%s: %s",
		    o->supplementary_groups ? o->supplementary_groups : "auto",
		    saved == ENOENT ? "no such group" : strerror(saved));
	return -1;
}

int
privs_setup(const struct privs_opts *o, char *err, size_t errlen)
{
	/* from scratch: a second call (the unit tests) forgets the first */
	free(P.user);
	memset(&P, 0, sizeof(P));
	if (read_own_caps(o->user != NULL) < 0) {
		snprintf(err, errlen, "cannot read baton's capabilities: %s",
		         strerror(errno));
		return -1;
	}
	P.no_new_privs = o->no_new_privs;
	if (o->supplementary_groups && o->user == NULL) {
		snprintf(err, errlen,
		         "cannot use --supplementary-groups without --user");
		return -1;
	}
	if (o->worker_caps && parse_caps(o->worker_caps, err, errlen) < 0)
		return -1;
	if (o->user && check_user(o, err, errlen) < 0)
		return -1;
	return 0;
}

/* ---- --check (parent) ---------------------------------------------------- */

static void
print_names(FILE *fp, uint64_t mask)
{
	const char *sep = "";
	int v;

	if (mask == 0)
		fputs("none", fp);
	for (v = 0; v < 64; v++) {
		char *name;

		if (!(mask & BIT(v)))
			continue;
		name = cap_to_name(v);
		fprintf(fp, "%s%s", sep, name ? name : "?");
		cap_free(name);
		sep = ",";
	}
}

void
privs_print(FILE *fp)
{
	struct privs_child c;
	struct passwd *pw;
	struct group *gr;
	gid_t own[256], *groups = own;
	size_t i, n;
	int step, k;

	if (privs_prepare(&c, &step) < 0)
		return;
	if (!c.set_ids) {
		c.uid = getuid();
		c.gid = getgid();
		k = getgroups(256, own);
		n = k < 0 ? 0 : (size_t)k;
	} else {
		groups = c.groups;
		n = c.ngroups;
	}
	pw = getpwuid(c.uid);
	if (pw)
		fprintf(fp, "workers run as %s", pw->pw_name);
	else
		fprintf(fp, "workers run as %lu", (unsigned long)c.uid);
	gr = getgrgid(c.gid);
	if (gr)
		fprintf(fp, ":%s, groups ", gr->gr_name);
	else
		fprintf(fp, ":%lu, groups ", (unsigned long)c.gid);
	if (n == 0)
		fputs("none", fp);
	for (i = 0; i < n; i++)
		fprintf(fp, "%s%lu", i ? "," : "", (unsigned long)groups[i]);
	fputs(", ambient caps ", fp);
	print_names(fp, c.amb);
	fprintf(fp, ", no_new_privs %s\n", c.no_new_privs ? "yes" : "no");
	privs_release(&c);
}

void
privs_describe(int step, long arg, char *buf, size_t len)
{
	char *name = NULL;

	switch (step) {
	case PRIVS_RESOLVE:
		snprintf(buf, len, "cannot resolve --user=%s%s%s", P.user,
		         P.group ? ":" : "", P.group ? P.group : "");
		/* the groups grew past the limit since start-up */
		if (P.too_many > 0) {
			char why[200];
			size_t used = strlen(buf);

			privs_groups_fit(P.user, P.too_many, groups_limit(),
			                 why, sizeof(why));
			snprintf(buf + used, len - used, " (%s)", why);
		}
		break;
	case PRIVS_SETGROUPS:
		snprintf(buf, len, "cannot setgroups(%ld groups)", arg);
		break;
	case PRIVS_SETRESGID:
		snprintf(buf, len, "cannot setresgid(%ld)", arg);
		break;
	case PRIVS_KEEPCAPS:
		snprintf(buf, len, "cannot prctl(PR_SET_KEEPCAPS, %ld)", arg);
		break;
	case PRIVS_SETRESUID:
		snprintf(buf, len, "cannot setresuid(%ld)", arg);
		break;
	case PRIVS_CAPSET:
		snprintf(buf, len, "cannot capset(0x%lx)", arg);
		break;
	case PRIVS_AMBIENT_CLEAR:
		snprintf(buf, len, "cannot clear the ambient capabilities");
		break;
	case PRIVS_BOUNDING:
	case PRIVS_AMBIENT_RAISE:
		name = cap_to_name((cap_value_t)arg);
		snprintf(buf, len, "cannot %s %s",
		         step == PRIVS_BOUNDING
		             ? "drop from the bounding set"
		             : "raise the ambient capability",
		         name ? name : "?");
		cap_free(name);
		break;
	case PRIVS_VERIFY_UID:
		snprintf(buf, len, "cannot make uid %ld's drop final", arg);
		break;
	case PRIVS_VERIFY_CAPS:
		snprintf(buf, len,
		         "cannot verify the permitted capabilities (0x%lx)",
		         arg);
		break;
	case PRIVS_NO_NEW_PRIVS:
		snprintf(buf, len, "cannot prctl(PR_SET_NO_NEW_PRIVS)");
		break;
	default:
		snprintf(buf, len, "cannot set the worker's credentials");
	}
}

/* ---- the child: raw system calls only ------------------------------------ */

static int
fail(int *step, long *arg, int s, long a)
{
	*step = s;
	*arg = a;
	return -1;
}

/* capset(2) with the kernel's own structures: libcap's cap_set_proc
 * allocates, which the child must not. */
static int
raw_capset(uint64_t eff, uint64_t prm, uint64_t inh)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	int i;

	for (i = 0; i < 2; i++) {
		d[i].effective = (uint32_t)(eff >> (32 * i));
		d[i].permitted = (uint32_t)(prm >> (32 * i));
		d[i].inheritable = (uint32_t)(inh >> (32 * i));
	}
	return (int)syscall(SYS_capset, &h, d);
}

static int
raw_permitted(uint64_t *prm)
{
	uint64_t eff, inh;

	return raw_capget(&eff, prm, &inh);
}

/* Groups, gids, bounding set and uid, in the order that keeps the right
 * to do the next step until the uid changes. */
static int
apply_ids(const struct privs_child *c, int *step, long *arg)
{
	int v;

	if (setgroups(c->ngroups, c->groups) < 0)
		return fail(step, arg, PRIVS_SETGROUPS, (long)c->ngroups);
	if (setresgid(c->gid, c->gid, c->gid) < 0)
		return fail(step, arg, PRIVS_SETRESGID, (long)c->gid);
	if (c->keepcaps && prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) < 0)
		return fail(step, arg, PRIVS_KEEPCAPS, 1);
	/* needs CAP_SETPCAP, gone once the uid changes */
	for (v = 0; v < 64; v++)
		if ((c->bnd_drop & BIT(v)) &&
		    prctl(PR_CAPBSET_DROP, (long)v, 0L, 0L, 0L) < 0)
			return fail(step, arg, PRIVS_BOUNDING, v);
	if (setresuid(c->uid, c->uid, c->uid) < 0)
		return fail(step, arg, PRIVS_SETRESUID, (long)c->uid);
	return 0;
}

int
privs_apply(const struct privs_child *c, int *step, long *arg)
{
	uint64_t prm;
	int v;

	if (c->set_ids && apply_ids(c, step, arg) < 0)
		return -1;
	if (c->set_caps && raw_capset(c->eff, c->prm, c->inh) < 0)
		return fail(step, arg, PRIVS_CAPSET, (long)c->prm);
	if (c->amb_clear &&
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0L, 0L, 0L) < 0)
		return fail(step, arg, PRIVS_AMBIENT_CLEAR, 0);
	/* ambient: the only set that survives the exec of a plain file */
	for (v = 0; v < 64; v++)
		if ((c->amb & BIT(v)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (long)v, 0L,
		          0L) < 0)
			return fail(step, arg, PRIVS_AMBIENT_RAISE, v);
	if (c->keepcaps && prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L) < 0)
		return fail(step, arg, PRIVS_KEEPCAPS, 0);
	/* the drop must be one way */
	if (c->verify_uid && setresuid(0, 0, 0) == 0) {
		errno = ENOTRECOVERABLE;
		return fail(step, arg, PRIVS_VERIFY_UID, (long)c->uid);
	}
	if (c->verify_caps && raw_permitted(&prm) < 0)
		return fail(step, arg, PRIVS_VERIFY_CAPS, (long)c->prm);
	if (c->verify_caps && prm != c->prm) {
		errno = ENOTRECOVERABLE;
		return fail(step, arg, PRIVS_VERIFY_CAPS, (long)c->prm);
	}
	if (c->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0)
		return fail(step, arg, PRIVS_NO_NEW_PRIVS, 0);
	return 0;
}
