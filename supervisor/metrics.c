/* SPDX-License-Identifier: ISC */
/* metrics.c: Prometheus text format 0.0.4 and the node_exporter .prom file. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"
#include "utf8.h"
#include "safepath.h"

#define PROM_SUFFIX ".prom"

void
metrics_text_init(struct metrics_text *t)
{
	memset(t, 0, sizeof(*t));
	t->fd = -1;
}

void
metrics_text_stream(struct metrics_text *t, int fd)
{
	t->fd = fd;
}

void
metrics_text_free(struct metrics_text *t)
{
	size_t i;

	for (i = 0; i < t->nseen; i++)
		free(t->seen[i]);
	free(t->seen);
	free(t->buf);
	metrics_text_init(t);
}

void
metrics_text_reset(struct metrics_text *t)
{
	size_t i;

	for (i = 0; i < t->nseen; i++)
		free(t->seen[i]);
	t->nseen = 0;
	t->family = NULL;
	t->len = 0;
	if (t->buf != NULL)
		t->buf[0] = '\0';
}

int
metrics_text_reserve(struct metrics_text *t, size_t cap)
{
	char *p;

	if (cap <= t->cap)
		return 0;
	if ((p = realloc(t->buf, cap)) == NULL)
		return -1;
	if (t->buf == NULL)
		p[0] = '\0';
	t->buf = p;
	t->cap = cap;
	return 0;
}

static int
put(struct metrics_text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 1024;
		char *p;

		while (cap < t->len + n + 1)
			cap *= 2;
		p = realloc(t->buf, cap);
		if (p == NULL)
			return -1;
		t->buf = p;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
	return 0;
}

static int
puts_(struct metrics_text *t, const char *s)
{
	return put(t, s, strlen(s));
}

/* Write all of data to fd. */
static int
write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int
metrics_text_flush(struct metrics_text *t)
{
	if (t->fd < 0 || t->len == 0)
		return 0;
	if (write_all(t->fd, t->buf, t->len) < 0)
		return -1;
	t->len = 0;
	t->buf[0] = '\0';
	return 0;
}

/* After a whole line: stream out a full chunk. */
static int
line_done(struct metrics_text *t)
{
	return t->len >= METRICS_CHUNK ? metrics_text_flush(t) : 0;
}

/* The one escaper of the text format (STYLE.md rule 6): every HELP text
 * and label value goes through here. Backslash and newline are escaped,
 * and in a label value (quote) the double quote too, as the format
 * says. The format must be UTF-8 (promtool refuses the whole exposition
 * for one bad label value): a byte that is not part of well-formed UTF-8
 * becomes U+FFFD, as in STATUS.json. So does any other control
 * character (CR, C0, DEL): the format has no escape for them, and a raw
 * CR splits the line for some parsers (prometheus_client). */
static int
put_escaped(struct metrics_text *t, const char *str, int quote)
{
	const unsigned char *s = (const unsigned char *)str;
	int rc = 0;

	while (*s != '\0' && rc == 0) {
		size_t n = utf8_len(s, (size_t)-1);

		if (*s == '\\')
			rc = put(t, "\\\\", 2);
		else if (*s == '\n')
			rc = put(t, "\\n", 2);
		else if (*s == '"' && quote)
			rc = put(t, "\\\"", 2);
		else if (n == 0 || *s < 0x20 || *s == 0x7f)
			rc = put(t, UTF8_REPLACEMENT, 3);
		else {
			rc = put(t, (const char *)s, n);
			s += n;
			continue;
		}
		s++;
	}
	return rc;
}

/* A metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or, without colons, a label
 * name; names starting "__" are reserved to Prometheus itself. */
static int
valid_name(const char *s, int colon)
{
	const char *p;

	if (*s == '\0' || (*s >= '0' && *s <= '9'))
		return 0;
	if (!colon && s[0] == '_' && s[1] == '_')
		return 0;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' ||
		      (colon && *p == ':')))
			return 0;
	return 1;
}

/* Undo a failed call: the text ends where it ended before. */
static int
rollback(struct metrics_text *t, size_t len, int err)
{
	t->len = len;
	if (t->buf != NULL)
		t->buf[len] = '\0';
	errno = err;
	return -1;
}

