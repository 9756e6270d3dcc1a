# SPDX-License-Identifier: ISC
# drain-client.py: held client connections for tests/blackbox/drain-*.sh.
import socket, sys, time
# client.py PORT N: open N connections, hold them until stdin closes or
# a line "close K" arrives (close K of them).
# PORT may be a unix socket's path.
where, n = sys.argv[1], int(sys.argv[2])
cs = []
for i in range(n):
    if where.startswith("/"):
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.settimeout(10)
        c.connect(where)
    else:
        c = socket.create_connection(("127.0.0.1", int(where)), timeout=10)
    cs.append(c)
print("open %d" % len(cs), flush=True)
for line in sys.stdin:
    w = line.split()
    if w and w[0] == "close":
        k = int(w[1])
        for c in cs[:k]:
            c.close()
        cs = cs[k:]
        print("open %d" % len(cs), flush=True)
