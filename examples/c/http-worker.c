/* SPDX-License-Identifier: ISC */
/* http-worker.c: a prefork keep-alive HTTP worker on libbaton and libev, the
 * C example. */

/*
 * http-worker [-w PROCESSES] [--close-idle-at-stop]
 *
 * Takes every stream listener it inherited (SERVER_STARTER_PORT from baton or
 * start_server, or LISTEN_FDS from systemd), forks PROCESSES (default 2)
 * processes that accept on them, and answers every request with
 *
 *     gen=GENERATION pid=PID server=c-prefork listener=KEY
 *
 * Each process serves many connections at once on its libev loop, with
 * HTTP/1.1 keep-alive (HTTP/1.0 with "Connection: keep-alive"); an idle
 * connection is closed after 5 s. GET /sleep/MS waits MS milliseconds (at
 * most 10000) before answering: a slow request to watch a graceful stop
 * with.
 *
 * On TCP it writes headers and body corked (baton_cork), so that an answer
 * is one packet, and acknowledges a request at once when its answer will
 * be slow (baton_quickack).
 *
 * Readiness: when every process is in its accept loop, the master sends
 * READY=1 on NOTIFY_SOCKET (a no-op when unset), so baton's notify mode and
 * systemd's Type=notify retire the old generation only then.
 *
 * Graceful stop on TERM, INT or QUIT, as libbaton(3) describes it: the
 * master stops respawning, sends STOPPING=1 and passes TERM on; each
 * process
 *  1. stops accepting at once (the connections still queued on the shared
 *     listener are the new generation's) and finishes the requests it is
 *     serving, answering them with "Connection: close";
 *  2. answers the next request on each idle keep-alive connection with
 *     "Connection: close", and closes the connection after that answer: a
 *     client may have sent that request already, and closing the idle
 *     connection at once would lose it;
 *  3. closes the connections still idle shortly before baton's SIGKILL
 *     (baton_stop_timeout(): a tenth of the time or 1 s earlier, whichever
 *     is less; without a deadline, the 5 s idle timeout does it), and exits
 *     once it has no connection left.
 * --close-idle-at-stop does the naive thing instead of 2 and 3: it closes
 * every idle connection at once. bench/keepalive-hup.sh counts what that
 * loses.
 *
 * Why each process accepts in threads of its own, one per listener: the
 * listener is shared with the supervisor and every other generation, and
 * start_server hands it over blocking. Its O_NONBLOCK flag belongs to all
 * of them, so a worker must not set it, and an accept() after a readiness
 * event can then block when another process won the race: on the loop, that
 * would stall every connection of the process. An accept thread may block;
 * it passes each connection to the loop through a pipe. A stop signal
 * (SIGUSR2, installed without SA_RESTART, repeated until the thread is
 * gone) takes it out of accept(); a connection it took meanwhile is still
 * served. On a non-blocking listener (baton --nonblock) it waits in poll().
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <ctype.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "baton.h"

#define MAX_PROCS 64
#define MAX_LISTENERS 64
#define REQUEST_MAX 8192
#define IDLE_TIMEOUT 5.0   /* keep-alive, and a stuck request */
#define LINGER_TIMEOUT 2.0 /* after our FIN, for the client's */
#define WAKE_SIG SIGUSR2   /* takes an accept thread out of accept() */

static const char *prog = "http-worker";

static baton_listeners *listeners;
static const baton_listener *serving[MAX_LISTENERS];
static size_t nserving;
static long generation;
static int close_idle_at_stop;

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

/* ---- one process: connections ------------------------------------------ */

enum conn_state {
	C_IDLE,     /* between requests: nothing of the next one read yet */
	C_READING,  /* part of a request read */
	C_SLEEPING, /* GET /sleep/MS */
	C_WRITING,  /* an answer partly sent */
	C_LINGER    /* our FIN sent: reading what the client still sends */
};

struct conn {
	int fd;
	int tcp;
	enum conn_state state;
	int keep; /* the request asked for keep-alive */
	const baton_listener *l;
	ev_io io;
	ev_timer timer; /* idle, read, sleep or linger deadline */
	size_t got, headlen, outlen, outoff;
	char in[REQUEST_MAX + 1];
	char out[512];
	struct conn *prev, *next;
};

