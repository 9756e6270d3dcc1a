/* SPDX-License-Identifier: ISC */
/* statusjson.c: the JSON status file: writer and a strict, bounded reader
 * for exactly its schema (the s6 svstatus pack/unpack model). */
#include "config.h"

#include <errno.h>
#include <limits.h>
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

/* ---- writer ----------------------------------------------------------- */

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

static const char *
tf(int b)
{
	return b ? "true" : "false";
}

/* A number of seconds, or null when not known (ok 0): %.15g keeps what
 * an option said (0.5, 60) without trailing zeros. */
static void
put_secs(FILE *f, const char *key, int ok, double v)
{
	if (ok)
		fprintf(f, "\"%s\":%.15g,", key, v);
	else
		fprintf(f, "\"%s\":null,", key);
}

static void
put_gen(FILE *f, const struct snap_gen *g)
{
	size_t i;

	fputs("{\"generation\":", f);
	fprintf(f, "%lu,\"state\":", g->id);
	put_str(f, gen_state_name(g->state));
	fprintf(f, ",\"started\":%.3f,\"ready\":", g->started);
	if (g->ready_at >= 0)
		fprintf(f, "%.3f", g->ready_at);
	else
		fputs("null", f);
	fputs(",\"workers\":[", f);
	for (i = 0; i < g->nw; i++) {
		const struct snap_worker *w = &g->w[i];

		fprintf(f,
		        "%s{\"index\":%d,\"pid\":%ld,\"alive\":%s,"
		        "\"ready\":%s,\"status\":",
		        i ? "," : "", w->index, w->pid, tf(w->alive),
		        tf(w->ready));
		if (w->status)
			put_str(f, w->status);
		else
			fputs("null", f);
		fputc('}', f);
	}
	fputs("]}", f);
}

static void
put_queue(FILE *f, const struct snap_listener *l)
{
	char q[512];

	if (l->inode)
		fprintf(f, ",\"inode\":%llu", (unsigned long long)l->inode);
	else
		fputs(",\"inode\":null", f);
	fputs(",\"queue\":", f);
	if (l->has_queue && qstat_json(q, sizeof(q), &l->queue) > 0)
		fputs(q, f);
	else
		fputs("null", f);
}

int
status_json_write(FILE *f, const struct snapshot *s)
{
	size_t i;

	fprintf(f, "{\"pid\":%ld,\"restarts\":%lu,\"restart_pending\":%s,",
	        s->pid, s->restarts, tf(s->restart_pending));
	fprintf(f, "\"retrying\":%s,", tf(s->retrying));
	if (s->retry_at > 0)
		fprintf(f, "\"retry_at\":%.3f,", s->retry_at);
	else
		fputs("\"retry_at\":null,", f);
	fprintf(f, "\"stop_timeout\":%ld,", s->stop_timeout);
	put_secs(f, "interval", s->has_deadlines, s->interval);
	put_secs(f, "ready_timeout", s->has_deadlines && s->ready_timeout >= 0,
	         s->ready_timeout);
	put_secs(f, "kill_old_delay", s->has_deadlines, s->kill_old_delay);
	fprintf(f, "\"stopping\":%s,\"last_generation\":%lu,", tf(s->stopping),
	        s->last_generation);
	fprintf(f, "\"restarts_served\":%lu,\"restarts_rolled_back\":%lu,",
	        s->served, s->rolled_back);
	fputs("\"listeners\":[", f);
	for (i = 0; i < s->nls; i++) {
		const struct snap_listener *l = &s->ls[i];

		fprintf(f, "%s{\"key\":", i ? "," : "");
		put_str(f, l->key);
		fprintf(f, ",\"fd\":%d,\"type\":", l->fd);
		put_str(f, qstat_kind_name(l->kind));
		fputs(",\"origin\":", f);
		put_str(f, l->origin[0] ? l->origin : "bound");
		fputs(",\"fdname\":", f);
		if (l->fdname)
			put_str(f, l->fdname);
		else
			fputs("null", f);
		if (l->port > 0)
			fprintf(f, ",\"port\":%d", l->port);
		else
			fputs(",\"port\":null", f);
		/* the settings first, the figures that change last */
		if (l->options) {
			fputc(',', f);
			l->options(f, l->arg);
		}
		put_queue(f, l);
		fputc('}', f);
	}
	fputs("],\"generations\":[", f);
	for (i = 0; i < s->ngens; i++) {
		if (i)
			fputc(',', f);
		put_gen(f, &s->gens[i]);
	}
	fputs("],\"last_failure\":", f);
	if (s->has_failure) {
		fprintf(f, "{\"generation\":%lu,\"time\":%.3f,\"reason\":",
		        s->fail_gen, s->fail_time);
		put_str(f, s->fail_reason ? s->fail_reason : "");
		fputc('}', f);
	} else
		fputs("null", f);
	fputs("}\n", f);
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
};

