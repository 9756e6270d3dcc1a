# SPDX-License-Identifier: ISC
# drain-hold.py: a test worker for tests/blackbox/drain-*.sh.
import os, selectors, signal, socket, sys
# hold-worker: accepts on every inherited stream listener and holds each
# connection until its client closes it. --ignore-term: TERM changes
# nothing; otherwise TERM stops accepting and the worker exits once its
# last connection is closed.
ignore = "--ignore-term" in sys.argv
sel = selectors.DefaultSelector()
ls = []
for kv in os.environ["SERVER_STARTER_PORT"].split(";"):
    fd = int(kv.rsplit("=", 1)[1])
    s = socket.socket(fileno=fd)
    s.setblocking(False)
    ls.append(s)
    sel.register(s, selectors.EVENT_READ, "l")
conns = 0
stopping = False
def term(*a):
    global stopping
    if ignore:
        return
    stopping = True
signal.signal(signal.SIGTERM, term)
signal.signal(signal.SIGHUP, term)
while True:
    if stopping:
        for s in ls:
            try:
                sel.unregister(s)
            except Exception:
                pass
            s.close()
        ls = []
        if conns == 0:
            sys.exit(0)
    try:
        ev = sel.select(0.2)
    except InterruptedError:
        continue
    for k, _ in ev:
        if k.data == "l":
            try:
                c, _ = k.fileobj.accept()
            except (BlockingIOError, OSError):
                continue
            c.setblocking(False)
            sel.register(c, selectors.EVENT_READ, "c")
            conns += 1
        else:
            try:
                d = k.fileobj.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                d = b""
            if not d:
                sel.unregister(k.fileobj)
                k.fileobj.close()
                conns -= 1
