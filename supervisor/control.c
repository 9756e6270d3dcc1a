/* SPDX-License-Identifier: ISC */
/* control.c: --restart, --stop, --stats and --health talk to a running
 * supervisor (baton or start_server) through its pid file and status file. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "exitcode.h"
#include "log.h"
#include "metrics.h"
#include "procstat.h"
#include "qstat.h"
#include "status.h"
#include "statusjson.h"

#define MAX_GENS 4096

/* Read STATUS.json into s. 0 when there is none (start_server writes
 * none: then only the status file tells, as with start_server's own
 * --restart); -1, said once per run (*warned), when it is not understood. */
static int
read_json(const char *path, struct snapshot *s, int *warned)
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

/* Does the JSON status still have a generation >= target on its way
 * (starting, ready or serving), or a restart queued? */
static int
in_progress(const struct snapshot *s, unsigned long target)
{
	size_t i;

	if (s->restart_pending)
		return 1;
	for (i = 0; i < s->ngens; i++)
		if (s->gens[i].id >= target &&
		    !gen_state_settled(s->gens[i].state))
			return 1;
	return 0;
}

/* ---- signalling the supervisor: rule 1 ----------------------------------
 *
 * The pid in a pid file is only a number: the supervisor may be gone and
 * the number reused. The proof that it is still the supervisor's: a pidfd
 * opened on the number first (it names that one process for good), then
 * the pid file still locked (a running supervisor holds the lock) and
 * held open by that pid (/proc/PID/fd): if the process the pidfd names
 * had gone and another taken the number meanwhile, the signal through the
 * pidfd fails with ESRCH instead of reaching it. Where the kernel has no
 * pidfds (before 5.3), kill() follows the same checks, a window of
 * microseconds; where /proc/PID/fd cannot be read (another user's
 * supervisor), the lock is the only proof. */

static int
sys_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

static int
sys_pidfd_send_signal(int pidfd, int sig)
{
#ifdef SYS_pidfd_send_signal
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
#else
	(void)pidfd;
	(void)sig;
	errno = ENOSYS;
	return -1;
#endif
}

/* Does pid hold an open descriptor of the file want describes? 1, 0, or
 * -1 when its descriptors cannot be read (another user's process). */
static int
holds_file(pid_t pid, const struct stat *want)
{
	char dir[64], path[320];
	struct dirent *de;
	struct stat st;
	int found = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)pid);
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while (!found && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		found = stat(path, &st) == 0 && st.st_dev == want->st_dev &&
		        st.st_ino == want->st_ino;
	}
	closedir(d);
	return found;
}

/* Send sig to pid, the supervisor the pid file path names, once proven
 * (above). 0, or -1 said in the log (errno ESRCH: it is not running). */
