/* SPDX-License-Identifier: ISC */
/* spawn.c: the worker side of fork, where only async-signal-safe calls run. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "notify.h"
#include "passfds.h"
#include "privs.h"
#include "sig.h"
#include "spawn.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

void
spawn_cloexec_inherited(void)
{
	DIR *d;
	struct dirent *de;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
#endif
	d = opendir("/proc/self/fd");
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		int fd = atoi(de->d_name);

		if (fd >= 3 && fd != dirfd(d))
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	closedir(d);
}

/* --stop-timeout for a worker to read: milliseconds at most, rounded
 * down (a worker told a later deadline than baton's would be killed while
 * it still plans to finish), at least 0.001, in plain decimal with no
 * trailing zeros and never an exponent: "30", "2.5", "0.001". */
static void
format_stop_timeout(char *buf, size_t len, double s)
{
	/* the epsilon keeps 2.3 (2299.9999... ms in binary) at 2300 */
	long long ms = (long long)(s * 1000 + 1e-6);
	int frac, digits = 3;

	if (ms < 1)
		ms = 1;
	frac = (int)(ms % 1000);
	if (frac == 0) {
		snprintf(buf, len, "%lld", ms / 1000);
		return;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	snprintf(buf, len, "%lld.%0*d", ms / 1000, digits, frac);
}

/* The worker's own variables go into an envp built for each spawn:
 * setenv(3) in baton would keep every old value (glibc never frees them),
 * growing with each generation. */
char **
spawn_env(unsigned long generation, int worker_index, const char *notify_socket,
          double stop_timeout)
{
	extern char **environ;
	/* BATON_STOP_TIMEOUT is baton's word on this worker's deadline: one
	 * inherited from baton's own environment (an outer baton's) is
	 * always dropped, even when there is no deadline to give */
	static const char own_stop[] = "BATON_STOP_TIMEOUT=";
	char extra[4][512], **envp, *text, secs[32];
	size_t n = 0, nextra = 0, out = 0, size = 0, i, k;

	snprintf(extra[nextra++], sizeof(extra[0]),
	         "SERVER_STARTER_GENERATION=%lu", generation);
	if (worker_index >= 0)
		snprintf(extra[nextra++], sizeof(extra[0]),
		         "BATON_WORKER_INDEX=%d", worker_index);
	if (notify_socket)
		snprintf(extra[nextra++], sizeof(extra[0]), "NOTIFY_SOCKET=%s",
		         notify_socket);
	if (stop_timeout > 0) {
		format_stop_timeout(secs, sizeof secs, stop_timeout);
		snprintf(extra[nextra++], sizeof(extra[0]), "%s%s", own_stop,
		         secs);
	}
	for (k = 0; k < nextra; k++)
		size += strlen(extra[k]) + 1;
	while (environ[n])
		n++;
	envp = malloc((n + nextra + 1) * sizeof(*envp) + size);
	if (envp == NULL)
		return NULL;
	text = (char *)(envp + n + nextra + 1);
	for (i = 0; i < n; i++) {
		if (strncmp(environ[i], own_stop, sizeof own_stop - 1) == 0)
			continue;
		for (k = 0; k < nextra; k++)
			if (strncmp(environ[i], extra[k],
			            strcspn(extra[k], "=") + 1) == 0)
				break;
		if (k == nextra)
			envp[out++] = environ[i];
	}
	for (k = 0; k < nextra; k++) {
		envp[out++] = strcpy(text, extra[k]);
		text += strlen(extra[k]) + 1;
	}
	envp[out] = NULL;
	return envp;
}

/* What the child writes on the error pipe (the parent adds the text). */
struct child_report {
	int stage, err, step;
	long arg;
};

static void __attribute__((noreturn))
child_fail_step(int errfd, int stage, int step, long arg)
{
	struct child_report f = {stage, errno, step, arg};

	(void)!write(errfd, &f, sizeof(f));
	_exit(127);
}

static void __attribute__((noreturn)) child_fail(int errfd, int stage)
{
	child_fail_step(errfd, stage, 0, 0);
}

/* Where the listeners are in the child while they are moved into place.
 * The parent fills it (the child must not allocate); m covers every fd
 * number in play, so the tables answer "who is on fd x" and "who wants
 * fd x" without a system call. */
struct place {
	int m;
	int *cur;    /* per listener: the fd it is on now */
	int *stack;  /* per listener: a chain being placed */
	int *done;   /* per listener: on its target, CLOEXEC cleared */
	int *owner;  /* per fd number: the listener on it, or -1 */
	int *wanter; /* per fd number: the listener it is the target of */
};

/* A copy of fd on the lowest free number that no listener wants: a
 * cycle of targets (or the error pipe on a target) needs this one spare
 * fd and no more, so N listeners fit whenever N + 16 <= RLIMIT_NOFILE. */
static int
spare_fd(const struct place *p, int fd)
{
	int from = 3, s;

	for (;;) {
		while (from < p->m && p->wanter[from] >= 0)
			from++;
		s = fcntl(fd, F_DUPFD_CLOEXEC, from);
		if (s < 0) {
			/* from at the limit: the limit is the cause */
			if (errno == EINVAL)
				errno = EMFILE;
			return -1;
		}
		if (s >= p->m || p->wanter[s] < 0)
			return s;
		close(s);
		from = s + 1;
	}
}

/* Move listener j from where it is to fd to (a free number). */
static int
move_to(struct place *p, int j, int to)
{
	int from = p->cur[j];

	if (to != from) {
		if (dup2(from, to) < 0)
			return -1;
		close(from);
		if (from < p->m)
			p->owner[from] = -1;
		p->owner[to] = j;
		p->cur[j] = to;
	}
	return 0;
}

/* Put listener i on its target, after the chain of listeners sitting on
 * each other's targets (i wants j's number, j wants k's, ...). The chain
 * ends at a number nobody sits on, or comes back to i: then i steps onto
 * a spare number first. Placing from the end only ever dup2s onto a
 * number just vacated or never used, so no listener is overwritten. */
static int
place_chain(const struct listener *ls, struct place *p, int i)
{
	int depth = 0, j = i, k, s;

	for (;;) {
		p->stack[depth++] = j;
		k = p->owner[ls[j].target_fd];
		/* (a done listener on a target is one not passed) */
		if (k < 0 || k == j || p->done[k])
			break;
		if (k == i) {
			s = spare_fd(p, p->cur[i]);
			if (s < 0)
				return -1;
			close(p->cur[i]);
			p->owner[p->cur[i]] = -1;
			p->cur[i] = s;
			if (s < p->m)
				p->owner[s] = i;
			break;
		}
		j = k;
	}
	while (depth > 0) {
		j = p->stack[--depth];
		if (p->cur[j] == ls[j].target_fd) {
			/* already there: only the flag stands in the way */
			if (fcntl(p->cur[j], F_SETFD, 0) < 0)
				return -1;
		} else if (move_to(p, j, ls[j].target_fd) < 0)
			return -1;
		/* (dup2 leaves the copy without FD_CLOEXEC: it is passed) */
		p->done[j] = 1;
	}
	return 0;
}

/* Every listener onto its target_fd, moving only what collides. *errfd
 * leaves a target first, so that no dup2 lands on the error pipe. */
static int
place_listeners(const struct spawn_req *r, struct place *p, int *errfd)
{
	size_t i;
	int s;

	if (*errfd < p->m && p->wanter[*errfd] >= 0) {
		s = spare_fd(p, *errfd);
		if (s < 0)
			return -1;
		close(*errfd);
		*errfd = s;
	}
	for (i = 0; i < r->nls; i++)
		if (!p->done[i] && place_chain(r->ls, p, (int)i) < 0)
			return -1;
	return 0;
}

/* Runs in the child between fork and exec: async-signal-safe calls only.
 * Every signal is blocked on entry (spawn_worker blocked them before
 * fork), so no handler inherited from libev can run here. pc is what
 * privs_prepare made in the parent, or NULL when that failed (errno). */
static void __attribute__((noreturn))
child(const struct spawn_req *r, int errfd, struct place *p,
      const struct privs_child *pc)
{
	sigset_t none;
	int step;
	long arg;

	if (pc == NULL)
		child_fail_step(errfd, SPAWN_PRIVS, PRIVS_RESOLVE, 0);
	/* A group of its own, whose id is the worker's pid: whatever the
	 * worker leaves behind (sh -c 'helper & exec server') stays in it,
	 * and baton can signal all of it at once, even after the worker
	 * itself is gone. Done before the parent's read of the error pipe
	 * returns, so baton never signals a group that does not exist yet.
	 * A worker that makes itself a group leader (setsid) is still
	 * reached through its pid. */
	if (setpgid(0, 0) < 0)
		child_fail(errfd, SPAWN_SETPGID);
	/* libev's handlers must not reach the worker; SIGPIPE stays
	 * ignored as under start_server */
	sig_reset_for_exec();
	if (place_listeners(r, p, &errfd) < 0)
		child_fail(errfd, SPAWN_DUP);
	if (privs_apply(pc, &step, &arg) < 0)
		child_fail_step(errfd, SPAWN_PRIVS, step, arg);
	/* after the last credential change: the kernel clears the
	 * parent-death signal when the credentials change */
	if (r->pdeathsig) {
		if (prctl(PR_SET_PDEATHSIG, r->pdeathsig) < 0)
			child_fail(errfd, SPAWN_PDEATHSIG);
		/* baton may have died before prctl: then nobody would
		 * deliver the signal */
		if (getppid() != r->parent)
			_exit(127);
	}
	/* as the worker user: a directory it cannot enter is an error */
	if (r->dir && chdir(r->dir) < 0)
		child_fail(errfd, SPAWN_CHDIR);
	/* the worker starts with nothing blocked: the last step */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	passfds_child(); /* LISTEN_PID: this process's own pid */
	if (r->envp)
		execvpe(r->argv[0], r->argv, r->envp);
	else
		execvp(r->argv[0], r->argv);
	child_fail(errfd, SPAWN_EXEC);
}

/* The tables of struct place for r's listeners, in one allocation. */
static int *
place_fill(const struct spawn_req *r, struct place *p)
{
	size_t i, n = r->nls;
	int m = 3, *mem;

	for (i = 0; i < n; i++) {
		if (r->ls[i].fd >= m)
			m = r->ls[i].fd + 1;
		if (r->ls[i].target_fd >= m)
			m = r->ls[i].target_fd + 1;
	}
	mem = malloc((3 * n + 2 * (size_t)m) * sizeof(*mem) + 1);
	if (mem == NULL)
		return NULL;
	p->m = m;
	p->cur = mem;
	p->stack = mem + n;
	p->done = mem + 2 * n;
	p->owner = mem + 3 * n;
	p->wanter = p->owner + m;
	memset(p->owner, 0xff, 2 * (size_t)m * sizeof(*mem)); /* all -1 */
	for (i = 0; i < n; i++) {
		p->cur[i] = r->ls[i].fd;
		/* (a listener not bound or without a number is not passed) */
		p->done[i] = r->ls[i].fd < 0 || r->ls[i].target_fd < 0;
		if (r->ls[i].fd >= 0)
			p->owner[r->ls[i].fd] = (int)i;
		if (r->ls[i].target_fd >= 0)
			p->wanter[r->ls[i].target_fd] = (int)i;
	}
	return mem;
}

/* Every signal that can be blocked, but not the synchronous faults: a
 * crash between fork and exec must still kill the child (libuv's set). */
static void
block_signals(sigset_t *old)
{
	sigset_t all;

	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGTRAP);
	sigdelset(&all, SIGSYS);
	sigdelset(&all, SIGABRT);
	sigprocmask(SIG_BLOCK, &all, old);
}

