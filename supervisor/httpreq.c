/* SPDX-License-Identifier: ISC */
/* httpreq.c: the metrics listener's HTTP: a strict bounded GET and HEAD
 * parser. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "httpreq.h"

/* The longest method we wait for before calling the request garbage. */
#define METHOD_MAX 16

/* Parsing state: the bytes, how far we are, and the verdict so far. */
struct cursor {
	const char *b;
	size_t n, i;
	int body;    /* a Content-Length other than 0 or a Transfer-Encoding */
	int hosts;   /* Host header lines seen */
	int badhost; /* a Host value that is no authority */
};

enum { MORE = -1 }; /* a step ran out of bytes */

static enum httpreq_result
bad(struct httpreq *req, int status)
{
	req->status = status;
	return HTTPREQ_BAD;
}

/* RFC 9110 tchar */
static int
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* "GET " or "HEAD " (RFC 9110 §9.1: a server supports both), or the
 * status that refuses the method; MORE while it may still be a method. */
static int
method(struct cursor *c, struct httpreq *req)
{
	size_t i;

	for (i = 0; i < c->n && i <= METHOD_MAX; i++) {
		unsigned char ch = (unsigned char)c->b[i];

		if (ch == ' ') {
			if (i == 0)
				return 400;
			c->i = i + 1;
			if (i == 3 && memcmp(c->b, "GET", 3) == 0)
				return 0;
			if (i == 4 && memcmp(c->b, "HEAD", 4) == 0) {
				req->head = 1;
				return 0;
			}
			return 405;
		}
		if (ch < 'A' || ch > 'Z')
			return 400;
	}
	return i > METHOD_MAX ? 400 : MORE;
}

/* An authority's bytes (RFC 3986 reg-name, IP-literal, port): the Host
 * value, or the part of an absolute-form target after "//". */
static int
is_authority(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') ||
	       (ch != '\0' && strchr("-._~!$&'()*+,;=:[]%", ch) != NULL);
}

/* "http://" or "https://" (any case) at the target's start, or MORE
 * while the bytes so far may still begin one: the absolute-form (RFC
 * 9112 §3.2.2), which a server must accept. 0 when the target is no
 * absolute-form, else the length of the scheme and "//". */
static int
scheme(const struct cursor *c)
{
	static const char *const forms[] = {"http://", "https://"};
	size_t k, j;
	int more = 0;

	for (k = 0; k < 2; k++) {
		for (j = 0; forms[k][j] != '\0' && c->i + j < c->n; j++)
			if (tolower((unsigned char)c->b[c->i + j]) !=
			    forms[k][j])
				break;
		if (forms[k][j] == '\0')
			return (int)j;
		if (c->i + j == c->n)
			more = 1;
	}
	return more ? MORE : 0;
}

/* The request target: origin-form ("/" then visible ASCII, no '#') or
 * absolute-form ("http://authority" and then an origin-form, or
 * nothing, which is "/"); its path part copied to req->path. */
static int
target(struct cursor *c, struct httpreq *req)
{
	size_t start, plen = 0;
	int query = 0, s;

	if (c->i == c->n)
		return MORE;
	if (c->b[c->i] != '/') {
		if ((s = scheme(c)) == MORE)
			return MORE;
		if (s == 0)
			return 400;
		c->i += (size_t)s;
		for (; c->i < c->n && is_authority((unsigned char)c->b[c->i]);
		     c->i++)
			;
		if (c->i == c->n)
			return MORE;
		if (c->b[c->i] == ' ') {
			/* "GET http://h HTTP/1.1": the path is empty, "/" */
			snprintf(req->path, sizeof(req->path), "/");
			c->i++;
			return 0;
		}
		if (c->b[c->i] == '?') {
			snprintf(req->path, sizeof(req->path), "/");
			query = 1;
		} else if (c->b[c->i] != '/')
			return 400;
	}
	start = c->i;
	for (; c->i < c->n; c->i++) {
		unsigned char ch = (unsigned char)c->b[c->i];

		if (ch == ' ') {
			if (plen > 0 || req->path[0] == '\0') {
				memcpy(req->path, c->b + start, plen);
				req->path[plen] = '\0';
			}
			c->i++;
			return 0;
		}
		if (ch <= 0x20 || ch >= 0x7f || ch == '#')
			return 400;
		if (ch == '?')
			query = 1;
		if (!query && ++plen > HTTPREQ_PATH_MAX)
			return 414;
	}
	return MORE;
}

