/* reexec.c: self re-exec on SIGUSR2. The workers stay our children (exec
 * keeps the pid), the listening sockets and the locked pid file stay open
 * (their CLOEXEC flag is cleared for the exec only), and the rest of the
 * state travels in one environment variable. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gen.h"
#include "log.h"
#include "reexec.h"
#include "status.h"

#define STATE_VAR "BATON_REEXEC_STATE"

static int
set_cloexec(int fd, int on)
{
	return fcntl(fd, F_SETFD, on ? FD_CLOEXEC : 0);
}

static void
restore_cloexec(const struct options *o)
{
	size_t i;

	for (i = 0; i < o->nls; i++)
		set_cloexec(o->ls[i].fd, 1);
	if (status_pidfile_fd() >= 0)
		set_cloexec(status_pidfile_fd(), 1);
}

void
reexec_now(char **argv, const struct options *o)
{
	char *gens = gen_state_save(), *state = NULL;
	FILE *f;
	size_t len, i;

	if (gens == NULL) {
		log_warnx("received SIGUSR2: cannot re-exec while a generation "
		          "is starting or baton is stopping; send it again "
		          "later");
		return;
	}
	f = open_memstream(&state, &len);
	if (f == NULL) {
		log_warn("cannot re-exec");
		free(gens);
		return;
	}
	fprintf(f, "%d", status_pidfile_fd());
	for (i = 0; i < o->nls; i++)
		fprintf(f, ",%d", o->ls[i].fd);
	fprintf(f, "|%s", gens);
	fclose(f);
	free(gens);
	for (i = 0; i < o->nls; i++)
		if (set_cloexec(o->ls[i].fd, 0) < 0)
			log_warn("cannot keep %s open across exec",
			         o->ls[i].key);
	if (status_pidfile_fd() >= 0)
		set_cloexec(status_pidfile_fd(), 0);
	setenv(STATE_VAR, state, 1);
	log_info("received SIGUSR2: re-executing %s", argv[0]);
	execvp(argv[0], argv);
	log_warn("cannot re-exec %s; carrying on as before", argv[0]);
	unsetenv(STATE_VAR);
	restore_cloexec(o);
	free(state);
}

char *
reexec_adopt(struct options *o)
{
	const char *s = getenv(STATE_VAR);
	char *end, *gens;
	size_t i;
	long fd;

	if (s == NULL)
		return NULL;
	fd = strtol(s, &end, 10);
	if (fd >= 0 && o->pid_file) {
		set_cloexec((int)fd, 1);
		status_pidfile_adopt((int)fd, o->pid_file);
	}
	for (i = 0; i < o->nls; i++) {
		if (*end != ',')
			fatalx(EXIT_SOFTWARE,
			       "re-exec state does not match the listeners "
			       "(was the command line changed?)");
		fd = strtol(end + 1, &end, 10);
		o->ls[i].fd = (int)fd;
		if (set_cloexec((int)fd, 1) < 0)
			fatal(EXIT_SOFTWARE, "listener %s lost across re-exec",
			      o->ls[i].key);
		listen_adopt_path(&o->ls[i]);
	}
	if (*end != '|')
		fatalx(EXIT_SOFTWARE, "re-exec state is not understood");
	gens = strdup(end + 1);
	unsetenv(STATE_VAR);
	return gens;
}
