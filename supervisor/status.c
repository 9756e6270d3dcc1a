/* SPDX-License-Identifier: ISC */
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

#include "safepath.h"
#include "snapshot.h"
#include "status.h"

static int pid_fd = -1;
static char *pid_path;
static dev_t pid_dev;
static ino_t pid_ino;

/* The status file's lock: STATUS.lock beside it, flock'd for baton's life
 * (the status file itself is replaced by rename at every write, so it
 * cannot carry a lock). */
static int lock_fd = -1;
static char *lock_path;
static dev_t lock_dev;
static ino_t lock_ino;

/* Files baton wrote itself (the status file and its JSON), by the
 * inode it put there: clean-up removes a path only while it still holds
 * that inode, never a file someone else (another baton) put there since. */
#define OWN_MAX 8
static struct {
	char *path;
	dev_t dev;
	ino_t ino;
} own[OWN_MAX];

/* Bigger than any pid or status file: a path pointing at /dev/zero or a
 * huge file must not be read whole. */
#define STATUS_READ_MAX (1024 * 1024)

int
status_pidfile_open(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char why[512];
	int fd;

	/* no O_TRUNC: the file may belong to a running supervisor. No
	 * symlink a local user planted in a shared directory (root would
	 * write through it): safepath's rule. O_NONBLOCK so that a FIFO
	 * cannot hang us before fstat refuses it. */
	fd = safepath_open(path, O_RDWR | O_CREAT | O_NONBLOCK, 0644, why,
	                   sizeof(why));
	if (fd < 0) {
		if (why[0])
			snprintf(err, errlen, "cannot use pid file %s: %s",
			         path, why);
		else
			snprintf(err, errlen, "cannot open pid file %s: %s",
			         path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "cannot open pid file %s: %s", path,
		         strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen,
		         "cannot use pid file %s: not a regular file", path);
		close(fd);
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
	pid_dev = st.st_dev;
	pid_ino = st.st_ino;
	return 0;
}

/* -1 with errno the cause, which the caller's message ends with: a short
 * write leaves errno as it was, and a full disk is what cuts one short */
static int
write_pid(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	ssize_t w;

	if (ftruncate(fd, 0) < 0 || (w = pwrite(fd, buf, (size_t)n, 0)) < 0)
		return -1;
	if (w != n) {
		errno = ENOSPC;
		return -1;
	}
	return 0;
}

int
status_pidfile_write(char *err, size_t errlen)
{
	/* the status lock names the supervisor for a refused second one:
	 * the daemon's pid, written again after --daemonize */
	if (lock_fd >= 0 && write_pid(lock_fd) < 0) {
		snprintf(err, errlen, "cannot write status lock file %s: %s",
		         lock_path, strerror(errno));
		return -1;
	}
	if (pid_fd < 0)
		return 0;
	if (write_pid(pid_fd) < 0) {
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
	struct stat st;

	pid_fd = fd;
	pid_path = strdup(path);
	if (fstat(fd, &st) == 0) {
		pid_dev = st.st_dev;
		pid_ino = st.st_ino;
	}
}

/* Whether path (not followed) is still the inode dev/ino. */
static int
still_ours(const char *path, dev_t dev, ino_t ino)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       st.st_dev == dev && st.st_ino == ino;
}

void
status_pidfile_remove(void)
{
	if (pid_fd < 0 || pid_path == NULL)
		return;
	/* only the file we locked: whatever is at the path now may be
	 * another supervisor's, or a device (--pid-file=/dev/null) */
	if (still_ours(pid_path, pid_dev, pid_ino))
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
		         errno == EINVAL  ? "not a regular file"
		         : errno == EFBIG ? "larger than 1 MiB"
		                          : strerror(errno));
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

size_t
status_render(const struct snapshot *s, char **buf)
{
	struct status_entry *e;
	size_t n = 0, i, k, len;

	for (i = 0; i < s->ngens; i++)
		n += s->gens[i].nw;
	if ((e = calloc(n + 1, sizeof(*e))) == NULL) {
		*buf = NULL;
		return 0;
	}
	n = 0;
	for (i = 0; i < s->ngens; i++) {
		const struct snap_gen *g = &s->gens[i];

		if (!gen_state_listed(g->state))
			continue;
		for (k = 0; k < g->nw; k++)
			if (g->w[k].alive) {
				e[n].gen = g->id;
				e[n++].pid = (pid_t)g->w[k].pid;
			}
	}
	len = status_format(e, n, buf);
	free(e);
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

/* Refuse to replace what is not a regular file or a symlink (rename
 * replaces a link itself, not its target): a directory, or a device
 * such as /dev/null that clean-up would otherwise destroy. base is in
 * the directory dir. */
static int
replaceable(int dir, const char *base)
{
	struct stat st;

	if (fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
		return 0;
	errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
	return -1;
}

/* Remember that path now holds the inode of fd. */
static void
own_set(const char *path, int fd)
{
	struct stat st;
	size_t i, k = OWN_MAX;

	if (fstat(fd, &st) < 0)
		return;
	for (i = 0; i < OWN_MAX; i++) {
		if (own[i].path && strcmp(own[i].path, path) == 0)
			break;
		if (own[i].path == NULL && k == OWN_MAX)
			k = i;
	}
	if (i == OWN_MAX) {
		if (k == OWN_MAX || (own[k].path = strdup(path)) == NULL)
			return;
		i = k;
	}
	own[i].dev = st.st_dev;
	own[i].ino = st.st_ino;
}

/* The directory of path, reached under safepath's rule (a link planted
 * in /tmp on the way is not followed), and a new temporary in it beside
 * path: an unpredictable name created with O_EXCL, mode 0644. */
static int
temp_open(const char *path, int *dir, const char **base, char **tmp, char *why,
          size_t whylen)
{
	int fd, saved;

	*dir = safepath_open_dir(path, base, why, whylen);
	if (*dir < 0)
		return -1;
	if (replaceable(*dir, *base) < 0 ||
	    (fd = safepath_temp(*dir, *base, tmp)) < 0)
		goto fail;
	if (fchmod(fd, 0644) < 0) {
		saved = errno;
		unlinkat(*dir, *tmp, 0);
		close(fd);
		free(*tmp);
		errno = saved;
		goto fail;
	}
	return fd;
fail:
	saved = errno;
	close(*dir);
	errno = saved;
	return -1;
}

int
status_file_check(const char *path, char *why, size_t whylen)
{
	const char *base;
	char *tmp;
	int fd, dir;

	/* the directory must take our temporaries; the file itself is
	 * left alone (it may be another live supervisor's) */
	if ((fd = temp_open(path, &dir, &base, &tmp, why, whylen)) < 0)
		return -1;
	unlinkat(dir, tmp, 0);
	close(fd);
	close(dir);
	free(tmp);
	return 0;
}

static int
write_atomic(const char *path, int (*fill)(FILE *f, const void *arg),
             const void *arg)
{
	const char *base;
	char *tmp, why[512];
	FILE *f;
	int fd, dir, saved;

	if ((fd = temp_open(path, &dir, &base, &tmp, why, sizeof(why))) < 0)
		return -1;
	if ((f = fdopen(fd, "w")) == NULL) {
		saved = errno;
		close(fd);
		goto fail;
	}
	errno = 0;
	if (fill(f, arg) < 0 || fflush(f) == EOF || ferror(f) ||
	    replaceable(dir, base) < 0 || renameat(dir, tmp, dir, base) < 0) {
		saved = errno != 0 ? errno : EIO;
		fclose(f);
		goto fail;
	}
	own_set(path, fileno(f));
	free(tmp);
	close(dir);
	return fclose(f) == EOF ? -1 : 0;
fail:
	unlinkat(dir, tmp, 0);
	free(tmp);
	close(dir);
	errno = saved;
	return -1;
}

/* Whether fd is the file status_write_atomic last put at path. */
static int
own_fd(const char *path, int fd)
{
	struct stat st;
	size_t i;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	for (i = 0; i < OWN_MAX; i++)
		if (own[i].path && strcmp(own[i].path, path) == 0)
			return own[i].dev == st.st_dev &&
			       own[i].ino == st.st_ino;
	return 0;
}

/*
 * A full file system: no room for a temporary, but the file baton wrote
 * last still has its blocks, and new content that fits in them needs no
 * new one. Rewritten in place, it stays true (a status file naming a dead
 * worker made --restart wait for nothing). Not atomic: shorter content
 * truncates first, so a reader sees at worst a cut or empty file for a
 * moment, never stale lines after new ones; the next write is atomic
 * again. Only our own file (another's is never touched).
 */
static int
write_in_place(const char *path, int (*fill)(FILE *f, const void *arg),
               const void *arg)
{
	const char *base;
	char why[512], *buf = NULL;
	size_t len = 0;
	struct stat st;
	FILE *m;
	int dir, fd = -1, r = -1, saved = ENOSPC;

	if ((m = open_memstream(&buf, &len)) == NULL)
		return -1;
	if (fill(m, arg) < 0) {
		fclose(m);
		free(buf);
		return -1;
	}
	if (fclose(m) == EOF)
		return -1;
	if ((dir = safepath_open_dir(path, &base, why, sizeof(why))) < 0)
		goto out;
	fd = openat(dir, base, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	close(dir);
	if (fd < 0 || !own_fd(path, fd) || fstat(fd, &st) < 0 ||
	    (off_t)len > (off_t)st.st_blocks * 512)
		goto out;
	if (((off_t)len < st.st_size && ftruncate(fd, (off_t)len) < 0) ||
	    pwrite(fd, buf, len, 0) != (ssize_t)len ||
	    ftruncate(fd, (off_t)len) < 0) {
		saved = errno;
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	if (r < 0)
		errno = saved;
	return r;
}

int
status_write_atomic_with(const char *path,
                         int (*fill)(FILE *f, const void *arg), const void *arg)
{
	int saved;

	if (write_atomic(path, fill, arg) == 0)
		return 0;
	saved = errno;
	if ((saved == ENOSPC || saved == EDQUOT) &&
	    write_in_place(path, fill, arg) == 0)
		return 0;
	errno = saved;
	return -1;
}

struct bytes {
	const char *data;
	size_t len;
};

static int
put_bytes(FILE *f, const void *arg)
{
	const struct bytes *b = arg;

	return fwrite(b->data, 1, b->len, f) == b->len ? 0 : -1;
}

int
status_write_atomic(const char *path, const char *data, size_t len)
{
	struct bytes b = {data, len};

	return status_write_atomic_with(path, put_bytes, &b);
}

void
status_unlink_own(const char *path)
{
	size_t i;

	for (i = 0; i < OWN_MAX; i++)
		if (own[i].path && strcmp(own[i].path, path) == 0 &&
		    still_ours(path, own[i].dev, own[i].ino))
			unlink(path);
}

/* One attempt at the status lock: 1 locked, 0 the path changed under us
 * (try again), -1 with err. */
static int
lock_once(const char *status, char *err, size_t errlen)
{
	struct stat st, now;
	char why[512], e2[64];
	pid_t other = 0;
	int fd, saved;

	fd = safepath_open(lock_path, O_RDWR | O_CREAT | O_NONBLOCK, 0644, why,
	                   sizeof(why));
	if (fd < 0) {
		snprintf(err, errlen, "cannot open status lock file %s: %s",
		         lock_path, why[0] ? why : strerror(errno));
		return -1;
	}
	/* st is unset when fstat fails: its cause, not the mode's */
	if ((saved = fstat(fd, &st) < 0 ? errno : 0) != 0 ||
	    !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "cannot use status lock file %s: %s",
		         lock_path,
		         saved ? strerror(saved) : "not a regular file");
		close(fd);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		saved = errno;
		close(fd);
		if (saved != EWOULDBLOCK) {
			snprintf(err, errlen,
			         "cannot lock status lock file %s: %s",
			         lock_path, strerror(saved));
			return -1;
		}
		status_pidfile_read(lock_path, &other, e2, sizeof(e2));
		snprintf(err, errlen,
		         "status file %s is in use: another supervisor (pid "
		         "%ld) writes it (%s is locked)",
		         status, (long)other, lock_path);
		return -1;
	}
	/* a supervisor that stopped meanwhile unlinked the file we locked:
	 * a lock on a name nobody else can open any more is no lock */
	if (stat(lock_path, &now) < 0 || now.st_dev != st.st_dev ||
	    now.st_ino != st.st_ino) {
		close(fd);
		return 0;
	}
	lock_fd = fd;
	lock_dev = st.st_dev;
	lock_ino = st.st_ino;
	return 1;
}

int
status_file_lock(const char *path, char *err, size_t errlen)
{
	char why[512];
	int i, r = 0;

	/* what status_file_check refuses (a device, a planted link) must
	 * not get a lock file beside it (/dev/null.lock) */
	if (status_file_check(path, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "cannot write status file %s: %s", path,
		         why[0] ? why : strerror(errno));
		return -1;
	}
	if (asprintf(&lock_path, "%s.lock", path) < 0) {
		snprintf(err, errlen, "cannot lock status file %s: %s", path,
		         strerror(ENOMEM));
		return -1;
	}
	for (i = 0; i < 8 && r == 0; i++)
		r = lock_once(path, err, errlen);
	if (r == 0)
		snprintf(err, errlen,
		         "cannot lock status file %s: %s keeps being replaced",
		         path, lock_path);
	if (r <= 0) {
		free(lock_path);
		lock_path = NULL;
		return -1;
	}
	(void)write_pid(lock_fd); /* for the message a second one gives */
	return 0;
}

int
status_file_lock_fd(void)
{
	return lock_fd;
}

void
status_file_lock_adopt(int fd, const char *path)
{
	struct stat st;

	lock_fd = fd;
	if (asprintf(&lock_path, "%s.lock", path) < 0)
		lock_path = NULL;
	if (fstat(fd, &st) == 0) {
		lock_dev = st.st_dev;
		lock_ino = st.st_ino;
	}
}

void
status_file_unlock(void)
{
	if (lock_fd < 0 || lock_path == NULL)
		return;
	/* removed while still locked (status files first: the caller's
	 * order), so no second supervisor can lock it and lose it to this
	 * unlink; the lock goes with the process, as the pid file's */
	if (still_ours(lock_path, lock_dev, lock_ino))
		unlink(lock_path);
	free(lock_path);
	lock_path = NULL;
}

/* close(fd), then fail with err. */
static char *
fail_close(int fd, char *buf, int err)
{
	close(fd);
	free(buf);
	errno = err;
	return NULL;
}

char *
status_read_file(const char *path)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	/* O_NONBLOCK: a FIFO at the path must not hang --stop */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0)
		return fail_close(fd, NULL, errno);
	if (!S_ISREG(st.st_mode))
		return fail_close(fd, NULL, EINVAL);
	for (;;) {
		if (cap - len < 4096) {
			char *nb;

			/* (bounded even if the file grows while read) */
			if (cap > STATUS_READ_MAX)
				return fail_close(fd, buf, EFBIG);
			nb = realloc(buf, cap + 8192);
			if (nb == NULL)
				return fail_close(fd, buf, ENOMEM);
			buf = nb;
			cap += 8192;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail_close(fd, buf, errno);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}
