# SPDX-License-Identifier: ISC
# drain-client.py: held client connections for tests/blackbox/drain-*.sh.
import socket, sys, time
# client.py PORT N: open N connections, hold them until stdin closes or
# a line "close K" arrives (close K of them).
port, n = int(sys.argv[1]), int(sys.argv[2])
cs = []
for i in range(n):
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
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
