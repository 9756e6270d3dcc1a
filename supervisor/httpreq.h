/* SPDX-License-Identifier: ISC */
/* httpreq.h: the metrics listener's HTTP: a strict bounded GET and HEAD
 * parser, and response heads. */
#ifndef BATON_HTTPREQ_H
#define BATON_HTTPREQ_H

#include <stddef.h>

/* The most a request (line and headers) may take; more is a 431. */
#define HTTPREQ_MAX 4096
/* The longest path kept (the query string not counted); longer is a 414. */
#define HTTPREQ_PATH_MAX 255

enum httpreq_result {
	HTTPREQ_NEED_MORE, /* valid so far, the blank line not yet read */
	HTTPREQ_OK,        /* a whole request: path and consumed are set */
	HTTPREQ_BAD        /* answer status and close */
};

struct httpreq {
	char path[HTTPREQ_PATH_MAX + 1]; /* "/metrics": no query, as sent */
	size_t consumed; /* bytes up to and including the blank line */
	int minor;       /* 0 or 1: HTTP/1.0 or HTTP/1.1 */
	int head;        /* 1: HEAD (the head of GET's answer, no body) */
	int status;      /* on HTTPREQ_BAD: 400, 405, 414, 431 or 505 */
};

/* Parse the bytes received so far (buf[0..len), not NUL-terminated). Only
 * "GET /path HTTP/1.0" or "HTTP/1.1" (or HEAD; the target in origin-form
 * or absolute-form, "http://host/path"), CRLF line ends, headers as
 * "name: value" with no obsolete folding, no body (Content-Length other
 * than 0 or any Transfer-Encoding is BAD), exactly one Host in HTTP/1.1
 * and at most one in 1.0 (else 400, RFC 9112 §3.2), all within
 * HTTPREQ_MAX bytes.
 * A prefix that no valid request starts with is BAD at once, so a
 * client cannot hold a connection with garbage. Pure: the caller keeps
 * the buffer and calls again with more bytes. */
enum httpreq_result httpreq_parse(const char *buf, size_t len,
                                  struct httpreq *req);

/* The reason phrase of status ("Not Found"); "Unknown" for others. */
const char *httpreq_reason(int status);

/* Write the response head for status with a body of body_len bytes of
 * content_type into out: status line, Content-Type, Content-Length,
 * "Connection: close" (one request per connection), "Allow: GET, HEAD" on a
 * 405, "Cache-Control: no-store", and the blank line. Returns the length
 * written (NUL not counted), or 0 when outlen is too small. */
size_t httpreq_response_head(char *out, size_t outlen, int status,
                             const char *content_type, size_t body_len);

/* The Content-Type of Prometheus text format 0.0.4. */
#define HTTPREQ_PROM_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