static int
fail(struct jp *j, const char *what)
{
	snprintf(j->err, j->errlen, "%s at offset %ld", what,
	         (long)(j->p - j->start));
	return -1;
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
	size_t len = 0, cap = 64, n;

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
parse_ulong(struct jp *j, unsigned long *v)
{
	char tok[64];
	int integral;

	if (number_token(j, tok, sizeof(tok), &integral) < 0)
		return -1;
	if (!integral || tok[0] == '-')
		return fail(j, "expected a whole number >= 0");
	errno = 0;
	*v = strtoul(tok, NULL, 10);
	if (errno == ERANGE)
		return fail(j, "number out of range");
	return 0;
}

static int
parse_long(struct jp *j, long *v, long min, long max)
{
	char tok[64];
	int integral;

	if (number_token(j, tok, sizeof(tok), &integral) < 0)
		return -1;
	if (!integral)
		return fail(j, "expected a whole number");
	errno = 0;
	*v = strtol(tok, NULL, 10);
	if (errno == ERANGE || *v < min || *v > max)
		return fail(j, "number out of range");
	return 0;
}

static int
parse_int(struct jp *j, int *v, int min)
{
	long l;

	if (parse_long(j, &l, min, INT_MAX) < 0)
		return -1;
	*v = (int)l;
	return 0;
}

static int
parse_double(struct jp *j, double *v)
{
	char tok[64];
	int integral;

	if (number_token(j, tok, sizeof(tok), &integral) < 0)
		return -1;
	*v = strtod(tok, NULL);
	return 0;
}

/* A number >= 0, or null (*v unchanged): the deadlines and retry_at. */
static int
parse_opt_secs(struct jp *j, double *v)
{
	double d;

	if (literal(j, "null"))
		return 0;
	if (parse_double(j, &d) < 0)
		return -1;
	if (!(d >= 0))
		return fail(j, "expected a number of seconds >= 0");
	*v = d;
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

/* ---- reader: structure ------------------------------------------------- */

typedef int (*member_fn)(struct jp *j, int key, void *ctx);
typedef int (*elem_fn)(struct jp *j, void *ctx);

static int skip_value(struct jp *j);

static int
skip_member(struct jp *j, int key, void *ctx)
{
	(void)key;
	(void)ctx;
	return skip_value(j);
}

static int
skip_elem(struct jp *j, void *ctx)
{
	(void)ctx;
	return skip_value(j);
}

/* A member's key and its ':': the key's index in keys, -1 for an unknown
 * key (skipped), -2 on an error. */
static int
member_key(struct jp *j, const char *const *keys, unsigned *seen)
{
	char *key, msg[96];
	int k;

	if (parse_string(j, &key) < 0)
		return -2;
	for (k = 0; keys && keys[k]; k++)
		if (strcmp(keys[k] + (keys[k][0] == '?'), key) == 0)
			break;
	if (keys == NULL || keys[k] == NULL)
		k = -1;
	else if (*seen & 1U << k) {
		snprintf(msg, sizeof(msg), "duplicate key \"%s\"", keys[k]);
		free(key);
		return fail(j, msg) - 1;
	} else
		*seen |= 1U << k;
	free(key);
	ws(j);
	if (*j->p != ':')
		return fail(j, "expected ':'") - 1;
	j->p++;
	ws(j);
	return k;
}

/* An object whose members named in keys (NULL-terminated) go to fn;
 * every key is required unless its bit is set in optional or it is
 * written "?name" (a key an older writer did not write). Other members
 * are skipped. keys NULL: skip everything. */
static int
parse_object(struct jp *j, const char *const *keys, unsigned optional,
             member_fn fn, void *ctx)
{
	unsigned seen = 0;
	char msg[96];
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
			if ((k = member_key(j, keys, &seen)) < -1)
				return -1;
			if ((k >= 0 ? fn(j, k, ctx) : skip_value(j)) < 0)
				return -1;
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
	for (k = 0; keys && keys[k]; k++)
		if (!(seen & 1U << k) && !(optional & 1U << k) &&
		    keys[k][0] != '?') {
			snprintf(msg, sizeof(msg), "missing key \"%s\"",
			         keys[k]);
			return fail(j, msg);
		}
	return 0;
}

static int
parse_array(struct jp *j, elem_fn fn, void *ctx)
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
		if (++n > MAX_ITEMS)
			return fail(j, "too many items in an array");
		ws(j);
		if (fn(j, ctx) < 0)
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

static int
skip_value(struct jp *j)
{
	char tok[64];
	int integral;

	switch (*j->p) {
	case '{':
		return parse_object(j, NULL, 0, skip_member, NULL);
	case '[':
		return parse_array(j, skip_elem, NULL);
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

/* Room for one more element of a malloc'd array, zeroed and counted
 * before it is filled, so status_json_free() frees a half-read one. */
static void *
grow(struct jp *j, void **arr, size_t *n, size_t size)
{
	char *nb = realloc(*arr, (*n + 1) * size);

	if (nb == NULL) {
		fail(j, "out of memory");
		return NULL;
	}
	memset(nb + *n * size, 0, size);
	*arr = nb;
	return nb + (*n)++ * size;
}

/* ---- reader: the schema -------------------------------------------------- */

static const char *const worker_keys[] = {"index", "pid",    "alive",
                                          "ready", "status", NULL};

static int
worker_member(struct jp *j, int key, void *ctx)
{
	struct snap_worker *w = ctx;

	switch (key) {
	case 0:
		return parse_int(j, &w->index, 0);
	case 1:
		return parse_long(j, &w->pid, 0, INT_MAX);
	case 2:
		return parse_bool(j, &w->alive);
	case 3:
		return parse_bool(j, &w->ready);
	default:
		if (literal(j, "null"))
			return 0;
		return parse_string(j, (char **)&w->status);
	}
}

static int
worker_elem(struct jp *j, void *ctx)
{
	struct snap_gen *g = ctx;
	struct snap_worker *w = grow(j, (void **)&g->w, &g->nw, sizeof(*w));

	return w ? parse_object(j, worker_keys, 0, worker_member, w) : -1;
}

static const char *const gen_keys[] = {"generation", "state",   "started",
                                       "ready",      "workers", NULL};

static int
gen_member(struct jp *j, int key, void *ctx)
{
	struct snap_gen *g = ctx;
	char name[16];

	switch (key) {
	case 0:
		return parse_ulong(j, &g->id);
	case 1:
		if (parse_name(j, name, sizeof(name)) < 0)
			return -1;
		g->state = gen_state_parse(name);
		return 0;
	case 2:
		return parse_double(j, &g->started);
	case 3:
		if (literal(j, "null")) {
			g->ready_at = -1;
			return 0;
		}
		return parse_double(j, &g->ready_at);
	default:
		return parse_array(j, worker_elem, g);
	}
}

static int
gen_elem(struct jp *j, void *ctx)
{
	struct snapshot *s = ctx;
	struct snap_gen *g = grow(j, (void **)&s->gens, &s->ngens, sizeof(*g));

	return g ? parse_object(j, gen_keys, 0, gen_member, g) : -1;
}

static const char *const queue_keys[] = {"len", "limit",      "peak", "drops",
                                         "syn", "sampled_at", NULL};

/* A figure of the queue object, or null (*has 0). */
static int
parse_opt_u64(struct jp *j, uint64_t *v, int *has)
{
	unsigned long u;

	*has = 0;
	if (literal(j, "null"))
		return 0;
	if (parse_ulong(j, &u) < 0)
		return -1;
	*v = u;
	*has = 1;
	return 0;
}

static int
queue_member(struct jp *j, int key, void *ctx)
{
	struct qstat_track *t = ctx;
	uint64_t v = 0;
	long at;
	int has;

	if (key == 5) {
		if (parse_long(j, &at, 0, LONG_MAX) < 0)
			return -1;
		t->sampled_at = at;
		return 0;
	}
	if (parse_opt_u64(j, &v, &has) < 0)
		return -1;
	if (key != 3 && v > UINT32_MAX)
		return fail(j, "queue figure out of range");
	if (!has)
		return 0;
	switch (key) {
	case 0:
		t->last.len = (uint32_t)v;
		t->last.flags |= QSTAT_HAS_QUEUE;
		break;
	case 1:
		t->last.limit = (uint32_t)v;
		break;
	case 2:
		t->peak = (uint32_t)v;
		break;
	case 3:
		t->last.drops = v;
		t->last.flags |= QSTAT_HAS_DROPS;
		break;
	default:
		t->last.syn = (uint32_t)v;
		t->last.flags |= QSTAT_HAS_SYN;
		break;
	}
	return 0;
}

static int
parse_queue(struct jp *j, struct snap_listener *l)
{
	if (literal(j, "null"))
		return 0;
	l->has_queue = 1;
	return parse_object(j, queue_keys, 0, queue_member, &l->queue);
}

static const char *const listener_keys[] = {"key",     "fd",      "type",
                                            "?origin", "?fdname", "?inode",
                                            "?queue",  "?port",   NULL};

static int
listener_member(struct jp *j, int key, void *ctx)
{
	struct snap_listener *l = ctx;
	char name[16];
	long port;

	switch (key) {
	case 0:
		return parse_string(j, (char **)&l->key);
	case 1:
		return parse_int(j, &l->fd, -1);
	case 2:
		if (parse_name(j, name, sizeof(name)) < 0)
			return -1;
		if (qstat_kind_parse(name, &l->kind) < 0)
			return fail(j, "unknown listener type");
		return 0;
	case 3:
		return parse_name(j, l->origin, sizeof(l->origin));
	case 4:
		if (literal(j, "null")) {
			l->fdname = NULL;
			return 0;
		}
		return parse_string(j, (char **)&l->fdname);
	case 5: {
		int has;

		return parse_opt_u64(j, &l->inode, &has);
	}
	case 6:
		return parse_queue(j, l);
	default:
		if (literal(j, "null")) {
			l->port = 0;
			return 0;
		}
		if (parse_long(j, &port, 1, 65535) < 0)
			return -1;
		l->port = (int)port;
		return 0;
	}
}

static int
listener_elem(struct jp *j, void *ctx)
{
	struct snapshot *s = ctx;
	struct snap_listener *l = grow(j, (void **)&s->ls, &s->nls, sizeof(*l));

	return l ? parse_object(j, listener_keys, 0, listener_member, l) : -1;
}

static const char *const failure_keys[] = {"generation", "time", "reason",
                                           NULL};

static int
failure_member(struct jp *j, int key, void *ctx)
{
	struct snapshot *s = ctx;

	switch (key) {
	case 0:
		return parse_ulong(j, &s->fail_gen);
	case 1:
		return parse_double(j, &s->fail_time);
	default:
		return parse_string(j, (char **)&s->fail_reason);
	}
}

static const char *const top_keys[] = {"pid",
                                       "restarts",
                                       "restart_pending",
                                       "stop_timeout",
                                       "stopping",
                                       "last_generation",
                                       "listeners",
                                       "generations",
                                       "last_failure",
                                       "retrying",
                                       "retry_at",
                                       "interval",
                                       "ready_timeout",
                                       "kill_old_delay",
                                       "restarts_served",
                                       "restarts_rolled_back",
                                       NULL};
/* Keys 9 and up: later additions, absent from older versions' files. */
#define TOP_OPTIONAL (~0U << 9)

static int
top_member(struct jp *j, int key, void *ctx)
{
	struct snapshot *s = ctx;

	switch (key) {
	case 0:
		return parse_long(j, &s->pid, 1, INT_MAX);
	case 1:
		return parse_ulong(j, &s->restarts);
	case 2:
		return parse_bool(j, &s->restart_pending);
	case 3:
		return parse_long(j, &s->stop_timeout, 0, LONG_MAX);
	case 4:
		return parse_bool(j, &s->stopping);
	case 5:
		return parse_ulong(j, &s->last_generation);
	case 6:
		return parse_array(j, listener_elem, s);
	case 7:
		return parse_array(j, gen_elem, s);
	case 8:
		if (literal(j, "null"))
			return 0;
		s->has_failure = 1;
		return parse_object(j, failure_keys, 0, failure_member, s);
	case 9:
		return parse_bool(j, &s->retrying);
	case 10:
		return parse_opt_secs(j, &s->retry_at);
	case 11:
		return parse_opt_secs(j, &s->interval);
	case 12:
		return parse_opt_secs(j, &s->ready_timeout);
	case 13:
		return parse_opt_secs(j, &s->kill_old_delay);
	case 14:
		return parse_ulong(j, &s->served);
	default:
		return parse_ulong(j, &s->rolled_back);
	}
}

int
status_json_parse(const char *text, struct snapshot *out, char *err,
                  size_t errlen)
{
	struct jp j = {text, text, err, errlen, 0};

	memset(out, 0, sizeof(*out));
	if (strlen(text) > MAX_TEXT) {
		snprintf(err, errlen, "status JSON too long");
		return -1;
	}
	ws(&j);
	/* -1 until read: null or absent leaves it so */
	out->interval = out->ready_timeout = out->kill_old_delay = -1;
	if (parse_object(&j, top_keys, TOP_OPTIONAL, top_member, out) < 0)
		goto bad;
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

void
status_json_free(struct snapshot *s)
{
	size_t i, k;

	for (i = 0; i < s->nls; i++) {
		free((void *)s->ls[i].key);
		free((void *)s->ls[i].fdname);
	}
	for (i = 0; i < s->ngens; i++) {
		for (k = 0; k < s->gens[i].nw; k++)
			free((void *)s->gens[i].w[k].status);
		free(s->gens[i].w);
	}
	free(s->ls);
	free(s->gens);
	free((void *)s->fail_reason);
	memset(s, 0, sizeof(*s));
}
