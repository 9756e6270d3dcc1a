/* SPDX-License-Identifier: ISC */
/* http-worker.c: a prefork HTTP worker on libbaton and libev, the C example.
 */

/*
 * http-worker [-w PROCESSES]
 *
 * Takes every stream listener it inherited (SERVER_STARTER_PORT from baton or
 * start_server, or LISTEN_FDS from systemd), forks PROCESSES (default 2)
 * processes that accept on them, and answers every request with
 *
 *     gen=GENERATION pid=PID server=c-prefork listener=KEY
 *
 * GET /sleep/MS waits MS milliseconds (at most 10000) before answering: a
 * slow request to watch a graceful stop with.
 *
 * On TCP it writes headers and body corked (baton_cork), so that an answer
 * is one packet, and acknowledges a request at once when its answer will
 * be slow (baton_quickack).
 *
 * Readiness: when every process is in its accept loop, the master sends
 * READY=1 on NOTIFY_SOCKET (a no-op when unset), so baton's notify mode and
 * systemd's Type=notify retire the old generation only then.
 *
 * Graceful stop on TERM, INT or QUIT: the master stops respawning, sends
 * STOPPING=1 and passes TERM on; each process stops accepting at once,
 * finishes the request it is serving, and exits. The connections still
 * queued on the shared listener are the new generation's.
 *
 * Why each process serves one connection at a time: the listener is shared
 * with the supervisor and every other generation, and start_server hands it
 * over blocking. Its O_NONBLOCK flag belongs to all of them, so a worker must
 * not set it, and an accept() after a readiness event can then block when
 * another process won the race. A process that serves one connection at a
 * time has nothing in flight while it blocks there, and TERM (installed
 * without SA_RESTART, and repeated by the master) takes it out of accept().
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "baton.h"

#define MAX_PROCS 64
#define MAX_LISTENERS 64
#define REQUEST_MAX 8192

static const char *prog = "http-worker";

static baton_listeners *listeners;
static const baton_listener *serving[MAX_LISTENERS];
static size_t nserving;
static long generation;

/* master state */
static int nprocs = 2;
static pid_t procs[MAX_PROCS];
static ev_child child_w[MAX_PROCS];
static ev_signal stop_w[3];
static ev_io ready_w;
static ev_timer resend_w;
static int ready_pipe[2] = {-1, -1};
static int nready;
static int stopping;

/* process state */
static ev_io accept_w[MAX_LISTENERS];
static ev_signal pstop_w[3];
static const int stop_signals[3] = {SIGTERM, SIGINT, SIGQUIT};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s[%ld]: ", prog, (long)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- one process --------------------------------------------------------- */

static void
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void
serve(int c, const baton_listener *l)
{
	char req[REQUEST_MAX + 1], body[256], head[256];
	struct timeval tv = {5, 0};
	size_t got = 0;
	long sleep_ms = 0;
	int hl, bl, family = baton_listener_family(l);
	/* TCP_CORK and TCP_QUICKACK are TCP's: not on a unix listener */
	int tcp = family == AF_INET || family == AF_INET6;

	/* a stuck client costs this process at most 5 s */
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	for (;;) {
		ssize_t n = recv(c, req + got, REQUEST_MAX - got, 0);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		got += (size_t)n;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL ||
		    strstr(req, "\n\n") != NULL)
			break;
		if (got == REQUEST_MAX)
			return;
	}
	if (strncmp(req, "GET /sleep/", 11) == 0) {
		sleep_ms = strtol(req + 11, NULL, 10);
		if (sleep_ms < 0 || sleep_ms > 10000)
			sleep_ms = 0;
	}
	/* A slow answer (GET /sleep/MS): acknowledge the request now,
	 * not when the delayed-ACK timer runs out, so that a client with
	 * more to send (a body written after the headers, Nagle on) is not
	 * held back. An answer ready at once carries the ACK itself:
	 * quick-ack there only adds a packet per request
	 * (bench/packets.sh). A failure only costs the delay. */
	if (sleep_ms > 0 && tcp)
		(void)baton_quickack(c, 1);
	if (sleep_ms > 0) {
		struct timespec ts = {sleep_ms / 1000,
		                      (sleep_ms % 1000) * 1000000L};

		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
	}
	bl = snprintf(body, sizeof body,
	              "gen=%ld pid=%ld server=c-prefork listener=%s\n",
	              generation, (long)getpid(), baton_listener_key(l));
	if (bl < 0 || (size_t)bl >= sizeof body)
		bl = (int)strlen(body);
	hl = snprintf(head, sizeof head,
	              "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	              "Content-Length: %d\r\nConnection: close\r\n\r\n",
	              bl);
	/* Headers and body in one packet, not two: corked, the kernel
	 * sends only full segments; uncorking sends the rest at once
	 * (MSG_MORE on the first send would do the same). Never leave a
	 * response corked: its tail would wait up to 200 ms. */
	if (tcp)
		(void)baton_cork(c, 1);
	write_all(c, head, (size_t)hl);
	write_all(c, body, (size_t)bl);
	if (tcp)
		(void)baton_cork(c, 0);
}

