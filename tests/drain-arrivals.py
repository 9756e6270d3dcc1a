# SPDX-License-Identifier: ISC
# drain-arrivals.py PORT SECONDS: a load balancer that keeps sending new
# connections while an endpoint's removal propagates: a fresh connection
# every 50 ms for SECONDS, one HTTP/1.0 request each; prints
# "ok N failed M".
import socket, sys, time
port, secs = int(sys.argv[1]), float(sys.argv[2])
ok = failed = 0
end = time.monotonic() + secs
while time.monotonic() < end:
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=3)
        c.sendall(b"GET / HTTP/1.0\r\n\r\n")
        data = b""
        while True:
            d = c.recv(4096)
            if not d:
                break
            data += d
        c.close()
        if data.startswith(b"HTTP/1.0 200"):
            ok += 1
        else:
            failed += 1
    except OSError:
        failed += 1
    time.sleep(0.05)
print("ok %d failed %d" % (ok, failed), flush=True)
