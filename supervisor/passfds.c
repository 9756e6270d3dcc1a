/* SPDX-License-Identifier: ISC */
/* passfds.c: --pass-fds-as, each server family's way of naming its fds. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "einhorn.h"
#include "passfds.h"

static const struct {
	const char *name;
	unsigned bit;
} dialects[] = {
    {"server-starter", PASSFDS_SERVER_STARTER},
    {"systemd", PASSFDS_SYSTEMD},
    {"nginx", PASSFDS_NGINX},
    {"unicorn", PASSFDS_UNICORN},
    {"einhorn", PASSFDS_EINHORN},
};
#define NDIALECTS (sizeof(dialects) / sizeof(dialects[0]))

static unsigned mask_in_use = PASSFDS_SERVER_STARTER;

/* "LISTEN_PID=" and room for any pid: the child writes its digits here
 * (in its own copy of the parent's memory) before exec. */
#define PID_PREFIX "LISTEN_PID="
#define PID_SLOT_LEN (sizeof(PID_PREFIX) + 20)
static char *pid_slot;

int
passfds_parse(const char *list, unsigned *mask, char *err, size_t errlen)
{
	const char *p = list;
	size_t i, len;

	*mask = 0;
	for (;;) {
		len = strcspn(p, ",");
		for (i = 0; i < NDIALECTS; i++)
			if (strlen(dialects[i].name) == len &&
			    strncmp(dialects[i].name, p, len) == 0)
				break;
		if (i == NDIALECTS) {
			snprintf(err, errlen,
			         "invalid --pass-fds-as value \"%s\": unknown "
			         "dialect \"%.*s\" (known: server-starter, "
			         "systemd, nginx, unicorn, einhorn)",
			         list, (int)len, p);
			return -1;
		}
		*mask |= dialects[i].bit;
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

int
passfds_check(unsigned mask, const struct listener *ls, size_t n, char *err,
              size_t errlen)
{
	size_t i;

	if (!(mask & PASSFDS_SYSTEMD))
		return 0;
	/* the numbers are all different (listen_assign_fds): they are
	 * 3 .. 3+n-1 exactly when none is outside that range */
	for (i = 0; i < n; i++)
		if (ls[i].target_fd < 3 || (size_t)ls[i].target_fd >= 3 + n) {
			snprintf(
			    err, errlen,
			    "cannot pin %s to fd %d with --pass-fds-as="
			    "systemd: the systemd protocol passes fds 3, 4, "
			    "... without gaps (here 3 to %zu)",
			    ls[i].key, ls[i].target_fd, 3 + n - 1);
			return -1;
		}
	return 0;
}

void
passfds_set(unsigned mask)
{
	mask_in_use = mask ? mask : PASSFDS_SERVER_STARTER;
}

/* Is env entry e one the dialects in use set, or server-starter's when
 * it is not in use? Those are dropped from the inherited environment. */
static int
managed(const char *e)
{
	static const char *const own[] = {
	    "LISTEN_FDS=",         "LISTEN_PID=",
	    "LISTEN_FDNAMES=",     "NGINX=",
	    "UNICORN_FD=",         "EINHORN_FD_",
	    "EINHORN_MASTER_PID=", "EINHORN_SOCK_PATH=",
	    "EINHORN_SOCK_FD="};
	static const unsigned bits[] = {
	    PASSFDS_SYSTEMD, PASSFDS_SYSTEMD, PASSFDS_SYSTEMD,
	    PASSFDS_NGINX,   PASSFDS_UNICORN, PASSFDS_EINHORN,
	    PASSFDS_EINHORN, PASSFDS_EINHORN, PASSFDS_EINHORN};
	size_t i;

	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if ((mask_in_use & bits[i]) &&
		    strncmp(e, own[i], strlen(own[i])) == 0)
			return 1;
	/* SERVER_STARTER_GENERATION stays in every dialect: it names the
	 * generation, not the fds, and configurations use it (nginx's
	 * "pid nginx.$SERVER_STARTER_GENERATION.pid") */
	return !(mask_in_use & PASSFDS_SERVER_STARTER) &&
	       strncmp(e, "SERVER_STARTER_PORT=", 20) == 0;
}

/* The listeners in fd order (the order the dialects list them in). */
static size_t *
by_fd(const struct listener *ls, size_t n)
{
	size_t *o = calloc(n + 1, sizeof(*o)), i, j, t;

	if (o == NULL)
		abort();
	for (i = 0; i < n; i++)
		o[i] = i;
	for (i = 1; i < n; i++)
		for (j = i;
		     j > 0 && ls[o[j]].target_fd < ls[o[j - 1]].target_fd;
		     j--) {
			t = o[j];
			o[j] = o[j - 1];
			o[j - 1] = t;
		}
	return o;
}

/* "NAME=" then each fd or name of ls (in fd order) joined by sep, then
 * tail. */
static char *
join(const char *name, const struct listener *ls, const size_t *o, size_t n,
     const char *sep, const char *tail, int names)
{
	size_t len = strlen(name) + strlen(tail) + 1, i, off;
	char *s, buf[256];

	for (i = 0; i < n; i++)
		len += (names ? 256 : 12) + strlen(sep);
	if ((s = malloc(len)) == NULL)
		abort();
	off = (size_t)snprintf(s, len, "%s", name);
	for (i = 0; i < n; i++) {
		const char *sp = i + 1 < n ? sep : "";

		if (names)
			off += (size_t)snprintf(
			    s + off, len - off, "%s%s",
			    listen_fdname(&ls[o[i]], buf, sizeof(buf)), sp);
		else
			off += (size_t)snprintf(s + off, len - off, "%d%s",
			                        ls[o[i]].target_fd, sp);
	}
	snprintf(s + off, len - off, "%s", tail);
	return s;
}

/* "NAME=n", malloc'd. */
static char *
var_num(const char *name, size_t n)
{
	char *s;

	if (asprintf(&s, "%s=%zu", name, n) < 0)
		abort();
	return s;
}

/* "AF_INET", "AF_INET6" or "AF_UNIX": l's socket family, as einhorn's
 * EINHORN_FD_FAMILY_n names it. */
static const char *
family_name(const struct listener *l)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (l->kind == LISTEN_UNIX)
		return "AF_UNIX";
	if (l->fd >= 0 && getsockname(l->fd, (struct sockaddr *)&ss, &len) == 0)
		return ss.ss_family == AF_INET6  ? "AF_INET6"
		       : ss.ss_family == AF_UNIX ? "AF_UNIX"
		                                 : "AF_INET";
	return l->ipv6 ? "AF_INET6" : "AF_INET";
}

/* The dialects' variables, malloc'd, into add; returns how many. */
static size_t
dialect_vars(char **add, const struct listener *ls, size_t n)
{
	size_t *o = by_fd(ls, n), k = 0, i;

	pid_slot = NULL;
	if (mask_in_use & PASSFDS_SYSTEMD) {
		add[k++] = var_num("LISTEN_FDS", n);
		add[k++] = join("LISTEN_FDNAMES=", ls, o, n, ":", "", 1);
		if ((pid_slot = calloc(1, PID_SLOT_LEN)) == NULL)
			abort();
		memcpy(pid_slot, PID_PREFIX "0", sizeof(PID_PREFIX) + 1);
		add[k++] = pid_slot;
	}
	/* nginx splits at ';' and wants the last one too */
	if (mask_in_use & PASSFDS_NGINX)
		add[k++] = join("NGINX=", ls, o, n, ";", n ? ";" : "", 0);
	if (mask_in_use & PASSFDS_UNICORN)
		add[k++] = join("UNICORN_FD=", ls, o, n, ",", "", 0);
	if (mask_in_use & PASSFDS_EINHORN) {
		add[k++] = var_num("EINHORN_FD_COUNT", n);
		for (i = 0; i < n; i++) {
			if (asprintf(&add[k], "EINHORN_FD_%zu=%d", i,
			             ls[o[i]].target_fd) < 0)
				abort();
			k++;
			/* einhorn's clients make a socket object of this
			 * family (AF_INET when unset) */
			if (asprintf(&add[k], "EINHORN_FD_FAMILY_%zu=%s", i,
			             family_name(&ls[o[i]])) < 0)
				abort();
			k++;
		}
		/* einhorn's clients take a process for a worker only when
		 * this is their parent's pid: baton's, which forks them */
		add[k++] = var_num("EINHORN_MASTER_PID", (size_t)getpid());
		if (einhorn_path() != NULL) {
			if (asprintf(&add[k], "EINHORN_SOCK_PATH=%s",
			             einhorn_path()) < 0)
				abort();
			k++;
		}
	}
	free(o);
	return k;
}

char **
passfds_env(char *const *envp, const struct listener *ls, size_t n)
{
	extern char **environ;
	char *const *src = envp ? envp : environ;
	size_t nsrc = 0, i, k, nadd;
	char **out;

	if (mask_in_use == PASSFDS_SERVER_STARTER) {
		pid_slot = NULL;
		return NULL;
	}
	while (src[nsrc])
		nsrc++;
	/* [0]: how many strings at the end are ours, to free */
	/* systemd 3, nginx 1, unicorn 1, einhorn 3 + 2n; the count; NULL */
	out = calloc(nsrc + 2 * n + 8 + 2, sizeof(*out));
	if (out == NULL)
		abort();
	for (i = 0, k = 1; i < nsrc; i++)
		if (!managed(src[i]))
			out[k++] = src[i];
	nadd = dialect_vars(out + k, ls, n);
	out[0] = (char *)(uintptr_t)nadd;
	return out + 1;
}

void
passfds_env_free(char **envp)
{
	size_t nadd, len = 0, i;
	char **base;

	if (envp == NULL)
		return;
	base = envp - 1;
	nadd = (size_t)(uintptr_t)base[0];
	while (envp[len])
		len++;
	for (i = len - nadd; i < len; i++)
		free(envp[i]);
	free(base);
	pid_slot = NULL;
}

void
passfds_child(void)
{
	char digits[24];
	size_t n = 0, i;
	long pid;

	if (pid_slot == NULL)
		return;
	pid = (long)getpid();
	do
		digits[n++] = (char)('0' + pid % 10);
	while ((pid /= 10) > 0);
	for (i = 0; i < n; i++)
		pid_slot[sizeof(PID_PREFIX) - 1 + i] = digits[n - 1 - i];
	pid_slot[sizeof(PID_PREFIX) - 1 + n] = '\0';
}
