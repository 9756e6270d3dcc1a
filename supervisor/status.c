/* status.c: the files other programs read: pid file, status file, JSON. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "status.h"

static int pid_fd = -1;
static char *pid_path;

int
status_pidfile_open(const char *path, char *err, size_t errlen)
{
	int fd;

	/* no O_TRUNC: the file may belong to a running supervisor */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open pid file %s: %s", path,
		         strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int saved = errno;
		pid_t other = 0;

		close(fd);
		if (saved == EWOULDBLOCK) {
			char e2[64];

			status_pidfile_read(path, &other, e2, sizeof(e2));
			snprintf(err, errlen,
			         "pid file %s is locked: another supervisor "
			         "(pid %ld) is running",
			         path, (long)other);
		} else
			snprintf(err, errlen, "cannot lock pid file %s: %s",
			         path, strerror(saved));
		return -1;
	}
	pid_fd = fd;
	pid_path = strdup(path);
	return 0;
}

int
status_pidfile_write(char *err, size_t errlen)
{
	char buf[32];
	int n;

	if (pid_fd < 0)
		return 0;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(pid_fd, 0) < 0 ||
	    pwrite(pid_fd, buf, (size_t)n, 0) != n) {
		snprintf(err, errlen, "cannot write pid file %s: %s", pid_path,
		         strerror(errno));
		return -1;
	}
	return 0;
}

int
status_pidfile_fd(void)
{
	return pid_fd;
}

void
status_pidfile_adopt(int fd, const char *path)
{
	pid_fd = fd;
	pid_path = strdup(path);
}

void
status_pidfile_remove(void)
{
	if (pid_fd < 0 || pid_path == NULL)
		return;
	unlink(pid_path);
	/* The fd stays open: the lock --stop waits on is released by exit
	 * itself, once nothing of baton runs any more. */
	free(pid_path);
	pid_path = NULL;
}

int
status_pidfile_read(const char *path, pid_t *pid, char *err, size_t errlen)
{
	char *text = status_read_file(path), *end;
	long v;

	if (text == NULL) {
		snprintf(err, errlen, "cannot read pid file %s: %s", path,
		         strerror(errno));
		return -1;
	}
	v = strtol(text, &end, 10);
	if (end == text || (*end != '\n' && *end != '\0') || v <= 0) {
		snprintf(err, errlen, "pid file %s holds no pid", path);
		free(text);
		return -1;
	}
	free(text);
	*pid = (pid_t)v;
	return 0;
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct status_entry *x = a, *y = b;

	if (x->gen != y->gen)
		return x->gen < y->gen ? -1 : 1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

size_t
status_format(struct status_entry *e, size_t n, char **buf)
{
	size_t i, len = 0, cap = n * 48 + 1;
	char *s = malloc(cap);

	if (s == NULL)
		abort();
	qsort(e, n, sizeof(*e), cmp_entry);
	s[0] = '\0';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, "%lu:%ld\n",
		                        e[i].gen, (long)e[i].pid);
	*buf = s;
	return len;
}

static int
cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a,
	              y = *(const unsigned long *)b;

	return (x > y) - (x < y);
}

size_t
status_parse_gens(const char *text, unsigned long *gens, size_t max)
{
	const char *p = text;
	size_t n = 0, i, out = 0;

	while (*p && n < max) {
		char *end;
		unsigned long g;

		if (*p >= '0' && *p <= '9') {
			g = strtoul(p, &end, 10);
			if (*end == ':')
				gens[n++] = g;
		}
		p = strchr(p, '\n');
		if (p == NULL)
			break;
		p++;
	}
	qsort(gens, n, sizeof(*gens), cmp_ulong);
	for (i = 0; i < n; i++)
		if (out == 0 || gens[out - 1] != gens[i])
			gens[out++] = gens[i];
	return out;
}

int
status_write_atomic(const char *path, const char *data, size_t len)
{
	char *tmp;
	int fd, saved;

	if (asprintf(&tmp, "%s.%ld", path, (long)getpid()) < 0)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto fail;
	if (write(fd, data, len) != (ssize_t)len) {
		if (errno == 0)
			errno = EIO;
		close(fd);
		goto fail_unlink;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0)
		goto fail_unlink;
	free(tmp);
	return 0;
fail_unlink:
	saved = errno;
	unlink(tmp);
	errno = saved;
fail:
	saved = errno;
	free(tmp);
	errno = saved;
	return -1;
}

char *
status_read_file(const char *path)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 8192);

			if (nb == NULL) {
				free(buf);
				close(fd);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
			cap += 8192;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}