static int
signal_supervisor(const char *path, pid_t pid, int sig)
{
	struct stat st;
	int fd, pidfd, held, r, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		log_warn("cannot open pid file %s", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* first: from here on the pidfd names one process, whatever
	 * happens to the number */
	pidfd = sys_pidfd_open(pid);
	if (pidfd < 0 && errno != ENOSYS) {
		saved = errno;
		log_warnx("no supervisor is running: pid %ld (from %s) is "
		          "gone",
		          (long)pid, path);
		close(fd);
		errno = saved;
		return -1;
	}
	if (!(flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK)) {
		log_warnx("no supervisor is running: pid file %s is stale (not "
		          "locked)",
		          path);
		r = -1;
		errno = ESRCH;
	} else if ((held = holds_file(pid, &st)) == 0) {
		log_warnx("pid file %s names pid %ld, which does not hold it: "
		          "not the supervisor (a pid reused?); not signalling "
		          "it",
		          path, (long)pid);
		r = -1;
		errno = ESRCH;
	} else if (pidfd >= 0)
		/* proof: the pidfd, and the lock and file held after it */
		r = sys_pidfd_send_signal(pidfd, sig);
	else
		/* proof: the lock and the file held, just checked (no
		 * pidfds in this kernel) */
		r = kill(pid, sig);
	saved = errno;
	if (r < 0 && errno != ESRCH)
		log_warn("cannot send SIG%s to the supervisor (pid %ld, from "
		         "%s)",
		         sig == SIGHUP ? "HUP" : "TERM", (long)pid, path);
	if (pidfd >= 0)
		close(pidfd);
	close(fd);
	errno = saved;
	return r;
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

/* How long --restart waits when a deadline of the supervisor is
 * unbounded or unknown (start_server writes no JSON). */
#define UNBOUNDED_WAIT 600.0
/* Slack over the supervisor's own deadlines: polling, spawning, the
 * status write. */
#define WAIT_SLACK 30.0
/* A supervisor seen stopped this long is not a passing ptrace stop. */
#define STOPPED_GRACE 2.0
/* baton rewrites the status file at once on SIGHUP: unchanged this long
 * after it, it is most likely that baton cannot write it (a full disk) */
#define UNCHANGED_GRACE 5.0

double
control_default_timeout(const struct snapshot *s)
{
	if (s == NULL || !s->has_deadlines || s->ready_timeout < 0 ||
	    s->stop_timeout <= 0)
		return UNBOUNDED_WAIT;
	return s->ready_timeout + s->interval + s->kill_old_delay +
	       (double)s->stop_timeout + WAIT_SLACK;
}

/* The progress line's steps, in the order a restart takes them. */
enum step { STEP_NONE, STEP_STARTING, STEP_READY, STEP_RETIRING, STEP_DONE };

/* One --restart: what it waits for and what it has seen so far. */
struct watch {
	const struct options *o;
	const char *json_path;
	pid_t pid;
	unsigned long target; /* the first generation that counts */
	unsigned long old;    /* the newest generation before the HUP */
	double timeout;       /* 0: none */
	long old_wait;
	struct timespec start, serving_since, stopped_since;
	int warned;
	/* the latest look at the status files */
	unsigned long gens[MAX_GENS];
	size_t n;
	struct snapshot js;
	int have_js;
	/* the progress line, on a terminal only */
	int tty, line_open;
	enum step step;
	unsigned long shown; /* the generation the line is about */
	const char *dots;
	/* the status file as it was before the SIGHUP (every write renames
	 * a new inode into place, or at least changes its mtime), whether it
	 * has changed since, and whether that was said */
	struct stat before;
	int had_before, changed, said_unchanged;
};

static double
since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) +
	       (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

/* "…" where the terminal's locale can show it. */
static const char *
ellipsis(void)
{
	const char *dots = "...";

	if (setlocale(LC_CTYPE, "") != NULL &&
	    strcmp(nl_langinfo(CODESET), "UTF-8") == 0)
		dots = "\xe2\x80\xa6";
	setlocale(LC_CTYPE, "C");
	return dots;
}

/* Is pid stopped (SIGSTOP, SIGTSTP) or held by a debugger? Its state is
 * the field after the command name, which may itself contain ") ". */
static int
proc_stopped(pid_t pid)
{
	struct procstat ps;

	/* no /proc: nothing to tell */
	return procstat_read(pid, &ps) == 0 &&
	       (ps.state == 'T' || ps.state == 't');
}

/* The newest generation >= target in the JSON status, or NULL. */
static const struct snap_gen *
newest(const struct watch *w)
{
	if (!w->have_js || w->js.ngens == 0 || w->js.gens[0].id < w->target)
		return NULL;
	return &w->js.gens[0];
}

/* The older generations the status file still lists, as "4" or "3, 4";
 * the one before the HUP if none is (left already). */
static void
older_listed(const struct watch *w, unsigned long than, char *buf, size_t len,
             int *count)
{
	size_t i, off = 0;

	*buf = '\0';
	*count = 0;
	for (i = 0; i < w->n && off < len; i++)
		if (w->gens[i] < than &&
		    (i == 0 || w->gens[i] != w->gens[i - 1])) {
			off += (size_t)snprintf(buf + off, len - off, "%s%lu",
			                        *count ? ", " : "", w->gens[i]);
			++*count;
		}
	if (*count == 0) {
		snprintf(buf, len, "%lu", w->old);
		*count = 1;
	}
}

static void
progress_put(struct watch *w, enum step s, unsigned long gen)
{
	char old[128];
	int count;

	if (!w->line_open)
		fprintf(stderr, "%s:", log_progname());
	w->line_open = 1;
	switch (s) {
	case STEP_STARTING:
		fprintf(stderr, " generation %lu starting%s", gen, w->dots);
		break;
	case STEP_READY:
		fprintf(stderr, " ready%s", w->dots);
		break;
	case STEP_RETIRING:
		older_listed(w, gen, old, sizeof(old), &count);
		fprintf(stderr, " generation%s %s retiring%s",
		        count > 1 ? "s" : "", old, w->dots);
		break;
	default:
		fputs(" done\n", stderr);
		w->line_open = 0;
	}
}

/* Print every step up to s, once each, in order: a poll every 100 ms
 * may miss a short one, which has happened all the same. */
static void
progress(struct watch *w, enum step s, unsigned long gen)
{
	if (!w->tty)
		return;
	if (w->step >= STEP_STARTING && gen > w->shown && s < STEP_DONE)
		w->step = STEP_NONE; /* a follow-up restart took over */
	if (w->step == STEP_NONE)
		w->shown = gen;
	while (w->step < s)
		progress_put(w, ++w->step, w->shown);
}

/* End the progress line before a message of its own. */
static void
progress_break(struct watch *w)
{
	if (w->line_open)
		fputc('\n', stderr);
	w->line_open = 0;
}

/* What the restart still waits for, for a message. */
static void
pending(const struct watch *w, char *buf, size_t len)
{
	const struct snap_gen *g = newest(w);
	unsigned long top = w->n ? w->gens[w->n - 1] : 0;
	char old[128];
	int count;

	if (g != NULL && g->state == GEN_READY)
		snprintf(buf, len,
		         "generation %lu is ready, not serving yet "
		         "(--kill-old-delay)",
		         g->id);
	else if (g != NULL && g->state != GEN_SERVING)
		snprintf(buf, len, "generation %lu is still %s", g->id,
		         gen_state_name(g->state));
	else if (g != NULL || top >= w->target) {
		older_listed(w, g ? g->id : top, old, sizeof(old), &count);
		snprintf(buf, len, "generation%s %s %s still retiring",
		         count > 1 ? "s" : "", old, count > 1 ? "are" : "is");
	} else if (w->have_js && w->js.restart_pending)
		snprintf(buf, len, "the restart is still queued");
	else if (w->have_js)
		snprintf(buf, len, "generation %lu has not started", w->target);
	else
		snprintf(buf, len, "generation %lu is not in %s yet", w->target,
		         w->o->status_file);
}

/* Read both status files again. */
static void
look(struct watch *w)
{
	char *text = status_read_file(w->o->status_file);

	w->n = text ? status_parse_gens(text, w->gens, MAX_GENS) : 0;
	free(text);
	status_json_free(&w->js);
	w->have_js = read_json(w->json_path, &w->js, &w->warned) > 0;
}

/* The restart failed: say why, and whether baton tries again. */
static int
failed(struct watch *w)
{
	const struct snapshot *js = &w->js;
	struct timespec now;
	char retry[96] = "";
	double left;
	long secs;

	if (js->retrying && js->retry_at > 0) {
		clock_gettime(CLOCK_REALTIME, &now);
		left = js->retry_at - (double)now.tv_sec -
		       (double)now.tv_nsec / 1e9;
		/* whole seconds, rounded up: "in 0s" only when it is due */
		secs = left > 0 ? (long)left + ((double)(long)left < left) : 0;
		snprintf(retry, sizeof(retry),
		         "; baton keeps retrying (next attempt in %lds)", secs);
	} else if (js->retrying)
		snprintf(retry, sizeof(retry), "; baton keeps retrying");
	progress_break(w);
	log_warnx("restart failed: generation %lu %s%s", js->fail_gen,
	          js->fail_reason, retry);
	return EXIT_CONTROL;
}

/* Where the restart stands: an exit code, or -1 to keep waiting. */
static int
step(struct watch *w)
{
	const struct snap_gen *g = newest(w);
	unsigned long top = w->n ? w->gens[w->n - 1] : 0;

	if (w->n == 1 && top >= w->target) {
		progress(w, STEP_DONE, top);
		return EXIT_OK;
	}
	if (g != NULL && g->state == GEN_STARTING)
		progress(w, STEP_STARTING, g->id);
	else if (g != NULL &&
	         (g->state == GEN_READY || g->state == GEN_SERVING))
		progress(w, STEP_READY, g->id);
	if (top >= w->target)
		progress(w, w->n > 1 ? STEP_RETIRING : STEP_READY, top);
	/* the new generation serves; old ones that outlive the supervisor's
	 * own --stop-timeout (or a minute without one) will not go by
	 * themselves: say so rather than hang */
	if (w->n > 1 && top >= w->target) {
		if (w->serving_since.tv_sec == 0)
			clock_gettime(CLOCK_MONOTONIC, &w->serving_since);
		if (since(&w->serving_since) > (double)w->old_wait) {
			progress_break(w);
			log_warnx(
			    "generation %lu serves, but older generations "
			    "are still running after %lds (see "
			    "--stop-timeout)",
			    top, w->old_wait);
			return EXIT_CONTROL;
		}
	}
	/* a failure is final when nothing newer is on its way; with baton
	 * retrying, the first failed attempt is the answer all the same */
	if (w->have_js && w->js.has_failure && w->js.fail_gen >= w->target &&
	    top < w->target &&
	    (w->js.retrying || !in_progress(&w->js, w->target)))
		return failed(w);
	return -1;
}

/* Has the status file been written since the SIGHUP? */
static int
status_changed(struct watch *w)
{
	struct stat st;
	int have = stat(w->o->status_file, &st) == 0;

	if (!w->changed &&
	    (have != w->had_before ||
	     (have &&
	      (st.st_ino != w->before.st_ino || st.st_dev != w->before.st_dev ||
	       st.st_size != w->before.st_size ||
	       st.st_mtim.tv_sec != w->before.st_mtim.tv_sec ||
	       st.st_mtim.tv_nsec != w->before.st_mtim.tv_nsec))))
		w->changed = 1;
	return w->changed;
}

/* baton writes its status file as soon as it gets the SIGHUP: a file
 * unchanged long after is news for the person waiting (once), and the
 * likely reason the wait does not end. */
static void
check_unchanged(struct watch *w)
{
	if (w->said_unchanged || status_changed(w) ||
	    since(&w->start) < UNCHANGED_GRACE)
		return;
	w->said_unchanged = 1;
	progress_break(w);
	log_warnx("status file %s has not changed %gs after SIGHUP: can the "
	          "supervisor (pid %ld) write it? (see its log); still waiting",
	          w->o->status_file, UNCHANGED_GRACE, (long)w->pid);
}

/* Why the wait cannot go on though the restart has not settled: the
 * supervisor is gone or stopped, or the time is up; -1 if none. */
static int
stuck(struct watch *w)
{
	char what[256];

	/* signal 0 delivers nothing: a probe, no proof needed. A number
	 * reused meanwhile makes the wait go on, up to --restart-timeout */
	if (kill(w->pid, 0) < 0 && errno == ESRCH) {
		progress_break(w);
		log_warnx("the supervisor (pid %ld) exited during the restart",
		          (long)w->pid);
		return EXIT_CONTROL;
	}
	pending(w, what, sizeof(what));
	/* a stopped supervisor never updates its status: waiting out the
	 * whole timeout would only hide that */
	if (!proc_stopped(w->pid))
		w->stopped_since.tv_sec = 0;
	else if (w->stopped_since.tv_sec == 0)
		clock_gettime(CLOCK_MONOTONIC, &w->stopped_since);
	else if (since(&w->stopped_since) >= STOPPED_GRACE) {
		progress_break(w);
		log_warnx("the supervisor (pid %ld) is stopped (SIGSTOP?): "
		          "%s; the restart goes on once it is continued "
		          "(SIGCONT)",
		          (long)w->pid, what);
		return EXIT_CONTROL;
	}
	if (w->timeout > 0 && since(&w->start) >= w->timeout) {
		progress_break(w);
		log_warnx("restart timed out after %gs: %s%s", w->timeout, what,
		          status_changed(w) ? ""
		                            : " (the status file has not "
		                              "changed since SIGHUP: can the "
		                              "supervisor write it?)");
		return EXIT_CONTROL;
	}
	check_unchanged(w);
	return -1;
}

/* Wait for generation target (or a later one) to be the only one
 * listed, within the timeout. */
static int
wait_restart(struct watch *w)
{
	struct timespec ts = {0, 100 * 1000 * 1000};
	int r;

	for (;;) {
		nanosleep(&ts, NULL);
		look(w);
		if ((r = step(w)) >= 0 || (r = stuck(w)) >= 0)
			break;
	}
	status_json_free(&w->js);
	return r;
}

/* --max-lost: the receipt of the restart, generation target or later,
 * once it is final (outcome not in_progress), into line; -1 while there
 * is none, else 1 with *total, and 0 for one rolled back or failed. */
static int
final_receipt(struct watch *w, char *line, size_t len, uint64_t *total)
{
	const struct snap_receipt *r = NULL;
	struct snapshot js;
	size_t i;
	int ok = -1;

	if (read_json(w->json_path, &js, &w->warned) <= 0)
		return -1;
	for (i = js.nreceipts; i > 0 && r == NULL; i--)
		if (js.receipts[i - 1].generation >= w->target)
			r = &js.receipts[i - 1];
	if (r != NULL && r->outcome != NULL &&
	    strcmp(r->outcome, "in_progress") != 0) {
		snapshot_receipt_line(r, line, len);
		*total = r->total;
		ok = strcmp(r->outcome, "rolled_back") != 0 &&
		     strcmp(r->outcome, "failed") != 0;
	}
	status_json_free(&js);
	return ok;
}

/* After the restart settled (rc): wait for its receipt to be final
 * (within the restart's own timeout, while the supervisor lives), print
 * it, and judge it: EXIT_LOST when it lost more than --max-lost. A
 * restart that failed keeps its exit 4. */
static int
gate(struct watch *w, int rc)
{
	struct timespec ts = {0, 50 * 1000 * 1000};
	char line[512];
	uint64_t total = 0;
	int r;

	while ((r = final_receipt(w, line, sizeof(line), &total)) < 0 &&
	       rc == EXIT_OK) {
		if ((w->timeout > 0 && since(&w->start) >= w->timeout) ||
		    (kill(w->pid, 0) < 0 && errno == ESRCH)) {
			log_warnx("the restart's receipt is not final: cannot "
			          "tell what it lost");
			return EXIT_CONTROL;
		}
		nanosleep(&ts, NULL);
	}
	if (r >= 0)
		printf("%s\n", line);
	if (rc != EXIT_OK || r == 0)
		return EXIT_CONTROL;
	if (total > (uint64_t)w->o->max_lost) {
		log_warnx("the restart lost more connections than allowed "
		          "(%llu, --max-lost=%d)",
		          (unsigned long long)total, w->o->max_lost);
		return EXIT_LOST;
	}
	return EXIT_OK;
}

int
control_restart(const struct options *o)
{
	unsigned long gens[MAX_GENS], target;
	char err[512], *text, *json_path;
	struct snapshot js;
	static struct watch w; /* big: gens[] */
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
	memset(&w, 0, sizeof(w));
	w.old_wait = 60;
	if (read_json(json_path, &js, &warned) > 0) {
		if (js.last_generation + 1 > target)
			target = js.last_generation + 1;
		if (js.stop_timeout > 0)
			w.old_wait = js.stop_timeout + 5;
	}
	w.timeout = o->restart_timeout >= 0 ? o->restart_timeout
	                                    : control_default_timeout(&js);
	status_json_free(&js);
	w.o = o;
	w.json_path = json_path;
	w.pid = pid;
	w.target = target;
	w.old = gens[n - 1];
	w.warned = warned;
	/* progress is for a person watching; scripts read stderr as is */
	if ((w.tty = isatty(STDERR_FILENO)))
		w.dots = ellipsis();
	w.had_before = stat(o->status_file, &w.before) == 0;
	clock_gettime(CLOCK_MONOTONIC, &w.start);
	if (signal_supervisor(o->pid_file, pid, SIGHUP) < 0) {
		free(json_path);
		return EXIT_CONTROL;
	}
	r = wait_restart(&w);
	if (o->max_lost >= 0)
		r = gate(&w, r);
	free(json_path);
	return r;
}

/* The lock is gone, but a supervisor may drop it before its very last
 * instruction (Perl's start_server closes the file in a destructor):
 * "--stop returns once it has exited" means the process is gone or a
 * zombie. Bounded: a pid reused meanwhile must not keep us here. */
static void
wait_exit(pid_t pid)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	struct procstat ps;
	int i;

	for (i = 0; i < 1000; i++) {
		/* gone (or no /proc: the lock is all we have) */
		if (procstat_read(pid, &ps) < 0 || ps.state == 'Z' ||
		    ps.state == 'X')
			return;
		nanosleep(&ts, NULL);
	}
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
	if (signal_supervisor(o->pid_file, pid, SIGTERM) < 0) {
		close(fd);
		return EXIT_CONTROL;
	}
	log_info("stopping the supervisor (pid %ld)", (long)pid);
	/* the supervisor holds this lock until it has exited */
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			log_warn("cannot lock pid file %s", o->pid_file);
			close(fd);
			return EXIT_CONTROL;
		}
	}
	close(fd);
	wait_exit(pid);
	return EXIT_OK;
}

