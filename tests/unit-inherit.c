/* SPDX-License-Identifier: ISC */
/* unit-inherit.c: the table of what an accepted socket inherits from its
 * listener (inherit_table, which baton.1 documents), held row by row
 * against what the running kernel does. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "inherit.h"
#include "run-tests.h"

/* A listener on the loopback of family (port 0) with row's test value
 * set before bind, as baton sets its options; -1 when the family is
 * missing here. */
static int
listener(int family, const struct inherit_row *r)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, v = r->test_val;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*s4);
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 && family == AF_INET6)
		return -1;
	ck_assert_int_ge(fd, 0);
	ck_assert_msg(setsockopt(fd, r->level, r->optname, &v, sizeof(v)) == 0,
	              "set %s=%d on a socket: %s", r->name, v, strerror(errno));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		ck_assert_int_eq(family, AF_INET6); /* no ::1 here */
		close(fd);
		return -1;
	}
	ck_assert_int_eq(listen(fd, 8), 0);
	return fd;
}

/* Each row: set its test value on a listener, accept a connection, and
 * see that the accepted socket has the listener's value exactly when the
 * table says it is inherited. */
START_TEST(test_row)
{
	const struct inherit_row *r = &inherit_table[_i];
	long lval[INHERIT_MAX], aval[INHERIT_MAX];
	char err[512];
	int fd = listener(r->v6 ? AF_INET6 : AF_INET, r);

	if (fd < 0)
		return; /* IPv6 row without IPv6 */
	ck_assert_msg(inherit_read(fd, lval, err, sizeof(err)) == 0, "%s", err);
	/* one byte sent, as a deferring listener needs and as a client's
	 * request does */
	ck_assert_msg(inherit_probe(fd, 1, 5000, aval, err, sizeof(err)) == 0,
	              "%s", err);
	if (r->inherited) {
		/* the test value took on the listener (else the test
		 * proves nothing) */
		ck_assert_msg(!lval[_i] == !r->test_val,
		              "%s: the listener reports %ld after %d was set",
		              r->name, lval[_i], r->test_val);
		ck_assert_msg(aval[_i] == lval[_i],
		              "%s: documented as inherited, but the listener "
		              "has %ld and the accepted socket %ld",
		              r->name, lval[_i], aval[_i]);
	} else {
		/* what was set did not come along (TCP_QUICKACK does not
		 * even stay on the listener: listen(2) resets it) */
		ck_assert_msg(aval[_i] != r->test_val,
		              "%s: documented as not inherited, but the "
		              "accepted socket has the %d set on the listener",
		              r->name, r->test_val);
	}
	close(fd);
}
END_TEST

/* A wildcard listener is reached over the loopback. */
START_TEST(test_wildcard)
{
	struct sockaddr_in s4;
	long vals[INHERIT_MAX];
	char err[512];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&s4, sizeof(s4)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	ck_assert_msg(inherit_probe(fd, 0, 5000, vals, err, sizeof(err)) == 0,
	              "%s", err);
	close(fd);
}
END_TEST

/* A listener that defers accept and a client that stays silent: the
 * probe gives up within its bound instead of hanging. */
START_TEST(test_bounded)
{
	const struct inherit_row *r = NULL;
	long vals[INHERIT_MAX];
	char err[512];
	size_t i;
	int fd;

	for (i = 0; i < inherit_count; i++)
		if (strcmp(inherit_table[i].name, "defer-accept") == 0)
			r = &inherit_table[i];
	ck_assert_ptr_nonnull(r);
	fd = listener(AF_INET, r);
	ck_assert_int_eq(inherit_probe(fd, 0, 200, vals, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "no test connection") != NULL, "%s", err);
	close(fd);
}
END_TEST

void
tests_inherit(void)
{
	TCase *tc = unit_case("inherit");

	tcase_add_loop_test(tc, test_row, 0, (int)inherit_count);
	tcase_add_test(tc, test_wildcard);
	tcase_add_test(tc, test_bounded);
}
