/* envdir.c: re-read the envdir into baton's environment before each spawn. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "envdir.h"
#include "log.h"

struct tracked {
	char *name;
	char *orig; /* value before envdir touched it, NULL: unset */
	int seen;   /* present in the current load */
};

static struct tracked *tracked;
static size_t ntracked;

static struct tracked *
track(const char *name)
{
	const char *v;
	size_t i;

	for (i = 0; i < ntracked; i++)
		if (strcmp(tracked[i].name, name) == 0)
			return &tracked[i];
	tracked = realloc(tracked, (ntracked + 1) * sizeof(*tracked));
	if (tracked == NULL)
		abort();
	tracked[ntracked].name = strdup(name);
	v = getenv(name);
	tracked[ntracked].orig = v ? strdup(v) : NULL;
	tracked[ntracked].seen = 0;
	return &tracked[ntracked++];
}

static void
restore_unseen(void)
{
	size_t i;

	for (i = 0; i < ntracked; i++) {
		if (tracked[i].seen)
			continue;
		if (tracked[i].orig)
			setenv(tracked[i].name, tracked[i].orig, 1);
		else
			unsetenv(tracked[i].name);
	}
}

/* The first line of the file, without its newline; NULL if empty. */
static char *
first_line(int dirfd, const char *name, int *err)
{
	char buf[65536];
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd;

	*err = 0;
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		*err = errno;
		return NULL;
	}
	/* open(2) succeeds on a directory; only read(2) would fail */
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		*err = EISDIR;
		return NULL;
	}
	while (len < sizeof(buf) - 1 &&
	       (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0) {
		len += (size_t)n;
		if (memchr(buf, '\n', len))
			break;
	}
	close(fd);
	if (len == 0)
		return NULL;
	buf[len] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return strdup(buf);
}

int
envdir_load(void)
{
	const char *dir = getenv("ENVDIR");
	struct dirent *de;
	size_t i;
	int count = 0, dfd;
	DIR *d;

	for (i = 0; i < ntracked; i++)
		tracked[i].seen = 0;
	if (dir == NULL || *dir == '\0') {
		restore_unseen();
		return 0;
	}
	d = opendir(dir);
	if (d == NULL) {
		int saved = errno;

		restore_unseen();
		/* start_server ignores a missing envdir; so do we */
		if (saved == ENOENT || saved == ENOTDIR)
			return 0;
		errno = saved;
		return -1;
	}
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		struct tracked *t;
		char *value;
		int err;

		if (de->d_name[0] == '.')
			continue;
		if (strchr(de->d_name, '=') != NULL)
			continue;
		value = first_line(dfd, de->d_name, &err);
		if (err == EISDIR)
			continue;
		if (err) {
			errno = err;
			log_warn("cannot read %s/%s", dir, de->d_name);
			continue;
		}
		t = track(de->d_name);
		t->seen = 1;
		if (value)
			setenv(de->d_name, value, 1);
		else
			unsetenv(de->d_name);
		free(value);
		count++;
	}
	closedir(d);
	restore_unseen();
	return count;
}