/* ---- --stats and --health ------------------------------------------------ */

/* pid exists and is not a zombie: a supervisor killed with SIGKILL may
 * wait a while for its parent to reap it. */
static int
pid_running(long pid)
{
	struct procstat ps;

	/* no /proc: signal 0, a probe that delivers nothing */
	if (procstat_read((pid_t)pid, &ps) < 0)
		return errno != EINVAL &&
		       (kill((pid_t)pid, 0) == 0 || errno == EPERM);
	return ps.state != 'Z' && ps.state != 'X';
}

/* The running supervisor's STATUS.json into s; -1 with why (it is not
 * running, or its status cannot be read). */
static int
read_running(const struct options *o, struct snapshot *s, char *why, size_t len)
{
	char *path, *text, err[256];
	int r;

	memset(s, 0, sizeof(*s));
	if (asprintf(&path, "%s.json", o->status_file) < 0)
		fatalx(EXIT_SOFTWARE, "out of memory");
	if ((text = status_read_file(path)) == NULL) {
		snprintf(why, len, "cannot read status file %s: %s", path,
		         strerror(errno));
		free(path);
		return -1;
	}
	r = status_json_parse(text, s, err, sizeof(err));
	free(text);
	if (r < 0)
		snprintf(why, len, "cannot read status file %s: %s", path, err);
	else if (!pid_running(s->pid)) {
		snprintf(why, len, "supervisor %ld (from %s) is gone", s->pid,
		         path);
		status_json_free(s);
		r = -1;
	}
	free(path);
	return r;
}

