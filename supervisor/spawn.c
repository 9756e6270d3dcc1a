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

/* The worker's own variables go into an envp built for each spawn:
 * setenv(3) in baton would keep every old value (glibc never frees them),
 * growing with each generation. */
char **
spawn_env(unsigned long generation, int worker_index, const char *notify_socket)
{
	extern char **environ;
	char extra[3][512], **envp, *text;
	size_t n = 0, nextra = 0, out = 0, size = 0, i, k;

	snprintf(extra[nextra++], sizeof(extra[0]),
	         "SERVER_STARTER_GENERATION=%lu", generation);
	if (worker_index >= 0)
		snprintf(extra[nextra++], sizeof(extra[0]),
		         "BATON_WORKER_INDEX=%d", worker_index);
	if (notify_socket)
		snprintf(extra[nextra++], sizeof(extra[0]), "NOTIFY_SOCKET=%s",
		         notify_socket);
	for (k = 0; k < nextra; k++)
		size += strlen(extra[k]) + 1;
	while (environ[n])
		n++;
	envp = malloc((n + nextra + 1) * sizeof(*envp) + size);
	if (envp == NULL)
		return NULL;
	text = (char *)(envp + n + nextra + 1);
	for (i = 0; i < n; i++) {
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

static void __attribute__((noreturn)) child_fail(int errfd, int stage)
{
	struct spawn_failure f = {stage, errno};

	(void)!write(errfd, &f, sizeof(f));
	_exit(127);
}

/* Runs in the child between fork and exec: async-signal-safe calls only.
 * tmp is scratch space allocated by the parent. */
static void __attribute__((noreturn))
child(const struct spawn_req *r, int errfd, int *tmp)
{
	struct sigaction sa;
	sigset_t none;
	size_t i;
	int sig, hi = errfd;

	/* libev's handlers and blocked signals must not reach the worker;
	 * SIGPIPE stays ignored as under start_server */
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		sa.sa_handler = sig == SIGPIPE ? SIG_IGN : SIG_DFL;
		sigaction(sig, &sa, NULL);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (r->pdeathsig) {
		if (prctl(PR_SET_PDEATHSIG, r->pdeathsig) < 0)
			child_fail(errfd, SPAWN_DUP);
		/* baton may have died before prctl: then nobody would
		 * deliver the signal */
		if (getppid() != r->parent)
			_exit(127);
	}

	/* Move everything above every number in play first, so that no
	 * dup2 below can land on a listener (or the error pipe) not yet
	 * moved: start_server's =FD bugs came from skipping this. */
	for (i = 0; i < r->nls; i++) {
		if (r->ls[i].target_fd > hi)
			hi = r->ls[i].target_fd;
		if (r->ls[i].fd > hi)
			hi = r->ls[i].fd;
	}
	hi++;
	sig = fcntl(errfd, F_DUPFD_CLOEXEC, hi);
	if (sig < 0)
		child_fail(errfd, SPAWN_DUP);
	errfd = sig;
	for (i = 0; i < r->nls; i++) {
		tmp[i] = fcntl(r->ls[i].fd, F_DUPFD_CLOEXEC, hi);
		if (tmp[i] < 0)
			child_fail(errfd, SPAWN_DUP);
	}
	/* dup2 clears FD_CLOEXEC on the copy: these are the fds to pass */
	for (i = 0; i < r->nls; i++)
		if (dup2(tmp[i], r->ls[i].target_fd) < 0)
			child_fail(errfd, SPAWN_DUP);
	if (r->dir && chdir(r->dir) < 0)
		child_fail(errfd, SPAWN_CHDIR);
	if (r->envp)
		execvpe(r->argv[0], r->argv, r->envp);
	else
		execvp(r->argv[0], r->argv);
	child_fail(errfd, SPAWN_EXEC);
}

pid_t
spawn_worker(const struct spawn_req *r, struct spawn_failure *f)
{
	int pipefd[2], *tmp;
	pid_t pid;
	ssize_t n;

	f->stage = SPAWN_OK;
	f->err = 0;
	tmp = calloc(r->nls + 1, sizeof(*tmp));
	if (tmp == NULL)
		return -1;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		free(tmp);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		int saved = errno;

		close(pipefd[0]);
		close(pipefd[1]);
		free(tmp);
		errno = saved;
		return -1;
	}
	if (pid == 0) {
		close(pipefd[0]);
		child(r, pipefd[1], tmp);
	}
	free(tmp);
	close(pipefd[1]);
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