/* The text of a failure the child reported, in the parent. */
static void
describe(struct spawn_failure *f)
{
	f->what[0] = '\0';
	if (f->stage == SPAWN_PRIVS)
		privs_describe(f->step, f->arg, f->what, sizeof(f->what));
	else if (f->stage == SPAWN_PDEATHSIG)
		snprintf(f->what, sizeof(f->what),
		         "cannot prctl(PR_SET_PDEATHSIG)");
	else if (f->stage == SPAWN_SETPGID)
		snprintf(f->what, sizeof(f->what),
		         "cannot create a process group (setpgid)");
}

/* Fork; the child runs child(), the parent waits for exec or a failure
 * report on the pipe. */
static pid_t
fork_child(const struct spawn_req *r, struct place *p,
           const struct privs_child *pc, struct spawn_failure *f)
{
	struct child_report rep;
	sigset_t old;
	int pipefd[2], saved;
	pid_t pid;
	ssize_t n;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	/* blocked across fork: a signal arriving in the child before its
	 * dispositions are reset would run baton's handler there */
	block_signals(&old);
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		child(r, pipefd[1], p, pc);
	}
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		errno = saved;
		return -1;
	}
	/* EOF: exec succeeded (the pipe closed on exec). Otherwise the
	 * child tells where it failed. */
	do
		n = read(pipefd[0], &rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(rep)) {
		f->stage = rep.stage;
		f->err = rep.err;
		f->step = rep.step;
		f->arg = rep.arg;
	}
	close(pipefd[0]);
	return pid;
}