/* One accept thread per listener; it hands connections over as records
 * on a pipe (8 bytes, written atomically), and fd -1 when it is gone. */
struct handover {
	int fd;
	int listener;
};

static struct {
	struct ev_loop *loop;
	atomic_int stopping;
	struct conn *conns; /* every open connection */
	size_t nconns;
	pthread_t acceptor[MAX_LISTENERS];
	int acceptor_alive[MAX_LISTENERS];
	size_t nacceptors;
	int pipe[2];
	ev_io pipe_w;
	ev_signal stop_w[3];
	ev_timer wake_w;     /* repeats WAKE_SIG until the threads are gone */
	ev_timer deadline_w; /* closes what is still idle before SIGKILL */
} P = {.pipe = {-1, -1}};

static void conn_read(struct ev_loop *loop, ev_io *w, int revents);
static void conn_process(struct conn *c);

static void
process_done_check(void)
{
	if (atomic_load(&P.stopping) && P.nacceptors == 0 && P.nconns == 0)
		ev_break(P.loop, EVBREAK_ALL);
}

static void
conn_close(struct conn *c)
{
	ev_io_stop(P.loop, &c->io);
	ev_timer_stop(P.loop, &c->timer);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		P.conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	P.nconns--;
	free(c);
	process_done_check();
}

/* (Re)arm the connection's one timer. */
static void
conn_timer(struct conn *c, double after)
{
	ev_timer_stop(P.loop, &c->timer);
	ev_timer_set(&c->timer, after, 0.);
	ev_timer_start(P.loop, &c->timer);
}

static void
conn_watch(struct conn *c, int events)
{
	ev_io_stop(P.loop, &c->io);
	if (events != 0) {
		ev_io_set(&c->io, c->fd, events);
		ev_io_start(P.loop, &c->io);
	}
}

/* Between requests: wait for the next one, or the idle timeout. */
static void
conn_idle(struct conn *c)
{
	c->state = C_IDLE;
	conn_watch(c, EV_READ);
	conn_timer(c, IDLE_TIMEOUT);
	if (c->got > 0) /* pipelined: the next request is already here */
		conn_process(c);
}

/* Closing after an answer: our FIN now, then read until the client's
 * (a bounded wait), so that what it may still send cannot turn the close
 * into a reset that destroys the answer before the client read it. */
static void
conn_linger(struct conn *c)
{
	if (shutdown(c->fd, SHUT_WR) == -1) {
		conn_close(c);
		return;
	}
	c->state = C_LINGER;
	c->got = 0;
	conn_watch(c, EV_READ);
	conn_timer(c, LINGER_TIMEOUT);
}

/* Send what is left of the answer; 1 when all of it is sent. */
static int
conn_flush(struct conn *c)
{
	while (c->outoff < c->outlen) {
		/* headers, then body: two writes, one segment (corked) */
		size_t end = c->outoff < c->headlen ? c->headlen : c->outlen;
		ssize_t w = send(c->fd, c->out + c->outoff, end - c->outoff,
		                 MSG_NOSIGNAL);

		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (w <= 0)
			return -1;
		c->outoff += (size_t)w;
	}
	/* Never leave an answer corked: its tail would wait up to 200 ms. */
	if (c->tcp)
		(void)baton_cork(c->fd, 0);
	return 1;
}

/* The answer is out: keep the connection, or close it. */
static void
conn_sent(struct conn *c)
{
	/* after the stop signal, every answer says "Connection: close" and
	 * is the connection's last */
	if (c->keep && !atomic_load(&P.stopping))
		conn_idle(c);
	else
		conn_linger(c);
}

