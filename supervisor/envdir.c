/* SPDX-License-Identifier: ISC */
/* envdir.c: keep the envdir applied to baton's environment, re-reading only
 * the files that changed (inotify; a stat comparison where it is missing). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "envdir.h"
#include "log.h"
#include "ratelimit.h"

/* ABSENT: no usable file, the variable has its pre-envdir value back */
enum state { ABSENT, SET, UNSET };

/* What a file was when last looked at: a different one means re-read. */
struct sig {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
};

struct entry {
	char *name;
	char *orig; /* value before envdir first set it; NULL: unset */
	char *cur;  /* the "NAME=value" string of ours in environ, or NULL */
	struct sig sig;
	enum state state;
	int err;              /* errno of the last failed look, 0: none */
	unsigned long seen;   /* the last full scan that listed it */
	size_t next;          /* hash chain; SIZE_MAX ends it */
	unsigned touched : 1; /* orig captured */
	unsigned looked : 1;  /* sig is valid */
	unsigned dirty : 1;  /* named by an inotify event since the last load */
	unsigned warned : 1; /* reserved name already reported */
};

#define INOTIFY_MASK                                                           \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |            \
	 IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_MODIFY |   \
	 IN_ONLYDIR)

static struct {
	struct entry *e;
	size_t n, cap;
	size_t *bucket; /* heads of the hash chains; nbucket a power of 2 */
	size_t nbucket;
	size_t *dirty;
	size_t ndirty, capdirty;
	char *dir;   /* the ENVDIR being followed, NULL: none */
	int watched; /* dev/ino below identify the directory read */
	dev_t dev;
	ino_t ino;
	int ifd; /* inotify fd, -1: compare stat results at every load */
	int need_full;
	int failed; /* errno of the directory error already reported */
	unsigned long scan, files_read;
	size_t live;
	int no_inotify; /* tests: take the fallback */
} D = {.ifd = -1};

/* Whoever writes to the envdir decides how often these are said: a few
 * lines per cause per interval (ratelimit.h), enough to name each
 * reserved name and a few unreadable files, not one per change. */
static struct ratelimit rl_env = RATELIMIT_INIT("envdir set/unset errors");
static struct ratelimit rl_read =
    RATELIMIT_INIT_BURST("errors reading envdir files", 4);
static struct ratelimit rl_reserved =
    RATELIMIT_INIT_BURST("warnings about reserved envdir names", 16);
static struct ratelimit rl_watch = RATELIMIT_INIT("errors watching the envdir");

static void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (p == NULL)
		fatalx(EXIT_SOFTWARE, "out of memory");
	return p;
}

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		fatalx(EXIT_SOFTWARE, "out of memory");
	return p;
}

static size_t
hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void
rehash(void)
{
	size_t i, b;

	D.nbucket = D.nbucket ? D.nbucket * 2 : 64;
	D.bucket = xrealloc(D.bucket, D.nbucket * sizeof(*D.bucket));
	for (i = 0; i < D.nbucket; i++)
		D.bucket[i] = SIZE_MAX;
	for (i = 0; i < D.n; i++) {
		b = hash(D.e[i].name) & (D.nbucket - 1);
		D.e[i].next = D.bucket[b];
		D.bucket[b] = i;
	}
}

/* The entry for name, created if new. Pointers die at the next call. */
static struct entry *
entry(const char *name)
{
	struct entry *e;
	size_t i, b;

	if (D.nbucket) {
		b = hash(name) & (D.nbucket - 1);
		for (i = D.bucket[b]; i != SIZE_MAX; i = D.e[i].next)
			if (strcmp(D.e[i].name, name) == 0)
				return &D.e[i];
	}
	if (D.n == D.cap) {
		D.cap = D.cap ? D.cap * 2 : 64;
		D.e = xrealloc(D.e, D.cap * sizeof(*D.e));
	}
	e = &D.e[D.n++];
	memset(e, 0, sizeof(*e));
	e->name = xstrdup(name);
	if (D.n > D.nbucket) {
		rehash();
	} else {
		b = hash(name) & (D.nbucket - 1);
		e->next = D.bucket[b];
		D.bucket[b] = D.n - 1;
	}
	return e;
}

/* Names baton or the worker protocols own: an envdir setting them would
 * forge baton's re-exec state or the workers' sockets. ENVDIR itself
 * names the directory being read: a file of that name would swap it for
 * another at the next load. */
