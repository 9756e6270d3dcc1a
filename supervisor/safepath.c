/* SPDX-License-Identifier: ISC */
/* safepath.c: opening the paths baton writes, following symbolic links
 * except where the kernel's fs.protected_symlinks rule would refuse. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "safepath.h"

/*
 * Why walk the path here rather than open(2) it: start_server follows every
 * link (containers and units say --log-file=/dev/stderr), but a baton run
 * as root must not write, through a link a local user planted in /tmp, to
 * a file of that user's choosing. The kernel refuses exactly that when
 * fs.protected_symlinks is 1, which baton cannot count on (it is 0 on many
 * hosts and in some containers). So the path is walked one component at a
 * time, each relative to the directory already opened (openat, O_NOFOLLOW):
 * every link met is judged against the directory it sits in, and nothing
 * between the judgement and the open can swap a judged directory. A link
 * in a sticky directory can be replaced only by its owner or the
 * directory's, whom the rule trusts anyway.
 */

#define MAX_LINKS 40 /* the kernel's own limit (ELOOP beyond) */
#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

struct walk {
	int dir;    /* the directory reached so far, O_PATH */
	char *seen; /* its path as walked, for messages */
	char *rest; /* what is left to walk (malloc'd) */
	const char *p;
	int links;
};

/* /proc's links (/proc/self/fd/2 is "pipe:[123]") are not paths: only the
 * kernel can follow them. Its directories are never world-writable. */
