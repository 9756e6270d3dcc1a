#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# metrics-crowd.py: hostile clients of baton's metrics listener, for the
# black-box tests and bench/metrics-probes.sh. Holds IDLE connections that
# send nothing and SLOW slowloris connections that send a request one byte
# at a time and never finish it, each reopened when baton closes it, for
# at most SECONDS; CONNECTS (optional) plain connects are opened and
# closed once first, as fast as they go. Writes READY_FILE once the first
# round is connected; prints "reopened N" at the end (how often baton cut
# a connection). Bounded in count (arguments) and time (SECONDS).
#
#   metrics-crowd.py HOST PORT IDLE SLOW SECONDS READY_FILE [CONNECTS]
import errno
import os
import selectors
import socket
import sys
import time

host, port = sys.argv[1], int(sys.argv[2])
n_idle, n_slow, secs = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
ready_file = sys.argv[6]
n_connects = int(sys.argv[7]) if len(sys.argv) > 7 else 0
REQ = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 4000
SLOW_EVERY = 0.2  # seconds between a slowloris client's bytes

end = time.monotonic() + secs
sel = selectors.DefaultSelector()
reopened = 0


def connect(kind):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect((host, port))
    except BlockingIOError:
        pass
    except OSError:
        s.close()
        return None
    # [kind, bytes of REQ sent, next send time]
    sel.register(s, selectors.EVENT_READ, [kind, 0, time.monotonic()])
    return s


def reopen(s):
    global reopened
    kind = sel.get_key(s).data[0]
    sel.unregister(s)
    s.close()
    reopened += 1
    connect(kind)


for _ in range(n_connects):
    if time.monotonic() > end:
        break
    try:
        c = socket.create_connection((host, port), timeout=2)
        c.close()
    except OSError:
        pass
for _ in range(n_idle):
    connect("idle")
for _ in range(n_slow):
    connect("slow")
with open(ready_file + ".tmp", "w") as f:
    f.write("%d\n" % (n_idle + n_slow))
os.rename(ready_file + ".tmp", ready_file)

while time.monotonic() < end:
    for key, _ in sel.select(timeout=SLOW_EVERY / 2):
        s = key.fileobj
        try:
            d = s.recv(4096)
        except OSError:
            d = b""
        if not d:  # baton closed it (or answered): open another
            reopen(s)
    now = time.monotonic()
    for key in list(sel.get_map().values()):
        st = key.data
        if st[0] != "slow" or now < st[2]:
            continue
        st[2] = now + SLOW_EVERY
        if st[1] >= len(REQ):
            continue
        try:
            st[1] += key.fileobj.send(REQ[st[1]:st[1] + 1])
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ENOTCONN):
                reopen(key.fileobj)
print("reopened %d" % reopened)
