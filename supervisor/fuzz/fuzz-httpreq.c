/* SPDX-License-Identifier: ISC */
/* fuzz-httpreq.c: libFuzzer target for the metrics listener's request parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The parser's promises, checked on every input: a verdict for any bytes,
 * an OK request ends with its blank line within HTTPREQ_MAX and parses
 * the same alone, a BAD one has a status we can answer, and what needs
 * more is a prefix whose every own prefix needs more too. */
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
	return 0;
}