static int
in_proc(int dir)
{
	struct statfs sf;

	return fstatfs(dir, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
}

static char *
join(const char *dir, const char *name)
{
	char *s;

	if (strcmp(dir, ".") == 0)
		return strdup(name);
	if (asprintf(&s, "%s/%s", dir, name) < 0)
		return NULL;
	return s;
}

/* The fs.protected_symlinks rule for the link st, named name in w->dir. */
static int
may_follow(const struct walk *w, const char *name, const struct stat *st,
           char *why, size_t whylen)
{
	struct stat d;
	char *link;

	if (fstat(w->dir, &d) < 0)
		return -1;
	if ((d.st_mode & (S_ISVTX | S_IWOTH)) != (S_ISVTX | S_IWOTH) ||
	    st->st_uid == geteuid() || st->st_uid == d.st_uid)
		return 0;
	link = join(w->seen, name);
	snprintf(why, whylen,
	         "symbolic link %s is owned by uid %lu, neither baton's (uid "
	         "%lu) nor its sticky world-writable directory's (uid %lu); "
	         "not followed",
	         link ? link : name, (unsigned long)st->st_uid,
	         (unsigned long)geteuid(), (unsigned long)d.st_uid);
	free(link);
	errno = EACCES;
	return -1;
}

/* Continue the walk at the target of the link name in w->dir. */
static int
follow(struct walk *w, const char *name)
{
	char target[PATH_MAX], *rest;
	ssize_t n;

	if (++w->links > MAX_LINKS) {
		errno = ELOOP;
		return -1;
	}
	n = readlinkat(w->dir, name, target, sizeof(target));
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(target)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	target[n] = '\0';
	/* what followed the link, its trailing slash included: "link/"
	 * must name a directory, "link" need not */
	if (asprintf(&rest, "%s%s%s", target, *w->p ? "/" : "", w->p) < 0)
		return -1;
	free(w->rest);
	w->rest = rest;
	w->p = rest;
	if (target[0] == '/') {
		int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (root < 0)
			return -1;
		close(w->dir);
		w->dir = root;
		free(w->seen);
		if ((w->seen = strdup("")) == NULL)
			return -1;
	}
	return 0;
}

/* Step into the directory name (not a link) of w->dir. */
static int
descend(struct walk *w, int fd, const char *name)
{
	char *seen = join(w->seen, name);

	if (seen == NULL) {
		close(fd);
		return -1;
	}
	close(w->dir);
	w->dir = fd;
	free(w->seen);
	w->seen = seen;
	return 0;
}

/* Open the last component, name, of w->dir: 1 and *fd when done, 0 to go
 * on walking (a link was followed), 2 to look at name again (a link was
 * planted after fstatat), -1. */
static int
open_last(struct walk *w, const char *name, int flags, mode_t mode, int *fd,
          char *why, size_t whylen)
{
	struct stat st;

	if (fstatat(w->dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode)) {
		if (may_follow(w, name, &st, why, whylen) < 0)
			return -1;
		if (!in_proc(w->dir))
			return follow(w, name) < 0 ? -1 : 0;
		*fd = openat(w->dir, name, flags | O_CLOEXEC, mode);
		return *fd < 0 ? -1 : 1;
	}
	*fd = openat(w->dir, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
	if (*fd < 0 && errno == ELOOP)
		goto planted;
	if (*fd >= 0 && (flags & O_PATH) && fstat(*fd, &st) == 0 &&
	    S_ISLNK(st.st_mode)) {
		close(*fd);
		goto planted;
	}
	return *fd < 0 ? -1 : 1;
planted:
	/* a link appeared after fstatat: judge it on the next round */
	if (++w->links > MAX_LINKS) {
		errno = ELOOP;
		return -1;
	}
	return 2;
}

/* Step over the next component (not the last) of w. */
static int
step(struct walk *w, const char *name, char *why, size_t whylen)
{
	struct stat st;
	int fd;

	if (fstatat(w->dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (S_ISLNK(st.st_mode)) {
		if (may_follow(w, name, &st, why, whylen) < 0)
			return -1;
		if (!in_proc(w->dir))
			return follow(w, name);
		fd = openat(w->dir, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	} else
		fd = openat(w->dir, name,
		            O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	return descend(w, fd, name);
}

static int
walk(const char *path, int flags, mode_t mode, char *why, size_t whylen)
{
	struct walk w = {-1, NULL, NULL, NULL, 0};
	char name[NAME_MAX + 1];
	int fd = -1, r = -1, saved;

	if (whylen > 0)
		why[0] = '\0';
	if (*path == '\0') {
		errno = ENOENT;
		return -1;
	}
	w.dir =
	    open(*path == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	w.seen = strdup(*path == '/' ? "" : ".");
	w.rest = strdup(path);
	if (w.dir < 0 || w.seen == NULL || w.rest == NULL)
		goto out;
	w.p = w.rest;
	for (;;) {
		const char *s = w.p + strspn(w.p, "/");
		size_t len = strcspn(s, "/");
		const char *after = s + len;

		if (len == 0) {
			/* no component left: path names a directory */
			if (flags & O_DIRECTORY) {
				fd = w.dir;
				w.dir = -1;
				r = 1;
			} else
				errno = EISDIR;
			break;
		}
		if (len > NAME_MAX) {
			errno = ENAMETOOLONG;
			break;
		}
		memcpy(name, s, len);
		name[len] = '\0';
		w.p = after;
		/* a trailing slash asks for a directory, as open(2) */
		if (after[strspn(after, "/")] != '\0' || *after == '/')
			r = step(&w, name, why, whylen);
		else
			r = open_last(&w, name, flags, mode, &fd, why, whylen);
		if (r == 2) {
			w.p = s; /* a link was planted: judge it now */
			r = 0;
		}
		if (r != 0)
			break;
	}
out:
	saved = errno;
	if (w.dir >= 0)
		close(w.dir);
	free(w.seen);
	free(w.rest);
	errno = saved;
	return r == 1 ? fd : -1;
}

int
safepath_open(const char *path, int flags, mode_t mode, char *why,
              size_t whylen)
{
	return walk(path, flags, mode, why, whylen);
}

int
safepath_open_dir(const char *path, const char **base, char *why, size_t whylen)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, saved;

	*base = slash ? slash + 1 : path;
	if (**base == '\0' || strcmp(*base, ".") == 0 ||
	    strcmp(*base, "..") == 0) {
		if (whylen > 0)
			why[0] = '\0';
		errno = EISDIR;
		return -1;
	}
	if (slash == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		return -1;
	fd = walk(dir, O_PATH | O_DIRECTORY, 0, why, whylen);
	saved = errno;
	free(dir);
	errno = saved;
	return fd;
}

int
safepath_temp(int dir, const char *prefix, char **name)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz"
	                            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char rnd[6];
	size_t len = strlen(prefix), i;
	int tries, fd, saved;
	char *s;

	if ((s = malloc(len + 8)) == NULL)
		return -1;
	memcpy(s, prefix, len);
	s[len] = '.';
	for (tries = 0; tries < 100; tries++) {
		if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) !=
		    (ssize_t)sizeof(rnd)) {
			/* no entropy yet (early boot): the name need only
			 * be hard to guess before it exists, and O_EXCL
			 * makes a guess harmless anyway */
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			for (i = 0; i < sizeof(rnd); i++)
				rnd[i] =
				    (unsigned char)((unsigned long)ts.tv_nsec >>
				                        (i * 5) ^
				                    (unsigned long)getpid() >>
				                        i ^
				                    (unsigned long)tries);
		}
		for (i = 0; i < sizeof(rnd); i++)
			s[len + 1 + i] = chars[rnd[i] % (sizeof(chars) - 1)];
		s[len + 7] = '\0';
		fd = openat(dir, s,
		            O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		            0600);
		if (fd >= 0) {
			*name = s;
			return fd;
		}
		if (errno != EEXIST)
			break;
	}
	saved = errno;
	free(s);
	errno = saved;
	return -1;
}
