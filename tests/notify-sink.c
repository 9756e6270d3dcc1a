/* SPDX-License-Identifier: ISC */
/* notify-sink.c: a stand-in for systemd's notify socket in the tests: it
 * records what baton tells its service manager, keeps the fds baton hands
 * to the fd store, and can start baton again with them, as a restart of
 * the unit does.
 *
 *   notify-sink now
 *       print CLOCK_MONOTONIC in microseconds (the clock of MONOTONIC_USEC)
 *   notify-sink [--relaunch N] SOCKET LOG [-- COMMAND [ARG...]]
 *       bind a unix datagram socket at SOCKET (a path, or @name for the
 *       abstract namespace) and append one line per datagram to LOG:
 *           usec=RECV pid=PID msg=FIELD|FIELD... [fd=ADDRESS,listening]...
 *       RECV is the CLOCK_MONOTONIC time it was read, PID the sender's
 *       (from SCM_CREDENTIALS, as systemd takes it), fields are separated
 *       by '|' instead of newlines. With a COMMAND, run it with
 *       NOTIFY_SOCKET=SOCKET ("usec=T start pid=PID" is logged); when it
 *       exits ("usec=T exit pid=PID status=S"), run it again, up to N
 *       times, each time the sink gets SIGUSR1 (the gap between is the
 *       test's: a restart of the unit), with the fds kept from FDSTORE=1
 *       as LISTEN_FDS from fd 3, LISTEN_PID and LISTEN_FDNAMES; after
 *       that, exit with its status. Without a COMMAND, or while waiting
 *       for SIGUSR1, run until SIGTERM or SIGINT.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_STORED 64

static int log_fd = -1;
static int stored[MAX_STORED];
static char *stored_name[MAX_STORED];
static size_t nstored;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs("notify-sink: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(100);
}

static unsigned long long
now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ULL +
	       (unsigned long long)ts.tv_nsec / 1000ULL;
}

/* One whole line per write(2): a test may read the log at any time. */
static void __attribute__((format(printf, 1, 2))) log_line(const char *fmt, ...)
{
	char line[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(log_fd, line, (size_t)n) != n)
		die("cannot write the log: %s", strerror(errno));
}

/* "127.0.0.1:8080", "[::1]:8080", "/path", "@name", plus ",listening"
 * when the socket listens: what a test compares with --port. */
static void
describe_fd(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN];
	int acc = 0;
	socklen_t al = sizeof(acc);
	size_t n;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		snprintf(out, len, "not-a-socket");
		return;
	}
	getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &al);
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(out, len, "%s:%u", host, ntohs(in->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(out, len, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else if (ss.ss_family == AF_UNIX) {
		struct sockaddr_un *un = (struct sockaddr_un *)&ss;

		n = sl - offsetof(struct sockaddr_un, sun_path);
		if (n > 0 && un->sun_path[0] == '\0')
			snprintf(out, len, "@%.*s", (int)n - 1,
			         un->sun_path + 1);
		else
			snprintf(out, len, "%s", un->sun_path);
	} else {
		snprintf(out, len, "family-%d", ss.ss_family);
	}
	if (acc)
		strncat(out, ",listening", len - strlen(out) - 1);
}

/* The value of FIELD= in a datagram, or NULL (a pointer into msg,
 * ending at '\n' or the end). */
static const char *
field(const char *msg, const char *key, size_t *vlen)
{
	size_t klen = strlen(key);
	const char *p = msg;

	while (p && *p) {
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			*vlen = strcspn(p + klen + 1, "\n");
			return p + klen + 1;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

/* FDSTORE=1 keeps the fds under FDNAME (default "stored", as systemd);
 * anything else closes them. */
static void
keep_fds(const char *msg, int *fds, size_t nfd)
{
	const char *v, *name;
	size_t vlen, nlen = 6, i;

	name = "stored";
	if ((v = field(msg, "FDNAME", &nlen)) != NULL)
		name = v;
	else
		nlen = 6;
	v = field(msg, "FDSTORE", &vlen);
	for (i = 0; i < nfd; i++) {
		if (v && vlen == 1 && *v == '1' && nstored < MAX_STORED) {
			stored[nstored] = fds[i];
			stored_name[nstored] = strndup(name, nlen);
			nstored++;
		} else {
			close(fds[i]);
		}
	}
}

static void
receive(int sock)
{
	char buf[4096], line[8192],
	    cbuf[CMSG_SPACE(sizeof(struct ucred)) +
	         CMSG_SPACE(sizeof(int) * 16)];
	struct iovec iov = {buf, sizeof(buf) - 1};
	struct msghdr mh;
	struct cmsghdr *c;
	int fds[16];
	size_t nfd = 0, i, o;
	pid_t pid = 0;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		die("cannot read the notify socket: %s", strerror(errno));
	}
	buf[n] = '\0';
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_CREDENTIALS) {
			struct ucred uc;

			memcpy(&uc, CMSG_DATA(c), sizeof(uc));
			pid = uc.pid;
		} else if (c->cmsg_type == SCM_RIGHTS) {
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (i = 0; i < k && nfd < 16; i++)
				memcpy(&fds[nfd++],
				       CMSG_DATA(c) + i * sizeof(int),
				       sizeof(int));
		}
	}
	o = (size_t)snprintf(line, sizeof(line),
	                     "usec=%llu pid=%ld msg=", now_usec(), (long)pid);
	for (i = 0; i < (size_t)n && o < sizeof(line) - 1; i++)
		line[o++] = buf[i] == '\n' ? '|' : buf[i];
	line[o] = '\0';
	for (i = 0; i < nfd; i++) {
		char d[300];

		describe_fd(fds[i], d, sizeof(d));
		o = strlen(line);
		snprintf(line + o, sizeof(line) - o, " fd=%s", d);
	}
	log_line("%s", line);
	keep_fds(buf, fds, nfd);
}

static int
bind_socket(const char *where)
{
	struct sockaddr_un un;
	size_t n = strlen(where);
	socklen_t len;
	int s, on = 1;

	if (n < 2 || n >= sizeof(un.sun_path))
		die("bad socket address %s", where);
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	memcpy(un.sun_path, where, n);
	if (where[0] == '@')
		un.sun_path[0] = '\0';
	else
		unlink(where);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) ||
	    bind(s, (struct sockaddr *)&un, len) < 0)
		die("cannot bind %s: %s", where, strerror(errno));
	return s;
}