static void
conn_answer(struct conn *c)
{
	/* Decided now, not when the request came: a stop signal during a
	 * slow answer makes it the connection's last. */
	int keep = c->keep && !atomic_load(&P.stopping);
	char body[256];
	int hl, bl, r;

	bl = snprintf(body, sizeof body,
	              "gen=%ld pid=%ld server=c-prefork listener=%s\n",
	              generation, (long)getpid(), baton_listener_key(c->l));
	if (bl < 0 || (size_t)bl >= sizeof body)
		bl = (int)strlen(body);
	hl = snprintf(c->out, sizeof c->out - (size_t)bl,
	              "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	              "Content-Length: %d\r\nConnection: %s\r\n\r\n",
	              bl, keep ? "keep-alive" : "close");
	memcpy(c->out + hl, body, (size_t)bl);
	c->keep = keep;
	c->headlen = (size_t)hl;
	c->outlen = (size_t)(hl + bl);
	c->outoff = 0;
	/* Headers and body in one packet, not two: corked, the kernel
	 * sends only full segments; uncorking sends the rest at once
	 * (MSG_MORE on the first send would do the same). */
	if (c->tcp)
		(void)baton_cork(c->fd, 1);
	r = conn_flush(c);
	if (r < 0) {
		conn_close(c);
	} else if (r == 0) {
		c->state = C_WRITING;
		conn_watch(c, EV_WRITE);
		conn_timer(c, IDLE_TIMEOUT);
	} else {
		conn_sent(c);
	}
}

/* The length of the request head in c->in (through its blank line), or 0
 * while it is incomplete. */
static size_t
head_length(const struct conn *c)
{
	const char *a = strstr(c->in, "\r\n\r\n"), *b = strstr(c->in, "\n\n");

	if (a != NULL && (b == NULL || a < b))
		return (size_t)(a - c->in) + 4;
	if (b != NULL)
		return (size_t)(b - c->in) + 2;
	return 0;
}

/* Keep-alive as the request asks: HTTP/1.1 unless "Connection: close",
 * HTTP/1.0 only with "Connection: keep-alive"; never after a body, which
 * this server does not read. */
static int
wants_keepalive(const char *head)
{
	const char *eol = strchr(head, '\n'), *end, *line;
	int v11, keep;

	if (eol == NULL)
		return 0;
	end = eol > head && eol[-1] == '\r' ? eol - 1 : eol;
	v11 = end - head >= 8 && strncmp(end - 8, "HTTP/1.1", 8) == 0;
	keep = v11;
	for (line = eol + 1; *line != '\0' && *line != '\r' && *line != '\n';
	     line = eol + 1) {
		size_t n;

		if ((eol = strchr(line, '\n')) == NULL)
			break;
		n = (size_t)(eol - line);
		if (n > 11 && strncasecmp(line, "connection:", 11) == 0) {
			char v[64];
			size_t vn =
			    n - 11 < sizeof v - 1 ? n - 11 : sizeof v - 1;

			for (size_t k = 0; k < vn; k++)
				v[k] =
				    (char)tolower((unsigned char)line[11 + k]);
			v[vn] = '\0';
			if (strstr(v, "close") != NULL)
				keep = 0;
			else if (strstr(v, "keep-alive") != NULL)
				keep = 1;
		} else if ((n > 15 &&
		            strncasecmp(line, "content-length:", 15) == 0 &&
		            strtol(line + 15, NULL, 10) != 0) ||
		           (n > 18 &&
		            strncasecmp(line, "transfer-encoding:", 18) == 0)) {
			return 0;
		}
	}
	return keep;
}

/* A whole request head may be in c->in: answer it. */
static void
conn_process(struct conn *c)
{
	size_t len = head_length(c);
	long sleep_ms = 0;

	if (len == 0) {
		if (c->got == REQUEST_MAX) /* too long: give up on it */
			conn_close(c);
		else
			c->state = C_READING;
		return;
	}
	{
		char saved = c->in[len];

		c->in[len] = '\0';
		c->keep = wants_keepalive(c->in);
		c->in[len] = saved;
	}
	if (strncmp(c->in, "GET /sleep/", 11) == 0) {
		sleep_ms = strtol(c->in + 11, NULL, 10);
		if (sleep_ms < 0 || sleep_ms > 10000)
			sleep_ms = 0;
	}
	/* what follows this request (a pipelined one) stays in the buffer */
	memmove(c->in, c->in + len, c->got - len + 1);
	c->got -= len;
	if (sleep_ms == 0) {
		conn_answer(c);
		return;
	}
	/* A slow answer: acknowledge the request now, not when the
	 * delayed-ACK timer runs out, so that a client with more to send (a
	 * body written after the headers, Nagle on) is not held back. An
	 * answer ready at once carries the ACK itself: quick-ack there only
	 * adds a packet per request (bench/packets.sh). */
	if (c->tcp)
		(void)baton_quickack(c->fd, 1);
	c->state = C_SLEEPING;
	conn_watch(c, 0);
	conn_timer(c, (double)sleep_ms / 1000.);
}