static int
remember(struct metrics_text *t, const char *name)
{
	char **seen;
	char *copy;

	seen = realloc(t->seen, (t->nseen + 1) * sizeof(*seen));
	if (seen == NULL)
		return -1;
	t->seen = seen;
	copy = strdup(name);
	if (copy == NULL)
		return -1;
	t->seen[t->nseen++] = copy;
	t->family = copy;
	return 0;
}

int
metrics_family(struct metrics_text *t, const char *name, const char *type,
               const char *help)
{
	size_t i, len = t->len;

	if (!valid_name(name, 1) ||
	    (strcmp(type, "gauge") != 0 && strcmp(type, "counter") != 0 &&
	     strcmp(type, "untyped") != 0))
		return rollback(t, len, EINVAL);
	/* the format allows one HELP and one TYPE per family, and all of a
	 * family's samples together: a family begun twice is a bug */
	for (i = 0; i < t->nseen; i++)
		if (strcmp(t->seen[i], name) == 0)
			return rollback(t, len, EEXIST);
	if (puts_(t, "# HELP ") < 0 || puts_(t, name) < 0 ||
	    put(t, " ", 1) < 0 || put_escaped(t, help, 0) < 0 ||
	    puts_(t, "\n# TYPE ") < 0 || puts_(t, name) < 0 ||
	    put(t, " ", 1) < 0 || puts_(t, type) < 0 || put(t, "\n", 1) < 0 ||
	    remember(t, name) < 0)
		return rollback(t, len, ENOMEM);
	return line_done(t);
}

/* A sample whose value is already text (num: " VALUE\n"). */
static int
sample_text(struct metrics_text *t, const char *name,
            const struct metrics_label *labels, size_t nlabels, const char *num)
{
	size_t i, len = t->len;
	int rc = 0;

	if (t->family == NULL || strcmp(t->family, name) != 0)
		return rollback(t, len, EINVAL);
	for (i = 0; i < nlabels; i++)
		if (!valid_name(labels[i].name, 0) || labels[i].value == NULL)
			return rollback(t, len, EINVAL);
	rc = puts_(t, name);
	for (i = 0; i < nlabels && rc == 0; i++) {
		rc = put(t, i == 0 ? "{" : ",", 1);
		if (rc == 0)
			rc = puts_(t, labels[i].name);
		if (rc == 0)
			rc = put(t, "=\"", 2);
		if (rc == 0)
			rc = put_escaped(t, labels[i].value, 1);
		if (rc == 0)
			rc = put(t, "\"", 1);
	}
	if (rc == 0 && nlabels > 0)
		rc = put(t, "}", 1);
	if (rc == 0)
		rc = puts_(t, num);
	return rc < 0 ? rollback(t, len, ENOMEM) : line_done(t);
}

int
metrics_sample(struct metrics_text *t, const char *name,
               const struct metrics_label *labels, size_t nlabels,
               uint64_t value)
{
	char num[32];

	snprintf(num, sizeof(num), " %" PRIu64 "\n", value);
	return sample_text(t, name, labels, nlabels, num);
}

int
metrics_sample_ms(struct metrics_text *t, const char *name,
                  const struct metrics_label *labels, size_t nlabels,
                  uint64_t ms)
{
	char num[48];

	snprintf(num, sizeof(num), " %" PRIu64 ".%03u\n", ms / 1000,
	         (unsigned)(ms % 1000));
	return sample_text(t, name, labels, nlabels, num);
}

/* ---- baton's families ------------------------------------------------- */

/* A listener's figure: 1 and *v when the last sample gave it. */
typedef int (*lvalue_fn)(const struct snap_listener *l, uint64_t *v);

static int
has(const struct snap_listener *l, unsigned flag)
{
	return l->has_queue && (l->queue.last.flags & flag);
}

static int
v_len(const struct snap_listener *l, uint64_t *v)
{
	*v = l->queue.last.len;
	return has(l, QSTAT_HAS_QUEUE);
}

static int
v_peak(const struct snap_listener *l, uint64_t *v)
{
	*v = l->queue.peak;
	return has(l, QSTAT_HAS_QUEUE);
}

static int
v_backlog(const struct snap_listener *l, uint64_t *v)
{
	*v = l->queue.last.limit;
	return has(l, QSTAT_HAS_QUEUE);
}

