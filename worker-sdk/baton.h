/* SPDX-License-Identifier: ISC */
/* baton.h: libbaton, the worker side of baton and Server::Starter. */
#ifndef BATON_H
#define BATON_H

#include <stddef.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define BATON_API __attribute__((visibility("default")))
#define BATON_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define BATON_API
#define BATON_PRINTF(f, a)
#endif

/*
 * A worker started by baton, by Perl's start_server or by a systemd socket
 * unit inherits listening sockets and an environment that names them.
 * libbaton reads that environment, checks every fd against what the
 * environment says about it, and hands back a set of listeners.
 *
 * Conventions: functions that can fail return -1 (or NULL) with errno set,
 * and baton_errmsg() then returns a message the caller can print, quoting
 * the bad input. The library never prints, never exits and never changes a
 * listener's file status flags (O_NONBLOCK is shared by every process that
 * holds the socket); every object it allocates has a function that frees it.
 */

/** An opaque set of inherited listeners. Free it with baton_listeners_free().
 */
typedef struct baton_listeners baton_listeners;

/** One listener of a set. It lives as long as its set. */
typedef struct baton_listener baton_listener;

/* Flags for baton_listeners_open() and baton_listeners_parse(). */

/** Read SERVER_STARTER_PORT (baton, start_server). */
#define BATON_SERVER_STARTER 0x01u
/** Read LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES (systemd). */
#define BATON_SYSTEMD 0x02u
/** Leave the inherited fds' close-on-exec flag as it is: by default every
 *  listener is made close-on-exec, as sd_listen_fds() does, so that programs
 *  the worker runs do not keep the port open. */
#define BATON_INHERITABLE 0x04u
/** Unset LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES once they have been read,
 *  so that child processes do not take them for their own. Not thread-safe
 *  (it calls unsetenv()). */
#define BATON_UNSET_ENV 0x08u

/* Where a set came from: baton_listeners_source(). */

/** The set was read from SERVER_STARTER_PORT. */
#define BATON_SOURCE_SERVER_STARTER 1
/** The set was read from LISTEN_FDS (fds from 3, names from LISTEN_FDNAMES).
 */
#define BATON_SOURCE_SYSTEMD 2

/**
 * Read the listeners this process inherited.
 *
 * @param out    receives the set on success; free it with
 *               baton_listeners_free().
 * @param flags  BATON_SERVER_STARTER and/or BATON_SYSTEMD select the sources
 *               (neither means both), plus BATON_INHERITABLE and
 *               BATON_UNSET_ENV.
 *
 * SERVER_STARTER_PORT is "key=fd" pairs joined by ';', where a key is a port
 * ("8080"), "host:port", "[v6addr]:port" or a unix socket path, exactly as
 * the user wrote it for the supervisor. fd numbers may start anywhere
 * (start_server's first one is 4). An empty value is a valid empty set.
 * The systemd protocol is used only when LISTEN_PID is this process's pid;
 * its fds start at 3 and are named by LISTEN_FDNAMES ("unknown" when it is
 * unset). When both sources are present and allowed, SERVER_STARTER_PORT
 * wins: it carries the keys the user wrote.
 *
 * Every fd is checked: it must be open and a socket, a stream socket must be
 * listening, and its bound address must match its key (family, port, a
 * numeric host, a path). Nothing is changed unless every check passes; then
 * each fd is made close-on-exec unless BATON_INHERITABLE is given.
 *
 * @return 0 on success; -1 with errno set on failure: ENOENT when no
 *         source applies (nothing was inherited: neither variable is set,
 *         or LISTEN_PID names another process), EINVAL for a malformed
 *         variable or an fd whose address does not match its key, EBADF for
 *         a closed fd, ENOTSOCK for an fd that is not a socket, E2BIG for
 *         more than 4096 entries, ENOMEM. baton_errmsg() says which.
 */
BATON_API int baton_listeners_open(baton_listeners **out, unsigned flags);

/**
 * Like baton_listeners_open() with BATON_SERVER_STARTER, but read the
 * listeners from @p value, a string in SERVER_STARTER_PORT's format, instead
 * of the environment. Useful when a program receives the string some other
 * way (a command-line argument, a file).
 *
 * @param out    receives the set on success.
 * @param value  the "key=fd;key=fd" string; must not be NULL.
 * @param flags  BATON_INHERITABLE or 0.
 * @return 0 on success, -1 with errno set (see baton_listeners_open()).
 */
BATON_API int baton_listeners_parse(baton_listeners **out, const char *value,
                                    unsigned flags);

/**
 * Free a set returned by baton_listeners_open() or baton_listeners_parse().
 * The fds stay open: they belong to the process, not to the set.
 * @param ls  the set; NULL is allowed and does nothing.
 */