static void
on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	const baton_listener *l = w->data;
	int c;

	(void)loop;
	(void)revents;
	/* EAGAIN (a non-blocking listener, another process was faster),
	 * EINTR (a stop signal while blocked here) and ECONNABORTED are all
	 * "nothing to do now". */
	c = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC);
	if (c == -1)
		return;
	serve(c, l);
	close(c);
}

static void
on_process_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)w;
	(void)revents;
	/* Stop accepting first: whatever is still queued is for the new
	 * generation. The request being served is already finished, since
	 * this callback only runs between requests. */
	for (size_t i = 0; i < nserving; i++)
		ev_io_stop(loop, &accept_w[i]);
	ev_break(loop, EVBREAK_ALL);
}

/* libev installs its handlers with SA_RESTART, which would restart a
 * blocked accept() after a stop signal; take the flag off so that accept()
 * returns EINTR and the loop sees the signal. */
static void
no_restart(int sig)
{
	struct sigaction sa;

	if (sigaction(sig, NULL, &sa) == 0) {
		sa.sa_flags &= ~SA_RESTART;
		sigaction(sig, &sa, NULL);
	}
}

static void
process_main(struct ev_loop *loop)
{
	char one = 1;

	/* This process runs on the master's default loop (libev's ev_child
	 * needs that loop): tell libev it forked, and drop the master's
	 * watchers. */
	ev_loop_fork(loop);
	for (int i = 0; i < MAX_PROCS; i++)
		ev_child_stop(loop, &child_w[i]);
	for (int i = 0; i < 3; i++)
		ev_signal_stop(loop, &stop_w[i]);
	ev_io_stop(loop, &ready_w);
	ev_timer_stop(loop, &resend_w);
	close(ready_pipe[0]);

	for (int i = 0; i < 3; i++) {
		ev_signal_init(&pstop_w[i], on_process_stop, stop_signals[i]);
		ev_signal_start(loop, &pstop_w[i]);
		no_restart(stop_signals[i]);
	}
	for (size_t i = 0; i < nserving; i++) {
		ev_io_init(&accept_w[i], on_accept,
		           baton_listener_fd(serving[i]), EV_READ);
		accept_w[i].data = (void *)serving[i];
		ev_io_start(loop, &accept_w[i]);
	}
	/* the first processes only: readiness is said once */
	if (ready_pipe[1] != -1) {
		if (write(ready_pipe[1], &one, 1) != 1)
			say("cannot report readiness to the master: %s",
			    strerror(errno));
		close(ready_pipe[1]);
	}

	ev_run(loop, 0);
	baton_listeners_free(listeners);
	_exit(0);
}

/* ---- the master -------------------------------------------------------- */

static void on_child(struct ev_loop *loop, ev_child *w, int revents);

