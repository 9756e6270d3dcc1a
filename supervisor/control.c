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

#define MAX_GENS 4096

/* The number after "key": in a JSON text, or 0. */
static unsigned long
json_ulong(const char *text, const char *key)
{
	const char *p = text ? strstr(text, key) : NULL;

	return p ? strtoul(p + strlen(key), NULL, 10) : 0;
}

/* Does the JSON status still have a generation >= target on its way
 * (starting, ready or serving), or a restart queued? */
static int
json_in_progress(const char *json, unsigned long target)
{
	const char *p = strstr(json, "\"generations\":["), *end;

	if (strstr(json, "\"restart_pending\":true"))
		return 1;
	if (p == NULL)
		return 0;
	end = strstr(p, "\"last_failure\"");
	while ((p = strstr(p, "{\"generation\":")) != NULL &&
	       (end == NULL || p < end)) {
		unsigned long g = strtoul(p + 14, NULL, 10);
		const char *st = strstr(p, "\"state\":\"");

		if (g >= target && st && strncmp(st + 9, "failed", 6) != 0 &&
		    strncmp(st + 9, "retiring", 8) != 0)
			return 1;
		p++;
	}
	return 0;
}

static void
print_failure(const char *json)
{
	const char *r = strstr(json, "\"reason\":\"");
	char reason[512];
	size_t i = 0;

	reason[0] = '\0';
	if (r) {
		for (r += 10; *r && *r != '"' && i < sizeof(reason) - 1; r++) {
			if (*r == '\\' && r[1])
				r++;
			reason[i++] = *r;
		}
		reason[i] = '\0';
	}
	log_warnx(
	    "restart failed: generation %lu %s",
	    json_ulong(strstr(json, "\"last_failure\":"), "\"generation\":"),
	    reason);
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

int
control_restart(const struct options *o)
{
	unsigned long gens[MAX_GENS], target;
	char err[512], *text, *json_path;
	struct timespec ts = {0, 100 * 1000 * 1000}, serving_since = {0, 0},
	                now;
	long old_wait = 60;
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
	text = status_read_file(json_path);
	if (text && json_ulong(text, "\"last_generation\":") + 1 > target)
		target = json_ulong(text, "\"last_generation\":") + 1;
	if (text && json_ulong(text, "\"stop_timeout\":") > 0)
		old_wait = (long)json_ulong(text, "\"stop_timeout\":") + 5;
	free(text);
	if (kill(pid, SIGHUP) < 0) {
		log_warn("cannot send SIGHUP to the supervisor (pid %ld)",
		         (long)pid);
		free(json_path);
		return EXIT_CONTROL;
	}
	for (;;) {
		nanosleep(&ts, NULL);
		if (kill(pid, 0) < 0 && errno == ESRCH) {
			log_warnx("the supervisor (pid %ld) exited during the "
			          "restart",
			          (long)pid);
			break;
		}
		text = status_read_file(o->status_file);
		n = text ? status_parse_gens(text, gens, MAX_GENS) : 0;
		free(text);
		if (n == 1 && gens[0] >= target) {
			free(json_path);
			return EXIT_OK;
		}
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
				break;
			}
		}
		/* start_server writes no JSON: then only the status file
		 * tells, as with start_server's own --restart */
		text = status_read_file(json_path);
		if (text &&
		    json_ulong(strstr(text, "\"last_failure\":"),
		               "\"generation\":") >= target &&
		    !json_in_progress(text, target) &&
		    (n == 0 || gens[n - 1] < target)) {
			print_failure(text);
			free(text);
			break;
		}
		free(text);
	}
	free(json_path);
	return EXIT_CONTROL;
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