static int
reserved(const char *name)
{
	static const char *const prefix[] = {"BATON_", "SERVER_STARTER_",
	                                     "LISTEN_", "WATCHDOG_"};
	size_t i;

	if (strcmp(name, "NOTIFY_SOCKET") == 0 || strcmp(name, "ENVDIR") == 0)
		return 1;
	for (i = 0; i < sizeof(prefix) / sizeof(prefix[0]); i++)
		if (strncmp(name, prefix[i], strlen(prefix[i])) == 0)
			return 1;
	return 0;
}

int
envdir_reserved(const char *name)
{
	return reserved(name);
}

static int
candidate(const char *name)
{
	return name[0] != '.' && name[0] != '\0' && strchr(name, '=') == NULL;
}

/* Put value (NULL: unset) into environ under e's name. glibc's setenv
 * never frees a value it replaced, so a value changing forever would
 * leak: the strings are ours, given with putenv and freed only once
 * environ no longer points at them. */
static void
put(struct entry *e, const char *value)
{
	size_t nl = strlen(e->name);
	const char *now = getenv(e->name);
	char *s, more[64];

	if (value == NULL) {
		if (now != NULL && unsetenv(e->name) < 0 &&
		    ratelimit_check(&rl_env, more, sizeof(more)))
			log_warnx("cannot unset %s: %s%s", e->name,
			          strerror(errno), more);
	} else {
		if (e->cur && now == e->cur + nl + 1 && strcmp(now, value) == 0)
			return;
		s = xrealloc(NULL, nl + strlen(value) + 2);
		memcpy(s, e->name, nl);
		s[nl] = '=';
		strcpy(s + nl + 1, value);
		if (putenv(s) != 0) {
			if (ratelimit_check(&rl_env, more, sizeof(more)))
				log_warnx("cannot set %s: %s%s", e->name,
				          strerror(errno), more);
			free(s);
			return;
		}
		/* environ now holds s in place of e->cur */
		if (e->cur == NULL)
			D.live++;
		free(e->cur);
		e->cur = s;
		return;
	}
	if (e->cur) {
		free(e->cur);
		e->cur = NULL;
		D.live--;
	}
}

static void
apply(struct entry *e, const char *value)
{
	if (!e->touched) {
		const char *v = getenv(e->name);

		e->orig = v ? xstrdup(v) : NULL;
		e->touched = 1;
	}
	e->state = value ? SET : UNSET;
	put(e, value);
}

static void
go_absent(struct entry *e)
{
	if (e->state == ABSENT)
		return;
	e->state = ABSENT;
	put(e, e->orig);
}

/* The file is gone: forget what it was, so that a new one is news. */
static void
vanish(struct entry *e)
{
	e->looked = 0;
	e->warned = 0;
	e->err = 0;
	go_absent(e);
}

/* What execve(2) carries per "NAME=value" string, its NUL included:
 * Linux's MAX_ARG_STRLEN (32 pages). A longer one makes every exec of a
 * worker fail with E2BIG. */
#define ENV_STRING_MAX (32 * 4096)

/* The first line of the file, without its newline, whole; NULL if empty.
 * Read up to what exec can carry for name and no further (a huge file is
 * not read whole): a longer line is E2BIG in *err. */