static void
conn_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;
	ssize_t n;

	(void)loop;
	if (c->state == C_WRITING && (revents & EV_WRITE)) {
		int r = conn_flush(c);

		if (r < 0)
			conn_close(c);
		else if (r > 0)
			conn_sent(c);
		return;
	}
	if (c->state == C_LINGER) {
		char sink[4096];

		n = recv(c->fd, sink, sizeof sink, 0);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			conn_close(c);
		return;
	}
	n = recv(c->fd, c->in + c->got, REQUEST_MAX - c->got, 0);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) { /* the client closed, or reset */
		conn_close(c);
		return;
	}
	c->got += (size_t)n;
	c->in[c->got] = '\0';
	if (c->state == C_IDLE)
		conn_timer(c, IDLE_TIMEOUT); /* the whole request within 5 s */
	conn_process(c);
}

static void
conn_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = w->data;

	(void)loop;
	(void)revents;
	if (c->state == C_SLEEPING)
		conn_answer(c);
	else /* idle, a stuck request or answer, a client that lingers */
		conn_close(c);
}

static void
conn_new(int fd, const baton_listener *l)
{
	struct conn *c = calloc(1, sizeof *c);
	int family = baton_listener_family(l);

	if (c == NULL) {
		say("out of memory for a connection");
		close(fd);
		return;
	}
	c->fd = fd;
	c->l = l;
	/* TCP_CORK and TCP_QUICKACK are TCP's: not on a unix listener */
	c->tcp = family == AF_INET || family == AF_INET6;
	ev_io_init(&c->io, conn_read, fd, EV_READ);
	c->io.data = c;
	ev_timer_init(&c->timer, conn_timeout, IDLE_TIMEOUT, 0.);
	c->timer.data = c;
	c->next = P.conns;
	if (P.conns)
		P.conns->prev = c;
	P.conns = c;
	P.nconns++;
	/* a fresh connection is idle until its first request arrives */
	conn_idle(c);
}

static size_t
count_idle(void)
{
	size_t n = 0;

	for (const struct conn *c = P.conns; c != NULL; c = c->next)
		n += c->state == C_IDLE;
	return n;
}

/* Close every connection that has nothing of a request. */
static void
close_idle(void)
{
	struct conn *c = P.conns, *next;
	size_t n = 0;

	for (; c != NULL; c = next) {
		next = c->next;
		if (c->state == C_IDLE) {
			n++;
			conn_close(c);
		}
	}
	if (n > 0)
		say("closed %zu idle connections", n);
}

/* ---- one process: accepting and stopping -------------------------------- */

static void
handover(struct handover h)
{
	while (write(P.pipe[1], &h, sizeof h) == -1 && errno == EINTR)
		;
}

/* An accept thread: it may block in accept() (see the top of the file),
 * which is what it is for. Every signal but WAKE_SIG is blocked here. */
static void *
acceptor(void *arg)
{
	int i = (int)(long)arg, fd = baton_listener_fd(serving[i]);
	struct handover h = {-1, i};

	while (!atomic_load(&P.stopping)) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (c >= 0) {
			/* taken, so served, even if the stop came meanwhile */
			handover((struct handover){c, i});
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			/* a non-blocking listener (baton --nonblock) */
			struct pollfd pfd = {.fd = fd, .events = POLLIN};

			(void)poll(&pfd, 1, -1);
		} else if (errno == EMFILE || errno == ENFILE ||
		           errno == ENOBUFS || errno == ENOMEM) {
			struct timespec ts = {0, 10000000L};

			nanosleep(&ts, NULL);
		} else if (errno != EINTR && errno != ECONNABORTED &&
		           errno != EPROTO && errno != EPERM) {
			say("cannot accept on %s: %s",
			    baton_listener_address(serving[i]),
			    strerror(errno));
			break;
		}
	}
	handover(h);
	return NULL;
}

static void
on_handover(struct ev_loop *loop, ev_io *w, int revents)
{
	struct handover h[64];
	ssize_t n = read(w->fd, h, sizeof h);

	(void)loop;
	(void)revents;
	for (ssize_t k = 0; k < n / (ssize_t)sizeof h[0]; k++) {
		if (h[k].fd >= 0) {
			conn_new(h[k].fd, serving[h[k].listener]);
			continue;
		}
		pthread_join(P.acceptor[h[k].listener], NULL);
		P.acceptor_alive[h[k].listener] = 0;
		P.nacceptors--;
	}
	if (P.nacceptors == 0)
		ev_timer_stop(loop, &P.wake_w);
	process_done_check();
}

