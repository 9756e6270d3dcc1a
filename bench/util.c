/* SPDX-License-Identifier: ISC */
/* bench/util.c: small timing and socket helpers for bench/run, one subcommand each. */

/*
 *   util freeport                      print a free TCP port on 127.0.0.1
 *   util wait PORT TIMEOUT_MS          GET / until a 200 answer; print the ms it took; exit 1 on timeout
 *   util firstreq PORT -- CMD...       exec CMD (a supervisor that binds PORT) and print the ms from
 *                                      exec to the first 200 answer, then stop CMD and its process group
 *   util firstreq -d PORT -- CMD...    the floor: bind PORT here first, hand it to CMD as fd 3 in
 *                                      SERVER_STARTER_PORT, then time the same way
 *   util idle PORT N SECONDS           open N connections that send nothing; print "connected N";
 *                                      hold them until SIGTERM or SECONDS; then close them
 *   util direct [-D SECS] PORT -- CMD  bind PORT (with TCP_DEFER_ACCEPT=SECS if given), put it on fd 3,
 *                                      set SERVER_STARTER_PORT and exec CMD: a worker with no supervisor
 *   util soak PID N TIMEOUT_MS         N times: send SIGHUP to PID and wait until its only child is a
 *                                      new, live process that has exec'd (the restart is complete);
 *                                      a HUP with no effect after 2 s is sent again (and counted);
 *                                      print key=value
 *   util storm PID N GAP_MS            send N SIGHUPs to PID, GAP_MS apart; print how many were sent
 *   util settle PID TIMEOUT_MS         wait until PID has had one and the same live child (and no
 *                                      other, zombies included) for 1 s; print key=value
 *
 * Everything is loopback only and every wait has a deadline.
 */

#define _GNU_SOURCE 1 /* memmem, accept4, pselect, strncasecmp */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
loopback(struct sockaddr_in *sa, int port)
{
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static int
bind_listen(int port, int defer)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in sa;
	loopback(&sa, port);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(fd, 4096) < 0) {
		fprintf(stderr, "util: cannot bind 127.0.0.1:%d: %s\n", port,
		        strerror(errno));
		exit(2);
	}
	if (defer > 0 && setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer,
	                            sizeof defer) < 0) {
		fprintf(stderr, "util: TCP_DEFER_ACCEPT: %s\n",
		        strerror(errno));
		exit(2);
	}
	return fd;
}

/* One GET / with Connection: close. 1 = got a 200, 0 = refused/closed/other,
 * and never waits past deadline (ms on the monotonic clock). */
static int
get_once(int port, double deadline)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	struct sockaddr_in sa;
	loopback(&sa, port);
	int ok = 0;
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		if (errno != EINPROGRESS)
			goto out;
		int left = (int)(deadline - now_ms());
		if (left <= 0 || poll(&p, 1, left) != 1)
			goto out;
		int err = 0;
		socklen_t l = sizeof err;
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err != 0)
			goto out;
	}
	static const char req[] =
	    "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
	if (write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1))
		goto out;
	char buf[512];
	size_t len = 0;
	p.events = POLLIN;
	while (len < 12) {
		int left = (int)(deadline - now_ms());
		if (left <= 0 || poll(&p, 1, left) != 1)
			goto out;
		ssize_t r = read(fd, buf + len, sizeof buf - len);
		if (r <= 0)
			goto out;
		len += (size_t)r;
	}
	ok = memcmp(buf, "HTTP/1.1 200", 12) == 0 ||
	     memcmp(buf, "HTTP/1.0 200", 12) == 0;
out:
	close(fd);
	return ok;
}

/* Retry GET until a 200 or the deadline, pausing 200 us after a failure. */
static int
get_until(int port, double deadline)
{
	while (now_ms() < deadline) {
		if (get_once(port, deadline))
			return 1;
		struct timespec ts = {0, 200000};
		nanosleep(&ts, NULL);
	}
	return 0;
}