BATON_API void baton_listeners_free(baton_listeners *ls);

/**
 * Close the fd of every listener in @p ls except @p keep, and free the set.
 * For a worker that has taken the listener it needs and does not want to
 * hold the others open (a listener held open by a process that never
 * accepts on it is a black hole for the connections it is given).
 * @param ls    the set; NULL does nothing.
 * @param keep  a listener of @p ls to leave open, or NULL to close all.
 */
BATON_API void baton_listeners_close(baton_listeners *ls,
                                     const baton_listener *keep);

/**
 * @param ls  a set.
 * @return BATON_SOURCE_SERVER_STARTER or BATON_SOURCE_SYSTEMD.
 */
BATON_API int baton_listeners_source(const baton_listeners *ls);

/**
 * @param ls  a set.
 * @return the number of listeners in @p ls (0 for an empty
 *         SERVER_STARTER_PORT or LISTEN_FDS=0).
 */
BATON_API size_t baton_listeners_count(const baton_listeners *ls);

/**
 * Iterate: listeners are numbered from 0 in the order the environment
 * lists them.
 * @param ls  a set.
 * @param i   an index below baton_listeners_count().
 * @return the listener, or NULL with errno ERANGE when @p i is out of range.
 */
BATON_API const baton_listener *baton_listeners_get(const baton_listeners *ls,
                                                    size_t i);

/**
 * Find a listener by its key: the SERVER_STARTER_PORT key exactly as the
 * user wrote it on the supervisor's command line ("8080",
 * "127.0.0.1:8080", "[::1]:8080", "/run/app.sock"), or the LISTEN_FDNAMES
 * name under systemd.
 * @param ls   a set.
 * @param key  the key to look for.
 * @return the listener, or NULL with errno ENOENT (baton_errmsg() lists the
 *         keys there are).
 */
BATON_API const baton_listener *baton_listeners_find(const baton_listeners *ls,
                                                     const char *key);

/**
 * Find the first listener (in environment order) bound to TCP or UDP port
 * @p port, whatever its address.
 * @param ls    a set.
 * @param port  the port number, 1 to 65535.
 * @return the listener, or NULL with errno ENOENT.
 */
BATON_API const baton_listener *
baton_listeners_find_port(const baton_listeners *ls, int port);

/**
 * Find the unix-domain listener bound to @p path (compared with the address
 * the socket reports, byte for byte; an abstract socket is "@name").
 * @param ls    a set.
 * @param path  the socket path.
 * @return the listener, or NULL with errno ENOENT.
 */
BATON_API const baton_listener *
baton_listeners_find_path(const baton_listeners *ls, const char *path);

/**
 * @param l  a listener.
 * @return its file descriptor.
 */
BATON_API int baton_listener_fd(const baton_listener *l);

/**
 * @param l  a listener.
 * @return its key as the environment gave it (SERVER_STARTER_PORT key or
 *         LISTEN_FDNAMES name); never NULL.
 */
BATON_API const char *baton_listener_key(const baton_listener *l);

/**
 * @param l  a listener.
 * @return its address family as the socket reports it: AF_INET, AF_INET6
 *         or AF_UNIX.
 */
BATON_API int baton_listener_family(const baton_listener *l);

/**
 * @param l  a listener.
 * @return its socket type (SO_TYPE): SOCK_STREAM, SOCK_DGRAM or
 *         SOCK_SEQPACKET.
 */
BATON_API int baton_listener_socktype(const baton_listener *l);

/**
 * @param l  a listener.
 * @return 1 if the socket is listening (SO_ACCEPTCONN), 0 if not (a
 *         datagram socket).
 */
BATON_API int baton_listener_listening(const baton_listener *l);

/**
 * @param l    a listener.
 * @param len  if not NULL, receives the address length.
 * @return the address the socket is bound to (getsockname()).
 */
BATON_API const struct sockaddr *
baton_listener_sockaddr(const baton_listener *l, socklen_t *len);

/**
 * @param l  a listener.
 * @return its bound port for AF_INET and AF_INET6, 0 for AF_UNIX.
 */
BATON_API int baton_listener_port(const baton_listener *l);

/**
 * @param l  a listener.
 * @return its bound path for AF_UNIX ("@name" for an abstract socket, "" for
 *         an unnamed one), NULL for AF_INET and AF_INET6.
 */
BATON_API const char *baton_listener_path(const baton_listener *l);

/**
 * @param l  a listener.
 * @return its bound address for messages: "127.0.0.1:8080", "[::1]:8080",
 *         "/run/app.sock" or "@name".
 */
BATON_API const char *baton_listener_address(const baton_listener *l);

