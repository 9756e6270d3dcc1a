/* SPDX-License-Identifier: ISC */
/* reexec.c: self re-exec on SIGUSR2 and its versioned state format. The
 * workers stay our children (exec keeps the pid), the listening sockets
 * and the locked pid file stay open (their CLOEXEC flag is cleared for
 * the exec only), and the rest of the state travels in a sealed memfd
 * that only this code creates and only this code reads back. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "listen-systemd.h"
#include "log.h"
#include "reexec.h"
#include "sig.h"
#include "sockopt.h"
#include "status.h"

/* The variable names only the fd: what it points to is checked to be our
 * own sealed memfd, so an inherited or forged value cannot inject state. */
#define FD_VAR "BATON_REEXEC_FD"
#define MEMFD_NAME "baton-reexec"
#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
#define PREFLIGHT_OPT "--reexec-preflight="
#define PREFLIGHT_SECONDS 5
#define MAX_GENS 65536
#define MAX_WORKERS 65536
#define MAX_FDS 4096
#define MAX_STATE (16UL * 1024 * 1024)

static struct reexec_state taken; /* from reexec_take() to reexec_resume() */
static int have_state;

/* ---- the format -----------------------------------------------------------
 */

/* A key or an fd name as one word: '%', blanks, controls, non-ASCII
 * and a leading '-' as %XX (a unix path may hold a space); "-" is
 * none. */
static void
put_word(FILE *f, const char *s)
{
	const char *p;

	fputc(' ', f);
	if (s == NULL || *s == '\0') {
		fputc('-', f);
		return;
	}
	for (p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= ' ' || c >= 0x7f || c == '%' || (p == s && c == '-'))
			fprintf(f, "%%%02X", c);
		else
			fputc(c, f);
	}
}

static void
pack_listeners(FILE *f, const struct reexec_state *s)
{
	size_t i;

	fprintf(f, "listeners %zu\n", s->nls);
	for (i = 0; i < s->nls; i++) {
		const struct reexec_listener *l = &s->ls[i];

		fprintf(f, "listener %d %s", l->fd,
		        l->origin == LISTEN_SYSTEMD ? "systemd" : "bound");
		put_word(f, l->key);
		put_word(f, l->fdname);
		fputc('\n', f);
	}
}