static int
cmd_freeport(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa;
	loopback(&sa, 0);
	socklen_t l = sizeof sa;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &l) < 0) {
		perror("util freeport");
		return 1;
	}
	printf("%d\n", ntohs(sa.sin_port));
	close(fd);
	return 0;
}

static int
cmd_wait(int port, int timeout_ms)
{
	double t0 = now_ms();
	if (!get_until(port, t0 + timeout_ms)) {
		fprintf(stderr,
		        "util wait: no 200 from 127.0.0.1:%d within %d ms\n",
		        port, timeout_ms);
		return 1;
	}
	printf("%.2f\n", now_ms() - t0);
	return 0;
}

/* Stop what we started: TERM the leader, wait up to 10 s, then KILL its group
 * (workers a supervisor left behind are in it: we made it the group leader). */
static void
stop_group(pid_t pid)
{
	kill(pid, SIGTERM);
	double end = now_ms() + 10000;
	int reaped = 0;
	while (now_ms() < end) {
		pid_t r = waitpid(pid, NULL, WNOHANG);
		if (r == pid || (r < 0 && errno == ECHILD)) {
			reaped = 1;
			break;
		}
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	kill(-pid, SIGKILL);
	if (!reaped)
		waitpid(pid, NULL, 0);
}

static volatile pid_t firstreq_child;

/* Interrupted (Ctrl-C reaches us, not the supervisor in its own group): take
 * the supervisor and its workers with us. kill and _exit are async-signal-safe.
 */
static void
firstreq_abort(int sig)
{
	if (firstreq_child > 0)
		kill(-firstreq_child, SIGKILL);
	_exit(128 + sig);
}

static int
cmd_firstreq(int direct, int port, char **cmd)
{
	int lfd = -1;
	if (direct) {
		lfd = bind_listen(port, 0);
		if (lfd != 3) {
			if (dup2(lfd, 3) < 0) {
				perror("util: dup2");
				return 1;
			}
			close(lfd);
			lfd = 3;
		}
		char env[64];
		snprintf(env, sizeof env, "127.0.0.1:%d=3", port);
		setenv("SERVER_STARTER_PORT", env, 1);
		setenv("SERVER_STARTER_GENERATION", "1", 1);
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = firstreq_abort;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	double t0 = now_ms();
	pid_t pid = fork();
	if (pid < 0) {
		perror("util: fork");
		return 1;
	}
	if (pid == 0) {
		setpgid(0, 0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execvp(cmd[0], cmd);
		fprintf(stderr, "util: cannot exec %s: %s\n", cmd[0],
		        strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	firstreq_child = pid;
	int ok = get_until(port, t0 + 15000);
	double t1 = now_ms();
	if (lfd >= 0)
		close(lfd);
	stop_group(pid);
	if (!ok) {
		fprintf(
		    stderr,
		    "util firstreq: no answer on 127.0.0.1:%d within 15 s\n",
		    port);
		return 1;
	}
	printf("%.3f\n", t1 - t0);
	return 0;
}

static volatile sig_atomic_t idle_stop;
static void
on_idle_stop(int sig)
{
	(void)sig;
	idle_stop = 1;
}

static int
cmd_idle(int port, int n, int seconds)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_idle_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	int *fds = calloc((size_t)n, sizeof *fds);
	if (fds == NULL)
		return 1;
	struct sockaddr_in a;
	loopback(&a, port);
	int got = 0;
	for (int i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		/* connect() completes on the handshake alone, accepted or not
		 */
		if (fds[i] < 0 ||
		    connect(fds[i], (struct sockaddr *)&a, sizeof a) < 0) {
			fprintf(stderr, "util idle: connection %d: %s\n", i + 1,
			        strerror(errno));
			break;
		}
		got++;
	}
	printf("connected %d\n", got);
	fflush(stdout);
	double end = now_ms() + seconds * 1000.0;
	while (!idle_stop && now_ms() < end) {
		struct timespec ts = {0, 20000000};
		nanosleep(&ts, NULL);
	}
	for (int i = 0; i < got; i++)
		close(fds[i]);
	return got == n ? 0 : 1;
}

static int
cmd_direct(int defer, int port, char **cmd)
{
	int lfd = bind_listen(port, defer);
	if (lfd != 3) {
		if (dup2(lfd, 3) < 0) {
			perror("util: dup2");
			return 1;
		}
		close(lfd);
	}
	char env[64];
	snprintf(env, sizeof env, "127.0.0.1:%d=3", port);
	setenv("SERVER_STARTER_PORT", env, 1);
	setenv("SERVER_STARTER_GENERATION", "1", 1);
	execvp(cmd[0], cmd);
	fprintf(stderr, "util: cannot exec %s: %s\n", cmd[0], strerror(errno));
	return 127;
}

/* The children of a single-threaded PID (from /proc/PID/task/PID/children);
 * returns how many, and counts the zombies among them. */
static int
children(pid_t pid, pid_t *out, int max, int *zombies)
{
	char path[64], buf[8192];
	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid,
	         (int)pid);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return -1;
	size_t len = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[len] = '\0';
	int n = 0;
	*zombies = 0;
	for (char *tok = strtok(buf, " \n"); tok != NULL;
	     tok = strtok(NULL, " \n")) {
		pid_t c = (pid_t)atoi(tok);
		char sp[64], st[512];
		snprintf(sp, sizeof sp, "/proc/%d/stat", (int)c);
		FILE *g = fopen(sp, "re");
		if (g != NULL) {
			size_t l = fread(st, 1, sizeof st - 1, g);
			fclose(g);
			st[l] = '\0';
			char *rp = strrchr(st, ')');
			if (rp != NULL && rp[1] == ' ' && rp[2] == 'Z')
				(*zombies)++;
		}
		if (n < max)
			out[n] = c;
		n++;
	}
	return n;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void
nap_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Has pid exec'd something else than the supervisor? A child that is still the
 * supervisor's fork is not a worker yet: start_server, for one, drops a signal
 * that reaches its child before exec. */
static int
has_exec(pid_t child, pid_t parent)
{
	char a[64], b[64], x[PATH_MAX], y[PATH_MAX];
	snprintf(a, sizeof a, "/proc/%d/exe", (int)child);
	snprintf(b, sizeof b, "/proc/%d/exe", (int)parent);
	ssize_t lx = readlink(a, x, sizeof x - 1),
	        ly = readlink(b, y, sizeof y - 1);
	if (lx < 0 || ly < 0)
		return 0;
	return lx != ly || memcmp(x, y, (size_t)lx) != 0;
}

static int
cmd_soak(pid_t pid, int n, int timeout_ms)
{
	double *times = calloc((size_t)(n > 0 ? n : 1), sizeof *times);
	if (times == NULL || n <= 0)
		return 2;
	double t0 = now_ms();
	int done = 0, stuck = 0, resent = 0;
	for (int i = 0; i < n && !stuck; i++) {
		pid_t before[64], now[64];
		int z, nb = children(pid, before, 64, &z);
		if (nb < 0) {
			fprintf(stderr, "util soak: supervisor %d is gone\n",
			        (int)pid);
			stuck = 1;
			break;
		}
		double ts = now_ms(), last_hup = ts;
		if (kill(pid, SIGHUP) < 0) {
			stuck = 1;
			break;
		}
		for (;;) {
			int nn = children(pid, now, 64, &z);
			if (nn == 1 && z == 0) {
				int old = 0;
				for (int k = 0; k < nb && k < 64; k++)
					old |= before[k] == now[0];
				if (!old && has_exec(now[0], pid))
					break;
			}
			if (nn < 0 || now_ms() - ts > timeout_ms) {
				fprintf(stderr,
				        "util soak: restart %d not complete "
				        "after %d ms\n",
				        i + 1, timeout_ms);
				stuck = 1;
				break;
			}
			/* nothing has changed: the HUP was lost (start_server
			 * can lose one that lands as it goes back to wait());
			 * send another */
			if (now_ms() - last_hup > 2000 && nn == nb &&
			    (nb == 0 || now[0] == before[0])) {
				fprintf(stderr,
				        "util soak: restart %d: no new worker "
				        "2 s after SIGHUP; sending it again\n",
				        i + 1);
				kill(pid, SIGHUP);
				last_hup = now_ms();
				resent++;
			}
			nap_ms(2);
		}
		if (!stuck)
			times[done++] = now_ms() - ts;
	}
	qsort(times, (size_t)done, sizeof *times, cmp_double);
	printf("done=%d\nstuck=%d\nresent=%d\nseconds=%.1f\nmedian_ms=%."
	       "1f\nmax_ms=%.1f\n",
	       done, stuck, resent, (now_ms() - t0) / 1000,
	       done ? times[done / 2] : 0.0, done ? times[done - 1] : 0.0);
	return stuck;
}

static int
cmd_storm(pid_t pid, int n, int gap_ms)
{
	int sent = 0;
	for (int i = 0; i < n; i++) {
		if (kill(pid, SIGHUP) < 0)
			break;
		sent++;
		if (gap_ms > 0)
			nap_ms(gap_ms);
	}
	printf("sent=%d\n", sent);
	return sent == n ? 0 : 1;
}

static int
cmd_settle(pid_t pid, int timeout_ms)
{
	double t0 = now_ms(), since = 0;
	pid_t last = 0, kids[64];
	int n = 0, z = 0;
	while (now_ms() - t0 < timeout_ms) {
		n = children(pid, kids, 64, &z);
		if (n < 0)
			break;
		if (n == 1 && z == 0) {
			if (kids[0] != last) {
				last = kids[0];
				since = now_ms();
			} else if (now_ms() - since >= 1000) {
				printf("settled=1\nsettle_ms=%.0f\nchildren="
				       "1\nzombies=0\n",
				       since - t0);
				return 0;
			}
		} else {
			last = 0;
		}
		nap_ms(5);
	}
	printf("settled=0\nsettle_ms=%.0f\nchildren=%d\nzombies=%d\n",
	       now_ms() - t0, n, z);
	return 1;
}

static int
usage(void)
{
	fprintf(stderr, "usage: util freeport | wait PORT TIMEOUT_MS | "
	                "firstreq [-d] PORT -- CMD... |\n"
	                "            idle PORT N SECONDS | direct [-D SECS] "
	                "PORT -- CMD... |\n"
	                "            soak PID N TIMEOUT_MS | storm PID N "
	                "GAP_MS | settle PID TIMEOUT_MS\n");
	return 2;
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		return usage();
	const char *sub = argv[1];
	if (strcmp(sub, "freeport") == 0)
		return cmd_freeport();
	if (strcmp(sub, "wait") == 0 && argc == 4)
		return cmd_wait(atoi(argv[2]), atoi(argv[3]));
	if (strcmp(sub, "soak") == 0 && argc == 5)
		return cmd_soak((pid_t)atoi(argv[2]), atoi(argv[3]),
		                atoi(argv[4]));
	if (strcmp(sub, "storm") == 0 && argc == 5)
		return cmd_storm((pid_t)atoi(argv[2]), atoi(argv[3]),
		                 atoi(argv[4]));
	if (strcmp(sub, "settle") == 0 && argc == 4)
		return cmd_settle((pid_t)atoi(argv[2]), atoi(argv[3]));
	if (strcmp(sub, "idle") == 0 && argc == 5)
		return cmd_idle(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	if (strcmp(sub, "firstreq") == 0 || strcmp(sub, "direct") == 0) {
		int i = 2, flag = 0, defer = 0;
		if (i < argc && strcmp(argv[i], "-d") == 0) {
			flag = 1;
			i++;
		} else if (i + 1 < argc && strcmp(argv[i], "-D") == 0) {
			defer = atoi(argv[i + 1]);
			i += 2;
		}
		if (i + 2 >= argc || strcmp(argv[i + 1], "--") != 0)
			return usage();
		int port = atoi(argv[i]);
		char **cmd = argv + i + 2;
		if (strcmp(sub, "firstreq") == 0)
			return cmd_firstreq(flag, port, cmd);
		return cmd_direct(defer, port, cmd);
	}
	return usage();
}