static int
spawn(struct ev_loop *loop, int slot)
{
	pid_t pid = fork();

	if (pid == -1) {
		say("cannot fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0)
		process_main(loop); /* does not return */
	procs[slot] = pid;
	ev_child_init(&child_w[slot], on_child, pid, 0);
	child_w[slot].data = (void *)(long)slot;
	ev_child_start(loop, &child_w[slot]);
	return 0;
}

static int
alive(void)
{
	int n = 0;

	for (int i = 0; i < nprocs; i++)
		n += procs[i] != 0;
	return n;
}

static void
on_child(struct ev_loop *loop, ev_child *w, int revents)
{
	int slot = (int)(long)w->data, st = w->rstatus;

	(void)revents;
	ev_child_stop(loop, w);
	procs[slot] = 0;
	if (stopping) {
		if (alive() == 0)
			ev_break(loop, EVBREAK_ALL);
		return;
	}
	if (WIFSIGNALED(st))
		say("process %ld killed by signal %d; starting another",
		    (long)w->rpid, WTERMSIG(st));
	else
		say("process %ld exited with status %d; starting another",
		    (long)w->rpid, WEXITSTATUS(st));
	spawn(loop, slot);
}

static void
signal_all(int sig)
{
	/* proof: procs[i] is cleared by on_child, and libev runs that
	 * callback (priority 0, fed last) before any other of ours once its
	 * SIGCHLD handler (EV_MAXPRI) has reaped the child: a number still
	 * here is an unreaped child's */
	for (int i = 0; i < nprocs; i++)
		if (procs[i] != 0)
			kill(procs[i], sig);
}

static void
on_resend(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	/* A process that was between its stop check and accept() when the
	 * first TERM came is blocked there; another TERM gets it out. */
	signal_all(SIGTERM);
}

static void
on_master_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	if (stopping)
		return;
	stopping = 1;
	say("received signal %d, stopping gracefully", w->signum);
	if (baton_notify("STOPPING=1") == -1)
		say("%s", baton_errmsg());
	signal_all(SIGTERM);
	ev_timer_init(&resend_w, on_resend, 0.5, 0.5);
	ev_timer_start(loop, &resend_w);
	if (alive() == 0)
		ev_break(loop, EVBREAK_ALL);
}

static void
on_ready(struct ev_loop *loop, ev_io *w, int revents)
{
	char buf[MAX_PROCS];
	ssize_t n = read(w->fd, buf, sizeof buf);

	(void)revents;
	if (n <= 0) {
		ev_io_stop(loop, w);
		return;
	}
	nready += (int)n;
	if (nready < nprocs)
		return;
	/* Respawned processes keep the pipe open; readiness is said once. */
	ev_io_stop(loop, w);
	say("generation %ld ready: %d processes on %zu listeners", generation,
	    nprocs, nserving);
	if (baton_notifyf("READY=1\nSTATUS=generation %ld: %d processes "
	                  "serving %s",
	                  generation, nprocs,
	                  baton_listener_address(serving[0])) == -1)
		say("%s", baton_errmsg());
}

static void
usage(void)
{
	fprintf(stderr, "usage: %s [-w PROCESSES]\n", prog);
	exit(2);
}

int
main(int argc, char **argv)
{
	struct ev_loop *loop;
	int opt;

	while ((opt = getopt(argc, argv, "w:")) != -1) {
		switch (opt) {
		case 'w':
			nprocs = atoi(optarg);
			if (nprocs < 1 || nprocs > MAX_PROCS)
				usage();
			break;
		default:
			usage();
		}
	}

	if (baton_listeners_open(&listeners, 0) == -1) {
		say("%s", baton_errmsg());
		return 1;
	}
	for (size_t i = 0; i < baton_listeners_count(listeners); i++) {
		const baton_listener *l = baton_listeners_get(listeners, i);

		if (baton_listener_socktype(l) != SOCK_STREAM)
			continue;
		if (nserving == MAX_LISTENERS)
			break;
		serving[nserving++] = l;
		say("listening on %s (key %s, fd %d)",
		    baton_listener_address(l), baton_listener_key(l),
		    baton_listener_fd(l));
	}
	if (nserving == 0) {
		say("no stream listener was inherited");
		return 1;
	}
	generation = baton_generation();
	if (generation == -1)
		generation = 0; /* systemd: no generations */

	loop = EV_DEFAULT;
	if (pipe2(ready_pipe, O_CLOEXEC) == -1) {
		say("cannot create a pipe: %s", strerror(errno));
		return 1;
	}
	for (int i = 0; i < 3; i++) {
		ev_signal_init(&stop_w[i], on_master_stop, stop_signals[i]);
		ev_signal_start(loop, &stop_w[i]);
	}
	ev_io_init(&ready_w, on_ready, ready_pipe[0], EV_READ);
	ev_io_start(loop, &ready_w);
	for (int i = 0; i < nprocs; i++)
		if (spawn(loop, i) == -1)
			return 1;
	close(ready_pipe[1]);
	ready_pipe[1] = -1;

	ev_run(loop, 0);
	say("generation %ld stopped", generation);
	baton_listeners_free(listeners);
	return 0;
}