/* Replace each listener's queue with the kernel's figures now, read by
 * inode (any user may), keeping the supervisor's peak. Returns how many
 * listeners could be read, or -1 when netlink fails. */
static int
live_queues(struct snapshot *s, int *errs)
{
	uint64_t *ino = calloc(s->nls + 1, sizeof(*ino));
	enum qstat_kind *k = calloc(s->nls + 1, sizeof(*k));
	struct qstat *q = calloc(s->nls + 1, sizeof(*q));
	int want_syn = 0, n = 0;
	size_t i;

	if (ino == NULL || k == NULL || q == NULL)
		fatalx(EXIT_SOFTWARE, "out of memory");
	for (i = 0; i < s->nls; i++) {
		ino[i] = s->ls[i].inode;
		k[i] = s->ls[i].kind;
		want_syn |= s->ls[i].has_queue &&
		            (s->ls[i].queue.last.flags & QSTAT_HAS_SYN);
	}
	if (qstat_read_inodes(ino, k, s->nls, want_syn, q, errs) < 0)
		n = -1;
	for (i = 0; n >= 0 && i < s->nls; i++) {
		struct qstat_track *t = &s->ls[i].queue;
		uint32_t peak = s->ls[i].has_queue ? t->peak : 0;

		if (ino[i] == 0)
			errs[i] = ENOENT;
		if (errs[i] != 0)
			continue;
		memset(t, 0, sizeof(*t));
		t->peak = peak;
		qstat_sample(t, &q[i], (int64_t)time(NULL));
		s->ls[i].has_queue = 1;
		n++;
	}
	free(ino);
	free(k);
	free(q);
	return n;
}