pid_t
spawn_worker(const struct spawn_req *r, struct spawn_failure *f)
{
	struct spawn_req req = *r;
	struct privs_child pc;
	struct place p;
	int *mem, step, prep, saved, prep_err = 0;
	char **envp = NULL, **denv;
	pid_t pid;

	memset(f, 0, sizeof(*f));
	f->stage = SPAWN_OK;
	mem = place_fill(r, &p);
	if (mem == NULL)
		return -1;
	/* names resolved here, never in the child (NSS allocates) */
	prep = privs_prepare(&pc, &step);
	if (prep < 0)
		prep_err = errno;
	else {
		envp = privs_envp(&pc, r->envp);
		if (envp)
			req.envp = envp;
		/* the readiness socket takes datagrams from this uid */
		if (pc.set_ids)
			notify_set_worker_uid(pc.uid);
	}
	/* --pass-fds-as: each dialect's variables (none by default) */
	denv = passfds_env(req.envp, r->ls, r->nls);
	if (denv)
		req.envp = denv;
	pid = fork_child(&req, &p, prep == 0 ? &pc : NULL, f);
	saved = errno;
	passfds_env_free(denv);
	if (pid > 0 && prep < 0) {
		/* the child only reported: the cause is the parent's */
		f->stage = SPAWN_PRIVS;
		f->step = step;
		f->err = prep_err;
	}
	free(envp);
	free(mem);
	if (prep == 0)
		privs_release(&pc);
	if (pid > 0 && f->stage != SPAWN_OK)
		describe(f);
	errno = saved;
	return pid;
}
