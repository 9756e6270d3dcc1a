/* SPDX-License-Identifier: ISC */
/* sig.c: signal name table; the names Perl's kill() accepts. */
#include "config.h"

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sig.h"

static const struct {
	const char *name;
	int sig;
} sigs[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},       {"QUIT", SIGQUIT},
    {"ILL", SIGILL},       {"TRAP", SIGTRAP},     {"ABRT", SIGABRT},
    {"IOT", SIGIOT},       {"BUS", SIGBUS},       {"FPE", SIGFPE},
    {"KILL", SIGKILL},     {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE},     {"ALRM", SIGALRM},
    {"TERM", SIGTERM},     {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},
    {"CLD", SIGCHLD},      {"CONT", SIGCONT},     {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU},
    {"URG", SIGURG},       {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ},
    {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},     {"WINCH", SIGWINCH},
    {"IO", SIGIO},         {"POLL", SIGPOLL},     {"PWR", SIGPWR},
    {"SYS", SIGSYS},
};

int
sig_parse(const char *name)
{
	const char *p = name;
	size_t i;

	if (name == NULL || *name == '\0')
		return -1;
	if (isdigit((unsigned char)*p)) {
		char *end;
		long n = strtol(p, &end, 10);

		if (*end != '\0' || n <= 0 || n >= NSIG)
			return -1;
		return (int)n;
	}
	if (strncasecmp(p, "SIG", 3) == 0)
		p += 3;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (strcasecmp(p, sigs[i].name) == 0)
			return sigs[i].sig;
	return -1;
}

const char *
sig_name(int sig)
{
	static char buf[16];
	size_t i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigs[i].sig == sig)
			return sigs[i].name;
	snprintf(buf, sizeof(buf), "%d", sig);
	return buf;
}

static void
control_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGQUIT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGUSR2);
}

int
sig_block_control(void)
{
	sigset_t set;

	control_set(&set);
	return sigprocmask(SIG_BLOCK, &set, NULL);
}

int
sig_block_control_save(sigset_t *old)
{
	sigset_t set;

	control_set(&set);
	return sigprocmask(SIG_BLOCK, &set, old);
}

int
sig_unblock_control(void)
{
	sigset_t set;

	control_set(&set);
	return sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* In a child about to exec: every disposition back to its default, but
 * SIGPIPE ignored as start_server leaves it for its workers. sigaction is
 * async-signal-safe; the mask is the caller's to empty, last. */
void
sig_reset_for_exec(void)
{
	struct sigaction sa;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		sa.sa_handler = sig == SIGPIPE ? SIG_IGN : SIG_DFL;
		sigaction(sig, &sa, NULL);
	}
}
