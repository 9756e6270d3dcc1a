/* control.c: --restart and --stop talk to a running supervisor (baton or
 * start_server) through its pid file and status file. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "status.h"
#include "statusjson.h"

#define MAX_GENS 4096

/* Read STATUS.json into s. 0 when there is none (start_server writes
 * none: then only the status file tells, as with start_server's own
 * --restart); -1, said once per run (*warned), when it is not understood. */
static int
read_json(const char *path, struct status_json *s, int *warned)
{
	char err[256], *text = status_read_file(path);
	int r;

	memset(s, 0, sizeof(*s));
	if (text == NULL)
		return 0;
	r = status_json_parse(text, s, err, sizeof(err));
	free(text);
	if (r < 0 && !*warned) {
		log_warnx("cannot read status file %s: %s", path, err);
		*warned = 1;
	}
	return r < 0 ? -1 : 1;
}

/* A generation in one of these states is over as far as --restart is
 * concerned: it will never become the serving one. */
static int
state_settled(const char *state)
{
	return strcmp(state, "failed") == 0 || strcmp(state, "retiring") == 0 ||
	       strcmp(state, "killed") == 0;
}

/* Does the JSON status still have a generation >= target on its way
 * (starting, ready or serving), or a restart queued? */
static int
in_progress(const struct status_json *s, unsigned long target)
{
	size_t i;

	if (s->restart_pending)
		return 1;
	for (i = 0; i < s->ngens; i++)
		if (s->gens[i].id >= target && !state_settled(s->gens[i].state))
			return 1;
	return 0;
}

/* A running supervisor holds its pid file's lock: an unlocked file is
 * stale, and its pid may belong to an unrelated process by now. */
static int
pidfile_locked(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), locked;

	if (fd < 0) {
		log_warn("cannot open pid file %s", path);
		return 0;
	}
	locked = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	if (!locked)
		log_warnx("no supervisor is running: pid file %s is stale (not "
		          "locked)",
		          path);
	return locked;
}

/* Wait for generation target (or a later one) to be the only one
 * listed. The supervisor's pid and --stop-timeout bound the wait. */
static int
wait_restart(const struct options *o, const char *json_path, pid_t pid,
             unsigned long target, long old_wait)
{
	struct timespec ts = {0, 100 * 1000 * 1000}, serving_since = {0, 0},
	                now;
	unsigned long gens[MAX_GENS];
	struct status_json js;
	int warned = 0;
	char *text;
	size_t n;

	for (;;) {
		nanosleep(&ts, NULL);
		if (kill(pid, 0) < 0 && errno == ESRCH) {
			log_warnx("the supervisor (pid %ld) exited during the "
			          "restart",
			          (long)pid);
			return EXIT_CONTROL;
		}
		text = status_read_file(o->status_file);
		n = text ? status_parse_gens(text, gens, MAX_GENS) : 0;
		free(text);
		if (n == 1 && gens[0] >= target)
			return EXIT_OK;
		/* the new generation serves; old ones that outlive the
		 * supervisor's own --stop-timeout (or a minute without one)
		 * will not go by themselves: say so rather than hang */
		if (n > 1 && gens[n - 1] >= target) {
			if (serving_since.tv_sec == 0)
				clock_gettime(CLOCK_MONOTONIC, &serving_since);
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - serving_since.tv_sec > old_wait) {
				log_warnx("generation %lu serves, but older "
				          "generations are still running after "
				          "%lds (see --stop-timeout)",
				          gens[n - 1], (long)old_wait);
				return EXIT_CONTROL;
			}
		}
		if (read_json(json_path, &js, &warned) > 0 && js.has_failure &&
		    js.fail_gen >= target && !in_progress(&js, target) &&
		    (n == 0 || gens[n - 1] < target)) {
			log_warnx("restart failed: generation %lu %s",
			          js.fail_gen, js.fail_reason);
			status_json_free(&js);
			return EXIT_CONTROL;
		}
		status_json_free(&js);
	}
}

int
control_restart(const struct options *o)
{
	unsigned long gens[MAX_GENS], target;
	char err[512], *text, *json_path;
	struct status_json js;
	long old_wait = 60;
	int warned = 0, r;
	pid_t pid;
	size_t n;

	if (o->pid_file == NULL || o->status_file == NULL) {
		log_warnx("--restart requires --pid-file and --status-file");
		return EXIT_USAGE;
	}
	if (status_pidfile_read(o->pid_file, &pid, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		return EXIT_CONTROL;
	}
	text = status_read_file(o->status_file);
	if (text == NULL) {
		log_warn("cannot read status file %s", o->status_file);
		return EXIT_CONTROL;
	}
	n = status_parse_gens(text, gens, MAX_GENS);
	free(text);
	if (n == 0) {
		log_warnx("no active process found in the status file %s",
		          o->status_file);
		return EXIT_CONTROL;
	}
	target = gens[n - 1] + 1;
	if (!pidfile_locked(o->pid_file))
		return EXIT_CONTROL;
	if (asprintf(&json_path, "%s.json", o->status_file) < 0)
		return EXIT_SOFTWARE;
	if (read_json(json_path, &js, &warned) > 0) {
		if (js.last_generation + 1 > target)
			target = js.last_generation + 1;
		if (js.stop_timeout > 0)
			old_wait = js.stop_timeout + 5;
	}
	status_json_free(&js);
	if (kill(pid, SIGHUP) < 0) {
		log_warn("cannot send SIGHUP to the supervisor (pid %ld)",
		         (long)pid);
		free(json_path);
		return EXIT_CONTROL;
	}
	r = wait_restart(o, json_path, pid, target, old_wait);
	free(json_path);
	return r;
}

int
control_stop(const struct options *o)
{
	char err[512];
	pid_t pid;
	int fd;

	if (o->pid_file == NULL) {
		log_warnx("--stop requires --pid-file");
		return EXIT_USAGE;
	}
	fd = open(o->pid_file, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		log_warn("cannot open pid file %s", o->pid_file);
		return EXIT_CONTROL;
	}
	if (status_pidfile_read(o->pid_file, &pid, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		close(fd);
		return EXIT_CONTROL;
	}
	/* a running supervisor holds the lock: an unlocked file is stale,
	 * and its pid may belong to an unrelated process by now */
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		log_warnx("no supervisor is running: pid file %s is stale "
		          "(not locked)",
		          o->pid_file);
		close(fd);
		return EXIT_CONTROL;
	}
	log_info("stopping the supervisor (pid %ld)", (long)pid);
	if (kill(pid, SIGTERM) < 0) {
		log_warn("cannot send SIGTERM to the supervisor (pid %ld, "
		         "from %s)",
		         (long)pid, o->pid_file);
		close(fd);
		return EXIT_CONTROL;
	}
	/* the supervisor holds this lock until it has exited */
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			log_warn("cannot lock pid file %s", o->pid_file);
			close(fd);
			return EXIT_CONTROL;
		}
	}
	close(fd);
	return EXIT_OK;
}