char *
reexec_pack(const struct reexec_state *s)
{
	char *buf = NULL;
	size_t len = 0, i, k;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	fprintf(f, "baton-reexec %d\npid %ld\npidfile %d\nstatuslock %d\n",
	        REEXEC_VERSION, (long)s->pid, s->pidfile_fd, s->statuslock_fd);
	pack_listeners(f, s);
	fprintf(f, "counters %lu %lu %u %d %.3f\ngenerations %zu\n", s->last_id,
	        s->restarts, s->failures, s->ever_served, s->since_restart,
	        s->ngens);
	for (i = 0; i < s->ngens; i++) {
		const struct reexec_gen *g = &s->gens[i];

		fprintf(f, "gen %lu %s %d %zu\n", g->id, g->state, g->stop_sig,
		        g->nw);
		for (k = 0; k < g->nw; k++)
			fprintf(f, "worker %ld %d\n", (long)g->w[k].pid,
			        g->w[k].ready);
	}
	fputs("end\n", f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* A word of put_word back: malloc'd into *out, NULL for "-"; -1 when
 * it is not one put_word writes. */
static int
get_word(const char *w, char **out)
{
	char *o, hex[3] = "";

	*out = NULL;
	if (strcmp(w, "-") == 0)
		return 0;
	if (*w == '-' || (*out = malloc(strlen(w) + 1)) == NULL)
		return -1;
	for (o = *out; *w; w++) {
		if (*w != '%') {
			*o++ = *w;
			continue;
		}
		if (!isxdigit((unsigned char)w[1]) ||
		    !isxdigit((unsigned char)w[2]))
			break;
		memcpy(hex, w + 1, 2);
		if ((*o++ = (char)strtol(hex, NULL, 16)) == '\0')
			break;
		w += 2;
	}
	*o = '\0';
	if (*w == '\0')
		return 0;
	free(*out);
	*out = NULL;
	return -1;
}

struct rd {
	const char *p;
	char line[4096]; /* a listener line: two words of up to 1023 */
	int lineno;
	char *err;
	size_t errlen;
};

/* The next line into r->line; -1 (with err) at the end or when long. */
static int
next_line(struct rd *r)
{
	const char *nl = strchr(r->p, '\n');

	r->lineno++;
	if (nl == NULL || (size_t)(nl - r->p) >= sizeof(r->line)) {
		snprintf(r->err, r->errlen, "line %d: %s", r->lineno,
		         nl ? "too long" : "missing (truncated state)");
		return -1;
	}
	memcpy(r->line, r->p, (size_t)(nl - r->p));
	r->line[nl - r->p] = '\0';
	r->p = nl + 1;
	return 0;
}

static int
bad_line(struct rd *r)
{
	snprintf(r->err, r->errlen, "line %d not understood: \"%s\"", r->lineno,
	         r->line);
	return -1;
}

/* Scan r's next line with fmt (which ends in %n): all of it must match. */
#define SCAN(r, fmt, ...)                                                      \
	(next_line(r) < 0                                                      \
	     ? -1                                                              \
	     : (n = -1, sscanf((r)->line, fmt "%n", __VA_ARGS__, &n),          \
	        n < 0 || (r)->line[n] != '\0' ? bad_line(r) : 0))

static int
unpack_gen(struct rd *r, struct reexec_gen *g)
{
	size_t k;
	long pid;
	int n;

	if (SCAN(r, "gen %lu %15[a-z] %d %zu", &g->id, g->state, &g->stop_sig,
	         &g->nw) < 0)
		return -1;
	if (g->nw > MAX_WORKERS)
		return bad_line(r);
	if ((g->w = calloc(g->nw + 1, sizeof(*g->w))) == NULL)
		return -1;
	for (k = 0; k < g->nw; k++) {
		if (SCAN(r, "worker %ld %d", &pid, &g->w[k].ready) < 0)
			return -1;
		if (pid < 0 || pid > INT_MAX)
			return bad_line(r);
		g->w[k].pid = (pid_t)pid;
	}
	return 0;
}

/* Version 3: "listener FD ORIGIN KEY FDNAME". */
static int
unpack_listener(struct rd *r, struct reexec_listener *l)
{
	char origin[16], key[1024], name[1024];
	int n;

	if (SCAN(r, "listener %d %15s %1023s %1023s", &l->fd, origin, key,
	         name) < 0)
		return -1;
	/* a word as long as its buffer may have been split */
	if (strlen(key) >= sizeof(key) - 1 || strlen(name) >= sizeof(name) - 1)
		return bad_line(r);
	if (strcmp(origin, "bound") == 0)
		l->origin = LISTEN_BOUND;
	else if (strcmp(origin, "systemd") == 0)
		l->origin = LISTEN_SYSTEMD;
	else
		return bad_line(r);
	if (get_word(key, &l->key) < 0 || l->key == NULL ||
	    get_word(name, &l->fdname) < 0)
		return bad_line(r);
	return 0;
}

static int
unpack_listeners(struct rd *r, struct reexec_state *s, int version)
{
	size_t i;
	int n;

	if (SCAN(r, "listeners %zu", &s->nls) < 0)
		return -1;
	if (s->nls > MAX_FDS ||
	    (s->ls = calloc(s->nls + 1, sizeof(*s->ls))) == NULL)
		return bad_line(r);
	for (i = 0; i < s->nls; i++) {
		struct reexec_listener *l = &s->ls[i];

		/* version 2 knew the fd only */
		l->origin = -1;
		if (version >= 3 ? unpack_listener(r, l) < 0
		                 : SCAN(r, "listener %d", &l->fd) < 0)
			return -1;
	}
	return 0;
}

static int
unpack_body(struct rd *r, struct reexec_state *s)
{
	size_t i;
	long pid;
	int n, version;

	if (SCAN(r, "baton-reexec %d", &version) < 0)
		return -1;
	if (version < REEXEC_OLDEST || version > REEXEC_VERSION) {
		snprintf(r->err, r->errlen,
		         "state version %d (this baton reads %d to %d)",
		         version, REEXEC_OLDEST, REEXEC_VERSION);
		return -1;
	}
	s->statuslock_fd = -1;
	if (SCAN(r, "pid %ld", &pid) < 0 ||
	    SCAN(r, "pidfile %d", &s->pidfile_fd) < 0 ||
	    (version >= 4 && SCAN(r, "statuslock %d", &s->statuslock_fd) < 0) ||
	    unpack_listeners(r, s, version) < 0)
		return -1;
	s->pid = (pid_t)pid;
	if (SCAN(r, "counters %lu %lu %u %d %lf", &s->last_id, &s->restarts,
	         &s->failures, &s->ever_served, &s->since_restart) < 0 ||
	    SCAN(r, "generations %zu", &s->ngens) < 0)
		return -1;
	if (s->ngens > MAX_GENS ||
	    (s->gens = calloc(s->ngens + 1, sizeof(*s->gens))) == NULL)
		return bad_line(r);
	for (i = 0; i < s->ngens; i++)
		if (unpack_gen(r, &s->gens[i]) < 0)
			return -1;
	if (next_line(r) < 0 || strcmp(r->line, "end") != 0 || *r->p != '\0')
		return bad_line(r);
	return 0;
}

int
reexec_unpack(const char *text, struct reexec_state *s, char *err,
              size_t errlen)
{
	struct rd r = {text, "", 0, err, errlen};

	memset(s, 0, sizeof(*s));
	if (unpack_body(&r, s) < 0) {
		reexec_state_free(s);
		return -1;
	}
	return 0;
}

void
reexec_state_free(struct reexec_state *s)
{
	size_t i;

	for (i = 0; s->gens && i < s->ngens; i++)
		free(s->gens[i].w);
	free(s->gens);
	for (i = 0; s->ls && i < s->nls; i++) {
		free(s->ls[i].key);
		free(s->ls[i].fdname);
	}
	free(s->ls);
	memset(s, 0, sizeof(*s));
}

/* ---- the pre-flight run of the new binary -------------------------------- */

/* The answer to an accepted version stays exactly "baton-reexec V ok":
 * an older baton compares it whole. A refusal says which versions this
 * binary reads, for the log of the baton that asked. */
void
reexec_preflight_answer(int argc, char **argv)
{
	const char *v;
	char *end;
	long version;

	if (argc != 2 ||
	    strncmp(argv[1], PREFLIGHT_OPT, sizeof(PREFLIGHT_OPT) - 1) != 0)
		return;
	v = argv[1] + sizeof(PREFLIGHT_OPT) - 1;
	errno = 0;
	version = strtol(v, &end, 10);
	if (v[0] != '\0' && *end == '\0' && errno == 0 &&
	    version >= REEXEC_OLDEST && version <= REEXEC_VERSION) {
		printf("baton-reexec %s ok\n", v);
		exit(fflush(stdout) == 0 ? 0 : 1);
	}
	printf("baton-reexec %s unsupported (this baton reads %d to %d)\n", v,
	       REEXEC_OLDEST, REEXEC_VERSION);
	exit(1);
}

/* The child: stdout into the pipe, signals as a fresh process has them
 * (libev's handlers and mask must not apply), then exec. */
static void
preflight_child(const char *path, int out)
{
	char arg[32], *args[3];
	sigset_t none;

	sig_reset_for_exec();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(out, STDOUT_FILENO) < 0)
		_exit(127);
	snprintf(arg, sizeof(arg), PREFLIGHT_OPT "%d", REEXEC_VERSION);
	args[0] = (char *)path;
	args[1] = arg;
	args[2] = NULL;
	execvp(path, args);
	dprintf(STDOUT_FILENO, "exec failed: %s\n", strerror(errno));
	_exit(127);
}

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Read the child's answer until EOF or the deadline. */
static size_t
preflight_read(int fd, char *ans, size_t size, double deadline)
{
	struct pollfd p = {fd, POLLIN, 0};
	size_t got = 0;
	ssize_t n;
	int r;

	while (got < size - 1) {
		double left = deadline - now_mono();

		if (left <= 0)
			break;
		r = poll(&p, 1, (int)(left * 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) /* the deadline, or poll failed */
			break;
		n = read(fd, ans + got, size - 1 - got);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	ans[got] = '\0';
	return got;
}

/* Wait for the child (killing it at the deadline); its wait status. */
static int
preflight_reap(pid_t pid, double deadline, int *timed_out)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	int status = 0;
	pid_t r;

	*timed_out = 0;
	while ((r = waitpid(pid, &status, WNOHANG)) == 0 &&
	       now_mono() < deadline)
		nanosleep(&ts, NULL);
	if (r == 0) {
		*timed_out = 1;
		/* proof: our child, which waitpid() just found unreaped */
		if (kill(pid, SIGKILL) < 0)
			log_warn("cannot send SIGKILL to the re-exec "
			         "pre-flight (pid %ld)",
			         (long)pid);
		while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
			;
	}
	return r < 0 ? -1 : status;
}

static void
preflight_judge(const char *ans, int status, char *why, size_t len)
{
	char want[64], first[128];

	snprintf(want, sizeof(want), "baton-reexec %d ok\n", REEXEC_VERSION);
	snprintf(first, sizeof(first), "%.*s", (int)strcspn(ans, "\n"), ans);
	if (strncmp(ans, "exec failed: ", 13) == 0)
		snprintf(why, len, "%s", first + 13);
	else if (WIFSIGNALED(status))
		snprintf(why, len, "its pre-flight run was killed by signal %d",
		         WTERMSIG(status));
	else if (strcmp(ans, want) != 0)
		snprintf(why, len,
		         "it does not accept re-exec state version %d (exit "
		         "status %d, answer \"%s\")",
		         REEXEC_VERSION, WEXITSTATUS(status), first);
	else if (WEXITSTATUS(status) != 0)
		snprintf(why, len, "its pre-flight run exited with status %d",
		         WEXITSTATUS(status));
}

/* Run "path --reexec-preflight=VERSION" and expect "baton-reexec VERSION
 * ok" and status 0 within PREFLIGHT_SECONDS. This blocks the loop (we
 * are in the SIGUSR2 callback), which is bounded and rare enough. */
static int
preflight(const char *path, char *why, size_t len)
{
	double deadline = now_mono() + PREFLIGHT_SECONDS;
	char ans[256];
	int pfd[2], status, timed_out;
	pid_t pid;

	why[0] = '\0';
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(why, len, "cannot create a pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) < 0) {
		snprintf(why, len, "cannot fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0)
		preflight_child(path, pfd[1]);
	close(pfd[1]);
	preflight_read(pfd[0], ans, sizeof(ans), deadline);
	close(pfd[0]);
	status = preflight_reap(pid, deadline, &timed_out);
	if (timed_out)
		snprintf(why, len, "no answer to its pre-flight run within %ds",
		         PREFLIGHT_SECONDS);
	else if (status < 0)
		snprintf(why, len, "cannot wait for its pre-flight run: %s",
		         strerror(errno));
	else
		preflight_judge(ans, status, why, len);
	return why[0] ? -1 : 0;
}

/* ---- the exec ----------------------------------------------------------- */

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
	if (status_file_lock_fd() >= 0)
		set_cloexec(status_file_lock_fd(), 1);
}

/* The state text in a sealed memfd: nobody, us included, can change it
 * any more, and the new image checks the seals to know it is ours. */
static int
state_memfd(const char *text, char *why, size_t len)
{
	size_t n = strlen(text), off = 0;
	int fd = memfd_create(MEMFD_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	ssize_t w;

	if (fd < 0) {
		snprintf(why, len, "cannot create a memfd: %s",
		         strerror(errno));
		return -1;
	}
	while (off < n) {
		w = write(fd, text + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	if (fcntl(fd, F_ADD_SEALS, SEALS) < 0)
		goto fail;
	return fd;
fail:
	snprintf(why, len, "cannot write the state memfd: %s",
	         strerror(errno ? errno : EIO));
	close(fd);
	return -1;
}

/* Everything the new image needs, as text; NULL (with why) if not now.
 * The listeners' strings are borrowed from o, not copied. */
static char *
state_text(const struct options *o, reexec_save_fn save, char *why, size_t len)
{
	struct reexec_listener *ls;
	struct reexec_state st;
	char *text = NULL;
	size_t i;

	memset(&st, 0, sizeof(st));
	if (save(&st, why, len) < 0) {
		reexec_state_free(&st);
		return NULL;
	}
	st.pid = getpid();
	st.pidfile_fd = status_pidfile_fd();
	st.statuslock_fd = status_file_lock_fd();
	if ((ls = calloc(o->nls + 1, sizeof(*ls))) != NULL) {
		for (i = 0; i < o->nls; i++) {
			ls[i].fd = o->ls[i].fd;
			ls[i].origin = o->ls[i].origin;
			ls[i].key = o->ls[i].key;
			ls[i].fdname = o->ls[i].fdname;
		}
		st.nls = o->nls;
		st.ls = ls;
		text = reexec_pack(&st);
		st.nls = 0;
		st.ls = NULL;
		free(ls);
	}
	reexec_state_free(&st);
	if (text == NULL)
		snprintf(why, len, "out of memory");
	return text;
}

void
reexec_now(char **argv, const struct options *o, reexec_save_fn save)
{
	char why[512], num[16], *text;
	sigset_t old;
	size_t i;
	int mfd, blocked, saved;

	if ((text = state_text(o, save, why, sizeof(why))) == NULL) {
		if (strcmp(why, "out of memory") == 0)
			log_warnx(
			    "cannot re-exec %s: %s; carrying on as before",
			    argv[0], why);
		else /* the reason the state is not settled, by name */
			log_warnx("received SIGUSR2: cannot re-exec while %s; "
			          "send it again later",
			          why);
		return;
	}
	if (preflight(argv[0], why, sizeof(why)) < 0 ||
	    (mfd = state_memfd(text, why, sizeof(why))) < 0) {
		log_warnx("cannot re-exec %s: %s; carrying on as before",
		          argv[0], why);
		free(text);
		return;
	}
	free(text);
	for (i = 0; i < o->nls; i++)
		if (set_cloexec(o->ls[i].fd, 0) < 0)
			log_warn("cannot keep %s open across exec",
			         o->ls[i].key);
	if (status_pidfile_fd() >= 0)
		set_cloexec(status_pidfile_fd(), 0);
	if (status_file_lock_fd() >= 0)
		set_cloexec(status_file_lock_fd(), 0);
	set_cloexec(mfd, 0);
	snprintf(num, sizeof(num), "%d", mfd);
	setenv(FD_VAR, num, 1);
	log_info("received SIGUSR2: re-executing %s", argv[0]);
	/* exec keeps the mask and what is pending: a HUP that comes before
	 * the new image has its watchers waits for them instead of killing
	 * baton (default action) and orphaning the workers */
	blocked = sig_block_control_save(&old) == 0;
	execvp(argv[0], argv);
	saved = errno;
	if (blocked)
		sigprocmask(SIG_SETMASK, &old, NULL);
	log_warnx("cannot re-exec %s: %s; carrying on as before", argv[0],
	          strerror(saved));
	unsetenv(FD_VAR);
	restore_cloexec(o);
	close(mfd);
}

/* ---- the new image ---------------------------------------------------------
 */

/* The text in fd, if fd is a memfd this code made and sealed; NULL with
 * why otherwise (the fd is then left alone: it is not ours). */
static char *
read_state(int fd, char *why, size_t len)
{
	char link[64], path[64], *text;
	struct stat st;
	ssize_t n;
	int seals;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		snprintf(why, len, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	link[n] = '\0';
	if (strncmp(link, "/memfd:" MEMFD_NAME, 19) != 0 ||
	    (link[19] != '\0' && link[19] != ' ')) {
		snprintf(why, len, "fd %d is %s, not baton's state memfd", fd,
		         link);
		return NULL;
	}
	if ((seals = fcntl(fd, F_GET_SEALS)) != SEALS) {
		snprintf(why, len, "fd %d is not sealed as baton seals it", fd);
		return NULL;
	}
	if (fstat(fd, &st) < 0 || st.st_size <= 0 ||
	    (unsigned long)st.st_size > MAX_STATE ||
	    (text = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(why, len, "fd %d: no state of a sensible size", fd);
		return NULL;
	}
	n = pread(fd, text, (size_t)st.st_size, 0);
	if (n != st.st_size || memchr(text, '\0', (size_t)n) != NULL) {
		snprintf(why, len, "cannot read the state in fd %d", fd);
		free(text);
		return NULL;
	}
	text[n] = '\0';
	close(fd);
	return text;
}

/* waitid(WNOWAIT) answers for a child of ours, running or a zombie, and
 * fails with ECHILD for any other pid: nothing is reaped. */
static int
is_our_child(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0;
}

static void
drop_strangers(struct reexec_state *s)
{
	size_t i, k;

	for (i = 0; i < s->ngens; i++)
		for (k = 0; k < s->gens[i].nw; k++) {
			pid_t pid = s->gens[i].w[k].pid;

			if (pid <= 0 || is_our_child(pid))
				continue;
			log_warnx("re-exec state: pid %ld (generation %lu) is "
			          "not baton's child; it is left alone",
			          (long)pid, s->gens[i].id);
			s->gens[i].w[k].pid = 0;
		}
}

/* A re-exec that fails in the new image must not remove the pid file,
 * the status files or the unix socket files: the workers keep serving
 * on those sockets, and a baton started by hand later must see what is
 * running. So the fatal exits below drop the at-exit clean-up first. */
static void
keep_files(void)
{
	log_set_atexit(NULL);
}

void
reexec_take(void)
{
	const char *v = getenv(FD_VAR);
	char why[512], val[32], *text = NULL, *end;
	long fd;

	if (v == NULL)
		return;
	snprintf(val, sizeof(val), "%s", v);
	unsetenv(FD_VAR); /* never passed on to a worker */
	fd = strtol(val, &end, 10);
	if (end == val || *end != '\0' || fd < 3 || fd > INT_MAX)
		snprintf(why, sizeof(why), "not a descriptor number");
	else
		text = read_state((int)fd, why, sizeof(why));
	if (text == NULL) {
		log_warnx("ignoring %s=%s: %s", FD_VAR, val, why);
		return;
	}
	if (reexec_unpack(text, &taken, why, sizeof(why)) < 0) {
		keep_files();
		fatalx(EXIT_SOFTWARE, "re-exec state is not understood: %s",
		       why);
	}
	free(text);
	if (taken.pid != getpid()) {
		log_warnx("ignoring %s=%s: written by pid %ld, not by us",
		          FD_VAR, val, (long)taken.pid);
		reexec_state_free(&taken);
		return;
	}
	drop_strangers(&taken);
	have_state = 1;
}

/* With no --port or --path, every listener was adopted from systemd
 * (listen_take_systemd_fds keyed it by its address): build it again
 * from its fd. A version 2 state does not say, but could only have come
 * from such listeners too. */
static void
rebuild_listeners(struct options *o)
{
	char err[512];
	size_t i;

	for (i = 0; i < taken.nls; i++) {
		const struct reexec_listener *t = &taken.ls[i];

		if (t->origin == LISTEN_BOUND) {
			keep_files();
			fatalx(EXIT_SOFTWARE,
			       "re-exec state has %zu listeners, the command "
			       "line 0 (was it changed?)",
			       taken.nls);
		}
		if (listen_readopt_fd(&o->ls, &o->nls, t->fd, t->fdname, err,
		                      sizeof(err)) < 0) {
			keep_files();
			fatalx(EXIT_SOFTWARE, "%s", err);
		}
	}
	/* the worker's fd numbers, as the first image gave them */
	if (listen_assign_fds(o->ls, o->nls, err, sizeof(err)) < 0) {
		keep_files();
		fatalx(EXIT_SOFTWARE, "%s", err);
	}
}

/* Listener l of the command line takes t back: its fd, and where it
 * came from, so that an adopted socket file is never removed. */
static void
take_listener(struct listener *l, const struct reexec_listener *t)
{
	char err[512];

	if (t->key != NULL && strcmp(t->key, l->key) != 0) {
		keep_files();
		fatalx(EXIT_SOFTWARE,
		       "re-exec state has listener %s where the command line "
		       "has %s (was it changed?)",
		       t->key, l->key);
	}
	l->fd = t->fd;
	if (set_cloexec(t->fd, 1) < 0) {
		keep_files();
		fatal(EXIT_SOFTWARE, "listener %s lost across re-exec", l->key);
	}
	if (t->origin == LISTEN_SYSTEMD)
		listen_readopt(l, t->fdname);
	else {
		char name[300];

		listen_adopt_path(l);
		/* --nonblock (or --pass-fds-as=nginx) after an upgrade from
		 * a baton that did not set it: the fd's flags, unlike socket
		 * options, can still be set on a listening socket, and the
		 * next generation then gets what the command line asks */
		if (sockopt_apply_file(l->fd, listen_eff(l), listen_class(l),
		                       listen_name(l, name, sizeof(name)), err,
		                       sizeof(err)) < 0)
			log_warnx("%s", err);
	}
	/* read back once, as the first image did at bind: STATUS.json shows
	 * the options (else each status write would ask the kernel again) */
	if (l->got.got == 0 && listen_read_options(l, err, sizeof(err)) < 0)
		log_warnx("%s", err);
}

/* The status file's lock, held across the exec; from a version 3 state
 * (an older baton had none), taken now. */
static void
adopt_status_lock(const struct options *o)
{
	char err[1024];

	if (o->status_file == NULL)
		return;
	if (taken.statuslock_fd >= 0) {
		set_cloexec(taken.statuslock_fd, 1);
		status_file_lock_adopt(taken.statuslock_fd, o->status_file);
	} else if (status_file_lock(o->status_file, err, sizeof(err)) < 0)
		log_warnx("re-exec: %s", err);
}

int
reexec_adopt(struct options *o)
{
	size_t i;

	if (!have_state)
		return 0;
	if (taken.pidfile_fd >= 0 && o->pid_file) {
		set_cloexec(taken.pidfile_fd, 1);
		status_pidfile_adopt(taken.pidfile_fd, o->pid_file);
	}
	adopt_status_lock(o);
	if (o->nls == 0)
		rebuild_listeners(o);
	if (taken.nls != o->nls) {
		keep_files();
		fatalx(EXIT_SOFTWARE,
		       "re-exec state has %zu listeners, the command line %zu "
		       "(was it changed?)",
		       taken.nls, o->nls);
	}
	for (i = 0; i < o->nls; i++)
		take_listener(&o->ls[i], &taken.ls[i]);
	return 1;
}

void
reexec_resume(reexec_adopt_fn adopt)
{
	if (adopt(&taken) < 0) {
		keep_files();
		fatalx(EXIT_SOFTWARE, "re-exec state is not understood");
	}
	reexec_state_free(&taken);
	have_state = 0;
}