/* The child: the stored fds at 3, 4, ... (as sd_listen_fds(3) expects),
 * LISTEN_* for its own pid, signals as a fresh process has them. */
static void
child_exec(char **cmd, const char *sockname, int with_fds)
{
	char num[32], names[4096] = "";
	struct sigaction sa;
	int tmp[MAX_STORED], sig;
	size_t i;
	sigset_t none;

	setenv("NOTIFY_SOCKET", sockname, 1);
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDNAMES");
	if (with_fds && nstored > 0) {
		/* out of the way of 3.. first: a stored fd may sit there */
		for (i = 0; i < nstored; i++)
			if ((tmp[i] = fcntl(stored[i], F_DUPFD_CLOEXEC, 256)) <
			    0)
				_exit(126);
		for (i = 0; i < nstored; i++) {
			if (dup2(tmp[i], 3 + (int)i) < 0)
				_exit(126);
			if (i)
				strncat(names, ":",
				        sizeof(names) - strlen(names) - 1);
			strncat(names, stored_name[i],
			        sizeof(names) - strlen(names) - 1);
		}
		snprintf(num, sizeof(num), "%zu", nstored);
		setenv("LISTEN_FDS", num, 1);
		snprintf(num, sizeof(num), "%ld", (long)getpid());
		setenv("LISTEN_PID", num, 1);
		setenv("LISTEN_FDNAMES", names, 1);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvp(cmd[0], cmd);
	fprintf(stderr, "notify-sink: cannot exec %s: %s\n", cmd[0],
	        strerror(errno));
	_exit(127);
}

static pid_t
start(char **cmd, const char *sockname, int with_fds)
{
	pid_t pid = fork();

	if (pid < 0)
		die("cannot fork: %s", strerror(errno));
	if (pid == 0)
		child_exec(cmd, sockname, with_fds);
	log_line("usec=%llu start pid=%ld fds=%zu", now_usec(), (long)pid,
	         with_fds ? nstored : 0);
	return pid;
}

/* Close whatever the harness leaked to us, so the command inherits
 * only what this program means to give it. */
static void
close_inherited(void)
{
	int fd;

	for (fd = 3; fd < 1024; fd++)
		close(fd);
}

int
main(int argc, char **argv)
{
	struct pollfd pfd[2];
	char **cmd = NULL;
	sigset_t set;
	int i = 1, relaunch = 0, sock, sfd, status = 0;
	pid_t child = -1;

	if (argc == 2 && strcmp(argv[1], "now") == 0) {
		printf("%llu\n", now_usec());
		return 0;
	}
	close_inherited();
	if (i + 1 < argc && strcmp(argv[i], "--relaunch") == 0) {
		relaunch = atoi(argv[i + 1]);
		i += 2;
	}
	if (argc - i < 2)
		die("usage: notify-sink now | notify-sink [--relaunch N] "
		    "SOCKET LOG [-- COMMAND [ARG...]]");
	log_fd =
	    open(argv[i + 1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd < 0)
		die("cannot open %s: %s", argv[i + 1], strerror(errno));
	sock = bind_socket(argv[i]);
	if (argc - i > 3 && strcmp(argv[i + 2], "--") == 0)
		cmd = argv + i + 3;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		die("signalfd: %s", strerror(errno));
	if (cmd)
		child = start(cmd, argv[i], 0);
	pfd[0] = (struct pollfd){.fd = sock, .events = POLLIN};
	pfd[1] = (struct pollfd){.fd = sfd, .events = POLLIN};
	for (;;) {
		struct signalfd_siginfo si;
		int st;
		pid_t p;

		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		/* datagrams first: what the command said before it exited */
		while (pfd[0].revents & POLLIN) {
			struct pollfd one = {.fd = sock, .events = POLLIN};

			receive(sock);
			if (poll(&one, 1, 0) <= 0)
				break;
		}
		if (!(pfd[1].revents & POLLIN))
			continue;
		while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGUSR1 && child < 0 &&
			    relaunch-- > 0)
				child = start(cmd, argv[i], 1);
			else if (si.ssi_signo == SIGTERM ||
			         si.ssi_signo == SIGINT)
				return status;
		}
		while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
			if (p != child)
				continue;
			status = WIFEXITED(st) ? WEXITSTATUS(st)
			                       : 128 + WTERMSIG(st);
			log_line("usec=%llu exit pid=%ld status=%d", now_usec(),
			         (long)p, status);
			child = -1;
			if (relaunch <= 0)
				return status;
		}
	}
}