/**
 * Tell the supervisor about this worker, using the sd_notify protocol: one
 * datagram holding newline-separated assignments such as "READY=1",
 * "STATUS=serving on 8080", "STOPPING=1", sent to the unix socket named by
 * NOTIFY_SOCKET (an absolute path, or "@name" for an abstract socket). baton
 * (in notify readiness mode) and systemd (Type=notify) both read it, so the
 * same call serves under either; it is a no-op when NOTIFY_SOCKET is unset.
 * Send READY=1 from the process the supervisor started (its pid is how the
 * supervisor knows who is ready).
 *
 * @param state  the assignments; must not be NULL or empty.
 * @return 1 when sent, 0 when NOTIFY_SOCKET is unset or empty, -1 with errno
 *         set on failure (EINVAL for an empty @p state or a malformed
 *         NOTIFY_SOCKET, ENAMETOOLONG, or the error of socket()/sendto()).
 */
BATON_API int baton_notify(const char *state);

/**
 * baton_notify() with printf-style formatting, for instance
 * baton_notifyf("STATUS=%d requests served", n). The formatted state is
 * limited to 4096 bytes (longer: -1 with EMSGSIZE).
 * @param fmt  a printf format.
 * @return as baton_notify().
 */
BATON_API int baton_notifyf(const char *fmt, ...) BATON_PRINTF(1, 2);

/**
 * Cork or uncork a TCP connection (TCP_CORK). While corked, the kernel sends
 * only full segments, so a response written in pieces (status line,
 * headers, body) leaves in as few packets as possible; uncorking sends what
 * is left at once. Cork before the first write of a response and uncork
 * after the last one: data left corked waits up to 200 ms. A listener given
 * baton's --cork hands over connections already corked.
 * @param fd  a connected TCP socket (accepted from a listener).
 * @param on  non-zero to cork, 0 to uncork (and send).
 * @return 0, or -1 with errno set (EBADF, ENOTSOCK, EOPNOTSUPP or ENOPROTOOPT
 *         for a socket that is not TCP) and baton_errmsg() naming the fd.
 */
BATON_API int baton_cork(int fd, int on);

/**
 * Switch a TCP connection's quick-ack mode (TCP_QUICKACK): on, the kernel
 * acknowledges received data at once instead of delaying the ACK (up to
 * 40 ms or more) in the hope of sending it with a reply. The mode is not
 * permanent: the kernel leaves it by itself, so a worker that wants it sets
 * it again after each read. Useful for short request/response exchanges
 * where the reply may take longer than the delayed-ACK timer; no listener
 * option can set it (accepted sockets do not inherit it).
 * @param fd  a connected TCP socket.
 * @param on  non-zero for quick acks, 0 for delayed acks.
 * @return 0, or -1 with errno set and baton_errmsg() naming the fd.
 */
BATON_API int baton_quickack(int fd, int on);

/**
 * The generation this worker belongs to, from SERVER_STARTER_GENERATION
 * (1 for the first workers, 2 after the first restart, ...).
 * @return the generation (>= 0), or -1 with errno ENOENT when the variable
 *         is unset (not run by baton or start_server) or EINVAL when it is not
 *         a decimal number.
 */
BATON_API long baton_generation(void);

/**
 * The deadline of this worker's graceful stop, from BATON_STOP_TIMEOUT:
 * the seconds between the stop signal baton sends (its --signal-on-hup
 * when the generation retires, --signal-on-term at shutdown) and the
 * SIGKILL that follows. baton sets it when it runs with --stop-timeout;
 * start_server and systemd never do.
 *
 * A graceful HTTP server, once it has its stop signal:
 *  1. stops accepting and finishes the requests in flight;
 *  2. answers the next request on each idle keep-alive connection with
 *     "Connection: close" and then closes it, rather than closing the idle
 *     connection at once: a client may have sent a request on it already,
 *     and that request would be lost;
 *  3. closes the connections still idle shortly before the deadline (a
 *     second or a tenth of it earlier), and exits.
 *
 * @return the seconds (above 0, with the milliseconds baton gives), or -1
 *         with errno ENOENT when the variable is unset (no deadline) or
 *         EINVAL when it is not plain decimal seconds above 0 (baton_errmsg()
 *         quotes it).
 */
BATON_API double baton_stop_timeout(void);

/**
 * The message that describes the last failure of a libbaton call in this
 * thread, such as: SERVER_STARTER_PORT entry "8080" has no '='.
 * @return a string owned by the library, valid until the next libbaton call
 *         in the same thread; "" when nothing has failed yet.
 */
BATON_API const char *baton_errmsg(void);

/**
 * @return the library's version, for instance "0.2.0".
 */
BATON_API const char *baton_version(void);

#ifdef __cplusplus
}
#endif

#endif /* BATON_H */
