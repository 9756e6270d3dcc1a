/* SPDX-License-Identifier: ISC */
/* statusjson.c: STATUS.json, written and read through one table of rows
 * per JSON object (the s6 svstatus pack/unpack model, with rows as tmux's
 * options table has them).
 *
 * The client side (--stats, --health, --restart) could parse with
 * libjansson instead; it does not. jansson would replace the lexer only
 * (about 300 lines): which keys are required, their types, bounds, null
 * mappings and versions are the schema, so the table stays, and the
 * writer (order, number formats, the listener's options callback) stays
 * ours, so jansson would put the schema in a second place. It reads
 * integers as long long: a queue's drops past 2^63, which the writer may
 * write, is "too big integer" or, as a real, loses digits. Its limits are
 * a compile-time depth of 2048 and none on a string's length or an
 * array's count, checked only after the whole tree is in memory;
 * duplicate keys it refuses only with JSON_REJECT_DUPLICATES. And it is a
 * run-time library (60 kB) of the one binary that also supervises, for
 * the sake of a client. The lexer here is bounded in depth, sizes and
 * counts, and checks strings as jansson does (UTF-8, no \u0000). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "statusjson.h"
#include "utf8.h"

/* Bounds of the reader: far above what baton writes, low enough that a
 * hostile or corrupt file costs little. */
#define MAX_DEPTH 16
#define MAX_STRING 65536
#define MAX_ITEMS 65536
#define MAX_TEXT (64UL * 1024 * 1024)
/* The most rows an object may have (the reader's duplicate-key mask). */
#define MAX_ROWS 64
/* Epoch seconds up to the year 30 million: %.3f of one fits a number
 * token; a duration as an option gave it has no such limit. */
#define TIME_MAX 1e15
#define SECS_MAX 1e300

/* ---- the schema ---------------------------------------------------------- */

enum ftype {
	F_INT,    /* a signed integer of 4 or 8 bytes (int, long, int64_t) */
	F_UINT,   /* an unsigned one (unsigned long, uint32_t, uint64_t) */
	F_TIME,   /* double, epoch seconds, %.3f */
	F_SECS,   /* double, a duration as an option said it, %.15g (0.5, 60) */
	F_BOOL,   /* int, true or false */
	F_STRING, /* const char *, escaped; malloc'd when read */
	F_NAME,   /* char[size], a lower-case name */
	F_STATE,  /* enum gen_state, by its name (genstate.h) */
	F_KIND,   /* enum qstat_kind, by its name (qstat.h) */
	F_OBJECT, /* a struct at off, by the table sub */
	F_ARRAY,  /* a malloc'd array at off, aux its size_t count */
	/* writer only: a callback void (*)(FILE *, const void *) at off,
	 * its argument at aux, writes its own members (the listener's
	 * "options" and "requested"); the reader skips them as unknown */
	F_HOOK
};

/* How a value that is not known is written: null. */
enum fnull {
	N_NEVER,  /* always a value (a NULL string is written as dflt or "") */
	N_ZERO,   /* 0 or NULL is null, and null reads as 0 or NULL */
	N_NEG,    /* (doubles) < 0 is null, and null reads as -1 */
	N_NONPOS, /* <= 0 is null, and null reads as 0 */
};

/* The release whose STATUS.json first had a key. A key is required when
 * it is as old as the object holding it (the top level's age is the
 * oldest file read, 0.1); an older writer's file lacks the newer ones,
 * and the reader leaves them at their null value. */
enum version { V0_1 = 1, V0_2, V0_3 };
#define OLDEST V0_1
static const char *const version_names[] = {"", "0.1", "0.2", "0.3"};

struct schema;

struct field {
	const char *name; /* the JSON key */
	enum ftype type;
	enum version since;
	size_t off, size; /* the member's offsetof() and sizeof() */
	double min, max;  /* numbers: bounds; strings, states and kinds: the
	                     longest length; arrays: the most items; bools: 1 */
	enum fnull null;
	/* also null when this bit of the unsigned (or int) at flag is clear;
	 * a value read sets it (has_queue, has_failure, has_deadlines, the
	 * queue's QSTAT_HAS_* flags) */
	unsigned bit;
	size_t flag;
	size_t aux;               /* F_ARRAY: the count; F_HOOK: the arg */
	const struct schema *sub; /* F_OBJECT, F_ARRAY: its members */
	const char *dflt;         /* F_STRING, F_NAME: written for NULL, "" */
};

struct schema {
	const struct field *f;
	size_t n;
	size_t size; /* sizeof the struct (an array's element) */
};

#define SCHEMA(rows, type)                                                     \
	{                                                                      \
		rows, sizeof(rows) / sizeof(rows[0]), sizeof(type)             \
	}