static int
v_drops(const struct snap_listener *l, uint64_t *v)
{
	*v = l->queue.last.drops;
	return has(l, QSTAT_HAS_DROPS);
}

static int
v_syn(const struct snap_listener *l, uint64_t *v)
{
	*v = l->queue.last.syn;
	return has(l, QSTAT_HAS_SYN);
}

static int
v_wait(const struct snap_listener *l, uint64_t *v)
{
	*v = l->wait_max_ms;
	return l->has_acceptq;
}

static int
v_idle(const struct snap_listener *l, uint64_t *v)
{
	*v = l->idle;
	return l->has_acceptq;
}

static int
v_abandoned(const struct snap_listener *l, uint64_t *v)
{
	*v = l->abandoned;
	return l->has_acceptq;
}

static int
v_port(const struct snap_listener *l, uint64_t *v)
{
	*v = l->port > 0 ? (uint64_t)l->port : 0;
	return l->port > 0;
}

/* The listener families, one row each, in the order they are written.
 * The value of a family named *_seconds is in milliseconds, written as
 * seconds. */
static const struct {
	const char *name, *type, *help;
	lvalue_fn value;
} lfamilies[] = {
    {"baton_listener_accept_queue_length", "gauge",
     "Connections waiting in the listener's accept queue.", v_len},
    {"baton_listener_accept_queue_peak", "gauge",
     "Highest accept queue length sampled since baton started.", v_peak},
    {"baton_listener_backlog", "gauge",
     "The listen(2) backlog the kernel applies; the queue holds backlog + "
     "1.",
     v_backlog},
    {"baton_listener_drops_total", "counter",
     "Packets the kernel dropped on the listener (sk_drops): SYNs on a "
     "full accept queue, bare ACKs a defer-accept listener waits past, "
     "datagrams on a full UDP buffer.",
     v_drops},
    {"baton_listener_syn_queue_length", "gauge",
     "Connections in SYN_RECV on the listener.", v_syn},
    {"baton_listener_port", "gauge",
     "The port the listener is bound to: the kernel's choice for a port-0 "
     "listener, whose label keeps 0.",
     v_port},
    {"baton_listener_accept_wait_seconds", "gauge",
     "The longest wait of a connection queued on the listener, last scanned.",
     v_wait},
    {"baton_listener_queued_idle", "gauge",
     "Queued connections on the listener whose client has sent nothing.",
     v_idle},
    {"baton_listener_abandoned_total", "counter",
     "Clients that gave up while queued on the listener (closed before a "
     "worker accepted them).",
     v_abandoned},
};

static int
render_listeners(struct metrics_text *t, const struct snapshot *s,
                 const unsigned char *dup, size_t f)
{
	struct metrics_label lab[3] = {
	    {"listener", NULL}, {"proto", NULL}, {"fd", NULL}};
	char fd[24];
	uint64_t v;
	size_t i, n = strlen(lfamilies[f].name);
	int begun = 0,
	    in_ms = n > 8 && strcmp(lfamilies[f].name + n - 8, "_seconds") == 0;

	for (i = 0; i < s->nls; i++) {
		const struct snap_listener *l = &s->ls[i];

		if (!lfamilies[f].value(l, &v))
			continue;
		if (!begun &&
		    metrics_family(t, lfamilies[f].name, lfamilies[f].type,
		                   lfamilies[f].help) < 0)
			return -1;
		begun = 1;
		lab[0].value = l->key;
		lab[1].value = qstat_kind_name(l->kind);
		snprintf(fd, sizeof(fd), "%d", l->fd);
		lab[2].value = fd;
		if ((in_ms ? metrics_sample_ms : metrics_sample)(
		        t, lfamilies[f].name, lab, dup[i] ? 3 : 2, v) < 0)
			return -1;
	}
	return 0;
}

/* A listener's identity as a scraper sees it: the listener and proto
 * labels as written. */
static char *
identity(const struct snap_listener *l)
{
	struct metrics_text t;
	char *id;

	metrics_text_init(&t);
	if (put_escaped(&t, l->key, 1) < 0 || put(&t, "\"", 1) < 0 ||
	    put_escaped(&t, qstat_kind_name(l->kind), 1) < 0) {
		metrics_text_free(&t);
		return NULL;
	}
	id = t.buf;
	t.buf = NULL;
	metrics_text_free(&t);
	return id != NULL ? id : strdup("");
}

