/* SPDX-License-Identifier: ISC */
/* tcpaddr.h: --metrics-listen's address. */
#ifndef BATON_TCPADDR_H
#define BATON_TCPADDR_H

#include <stddef.h>

struct addrinfo;

/* v (ADDR:PORT, [V6]:PORT, or PORT for every IPv4 address) as a passive
 * TCP address into *res (freeaddrinfo it); -1 with the cause in err. */
int tcpaddr_resolve(const char *v, struct addrinfo **res, char *err,
                    size_t errlen);
/* The option check: 0 when v is such an address, else -1 with err. */
int tcpaddr_check(const char *v, char *err, size_t errlen);

#endif