/* ---- --stats text: one row per listener, a table of renderers ---------- */

/* A column renders listener i of s into buf (what snprintf returns);
 * errs[i] is the errno its queue could not be read with now. */
typedef int (*column_fn)(const struct snapshot *s, const int *errs, size_t i,
                         char *buf, size_t len);

/* The listener column: the key, and for a key with port 0 the port the
 * kernel chose ("127.0.0.1:0 (port 41234)"). The key is shown as the log
 * shows it (log_escape): one line per listener, whatever bytes its path
 * holds. Listeners a reader could not tell apart (two --reuseport
 * sockets, two abstract sockets shown as "@") get their fd, as /metrics
 * gives them an fd label. */
static int
col_listener(const struct snapshot *s, const int *errs, size_t i, char *buf,
             size_t len)
{
	const struct snap_listener *l = &s->ls[i];
	const char *colon = strrchr(l->key, ':'),
	           *port = colon ? colon + 1 : l->key;
	char key[512], fd[32] = "";
	size_t k;
	int n;

	(void)errs;
	for (k = 0; k < s->nls; k++)
		if (k != i && strcmp(s->ls[k].key, l->key) == 0 &&
		    s->ls[k].kind == l->kind)
			snprintf(fd, sizeof(fd), " (fd %d)", l->fd);
	log_escape(key, sizeof(key), l->key);
	port += *port == 'u';
	if (l->port > 0 && *port != '\0' && strspn(port, "0") == strlen(port))
		n = snprintf(buf, len, "%s (port %d)%s", key, l->port, fd);
	else
		n = snprintf(buf, len, "%s%s", key, fd);
	return n < 0 ? 0 : n;
}