struct ident {
	char *id;
	size_t i;
};

static int
by_identity(const void *a, const void *b)
{
	return strcmp(((const struct ident *)a)->id,
	              ((const struct ident *)b)->id);
}

/* dup[i] = 1 for each listener whose identity another one shares (two
 * --reuseport sockets on one address, two abstract sockets both shown
 * as "@", two paths that differ only in bytes shown as U+FFFD): those
 * are told apart by an fd label, as two series with the same labels
 * are an invalid exposition. Other listeners keep their labels as they
 * were. NULL with errno when out of memory. */
static unsigned char *
find_dups(const struct snapshot *s)
{
	size_t i, n = s->nls;
	unsigned char *dup = calloc(n + 1, 1);
	struct ident *ids = calloc(n + 1, sizeof(*ids));
	int ok = dup != NULL && ids != NULL;

	for (i = 0; ok && i < n; i++) {
		ids[i].i = i;
		ok = (ids[i].id = identity(&s->ls[i])) != NULL;
	}
	if (ok) {
		qsort(ids, n, sizeof(*ids), by_identity);
		for (i = 0; i + 1 < n; i++)
			if (strcmp(ids[i].id, ids[i + 1].id) == 0)
				dup[ids[i].i] = dup[ids[i + 1].i] = 1;
	}
	for (i = 0; ids != NULL && i < n; i++)
		free(ids[i].id);
	free(ids);
	if (!ok) {
		free(dup);
		errno = ENOMEM;
		return NULL;
	}
	return dup;
}

/* The restarts' receipts: the connections lost by reason, and the last
 * finished restart's duration and loss (none before one finished). */
static int
render_receipts(struct metrics_text *t, const struct snapshot *s)
{
	static const char *const reasons[] = {"dropped", "abandoned", "cut"};
	const uint64_t lost[] = {s->lost_dropped, s->lost_abandoned,
	                         s->lost_cut};
	const struct snap_receipt *r = snapshot_last_receipt(s);
	struct metrics_label lab = {"reason", NULL};
	size_t i;

	if (s->has_lost &&
	    metrics_family(t, "baton_restart_lost_connections_total", "counter",
	                   "Connections restarts lost, by reason, as the "
	                   "kernel counts them at baton's listeners.") < 0)
		return -1;
	for (i = 0; s->has_lost && i < 3; i++) {
		lab.value = reasons[i];
		if (metrics_sample(t, "baton_restart_lost_connections_total",
		                   &lab, 1, lost[i]) < 0)
			return -1;
	}
	if (r == NULL)
		return 0;
	if (metrics_family(t, "baton_last_restart_duration_seconds", "gauge",
	                   "How long the last finished restart took, from "
	                   "its trigger to the old generation's end.") < 0 ||
	    metrics_sample_ms(
	        t, "baton_last_restart_duration_seconds", NULL, 0,
	        r->duration > 0 ? (uint64_t)(r->duration * 1000 + 0.5) : 0) < 0)
		return -1;
	if (metrics_family(t, "baton_last_restart_lost_connections", "gauge",
	                   "Connections the last finished restart lost "
	                   "(dropped + abandoned + cut).") < 0)
		return -1;
	return metrics_sample(t, "baton_last_restart_lost_connections", NULL, 0,
	                      r->total);
}

static int
render_supervisor(struct metrics_text *t, const struct snapshot *s)
{
	uint64_t count[GEN_NSTATES];
	struct metrics_label lab;
	unsigned i;

	if (metrics_family(t, "baton_generation", "gauge",
	                   "The serving generation (0: none yet).") < 0 ||
	    metrics_sample(t, "baton_generation", NULL, 0,
	                   snapshot_gen_in(s, GEN_SERVING)) < 0)
		return -1;
	if (metrics_family(t, "baton_workers", "gauge",
	                   "Worker processes by the state of their "
	                   "generation.") < 0)
		return -1;
	snapshot_workers_by_state(s, count);
	lab.name = "state";
	for (i = 0; i < GEN_NSTATES; i++) {
		if (!gen_state_counted((enum gen_state)i))
			continue;
		lab.value = gen_state_name((enum gen_state)i);
		if (metrics_sample(t, "baton_workers", &lab, 1, count[i]) < 0)
			return -1;
	}
	/* the receipts before baton_restarts_total, which ends the text
	 * as it always did */
	if (render_receipts(t, s) < 0)
		return -1;
	if (metrics_family(t, "baton_restarts_total", "counter",
	                   "Restarts by result: the new generation served, "
	                   "or was rolled back.") < 0)
		return -1;
	lab.name = "result";
	lab.value = "served";
	if (metrics_sample(t, "baton_restarts_total", &lab, 1, s->served) < 0)
		return -1;
	lab.value = "rolled_back";
	return metrics_sample(t, "baton_restarts_total", &lab, 1,
	                      s->rolled_back);
}