static char *
first_line(int dirfd, const char *name, int *err)
{
	size_t max = ENV_STRING_MAX - strlen(name) - 2; /* '=' and NUL */
	size_t len = 0, cap = 0, scanned = 0;
	char *buf = NULL, *nl = NULL;
	ssize_t n = 0;
	int fd;

	*err = 0;
	D.files_read++;
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		*err = errno;
		return NULL;
	}
	/* one byte beyond max tells a line that is too long */
	while (nl == NULL && len <= max) {
		if (cap - len < 2) {
			cap = cap ? cap * 2 : 4096;
			if (cap > max + 2)
				cap = max + 2;
			buf = realloc(buf, cap);
			if (buf == NULL)
				abort();
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		nl = memchr(buf + scanned, '\n', len - scanned);
		scanned = len;
	}
	if (n < 0 && len == 0)
		*err = errno;
	close(fd);
	if (len == 0) { /* an empty file (a lone newline is "") */
		free(buf);
		return NULL;
	}
	if (nl != NULL)
		len = (size_t)(nl - buf);
	if (len > max) {
		*err = E2BIG;
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	/* a NUL byte ends the value, as it does in exec's strings */
	return buf;
}

static int
same_sig(const struct sig *a, const struct stat *st)
{
	return a->dev == st->st_dev && a->ino == st->st_ino &&
	       a->size == st->st_size && a->mtim.tv_sec == st->st_mtim.tv_sec &&
	       a->mtim.tv_nsec == st->st_mtim.tv_nsec &&
	       a->ctim.tv_sec == st->st_ctim.tv_sec &&
	       a->ctim.tv_nsec == st->st_ctim.tv_nsec;
}

static void
set_sig(struct entry *e, const struct stat *st)
{
	e->sig = (struct sig){st->st_dev, st->st_ino, st->st_size, st->st_mtim,
	                      st->st_ctim};
	e->looked = 1;
}

static void
unreadable(struct entry *e, int err)
{
	char more[64];

	errno = err;
	if (ratelimit_check(&rl_read, more, sizeof(more)))
		log_warnx("cannot read %s/%s: %s%s", D.dir, e->name,
		          strerror(errno), more);
	e->err = err;
	go_absent(e);
}

/* Look at one file again. changed: we know it changed (an inotify event,
 * a forced scan); otherwise only a different stat result re-reads it. */
static void
refresh(struct entry *e, int dfd, int changed)
{
	struct stat st;
	char *value, more[64];
	int err;

	if (fstatat(dfd, e->name, &st, 0) < 0) {
		err = errno;
		/* a dangling symlink is a missing file */
		if (err == ENOENT) {
			vanish(e);
			return;
		}
		/* a symlink loop: the link itself tells whether it changed */
		if (fstatat(dfd, e->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (changed || err != e->err)
				unreadable(e, err);
			e->looked = 0;
			return;
		}
		if (changed || !e->looked || !same_sig(&e->sig, &st))
			unreadable(e, err);
		set_sig(e, &st);
		return;
	}
	if (!changed && e->looked && same_sig(&e->sig, &st))
		return;
	set_sig(e, &st);
	if (S_ISDIR(st.st_mode)) {
		go_absent(e);
		return;
	}
	if (reserved(e->name)) {
		if (!e->warned &&
		    ratelimit_check(&rl_reserved, more, sizeof(more)))
			log_warnx(
			    "envdir %s: ignoring %s: reserved for baton%s",
			    D.dir, e->name, more);
		e->warned = 1;
		return;
	}
	value = first_line(dfd, e->name, &err);
	if (err == E2BIG) {
		/* cut, it would be a wrong value; whole, no worker could be
		 * executed: ignored, said once per change of the file */
		log_warnx("envdir %s: ignoring %s: its first line is longer "
		          "than exec can carry (%d bytes for NAME=value)",
		          D.dir, e->name, ENV_STRING_MAX - 1);
		e->err = err;
		go_absent(e);
		return;
	}
	if (err) {
		unreadable(e, err);
		return;
	}
	e->err = 0;
	apply(e, value);
	free(value);
}

static void
absent_all(void)
{
	size_t i;

	for (i = 0; i < D.n; i++)
		vanish(&D.e[i]);
}

static void
clear_dirty(void)
{
	size_t i;

	for (i = 0; i < D.ndirty; i++)
		D.e[D.dirty[i]].dirty = 0;
	D.ndirty = 0;
}

static void
mark_dirty(const char *name)
{
	struct entry *e;

	if (!candidate(name))
		return;
	e = entry(name);
	if (e->dirty)
		return;
	e->dirty = 1;
	if (D.ndirty == D.capdirty) {
		D.capdirty = D.capdirty ? D.capdirty * 2 : 64;
		D.dirty = xrealloc(D.dirty, D.capdirty * sizeof(*D.dirty));
	}
	D.dirty[D.ndirty++] = (size_t)(e - D.e);
}

static void
unwatch(void)
{
	if (D.ifd >= 0)
		close(D.ifd);
	D.ifd = -1;
	D.watched = 0;
	clear_dirty();
}

/* Watch the directory; without inotify (no more watches, an old kernel)
 * every load compares stat results instead: slower, still correct. */
static void
watch(const struct stat *st)
{
	char more[64];

	D.watched = 1;
	D.dev = st->st_dev;
	D.ino = st->st_ino;
	D.need_full = 1;
	if (D.no_inotify)
		return;
	D.ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (D.ifd < 0) {
		if (ratelimit_check(&rl_watch, more, sizeof(more)))
			log_warnx("cannot watch envdir %s, comparing it every "
			          "second: %s%s",
			          D.dir, strerror(errno), more);
		return;
	}
	if (inotify_add_watch(D.ifd, D.dir, INOTIFY_MASK) < 0) {
		if (ratelimit_check(&rl_watch, more, sizeof(more)))
			log_warnx("cannot watch envdir %s, comparing it every "
			          "second: %s%s",
			          D.dir, strerror(errno), more);
		close(D.ifd);
		D.ifd = -1;
	}
}

/* Read the pending events: names to re-read, or a reason for a full scan
 * (lost events) or a new watch (the directory went away). */
static void
drain(void)
{
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	char *p, more[64];
	int lost = 0;

	for (;;) {
		n = read(D.ifd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(void *)p;
			if (ev->mask & IN_Q_OVERFLOW)
				D.need_full = 1;
			if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF |
			                IN_IGNORED | IN_UNMOUNT))
				lost = 1;
			else if (ev->len > 0)
				mark_dirty(ev->name);
		}
	}
	if (n < 0 && errno != EAGAIN) {
		if (ratelimit_check(&rl_watch, more, sizeof(more)))
			log_warnx(
			    "cannot read inotify events of envdir %s: %s%s",
			    D.dir, strerror(errno), more);
		lost = 1;
	}
	if (lost)
		unwatch();
}

