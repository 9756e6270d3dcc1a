#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""worker.py: an HTTP worker for baton, start_server or systemd, standard
library only.

    baton --port=127.0.0.1:8080 -- python3 examples/python/worker.py

It takes the listening sockets it inherited (SERVER_STARTER_PORT, else the
systemd LISTEN_FDS protocol), serves each request on a thread and answers

    gen=GENERATION pid=PID server=python listener=KEY

(GET /sleep/MS waits MS milliseconds first). It sends READY=1 on
NOTIFY_SOCKET once it accepts, and on TERM, INT or QUIT stops accepting,
finishes the requests in flight and exits 0.

The listeners are shared with the supervisor and every other generation, so
it never changes their blocking mode (that flag is shared too) and never
calls shutdown() on them (that would stop them for everybody): it closes
them. baton and start_server hand them over blocking, so accept() can block
after a readiness event when another process won the race; a stop signal
then interrupts it.
"""

import http.server
import os
import selectors
import signal
import socket
import sys
import threading

PROG = "worker.py"


def inherited_listeners():
    """[(key, socket)] for every stream listener this process inherited."""
    pairs = []
    spec = os.environ.get("SERVER_STARTER_PORT")
    if spec is not None:
        # "key=fd;key=fd": split at the last '=', since a path may hold one
        for entry in spec.split(";"):
            if not entry:
                continue
            key, eq, fd = entry.rpartition("=")
            if not eq or not key or not fd.isdigit():
                sys.exit(f"{PROG}: SERVER_STARTER_PORT entry {entry!r} "
                         "is not key=fd")
            pairs.append((key, int(fd)))
    elif os.environ.get("LISTEN_PID") == str(os.getpid()):
        n = int(os.environ.get("LISTEN_FDS", "0"))
        names = os.environ.get("LISTEN_FDNAMES")
        names = names.split(":") if names is not None else ["unknown"] * n
        if len(names) != n:
            sys.exit(f"{PROG}: LISTEN_FDNAMES does not name {n} fds")
        pairs = [(names[i], 3 + i) for i in range(n)]
    else:
        sys.exit(f"{PROG}: no inherited listeners: neither "
                 "SERVER_STARTER_PORT nor LISTEN_FDS is set for this process")

    listeners = []
    for key, fd in pairs:
        try:
            # family and type come from the fd itself
            sock = socket.socket(fileno=fd)
        except OSError as e:
            sys.exit(f"{PROG}: listener {key!r} (fd {fd}): {e.strerror}")
        if sock.type != socket.SOCK_STREAM:
            sock.detach()
            continue
        # close-on-exec: programs this worker runs must not hold the port
        os.set_inheritable(fd, False)
        listeners.append((key, sock))
    if not listeners:
        sys.exit(f"{PROG}: no stream listener was inherited")
    return listeners


def notify(state):
    """sd_notify protocol: one datagram to NOTIFY_SOCKET, if it is set."""
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return
    if path.startswith("@"):
        path = "\0" + path[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.sendto(state.encode(), path)


GENERATION = os.environ.get("SERVER_STARTER_GENERATION", "0")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    listener_key = "?"

    def do_GET(self):
        if self.path.startswith("/sleep/"):
            try:
                ms = int(self.path[7:])
            except ValueError:
                ms = 0
            if 0 < ms <= 10000:
                threading.Event().wait(ms / 1000)
        body = (f"gen={GENERATION} pid={os.getpid()} server=python "
                f"listener={self.listener_key}\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


class Server:
    """Just what BaseHTTPRequestHandler asks of a server."""
    server_name = "localhost"
    server_port = 0


def serve_connection(conn, addr, key):
    conn.settimeout(5)  # the accepted socket is ours alone
    try:
        handler = type("H", (Handler,), {"listener_key": key})
        handler(conn, addr, Server())
    except OSError:
        pass
    finally:
        conn.close()


class Stop(Exception):
    pass


stopping = False
in_accept = False


def on_stop(signum, frame):
    global stopping
    stopping = True
    # Raising here could land just after accept() returned and lose that
    # connection (a reset for its client). So only note the stop: under
    # load the next accept() returns at once and the loop ends; if this
    # process is blocked in accept() with nothing coming, SIGALRM gets it
    # out in half a second (on_alarm). Anywhere else the main loop sees
    # the flag within its select() timeout.
    if in_accept:
        signal.setitimer(signal.ITIMER_REAL, 0.5)


def on_alarm(signum, frame):
    global in_accept
    if stopping and in_accept:
        # still blocked after a stop: nothing is being accepted
        in_accept = False
        raise Stop()


def accept(sock):
    """One connection from a shared listener, or None."""
    global in_accept
    try:
        in_accept = True
        if stopping:
            return None
        # The listener is blocking and shared: after select() another
        # process may have taken the connection, and this blocks until the
        # next one or, after a stop, on_alarm. (Only an alarm landing in
        # the instants between accept() returning and this function
        # returning, half a second after a stop with no connection
        # accepted meanwhile, could lose one.)
        return sock.accept()
    except (Stop, BlockingIOError, InterruptedError, ConnectionAbortedError):
        return None
    finally:
        in_accept = False


def main():
    listeners = inherited_listeners()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        signal.signal(sig, on_stop)
    signal.signal(signal.SIGALRM, on_alarm)

    sel = selectors.DefaultSelector()
    for key, sock in listeners:
        sel.register(sock, selectors.EVENT_READ, key)
        print(f"{PROG}[{os.getpid()}]: generation {GENERATION} listening on "
              f"{key} (fd {sock.fileno()})", file=sys.stderr, flush=True)
    notify(f"READY=1\nSTATUS=generation {GENERATION} serving")

    threads = []
    while not stopping:
        for skey, _ in sel.select(timeout=0.5):
            if stopping:
                break
            accepted = accept(skey.fileobj)
            if accepted is None:
                continue
            conn, addr = accepted
            t = threading.Thread(target=serve_connection,
                                 args=(conn, addr, skey.data))
            t.start()
            threads.append(t)
        threads = [t for t in threads if t.is_alive()]

    signal.setitimer(signal.ITIMER_REAL, 0)
    notify("STOPPING=1")
    for _, sock in listeners:
        sel.unregister(sock)
        sock.close()  # close, never shutdown: the socket is shared
    for t in threads:
        t.join()
    print(f"{PROG}[{os.getpid()}]: generation {GENERATION} stopped",
          file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