/* "HTTP/1.0\r\n" or "HTTP/1.1\r\n". */
static int
version(struct cursor *c, struct httpreq *req)
{
	static const char want[] = "HTTP/1.";
	size_t k;

	for (k = 0; k < sizeof(want) - 1; k++, c->i++) {
		if (c->i == c->n)
			return MORE;
		if (c->b[c->i] != want[k])
			/* "HTTP/2.0": a version we do not speak */
			return k >= 5 ? 505 : 400;
	}
	if (c->i == c->n)
		return MORE;
	if (c->b[c->i] != '0' && c->b[c->i] != '1')
		return c->b[c->i] >= '2' && c->b[c->i] <= '9' ? 505 : 400;
	req->minor = c->b[c->i++] - '0';
	if (c->i == c->n)
		return MORE;
	if (c->b[c->i++] != '\r')
		return 400;
	if (c->i == c->n)
		return MORE;
	return c->b[c->i++] == '\n' ? 0 : 400;
}

/* Remember what the header says about a body (a GET must not have one,
 * and refusing it spares us request smuggling questions altogether) and
 * count the Host lines: one or none, and a valid one (RFC 9112 §3.2). */
static void
header_body(struct cursor *c, size_t name, size_t nlen, size_t val, size_t vlen)
{
	const char *v = c->b + val;
	size_t k;

	while (vlen > 0 && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	if (nlen == 4 && strncasecmp(c->b + name, "host", 4) == 0) {
		c->hosts++;
		for (k = 0; k < vlen; k++)
			if (!is_authority((unsigned char)v[k]))
				c->badhost = 1;
	}
	if (nlen == 17 &&
	    strncasecmp(c->b + name, "transfer-encoding", 17) == 0)
		c->body = 1;
	if (nlen == 14 && strncasecmp(c->b + name, "content-length", 14) == 0 &&
	    !(vlen == 1 && v[0] == '0'))
		c->body = 1;
}

/* One "name: value\r\n" line, or the blank line (returns 1). */
static int
header(struct cursor *c)
{
	size_t name = c->i, val;

	if (c->i == c->n)
		return MORE;
	if (c->b[c->i] == '\r') {
		if (++c->i == c->n)
			return MORE;
		return c->b[c->i++] == '\n' ? 1 : 400;
	}
	/* a leading space or tab is obsolete line folding: refused */
	for (; c->i < c->n && is_tchar((unsigned char)c->b[c->i]); c->i++)
		;
	if (c->i == c->n)
		return MORE;
	if (c->i == name || c->b[c->i] != ':')
		return 400;
	val = ++c->i;
	for (; c->i < c->n; c->i++) {
		unsigned char ch = (unsigned char)c->b[c->i];

		if (ch == '\r')
			break;
		if (ch != '\t' && (ch < 0x20 || ch == 0x7f))
			return 400;
	}
	if (c->i + 1 >= c->n)
		return MORE;
	if (c->b[c->i + 1] != '\n')
		return 400;
	header_body(c, name, val - 1 - name, val, c->i - val);
	c->i += 2;
	return 0;
}

enum httpreq_result
httpreq_parse(const char *buf, size_t len, struct httpreq *req)
{
	struct cursor c = {buf, len < HTTPREQ_MAX ? len : HTTPREQ_MAX, 0, 0, 0,
	                   0};
	int rc;

	memset(req, 0, sizeof(*req));
	rc = method(&c, req);
	if (rc == 0)
		rc = target(&c, req);
	if (rc == 0)
		rc = version(&c, req);
	while (rc == 0)
		rc = header(&c);
	if (rc == MORE)
		/* nothing valid is longer than HTTPREQ_MAX */
		return len >= HTTPREQ_MAX ? bad(req, 431) : HTTPREQ_NEED_MORE;
	if (rc != 1)
		return bad(req, rc);
	if (c.body)
		return bad(req, 400);
	/* RFC 9112 §3.2: an HTTP/1.1 request without Host, any request with
	 * two, or one whose value is no authority, is a 400 */
	if (c.hosts > 1 || c.badhost || (c.hosts == 0 && req->minor == 1))
		return bad(req, 400);
	req->consumed = c.i;
	return HTTPREQ_OK;
}

const char *
httpreq_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 414:
		return "URI Too Long";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	}
	return "Unknown";
}

size_t
httpreq_response_head(char *out, size_t outlen, int status,
                      const char *content_type, size_t body_len)
{
	int n;

	n = snprintf(out, outlen,
	             "HTTP/1.1 %d %s\r\n"
	             "Content-Type: %s\r\n"
	             "Content-Length: %zu\r\n"
	             "Cache-Control: no-store\r\n"
	             "%s"
	             "Connection: close\r\n"
	             "\r\n",
	             status, httpreq_reason(status), content_type, body_len,
	             status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (n < 0 || (size_t)n >= outlen)
		return 0;
	return (size_t)n;
}