/* The queue column, as ss(8) shows it (qstat_text). */
static int
col_queue(const struct snapshot *s, const int *errs, size_t i, char *buf,
          size_t len)
{
	if (errs[i] != 0)
		return snprintf(buf, len, "cannot read its queue: %s",
		                strerror(errs[i]));
	return qstat_text(buf, len, &s->ls[i].queue);
}

/* The accept queue's connections as the supervisor last scanned them
 * (TCP): the longest wait, those that sent nothing, and the clients
 * that gave up while queued. */
static int
col_acceptq(const struct snapshot *s, const int *errs, size_t i, char *buf,
            size_t len)
{
	const struct snap_listener *l = &s->ls[i];

	(void)errs;
	if (!l->has_acceptq)
		return snprintf(buf, len, "%s", "");
	return snprintf(buf, len,
	                "wait %" PRIu32 " ms  idle %" PRIu32
	                "  abandoned %" PRIu64,
	                l->wait_max_ms, l->idle, l->abandoned);
}

/* The columns, left to right; a padded one is as wide as its widest
 * row (the last one is not padded). */
static const struct column {
	column_fn render;
	int pad;
} columns[] = {
    {col_listener, 1},
    {col_queue, 1},
    {col_acceptq, 0},
};
#define NCOLUMNS (sizeof(columns) / sizeof(columns[0]))

