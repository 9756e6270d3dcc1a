/* SPDX-License-Identifier: ISC */
/* utf8.c: what is well-formed UTF-8 (RFC 3629, Unicode table 3-7). */
#include "config.h"

#include "utf8.h"

size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	/* the second byte's range excludes the overlong forms (E0, F0),
	 * the surrogates (ED) and what is past U+10FFFF (F4) */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n < 2 || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (i >= n || s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}