static void
on_wake(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	/* A thread between its stopping check and accept() when the first
	 * WAKE_SIG came is blocked there; another one gets it out. proof:
	 * a thread still marked alive has not been joined. */
	for (size_t i = 0; i < nserving; i++)
		if (P.acceptor_alive[i])
			pthread_kill(P.acceptor[i], WAKE_SIG);
}

static void
on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	close_idle();
}

static void
on_process_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
	double t = baton_stop_timeout();

	(void)w;
	(void)revents;
	if (atomic_load(&P.stopping))
		return;
	say("stopping: %zu connections, %zu of them idle%s", P.nconns,
	    count_idle(), close_idle_at_stop ? " (closing those now)" : "");
	/* 1. stop accepting: whatever is still queued is for the new
	 * generation; answers from now on say "Connection: close" */
	atomic_store(&P.stopping, 1);
	on_wake(loop, &P.wake_w, 0);
	ev_timer_init(&P.wake_w, on_wake, 0.05, 0.05);
	if (P.nacceptors > 0)
		ev_timer_start(loop, &P.wake_w);
	if (close_idle_at_stop) {
		/* the naive stop: what may be on the wire is lost */
		close_idle();
	} else if (t > 0) {
		/* 2. idle connections get "Connection: close" on their next
		 * answer; 3. those still idle are closed a little before the
		 * SIGKILL (without a deadline, the idle timeout does it) */
		ev_timer_init(&P.deadline_w, on_deadline,
		              t - (t / 10 < 1 ? t / 10 : 1), 0.);
		ev_timer_start(loop, &P.deadline_w);
	}
	process_done_check();
}

static void
on_wake_signal(int sig)
{
	(void)sig; /* only to interrupt accept() or poll() */
}

/* The accept threads, one per listener, with every signal blocked but
 * WAKE_SIG: the stop signals go to the loop's thread. */
static void
start_acceptors(void)
{
	struct sigaction sa = {.sa_handler = on_wake_signal};
	sigset_t all, old, wake;

	/* no SA_RESTART: accept() returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(WAKE_SIG, &sa, NULL);
	sigfillset(&all);
	sigdelset(&all, WAKE_SIG);
	sigemptyset(&wake);
	sigaddset(&wake, WAKE_SIG);
	pthread_sigmask(SIG_UNBLOCK, &wake, NULL);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (size_t i = 0; i < nserving; i++) {
		int err = pthread_create(&P.acceptor[i], NULL, acceptor,
		                         (void *)(long)i);

		if (err != 0) {
			say("cannot start a thread: %s", strerror(err));
			_exit(1);
		}
		P.acceptor_alive[i] = 1;
		P.nacceptors++;
	}
	/* the loop's thread blocks WAKE_SIG: it is the threads' */
	sigaddset(&old, WAKE_SIG);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
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

	P.loop = loop;
	if (pipe2(P.pipe, O_CLOEXEC) == -1 ||
	    fcntl(P.pipe[0], F_SETFL, O_NONBLOCK) == -1) {
		say("cannot create a pipe: %s", strerror(errno));
		_exit(1);
	}
	ev_io_init(&P.pipe_w, on_handover, P.pipe[0], EV_READ);
	ev_io_start(loop, &P.pipe_w);
	for (int i = 0; i < 3; i++) {
		ev_signal_init(&P.stop_w[i], on_process_stop, stop_signals[i]);
		ev_signal_start(loop, &P.stop_w[i]);
	}
	start_acceptors();
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
	fprintf(stderr, "usage: %s [-w PROCESSES] [--close-idle-at-stop]\n",
	        prog);
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"close-idle-at-stop", no_argument, NULL, 'C'}, {NULL, 0, NULL, 0}};
	struct ev_loop *loop;
	int opt;

	while ((opt = getopt_long(argc, argv, "w:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'w':
			nprocs = atoi(optarg);
			if (nprocs < 1 || nprocs > MAX_PROCS)
				usage();
			break;
		case 'C':
			close_idle_at_stop = 1;
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