static int
print_text(struct snapshot *s, const int *errs)
{
	char buf[1100], line[4 * 1100];
	int w[NCOLUMNS] = {0}, n;
	size_t i, c;

	for (c = 0; c < NCOLUMNS; c++)
		for (i = 0; columns[c].pad && i < s->nls; i++)
			if ((n = columns[c].render(s, errs, i, NULL, 0)) > w[c])
				w[c] = n;
	for (i = 0; i < s->nls; i++) {
		size_t at = 0;

		for (c = 0; c < NCOLUMNS; c++) {
			columns[c].render(s, errs, i, buf, sizeof(buf));
			n = snprintf(line + at, sizeof(line) - at, "%-*s%s",
			             columns[c].pad ? w[c] : 0, buf,
			             c + 1 < NCOLUMNS ? "  " : "");
			at += n > 0 ? (size_t)n : 0;
			if (at >= sizeof(line))
				at = sizeof(line) - 1;
		}
		/* an empty last column leaves no trailing blanks */
		while (at > 0 && line[at - 1] == ' ')
			at--;
		printf("%.*s\n", (int)at, line);
	}
	/* the newest restart's receipt, as the log says it */
	if (s->nreceipts > 0) {
		snapshot_receipt_line(&s->receipts[s->nreceipts - 1], line,
		                      sizeof(line));
		printf("%s\n", line);
	}
	return 0;
}