int
metrics_render(struct metrics_text *t, const struct snapshot *s)
{
	unsigned char *dup = find_dups(s);
	size_t f;
	int rc = 0;

	if (dup == NULL)
		return -1;
	for (f = 0; f < sizeof(lfamilies) / sizeof(lfamilies[0]) && rc == 0;
	     f++)
		rc = render_listeners(t, s, dup, f);
	free(dup);
	return rc < 0 ? -1 : render_supervisor(t, s);
}

/* ---- the .prom file --------------------------------------------------- */

int
metrics_file_check(const char *path, char *err, size_t errlen)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base != NULL ? base + 1 : path;
	n = strlen(base);
	if (n <= strlen(PROM_SUFFIX) ||
	    strcmp(base + n - strlen(PROM_SUFFIX), PROM_SUFFIX) != 0) {
		snprintf(err, errlen,
		         "--metrics-file %s: the name must end in " PROM_SUFFIX,
		         path);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* Stream s into fd. */
static int
render_to(int fd, const struct snapshot *s)
{
	struct metrics_text t;
	int rc, saved;

	metrics_text_init(&t);
	metrics_text_stream(&t, fd);
	rc = metrics_render(&t, s);
	if (rc == 0)
		rc = metrics_text_flush(&t);
	saved = errno;
	metrics_text_free(&t);
	errno = saved;
	return rc;
}

int
metrics_file_write(const char *path, const struct snapshot *s, char *err,
                   size_t errlen)
{
	const char *base;
	char *tmp, *prefix, why[512];
	int fd, dir, saved;

	if (metrics_file_check(path, err, errlen) < 0)
		return -1;
	/* the directory under safepath's rule (no link a local user planted
	 * in /tmp on the way); ".NAME.prom.XXXXXX" in it: same file system,
	 * so rename is atomic, and a name the textfile collector's *.prom
	 * skips */
	if ((dir = safepath_open_dir(path, &base, why, sizeof(why))) < 0) {
		saved = errno;
		snprintf(err, errlen, "cannot write metrics file %s: %s", path,
		         why[0] ? why : strerror(saved));
		errno = saved;
		return -1;
	}
	if (asprintf(&prefix, ".%s", base) < 0) {
		close(dir);
		snprintf(err, errlen, "cannot write metrics file %s: %s", path,
		         strerror(ENOMEM));
		errno = ENOMEM;
		return -1;
	}
	fd = safepath_temp(dir, prefix, &tmp);
	saved = errno;
	free(prefix);
	if (fd < 0) {
		snprintf(err, errlen, "cannot write metrics file %s: %s", path,
		         strerror(saved));
		close(dir);
		errno = saved;
		return -1;
	}
	/* the temporary is 0600; node_exporter often runs as another user
	 * and the figures are no secret */
	saved = 0;
	if (fchmod(fd, 0644) < 0 || render_to(fd, s) < 0)
		saved = errno;
	if (close(fd) < 0 && saved == 0)
		saved = errno;
	if (saved == 0 && renameat(dir, tmp, dir, base) < 0)
		saved = errno;
	if (saved != 0) {
		snprintf(err, errlen, "cannot write metrics file %s: %s", path,
		         strerror(saved));
		unlinkat(dir, tmp, 0);
		free(tmp);
		close(dir);
		errno = saved;
		return -1;
	}
	free(tmp);
	close(dir);
	return 0;
}

int
metrics_file_remove(const char *path)
{
	if (unlink(path) < 0 && errno != ENOENT)
		return -1;
	return 0;
}
