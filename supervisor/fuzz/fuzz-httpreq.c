/* SPDX-License-Identifier: ISC */
/* fuzz-httpreq.c: libFuzzer target for the metrics listener's request parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "httpreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A slow client: the bytes as they come, in pieces whose sizes the
 * input's own bytes give (1 to 16). The parser is called again on all
 * that came so far, as metricsd does: it says NEED_MORE until a prefix
 * decides, and once one has, every longer prefix decides the same (a
 * verdict never depends on how the bytes were cut). */
static void
slow_client(const char *b, size_t size, enum httpreq_result whole,
            const struct httpreq *w)
{
	struct httpreq r;
	size_t got = 0, i = 0;
	enum httpreq_result v = HTTPREQ_NEED_MORE;

	while (got < size && v == HTTPREQ_NEED_MORE) {
		got += (unsigned char)b[i++ % size] % 16 + 1;
		if (got > size)
			got = size;
		v = httpreq_parse(b, got, &r);
	}
	if (v != whole)
		abort();
	if (v == HTTPREQ_BAD && r.status != w->status)
		abort();
	if (v == HTTPREQ_OK &&
	    (r.consumed != w->consumed || strcmp(r.path, w->path) != 0 ||
	     r.head != w->head || r.minor != w->minor))
		abort();
}

/* What an OK request must have been: GET or HEAD, as the flag says, and
 * a Host unless HTTP/1.0 (RFC 9112 §3.2); never two Host lines. */
static void
check_ok_head(const char *b, const struct httpreq *r)
{
	size_t i, hosts = 0;

	if (strncmp(b, r->head ? "HEAD " : "GET ", r->head ? 5 : 4) != 0)
		abort();
	for (i = 0; i + 7 <= r->consumed; i++)
		if (b[i] == '\n' && strncasecmp(b + i + 1, "host:", 5) == 0)
			hosts++;
	if (hosts > 1 || (hosts == 0 && r->minor == 1))
		abort();
}

/* The parser's promises, checked on every input: a verdict for any bytes,
 * an OK request ends with its blank line within HTTPREQ_MAX and parses
 * the same alone, a BAD one has a status we can answer, what needs
 * more is a prefix whose every own prefix needs more too, and a slow
 * client gets the verdict a fast one gets. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *b = (const char *)data;
	struct httpreq r, r2;
	enum httpreq_result got = httpreq_parse(b, size, &r);
	char head[512];

	switch (got) {
	case HTTPREQ_OK:
		if (r.consumed < 4 || r.consumed > size ||
		    r.consumed > HTTPREQ_MAX ||
		    memcmp(b + r.consumed - 4, "\r\n\r\n", 4) != 0 ||
		    r.path[0] != '/' || strlen(r.path) > HTTPREQ_PATH_MAX ||
		    (r.minor != 0 && r.minor != 1))
			abort();
		if (httpreq_parse(b, r.consumed, &r2) != HTTPREQ_OK ||
		    strcmp(r.path, r2.path) != 0 || r2.consumed != r.consumed)
			abort();
		if (httpreq_parse(b, r.consumed - 1, &r2) != HTTPREQ_NEED_MORE)
			abort();
		check_ok_head(b, &r);
		break;
	case HTTPREQ_BAD:
		if (r.status != 400 && r.status != 405 && r.status != 414 &&
		    r.status != 431 && r.status != 505)
			abort();
		if (httpreq_response_head(head, sizeof(head), r.status,
		                          "text/plain", size) == 0)
			abort();
		break;
	case HTTPREQ_NEED_MORE:
		if (size >= HTTPREQ_MAX)
			abort();
		if (httpreq_parse(b, size / 2, &r2) != HTTPREQ_NEED_MORE)
			abort();
		break;
	default:
		abort();
	}
	if (size > 0)
		slow_client(b, size, got, &r);
	return 0;
}