/* --stats --format=json: the snapshot as STATUS.json writes it, its
 * queues read now. */
static int
print_json(struct snapshot *s, const int *errs)
{
	(void)errs;
	return status_json_write(stdout, s);
}

/* The supervisor's families too, from its STATUS.json: the renderer
 * of /metrics and the .prom file. A listener whose queue could not be
 * read now has none. */
static int
print_prom(struct snapshot *s, const int *errs)
{
	struct metrics_text t;
	size_t i;
	int r;

	for (i = 0; i < s->nls; i++)
		if (errs[i] != 0)
			s->ls[i].has_queue = 0;
	metrics_text_init(&t);
	r = metrics_render(&t, s);
	if (r == 0 && t.buf)
		fputs(t.buf, stdout);
	metrics_text_free(&t);
	return r;
}

/* --stats --format=F: one renderer of the snapshot per format. */
static int (*const formats[])(struct snapshot *s, const int *errs) = {
    [STATS_TEXT] = print_text,
    [STATS_JSON] = print_json,
    [STATS_PROM] = print_prom,
};

int
control_stats(const struct options *o)
{
	struct snapshot s;
	char why[1024];
	int *errs, n, rc = EXIT_OK;

	if (o->status_file == NULL) {
		log_warnx("--stats requires --status-file");
		return EXIT_USAGE;
	}
	if (read_running(o, &s, why, sizeof(why)) < 0) {
		log_warnx("no supervisor is running: %s", why);
		return EXIT_CONTROL;
	}
	if ((errs = calloc(s.nls + 1, sizeof(*errs))) == NULL)
		fatalx(EXIT_SOFTWARE, "out of memory");
	if ((n = live_queues(&s, errs)) < 0) {
		log_warn("cannot read the listen queues");
		rc = EXIT_SOFTWARE;
	} else if (n == 0 && s.nls > 0) {
		log_warnx("no supervisor is running: the sockets of %s.json "
		          "are gone",
		          o->status_file);
		rc = EXIT_CONTROL;
	} else
		formats[o->stats_format](&s, errs);
	if (rc == EXIT_OK && fflush(stdout) != 0) {
		log_warn("cannot write the statistics");
		rc = EXIT_SOFTWARE;
	}
	free(errs);
	status_json_free(&s);
	return rc;
}

/* An exec probe: 0 and a line on stdout, or 1 and the reason (one line
 * on stderr). Every failure is 1, as probes understand no other code. */
int
control_health(const struct options *o)
{
	struct snapshot s;
	char why[1024];
	int ready;

	if (o->status_file == NULL) {
		log_warnx("--health requires --status-file");
		return 1;
	}
	if (read_running(o, &s, why, sizeof(why)) < 0) {
		log_warnx("not running: %s", why);
		return 1;
	}
	/* the same answer as /readyz */
	ready = snapshot_ready(&s, why, sizeof(why));
	if (o->health_ready && !ready)
		log_warnx("not ready: %s", why);
	else
		printf("running (pid %ld)%s\n", s.pid,
		       snapshot_gen_in(&s, GEN_SERVING)
		           ? "; a generation serves"
		           : "");
	status_json_free(&s);
	return o->health_ready && !ready ? 1 : 0;
}
