/* SPDX-License-Identifier: ISC */
/* utf8.h: what is well-formed UTF-8, for the owners of the output formats
 * (STATUS.json's strings, Prometheus label values), which turn every
 * other byte into U+FFFD. */
#ifndef BATON_UTF8_H
#define BATON_UTF8_H

#include <stddef.h>

/* U+FFFD REPLACEMENT CHARACTER, in UTF-8 */
#define UTF8_REPLACEMENT "\xef\xbf\xbd"

/* The length (1 to 4) of the well-formed UTF-8 sequence at s, of which n
 * bytes may be read, or 0: overlong forms, surrogates, code points past
 * U+10FFFF and sequences cut short are not. A NUL-terminated string may
 * pass (size_t)-1: a NUL ends every sequence. */
size_t utf8_len(const unsigned char *s, size_t n);

#endif