static int
full_scan(int changed)
{
	struct dirent *de;
	size_t i;
	DIR *d;

	d = opendir(D.dir);
	if (d == NULL)
		return -1;
	clear_dirty();
	D.scan++;
	while ((de = readdir(d)) != NULL) {
		struct entry *e;

		if (!candidate(de->d_name))
			continue;
		e = entry(de->d_name);
		e->seen = D.scan;
		refresh(e, dirfd(d), changed);
	}
	closedir(d);
	for (i = 0; i < D.n; i++)
		if (D.e[i].seen != D.scan)
			vanish(&D.e[i]);
	return 0;
}

static int
refresh_dirty(void)
{
	size_t i;
	int dfd;

	if (D.ndirty == 0)
		return 0;
	dfd = open(D.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	for (i = 0; i < D.ndirty; i++)
		refresh(&D.e[D.dirty[i]], dfd, 1);
	close(dfd);
	clear_dirty();
	return 0;
}

/* A directory error is reported once, not at every load while it lasts. */
static int
dir_error(int err)
{
	unwatch();
	absent_all();
	if (err == ENOENT || err == ENOTDIR || err == D.failed) {
		D.failed = err;
		return 0;
	}
	D.failed = err;
	errno = err;
	return -1;
}

static int
present(void)
{
	size_t i;
	int count = 0;

	for (i = 0; i < D.n; i++)
		count += D.e[i].state != ABSENT;
	return count;
}

int
envdir_load(void)
{
	const char *dir = getenv("ENVDIR");
	struct stat st;

	if (D.ifd >= 0)
		drain();
	if (D.dir == NULL || dir == NULL || strcmp(D.dir, dir) != 0) {
		unwatch();
		free(D.dir);
		D.dir = dir && *dir ? xstrdup(dir) : NULL;
		D.failed = 0;
	}
	if (D.dir == NULL) {
		absent_all();
		return 0;
	}
	/* a directory replaced (renamed over, a symlink switched) keeps
	 * its name but is another inode: watch the new one */
	if (stat(D.dir, &st) < 0)
		return dir_error(errno);
	if (!S_ISDIR(st.st_mode))
		return dir_error(ENOTDIR);
	if (!D.watched || st.st_dev != D.dev || st.st_ino != D.ino) {
		unwatch();
		watch(&st);
	}
	if (D.need_full || D.ifd < 0) {
		if (full_scan(D.need_full) < 0)
			return dir_error(errno);
		D.need_full = 0;
	} else if (refresh_dirty() < 0) {
		return dir_error(errno);
	}
	D.failed = 0;
	return present();
}

unsigned long
envdir_files_read(void)
{
	return D.files_read;
}

size_t
envdir_live_strings(void)
{
	return D.live;
}

void
envdir_use_inotify(int on)
{
	D.no_inotify = !on;
	unwatch();
}
