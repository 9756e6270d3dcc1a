#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# A worker whose every loss is known, for the restart receipt's honesty checks.
#
# honesty-worker.py DIR
#
# Each generation reads its mode from DIR/mode when it starts (the test
# writes the next generation's mode before the HUP), takes every stream
# listener of SERVER_STARTER_PORT, sends READY=1 on NOTIFY_SOCKET (when
# set) and behaves as the mode says. It writes what it did as files
# DIR/EVENT.GEN (written whole, then renamed into place):
#
#   serve      accept, read a request to its blank line, answer
#              "HTTP/1.0 200 OK ... gen=G", close. At TERM (or INT, QUIT):
#              stop accepting (stopped.G), finish the requests in progress,
#              exit 0. Every connection it accepts gets its answer.
#   drain      as serve, but after it stopped accepting it waits for the
#              file DIR/release (at most 120 s) before it exits: a slow
#              drain that keeps the restart open while nobody accepts.
#   stall      accept nothing, ever; exit at TERM.
#   hold K     accept exactly K connections, read each one's request and
#              never answer it; then stop accepting (held.G holds K).
#              Ignores TERM: only SIGKILL (baton's --stop-timeout) ends it,
#              and the K connections it held are cut.
#
# The listener is shared with the other generations: it is polled (a
# timeout on the Python socket) so that an accept another process won
# never blocks this one.

import os
import signal
import socket
import sys
import threading
import time

DIR = sys.argv[1]
GEN = os.environ.get("SERVER_STARTER_GENERATION", "?")
stop = threading.Event()


def note(event, text=""):
    path = os.path.join(DIR, "%s.%s" % (event, GEN))
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def listeners():
    out = []
    for item in os.environ.get("SERVER_STARTER_PORT", "").split(";"):
        if "=" not in item:
            continue
        fd = int(item.rsplit("=", 1)[1])
        s = socket.socket(fileno=os.dup(fd))
        if s.type != socket.SOCK_STREAM:
            s.close()
            continue
        s.settimeout(0.05)
        os.close(fd)  # only the dup: closing it stops this process accepting
        out.append(s)
    return out


def notify_ready():
    addr = os.environ.get("NOTIFY_SOCKET")
    if not addr:
        return
    if addr[0] == "@":
        addr = "\0" + addr[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as n:
        n.sendto(b"READY=1", addr)


def read_request(c):
    c.settimeout(10)
    buf = b""
    while b"\r\n\r\n" not in buf and b"\n\n" not in buf and len(buf) < 8192:
        try:
            got = c.recv(4096)
        except OSError:
            return False
        if not got:
            return False
        buf += got
    return True


def answer(c):
    try:
        if read_request(c):
            body = ("gen=%s pid=%d\n" % (GEN, os.getpid())).encode()
            c.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                      b"Connection: close\r\n\r\n" + body)
    except OSError:
        pass
    finally:
        c.close()


def accept_until(ls, enough):
    """Accept from ls until stop or enough(conn) says so; the accepted."""
    while not stop.is_set():
        for s in ls:
            try:
                c, _ = s.accept()
            except (socket.timeout, BlockingIOError, InterruptedError):
                continue
            if enough(c):
                return


def serve(ls, drain):
    threads = []

    def take(c):
        t = threading.Thread(target=answer, args=(c,))
        t.start()
        threads.append(t)
        return False

    accept_until(ls, take)
    for s in ls:
        s.close()
    note("stopped")
    for t in threads:
        t.join(15)
    if drain:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if os.path.exists(os.path.join(DIR, "release")):
                break
            time.sleep(0.02)


def hold(ls, k):
    held = []

    def take(c):
        read_request(c)
        held.append(c)
        return len(held) >= k

    if k > 0:
        accept_until(ls, take)
    for s in ls:
        s.close()
    note("held", "%d\n" % len(held))
    time.sleep(120)


def main():
    with open(os.path.join(DIR, "mode")) as f:
        words = f.read().split()
    mode = words[0]
    if mode == "hold":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
            signal.signal(sig, lambda *_: stop.set())
    ls = listeners()
    notify_ready()
    note("ready", mode + "\n")
    if mode in ("serve", "drain"):
        serve(ls, mode == "drain")
    elif mode == "stall":
        while not stop.wait(0.1):
            pass
    elif mode == "hold":
        hold(ls, int(words[1]))
    else:
        sys.exit("honesty-worker: unknown mode %r" % mode)


main()