#define ROWS_FIT(rows)                                                         \
	_Static_assert(sizeof(rows) / sizeof(rows[0]) <= MAX_ROWS,             \
	               #rows " has more than MAX_ROWS rows")

/* The member m of struct type: its offset and size. */
#define AT(type, m) offsetof(type, m), sizeof(((type *)0)->m)

#define W(m) AT(struct snap_worker, m)
static const struct field worker_rows[] = {
    {"index", F_INT, V0_1, W(index), .max = INT_MAX},
    {"pid", F_INT, V0_1, W(pid), .max = INT_MAX},
    {"alive", F_BOOL, V0_1, W(alive), .max = 1},
    {"ready", F_BOOL, V0_1, W(ready), .max = 1},
    {"status", F_STRING, V0_1, W(status), .max = MAX_STRING, .null = N_ZERO},
};
ROWS_FIT(worker_rows);
static const struct schema worker_schema =
    SCHEMA(worker_rows, struct snap_worker);

#define G(m) AT(struct snap_gen, m)
static const struct field gen_rows[] = {
    {"generation", F_UINT, V0_1, G(id), .max = ULONG_MAX},
    {"state", F_STATE, V0_1, G(state), .max = 15},
    {"started", F_TIME, V0_1, G(started), .max = TIME_MAX},
    {"ready", F_TIME, V0_1, G(ready_at), .max = TIME_MAX, .null = N_NEG},
    {"trigger", F_STRING, V0_3, G(trigger), .max = 255, .null = N_ZERO},
    {"workers", F_ARRAY, V0_1, G(w), .max = MAX_ITEMS,
     .aux = offsetof(struct snap_gen, nw), .sub = &worker_schema},
};
ROWS_FIT(gen_rows);
static const struct schema gen_schema = SCHEMA(gen_rows, struct snap_gen);

/* The queue as last sampled: a figure the kernel does not give is null,
 * its QSTAT_HAS_* flag clear. Its members live in struct snap_listener
 * (off 0): the sampler's track, and the accept queue's scan. */
#define Q(m) AT(struct snap_listener, queue.m)
#define QFLAG(b)                                                               \
	.bit = (b), .flag = offsetof(struct snap_listener, queue.last.flags)
#define AQ(m)                                                                  \
	AT(struct snap_listener, m),                                           \
	    .bit = 1, .flag = offsetof(struct snap_listener, has_acceptq)
static const struct field queue_rows[] = {
    {"len", F_UINT, V0_2, Q(last.len), .max = UINT32_MAX,
     QFLAG(QSTAT_HAS_QUEUE)},
    {"limit", F_UINT, V0_2, Q(last.limit), .max = UINT32_MAX,
     QFLAG(QSTAT_HAS_QUEUE)},
    {"peak", F_UINT, V0_2, Q(peak), .max = UINT32_MAX, QFLAG(QSTAT_HAS_QUEUE)},
    {"drops", F_UINT, V0_2, Q(last.drops), .max = UINT64_MAX,
     QFLAG(QSTAT_HAS_DROPS)},
    {"syn", F_UINT, V0_2, Q(last.syn), .max = UINT32_MAX, QFLAG(QSTAT_HAS_SYN)},
    {"sampled_at", F_INT, V0_2, Q(sampled_at), .max = INT64_MAX},
    {"wait_max_ms", F_UINT, V0_3, AQ(wait_max_ms), .max = UINT32_MAX},
    {"idle", F_UINT, V0_3, AQ(idle), .max = UINT32_MAX},
    {"abandoned", F_UINT, V0_3, AQ(abandoned), .max = UINT64_MAX},
};
ROWS_FIT(queue_rows);
static const struct schema queue_schema =
    SCHEMA(queue_rows, struct snap_listener);

#define L(m) AT(struct snap_listener, m)
static const struct field listener_rows[] = {
    {"key", F_STRING, V0_1, L(key), .max = MAX_STRING},
    {"fd", F_INT, V0_1, L(fd), .min = -1, .max = INT_MAX},
    {"type", F_KIND, V0_1, L(kind), .max = 15},
    {"origin", F_NAME, V0_2, L(origin), .dflt = "bound"},
    {"fdname", F_STRING, V0_2, L(fdname), .max = MAX_STRING, .null = N_ZERO},
    {"port", F_INT, V0_3, L(port), .min = 1, .max = 65535, .null = N_NONPOS},
    /* the settings first, the figures that change last */
    {"options", F_HOOK, V0_2, L(options),
     .aux = offsetof(struct snap_listener, arg)},
    {"inode", F_UINT, V0_2, L(inode), .max = UINT64_MAX, .null = N_ZERO},
    {"queue", F_OBJECT, V0_2, 0, sizeof(struct snap_listener),
     .sub = &queue_schema, .bit = 1,
     .flag = offsetof(struct snap_listener, has_queue)},
};
ROWS_FIT(listener_rows);
static const struct schema listener_schema =
    SCHEMA(listener_rows, struct snap_listener);

/* A restart's receipt (snapshot.h, receipt.h): each listener, then the
 * listeners summed and the namespace's counters. */
#define RL(m) AT(struct snap_receipt_listener, m)
static const struct field receipt_listener_rows[] = {
    {"key", F_STRING, V0_3, RL(key), .max = MAX_STRING},
    {"dropped", F_UINT, V0_3, RL(dropped), .max = UINT64_MAX},
    {"abandoned", F_UINT, V0_3, RL(abandoned), .max = UINT64_MAX},
    {"cut", F_UINT, V0_3, RL(cut), .max = UINT64_MAX},
    {"total", F_UINT, V0_3, RL(total), .max = UINT64_MAX},
    {"queue_peak", F_UINT, V0_3, RL(queue_peak), .max = UINT32_MAX},
    {"wait_max_ms", F_UINT, V0_3, RL(wait_max_ms), .max = UINT32_MAX},
};
ROWS_FIT(receipt_listener_rows);
static const struct schema receipt_listener_schema =
    SCHEMA(receipt_listener_rows, struct snap_receipt_listener);

#define R(m) AT(struct snap_receipt, m)
static const struct field receipt_rows[] = {
    {"id", F_UINT, V0_3, R(id), .max = ULONG_MAX},
    {"trigger", F_STRING, V0_3, R(trigger), .max = 255, .null = N_ZERO},
    {"generation", F_UINT, V0_3, R(generation), .max = ULONG_MAX},
    {"previous", F_UINT, V0_3, R(previous), .max = ULONG_MAX, .null = N_ZERO},
    {"started_at", F_TIME, V0_3, R(started_at), .max = TIME_MAX},
    {"ready_at", F_TIME, V0_3, R(ready_at), .max = TIME_MAX, .null = N_NEG},
    {"finished_at", F_TIME, V0_3, R(finished_at), .max = TIME_MAX,
     .null = N_NEG},
    {"duration", F_SECS, V0_3, R(duration), .max = SECS_MAX},
    {"outcome", F_STRING, V0_3, R(outcome), .max = 15, .dflt = "in_progress"},
    {"dropped", F_UINT, V0_3, R(dropped), .max = UINT64_MAX},
    {"abandoned", F_UINT, V0_3, R(abandoned), .max = UINT64_MAX},
    {"cut", F_UINT, V0_3, R(cut), .max = UINT64_MAX},
    {"total", F_UINT, V0_3, R(total), .max = UINT64_MAX},
    {"reset", F_UINT, V0_3, R(reset), .max = UINT64_MAX},
    {"abort_on_close", F_UINT, V0_3, R(abort_on_close), .max = UINT64_MAX},
    {"listen_overflows", F_UINT, V0_3, R(listen_overflows), .max = UINT64_MAX},
    {"listen_drops", F_UINT, V0_3, R(listen_drops), .max = UINT64_MAX},
    {"queue_peak", F_UINT, V0_3, R(queue_peak), .max = UINT32_MAX},
    {"wait_max_ms", F_UINT, V0_3, R(wait_max_ms), .max = UINT32_MAX},
    {"listeners", F_ARRAY, V0_3, R(l), .max = MAX_ITEMS,
     .aux = offsetof(struct snap_receipt, nl), .sub = &receipt_listener_schema},
};
ROWS_FIT(receipt_rows);
static const struct schema receipt_schema =
    SCHEMA(receipt_rows, struct snap_receipt);

#define T(m) AT(struct snapshot, m)
static const struct field failure_rows[] = {
    {"generation", F_UINT, V0_1, T(fail_gen), .max = ULONG_MAX},
    {"time", F_TIME, V0_1, T(fail_time), .max = TIME_MAX},
    {"reason", F_STRING, V0_1, T(fail_reason), .max = MAX_STRING},
};
ROWS_FIT(failure_rows);
/* last_failure's members live in struct snapshot itself (off 0) */
static const struct schema failure_schema =
    SCHEMA(failure_rows, struct snapshot);

/* The connections finished restarts lost since baton started, by reason
 * (members of struct snapshot itself, off 0). */
static const struct field lost_rows[] = {
    {"dropped", F_UINT, V0_3, T(lost_dropped), .max = UINT64_MAX},
    {"abandoned", F_UINT, V0_3, T(lost_abandoned), .max = UINT64_MAX},
    {"cut", F_UINT, V0_3, T(lost_cut), .max = UINT64_MAX},
};
ROWS_FIT(lost_rows);
static const struct schema lost_schema = SCHEMA(lost_rows, struct snapshot);

/* The supervisor's deadlines: null all three when not known. */
#define DEADLINE(n, m)                                                         \
	{                                                                      \
		n, F_SECS, V0_2, T(m),                                         \
		    .max = SECS_MAX, .null = N_NEG, .bit = 1,                  \
		    .flag = offsetof(struct snapshot, has_deadlines)           \
	}
static const struct field top_rows[] = {
    {"pid", F_INT, V0_1, T(pid), .min = 1, .max = INT_MAX},
    {"restarts", F_UINT, V0_1, T(restarts), .max = ULONG_MAX},
    {"restart_pending", F_BOOL, V0_1, T(restart_pending), .max = 1},
    {"retrying", F_BOOL, V0_2, T(retrying), .max = 1},
    {"retry_at", F_TIME, V0_2, T(retry_at), .max = TIME_MAX, .null = N_NONPOS},
    {"stop_timeout", F_INT, V0_1, T(stop_timeout), .max = LONG_MAX},
    DEADLINE("interval", interval),
    DEADLINE("ready_timeout", ready_timeout),
    DEADLINE("kill_old_delay", kill_old_delay),
    {"stopping", F_BOOL, V0_1, T(stopping), .max = 1},
    {"last_generation", F_UINT, V0_1, T(last_generation), .max = ULONG_MAX},
    {"restarts_served", F_UINT, V0_2, T(served), .max = ULONG_MAX},
    {"restarts_rolled_back", F_UINT, V0_2, T(rolled_back), .max = ULONG_MAX},
    {"listeners", F_ARRAY, V0_1, T(ls), .max = MAX_ITEMS,
     .aux = offsetof(struct snapshot, nls), .sub = &listener_schema},
    {"generations", F_ARRAY, V0_1, T(gens), .max = MAX_ITEMS,
     .aux = offsetof(struct snapshot, ngens), .sub = &gen_schema},
    /* before last_failure: scripts read it as the last member */
    {"restart_lost", F_OBJECT, V0_3, 0, sizeof(struct snapshot),
     .sub = &lost_schema, .bit = 1,
     .flag = offsetof(struct snapshot, has_lost)},
    {"receipts", F_ARRAY, V0_3, T(receipts), .max = MAX_ITEMS,
     .aux = offsetof(struct snapshot, nreceipts), .sub = &receipt_schema},
    {"last_failure", F_OBJECT, V0_1, 0, sizeof(struct snapshot),
     .sub = &failure_schema, .bit = 1,
     .flag = offsetof(struct snapshot, has_failure)},
};
ROWS_FIT(top_rows);
static const struct schema top_schema = SCHEMA(top_rows, struct snapshot);

/* ---- access through a row ---------------------------------------------- */

static const void *
get_ptr(const char *p)
{
	const void *v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static unsigned *
flag_word(const struct field *r, char *obj)
{
	return (unsigned *)(void *)(obj + r->flag);
}

/* An integer member, widened (F_INT, F_UINT: 4 or 8 bytes). */
static long long
get_int(const struct field *r, const char *p)
{
	int32_t i4;
	int64_t i8;

	if (r->size == sizeof(i4)) {
		memcpy(&i4, p, sizeof(i4));
		return i4;
	}
	memcpy(&i8, p, sizeof(i8));
	return i8;
}

static unsigned long long
get_uint(const struct field *r, const char *p)
{
	uint32_t u4;
	uint64_t u8;

	if (r->size == sizeof(u4)) {
		memcpy(&u4, p, sizeof(u4));
		return u4;
	}
	memcpy(&u8, p, sizeof(u8));
	return u8;
}

static void
set_int(const struct field *r, char *p, long long v)
{
	int32_t i4 = (int32_t)v;
	int64_t i8 = v;

	if (r->size == sizeof(i4))
		memcpy(p, &i4, sizeof(i4));
	else
		memcpy(p, &i8, sizeof(i8));
}

static void
set_uint(const struct field *r, char *p, unsigned long long v)
{
	uint32_t u4 = (uint32_t)v;
	uint64_t u8 = v;

	if (r->size == sizeof(u4))
		memcpy(p, &u4, sizeof(u4));
	else
		memcpy(p, &u8, sizeof(u8));
}

/* A number row's value, as a double: for null rules only. */
static double
num_get(const struct field *r, const char *p)
{
	if (r->type == F_INT)
		return (double)get_int(r, p);
	if (r->type == F_UINT)
		return (double)get_uint(r, p);
	return *(const double *)(const void *)p;
}

static int
nullable(const struct field *r)
{
	return r->null != N_NEVER || r->bit != 0;
}

static int
is_null(const struct field *r, const char *obj)
{
	const char *p = obj + r->off;
	double v;

	if (r->bit != 0 &&
	    !(*(const unsigned *)(const void *)(obj + r->flag) & r->bit))
		return 1;
	if (r->null == N_NEVER)
		return 0;
	if (r->type == F_STRING)
		return get_ptr(p) == NULL;
	v = num_get(r, p);
	return r->null == N_ZERO ? v == 0 : r->null == N_NEG ? v < 0 : v <= 0;
}

/* ---- writer ---------------------------------------------------------------- */

static void
put_str(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', f);
	while (*s) {
		size_t n = utf8_len(s, (size_t)-1);

		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if (*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else if (n == 0) /* a worker's STATUS= may be any bytes */
			fputs(UTF8_REPLACEMENT, f);
		else {
			fwrite(s, 1, n, f);
			s += n;
			continue;
		}
		s++;
	}
	fputc('"', f);
}

static void put_object(FILE *f, const struct schema *sc, const char *obj);

static void
put_array(FILE *f, const struct field *r, const char *obj)
{
	const char *base = get_ptr(obj + r->off);
	size_t i, n;

	memcpy(&n, obj + r->aux, sizeof(n));
	fputc('[', f);
	for (i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		put_object(f, r->sub, base + i * r->sub->size);
	}
	fputc(']', f);
}

static void
put_value(FILE *f, const struct field *r, const char *obj)
{
	const void *p = obj + r->off;
	const char *s;

	switch (r->type) {
	case F_INT:
		fprintf(f, "%lld", get_int(r, p));
		break;
	case F_UINT:
		fprintf(f, "%llu", get_uint(r, p));
		break;
	case F_TIME:
		fprintf(f, "%.3f", *(const double *)p);
		break;
	case F_SECS:
		fprintf(f, "%.15g", *(const double *)p);
		break;
	case F_BOOL:
		fputs(*(const int *)p ? "true" : "false", f);
		break;
	case F_STRING:
		s = get_ptr(p);
		put_str(f, s ? s : r->dflt ? r->dflt : "");
		break;
	case F_NAME:
		s = p;
		put_str(f, s[0] != '\0' || r->dflt == NULL ? s : r->dflt);
		break;
	case F_STATE:
		put_str(f, gen_state_name(*(const enum gen_state *)p));
		break;
	case F_KIND:
		put_str(f, qstat_kind_name(*(const enum qstat_kind *)p));
		break;
	case F_OBJECT:
		put_object(f, r->sub, p);
		break;
	case F_ARRAY:
		put_array(f, r, obj);
		break;
	case F_HOOK:
		break;
	}
}

/* The callback of an F_HOOK row writes ",members" (never first). */
static void
put_hook(FILE *f, const struct field *r, const char *obj)
{
	void (*fn)(FILE *, const void *);

	memcpy(&fn, obj + r->off, sizeof(fn));
	if (fn != NULL) {
		fputc(',', f);
		fn(f, get_ptr(obj + r->aux));
	}
}

static void
put_object(FILE *f, const struct schema *sc, const char *obj)
{
	size_t i;

	fputc('{', f);
	for (i = 0; i < sc->n; i++) {
		const struct field *r = &sc->f[i];

		if (r->type == F_HOOK) {
			put_hook(f, r, obj);
			continue;
		}
		fputs(i ? ",\"" : "\"", f);
		fputs(r->name, f);
		fputs("\":", f);
		if (is_null(r, obj))
			fputs("null", f);
		else
			put_value(f, r, obj);
	}
	fputc('}', f);
}

int
status_json_write(FILE *f, const struct snapshot *s)
{
	put_object(f, &top_schema, (const char *)s);
	fputc('\n', f);
	return ferror(f) ? -1 : 0;
}

char *
status_json_format(const struct snapshot *s, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	int r;

	if (f == NULL)
		return NULL;
	r = status_json_write(f, s);
	if (fclose(f) != 0 || r < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ---- reader: JSON tokens ------------------------------------------------ */

struct jp {
	const char *start, *p;
	char *err;
	size_t errlen;
	int depth;
	/* the key being read, for messages: the rows' names and the array
	 * indexes on the way down ("listeners[0].queue.len") */
	struct {
		const char *name; /* NULL: an array index */
		size_t index;
	} path[MAX_DEPTH];
	size_t npath;
};

static int
fail(struct jp *j, const char *what)
{
	char path[256] = "";
	size_t i, len = 0;

	for (i = 0; i < j->npath && len < sizeof(path); i++) {
		int n = j->path[i].name != NULL
		            ? snprintf(path + len, sizeof(path) - len, "%s%s",
		                       i ? "." : "", j->path[i].name)
		            : snprintf(path + len, sizeof(path) - len, "[%zu]",
		                       j->path[i].index);

		len += n > 0 ? (size_t)n : 0;
	}
	snprintf(j->err, j->errlen, "%s%s%s at offset %ld", path,
	         path[0] != '\0' ? ": " : "", what, (long)(j->p - j->start));
	return -1;
}

/* Enter a row (name) or an array's element (name NULL, index); the depth
 * before, for path_pop. Deeper than MAX_DEPTH, nothing is read. */
static size_t
path_push(struct jp *j, const char *name, size_t index)
{
	if (j->npath < MAX_DEPTH) {
		j->path[j->npath].name = name;
		j->path[j->npath].index = index;
	}
	return j->npath++;
}

static void
path_pop(struct jp *j, size_t depth)
{
	j->npath = depth;
}

static void
ws(struct jp *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

static int
literal(struct jp *j, const char *word)
{
	size_t n = strlen(word);

	if (strncmp(j->p, word, n) != 0)
		return 0;
	j->p += n;
	return 1;
}

static int
hex4(const char *p, unsigned *v)
{
	int i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		char c = p[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -1;
		*v = *v << 4 | d;
	}
	return 0;
}

/* A \uXXXX escape (a surrogate pair takes two) at j->p, just past the
 * backslash and 'u', as UTF-8 into out (4 bytes room). */
static int
unicode_escape(struct jp *j, char *out, size_t *n)
{
	unsigned cp, lo;

	if (hex4(j->p, &cp) < 0)
		return fail(j, "bad \\u escape");
	j->p += 4;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return fail(j, "lone surrogate in a \\u escape");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (j->p[0] != '\\' || j->p[1] != 'u' ||
		    hex4(j->p + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
			return fail(j, "lone surrogate in a \\u escape");
		j->p += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (cp == 0)
		return fail(j, "\\u0000 in a string");
	if (cp < 0x80) {
		out[0] = (char)cp;
		*n = 1;
	} else if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		*n = 2;
	} else if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		*n = 3;
	} else {
		out[0] = (char)(0xf0 | cp >> 18);
		out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[3] = (char)(0x80 | (cp & 0x3f));
		*n = 4;
	}
	return 0;
}

/* One character (or escape) of a string at j->p into out; n its length. */
static int
string_char(struct jp *j, char *out, size_t *n)
{
	static const char esc[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
	const unsigned char c = (unsigned char)*j->p;
	size_t i;

	if (c == '\0')
		return fail(j, "unterminated string");
	if (c < 0x20)
		return fail(j, "control character in a string");
	if (c != '\\') {
		*n = utf8_len((const unsigned char *)j->p, (size_t)-1);
		if (*n == 0)
			return fail(j, "invalid UTF-8 in a string");
		memcpy(out, j->p, *n);
		j->p += *n;
		return 0;
	}
	j->p++;
	if (*j->p == 'u') {
		j->p++;
		return unicode_escape(j, out, n);
	}
	for (i = 0; esc[i]; i += 2)
		if (*j->p != '\0' && esc[i] == *j->p) {
			out[0] = esc[i + 1];
			*n = 1;
			j->p++;
			return 0;
		}
	return fail(j, "bad escape in a string");
}

/* A string into *out (malloc'd; NULL out: checked and dropped). */
static int
parse_string(struct jp *j, char **out)
{
	char *buf, *nb, ch[4];
	size_t len = 0, cap = 64, n = 0;

	if (*j->p != '"')
		return fail(j, "expected a string");
	j->p++;
	if ((buf = malloc(cap)) == NULL)
		return fail(j, "out of memory");
	while (*j->p != '"') {
		if (string_char(j, ch, &n) < 0)
			goto bad;
		if (len + n + 1 > cap) {
			if (cap >= MAX_STRING) {
				fail(j, "string too long");
				goto bad;
			}
			cap *= 2;
			if ((nb = realloc(buf, cap)) == NULL) {
				fail(j, "out of memory");
				goto bad;
			}
			buf = nb;
		}
		memcpy(buf + len, ch, n);
		len += n;
	}
	j->p++;
	buf[len] = '\0';
	if (out)
		*out = buf;
	else
		free(buf);
	return 0;
bad:
	free(buf);
	return -1;
}

/* A short string into a fixed buffer: lower-case letters only (states,
 * listener types), so a name never needs escaping. */
static int
parse_name(struct jp *j, char *out, size_t size)
{
	char *s;
	size_t i;

	if (parse_string(j, &s) < 0)
		return -1;
	for (i = 0; s[i]; i++)
		if (s[i] < 'a' || s[i] > 'z')
			break;
	if (s[i] != '\0' || i == 0 || i >= size) {
		free(s);
		return fail(j, "not a known kind of name");
	}
	memcpy(out, s, i + 1);
	free(s);
	return 0;
}

/* A JSON number token into tok; *integral when it has no fraction or
 * exponent. */
static int
number_token(struct jp *j, char *tok, size_t size, int *integral)
{
	const char *b = j->p, *p = j->p;

	*integral = 1;
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return fail(j, "expected a number");
	if (*p == '.') {
		*integral = 0;
		if (*++p < '0' || *p > '9')
			return fail(j, "bad number");
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		*integral = 0;
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (*p < '0' || *p > '9')
			return fail(j, "bad number");
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if ((size_t)(p - b) >= size)
		return fail(j, "number too long");
	memcpy(tok, b, (size_t)(p - b));
	tok[p - b] = '\0';
	j->p = p;
	return 0;
}

static int
parse_bool(struct jp *j, int *v)
{
	if (literal(j, "true"))
		*v = 1;
	else if (literal(j, "false"))
		*v = 0;
	else
		return fail(j, "expected true or false");
	return 0;
}

/* A number for row r into p: whole for the integer types, within
 * [r->min, r->max] (which lie within the C type's range). */
static int
read_number(struct jp *j, const struct field *r, char *p)
{
	char tok[64];
	int integral, real = r->type == F_TIME || r->type == F_SECS;
	int is_signed = r->type == F_INT;
	unsigned long long u = 0;
	long long s = 0;
	double d;

	if (number_token(j, tok, sizeof(tok), &integral) < 0)
		return -1;
	if (!real && !integral)
		return fail(j, "expected a whole number");
	errno = 0;
	if (real)
		d = strtod(tok, NULL);
	else if (is_signed || tok[0] == '-')
		d = (double)(s = strtoll(tok, NULL, 10));
	else
		d = (double)(u = strtoull(tok, NULL, 10));
	if (errno == ERANGE || !(d >= r->min && d <= r->max))
		return fail(j, "number out of range");
	/* a row's bounds wider than its member would be a bug: refuse */
	if (!real && r->size == sizeof(int32_t) &&
	    (is_signed ? s < INT32_MIN || s > INT32_MAX : u > UINT32_MAX))
		return fail(j, "number out of range");
	if (r->type == F_INT)
		set_int(r, p, s);
	else if (r->type == F_UINT)
		set_uint(r, p, u);
	else
		*(double *)(void *)p = d;
	return 0;
}

/* A string for row r (malloc'd) into the pointer at p. */
static int
read_string(struct jp *j, const struct field *r, char *p)
{
	char *s;

	if (parse_string(j, &s) < 0)
		return -1;
	if ((double)strlen(s) > r->max) {
		free(s);
		return fail(j, "string too long");
	}
	memcpy(p, &s, sizeof(s));
	return 0;
}

/* A state or a listener type, by its name. */
static int
read_enum(struct jp *j, const struct field *r, char *p)
{
	char name[32];

	if (parse_name(j, name, (size_t)r->max + 1) < 0)
		return -1;
	if (r->type == F_STATE) {
		/* a newer writer's state is GEN_UNKNOWN, not an error */
		*(enum gen_state *)(void *)p = gen_state_parse(name);
		return 0;
	}
	if (qstat_kind_parse(name, (enum qstat_kind *)(void *)p) < 0)
		return fail(j, "unknown listener type");
	return 0;
}

typedef int (*elem_fn)(struct jp *j, void *ctx, size_t index);

static int skip_value(struct jp *j);
static int parse_object(struct jp *j, const struct schema *sc, char *obj,
                        enum version since);

static int
skip_elem(struct jp *j, void *ctx, size_t index)
{
	(void)ctx;
	(void)index;
	return skip_value(j);
}

/* An array of at most max items, each read by fn. */
static int
parse_array(struct jp *j, size_t max, elem_fn fn, void *ctx)
{
	size_t n = 0;

	if (*j->p != '[')
		return fail(j, "expected an array");
	if (++j->depth > MAX_DEPTH)
		return fail(j, "nested too deeply");
	j->p++;
	ws(j);
	if (*j->p == ']') {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		if (n >= max)
			return fail(j, "too many items in an array");
		ws(j);
		if (fn(j, ctx, n++) < 0)
			return -1;
		ws(j);
		if (*j->p == ']')
			break;
		if (*j->p != ',')
			return fail(j, "expected ',' or ']'");
		j->p++;
	}
	j->p++;
	j->depth--;
	return 0;
}

struct array_ctx {
	const struct field *r;
	char *obj;
};

/* One element of an F_ARRAY row: room for it, zeroed and counted before
 * it is read, so status_json_free() frees a half-read one. */
static int
array_elem(struct jp *j, void *ctx, size_t index)
{
	const struct array_ctx *a = ctx;
	size_t size = a->r->sub->size,
	       *n = (size_t *)(void *)(a->obj + a->r->aux);
	char *arr, *elem;
	size_t len;
	int rc;

	memcpy(&arr, a->obj + a->r->off, sizeof(arr));
	if ((arr = realloc(arr, (*n + 1) * size)) == NULL)
		return fail(j, "out of memory");
	memcpy(a->obj + a->r->off, &arr, sizeof(arr));
	elem = arr + (*n)++ * size;
	memset(elem, 0, size);
	len = path_push(j, NULL, index);
	rc = parse_object(j, a->r->sub, elem, a->r->since);
	path_pop(j, len);
	return rc;
}

/* The value of row r of the object at obj. */
static int
read_row(struct jp *j, const struct field *r, char *obj)
{
	struct array_ctx a = {r, obj};
	char *p = obj + r->off;
	int rc;

	if (nullable(r) && literal(j, "null")) {
		if (r->null == N_NEG)
			*(double *)(void *)p = -1;
		return 0;
	}
	switch (r->type) {
	case F_BOOL:
		rc = parse_bool(j, (int *)(void *)p);
		break;
	case F_STRING:
		rc = read_string(j, r, p);
		break;
	case F_NAME:
		rc = parse_name(j, p, r->size);
		break;
	case F_STATE:
	case F_KIND:
		rc = read_enum(j, r, p);
		break;
	case F_OBJECT:
		rc = parse_object(j, r->sub, p, r->since);
		break;
	case F_ARRAY:
		rc = parse_array(j, (size_t)r->max, array_elem, &a);
		break;
	case F_HOOK:
		rc = skip_value(j);
		break;
	default:
		rc = read_number(j, r, p);
	}
	if (rc == 0 && r->bit != 0)
		*flag_word(r, obj) |= r->bit;
	return rc;
}

/* A member's key and its ':': the row's index in sc, -1 for a key sc
 * does not have (skipped), -2 on an error. */
static int
member_key(struct jp *j, const struct schema *sc, uint64_t *seen)
{
	char *key, msg[96];
	size_t k;

	if (parse_string(j, &key) < 0)
		return -2;
	for (k = 0; sc != NULL && k < sc->n; k++)
		if (sc->f[k].type != F_HOOK && strcmp(sc->f[k].name, key) == 0)
			break;
	free(key);
	if (sc == NULL || k == sc->n)
		k = SIZE_MAX;
	else if (*seen & (uint64_t)1 << k) {
		snprintf(msg, sizeof(msg), "duplicate key \"%s\"",
		         sc->f[k].name);
		return fail(j, msg) - 1;
	} else
		*seen |= (uint64_t)1 << k;
	ws(j);
	if (*j->p != ':')
		return fail(j, "expected ':'") - 1;
	j->p++;
	ws(j);
	return k == SIZE_MAX ? -1 : (int)k;
}

/* Every row as old as the object (since) was there. */
static int
check_required(struct jp *j, const struct schema *sc, uint64_t seen,
               enum version since)
{
	char msg[96];
	size_t k;

	for (k = 0; k < sc->n; k++)
		if (!(seen & (uint64_t)1 << k) && sc->f[k].type != F_HOOK &&
		    sc->f[k].since <= since) {
			snprintf(msg, sizeof(msg), "missing key \"%s\"",
			         sc->f[k].name);
			return fail(j, msg);
		}
	return 0;
}

/* An object of the table sc into obj (zeroed by the caller), or with sc
 * NULL an object skipped whole. Keys sc does not have are skipped. */
static int
parse_object(struct jp *j, const struct schema *sc, char *obj,
             enum version since)
{
	uint64_t seen = 0;
	size_t len;
	int k;

	ws(j);
	if (*j->p != '{')
		return fail(j, "expected an object");
	if (++j->depth > MAX_DEPTH)
		return fail(j, "nested too deeply");
	j->p++;
	ws(j);
	if (*j->p == '}')
		j->p++;
	else
		for (;;) {
			if ((k = member_key(j, sc, &seen)) < -1)
				return -1;
			if (k < 0) {
				if (skip_value(j) < 0)
					return -1;
			} else {
				len = path_push(j, sc->f[k].name, 0);
				if (read_row(j, &sc->f[k], obj) < 0)
					return -1;
				path_pop(j, len);
			}
			ws(j);
			if (*j->p == '}') {
				j->p++;
				break;
			}
			if (*j->p != ',')
				return fail(j, "expected ',' or '}'");
			j->p++;
			ws(j);
		}
	j->depth--;
	return sc != NULL ? check_required(j, sc, seen, since) : 0;
}

static int
skip_value(struct jp *j)
{
	char tok[64];
	int integral;

	switch (*j->p) {
	case '{':
		return parse_object(j, NULL, NULL, OLDEST);
	case '[':
		return parse_array(j, MAX_ITEMS, skip_elem, NULL);
	case '"':
		return parse_string(j, NULL);
	case 't':
	case 'f':
	case 'n':
		if (literal(j, "true") || literal(j, "false") ||
		    literal(j, "null"))
			return 0;
		return fail(j, "unexpected word");
	default:
		return number_token(j, tok, sizeof(tok), &integral);
	}
}

/* ---- reader: the file ----------------------------------------------------- */

int
status_json_parse(const char *text, struct snapshot *out, char *err,
                  size_t errlen)
{
	struct jp j = {text, text, err, errlen, 0, {{NULL, 0}}, 0};

	memset(out, 0, sizeof(*out));
	if (strlen(text) > MAX_TEXT) {
		snprintf(err, errlen, "status JSON too long");
		return -1;
	}
	ws(&j);
	/* -1 until read: null or absent leaves it so */
	out->interval = out->ready_timeout = out->kill_old_delay = -1;
	if (parse_object(&j, &top_schema, (char *)out, OLDEST) < 0)
		goto bad;
	/* the deadlines are a set: an older writer wrote none of them;
	 * without interval and kill_old_delay none is known */
	out->has_deadlines = out->interval >= 0 && out->kill_old_delay >= 0;
	if (!out->has_deadlines)
		out->interval = out->ready_timeout = out->kill_old_delay = 0;
	ws(&j);
	if (*j.p != '\0') {
		fail(&j, "text after the JSON object");
		goto bad;
	}
	return 0;
bad:
	status_json_free(out);
	return -1;
}

/* The strings and arrays a parse malloc'd, by the table. */
static void
free_object(const struct schema *sc, char *obj)
{
	size_t i, k, n;
	char *p;

	for (i = 0; i < sc->n; i++) {
		const struct field *r = &sc->f[i];

		if (r->type == F_OBJECT)
			free_object(r->sub, obj + r->off);
		if (r->type != F_STRING && r->type != F_ARRAY)
			continue;
		memcpy(&p, obj + r->off, sizeof(p));
		if (r->type == F_ARRAY) {
			memcpy(&n, obj + r->aux, sizeof(n));
			for (k = 0; p != NULL && k < n; k++)
				free_object(r->sub, p + k * r->sub->size);
		}
		free(p);
	}
}

void
status_json_free(struct snapshot *s)
{
	free_object(&top_schema, (char *)s);
	memset(s, 0, sizeof(*s));
}

/* ---- the schema, for tests and documentation --------------------------- */

static int
key_walk(const struct schema *sc, enum version held, const char *prefix,
         size_t *i, struct status_json_key *out)
{
	char sub[128];
	size_t k;

	for (k = 0; k < sc->n; k++) {
		const struct field *r = &sc->f[k];

		if (r->type == F_HOOK)
			continue;
		if ((*i)-- == 0) {
			snprintf(out->path, sizeof(out->path), "%s%s", prefix,
			         r->name);
			out->name = r->name;
			out->since = version_names[r->since];
			out->required = r->since <= held;
			return 0;
		}
		if (r->sub == NULL)
			continue;
		snprintf(sub, sizeof(sub), "%s%s.", prefix, r->name);
		if (key_walk(r->sub, r->since, sub, i, out) == 0)
			return 0;
	}
	return -1;
}

int
status_json_key(size_t i, struct status_json_key *out)
{
	return key_walk(&top_schema, OLDEST, "", &i, out);
}
