/* SPDX-License-Identifier: ISC */
/* error.c: libbaton's per-thread error message and input quoting. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* Per thread, so that workers with threads can call the library from any of
 * them; a fixed buffer, so that failing never needs memory. */
static _Thread_local char errmsg[512];

int
baton__fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof errmsg, fmt, ap);
	va_end(ap);
	errno = err;
	return -1;
}

void
baton__clear_error(void)
{
	errmsg[0] = '\0';
}

char *
baton__quote(char *dst, size_t dstlen, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (dstlen == 0)
		return dst;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[4];
		size_t n;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			n = 2;
		} else if (c < 0x20 || c > 0x7e) {
			esc[0] = '\\';
			esc[1] = 'x';
			esc[2] = hex[c >> 4];
			esc[3] = hex[c & 15];
			n = 4;
		} else {
			esc[0] = (char)c;
			n = 1;
		}
		/* keep room for "..." and the NUL */
		if (o + n + 4 > dstlen) {
			if (dstlen >= 4) {
				while (o + 4 > dstlen)
					o--;
				memcpy(dst + o, "...", 3);
				o += 3;
			} else {
				o = 0;
			}
			break;
		}
		memcpy(dst + o, esc, n);
		o += n;
	}
	dst[o] = '\0';
	return dst;
}

const char *
baton_errmsg(void)
{
	return errmsg;
}

const char *
baton_version(void)
{
	return PACKAGE_VERSION;
}
