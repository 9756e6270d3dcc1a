/* SPDX-License-Identifier: ISC */
/* notify.h: the readiness socket workers send sd_notify datagrams to. */
#ifndef BATON_NOTIFY_H
#define BATON_NOTIFY_H

#include <ev.h>
#include <sys/types.h>

/* Called for each datagram with the sender's pid (from SCM_CREDENTIALS)
 * and the message text (NUL-terminated). */
typedef void notify_cb(pid_t pid, const char *msg);

/* Create baton's own notify socket (abstract, CLOEXEC, SO_PASSCRED) and
 * watch it. Returns 0, or -1 with errno. */
int notify_open(struct ev_loop *loop, notify_cb *cb);
/* Hand msg from pid to the callback notify_open was given, as if it had
 * come on the socket (einhorn.c's acknowledgements); nothing without
 * one. */
void notify_deliver(pid_t pid, const char *msg);
/* The value for the workers' NOTIFY_SOCKET ("@..."), or NULL. */
const char *notify_address(void);
/* Datagrams are taken from this uid and baton's own; any other sender
 * is dropped unread. Default: baton's own (geteuid()). */
void notify_set_worker_uid(uid_t uid);
/* The workers' uid (baton's own unless --user said otherwise). */
uid_t notify_worker_uid(void);
/* The longest value notify_field() returns, in bytes. */
#define NOTIFY_VALUE_MAX 256
/* The value of KEY= in an sd_notify message, or NULL: malloc'd, made
 * safe to show (notify_sanitize) and at most NOTIFY_VALUE_MAX bytes. */
char *notify_field(const char *msg, const char *key);
/* The n bytes at s as valid UTF-8 (a malloc'd string, NULL when out of
 * memory): an invalid byte becomes U+FFFD, control characters (C0, DEL,
 * C1) are dropped, and the result is cut at a character boundary to at
 * most max bytes. */
char *notify_sanitize(const char *s, size_t n, size_t max);
/* Is pid, or one of its ancestors up to eight levels up, equal to root?
 * Between notify_batch(1) and notify_batch(0) (what the socket's watcher
 * does around each batch of datagrams) a sender's ancestors are read
 * from /proc once, however many roots it is asked about. */
int notify_descends(pid_t pid, pid_t root);
void notify_batch(int begin);
/* How many times /proc was walked so far (for the tests). */
unsigned long notify_walks(void);

#endif
