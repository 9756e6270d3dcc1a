/* spawn.c: the worker side of fork, where only async-signal-safe calls run. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

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

static void __attribute__((noreturn)) child_fail(int errfd, int stage)
{
	struct spawn_failure f = {stage, errno};

	(void)!write(errfd, &f, sizeof(f));
	_exit(127);
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
 * fork), so no handler inherited from libev can run here. */
static void __attribute__((noreturn))
child(const struct spawn_req *r, int errfd, struct place *p)
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	/* libev's handlers must not reach the worker; SIGPIPE stays
	 * ignored as under start_server */
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		sa.sa_handler = sig == SIGPIPE ? SIG_IGN : SIG_DFL;
		sigaction(sig, &sa, NULL);
	}
	if (r->pdeathsig) {
		if (prctl(PR_SET_PDEATHSIG, r->pdeathsig) < 0)
			child_fail(errfd, SPAWN_DUP);
		/* baton may have died before prctl: then nobody would
		 * deliver the signal */
		if (getppid() != r->parent)
			_exit(127);
	}
	if (place_listeners(r, p, &errfd) < 0)
		child_fail(errfd, SPAWN_DUP);
	if (r->dir && chdir(r->dir) < 0)
		child_fail(errfd, SPAWN_CHDIR);
	/* the worker starts with nothing blocked: the last step */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
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

pid_t
spawn_worker(const struct spawn_req *r, struct spawn_failure *f)
{
	struct place p;
	sigset_t old;
	int pipefd[2], *mem, saved;
	pid_t pid;
	ssize_t n;

	f->stage = SPAWN_OK;
	f->err = 0;
	mem = place_fill(r, &p);
	if (mem == NULL)
		return -1;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		free(mem);
		return -1;
	}
	/* blocked across fork: a signal arriving in the child before its
	 * dispositions are reset would run baton's handler there */
	block_signals(&old);
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		child(r, pipefd[1], &p);
	}
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(mem);
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		errno = saved;
		return -1;
	}
	/* EOF: exec succeeded (the pipe closed on exec). Otherwise the
	 * child tells where it failed. */
	do
		n = read(pipefd[0], f, sizeof(*f));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*f)) {
		f->stage = SPAWN_OK;
		f->err = 0;
	}
	close(pipefd[0]);
	return pid;
}
