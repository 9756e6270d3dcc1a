#!/bin/bash
# SPDX-License-Identifier: ISC
# The metrics listener is bounded (issue 12): 10,000 requests to /metrics
# leave baton's fd count flat; unknown paths are 404, other methods 405,
# an oversized request 431; idle connections are cut after 5 s, and while
# 16 of them hold every slot the next request waits in the backlog and is
# answered once they are cut.
. "$(dirname "$0")/lib.sh"
baton_only_script "--metrics-listen is a baton extension"
. "$top_srcdir/tests/blackbox/lib-metrics.sh"

P=$(free_port)
M=$(free_port)
start_baton --port=127.0.0.1:$P --metrics-listen=127.0.0.1:$M -- "${WORKER_CMD[@]}"
wait_until 10 mcode_is 127.0.0.1:$M /readyz 200 || bail_out "generation 1 never served"
is "$(mget 127.0.0.1:$M /nope)" 404 "an unknown path: 404"
is "$(mget 127.0.0.1:$M '/metrics?x=1')" 200 "a query string is ignored"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$M/metrics")" 405 "POST: 405"
big=$(head -c 5000 /dev/zero | tr '\0' a)
is "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $big" "http://127.0.0.1:$M/metrics")" 431 \
	"a request over 4 KiB: 431"

before=$(fd_count "$BATON_PID")
out=$(python3 - "$M" <<'PY'
import socket, sys
port, ok, bad = int(sys.argv[1]), 0, None
for i in range(10000):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    d = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        d += b
    s.close()
    good = d.startswith(b"HTTP/1.1 200 ") and b"baton_generation 1\n" in d
    ok += good
    if not good and bad is None:
        bad = d[:300]
print(ok)
if bad is not None:
    print("first bad answer: %r" % bad, file=sys.stderr)
PY
)
is "$out" 10000 "10,000 requests to /metrics, each answered in full"
after=$(fd_count "$BATON_PID")
is "$after" "$before" "baton's fd count is flat ($before before, $after after)"

# 16 idle connections take every slot; the 17th waits, then is served
python3 - "$M" "$T/idle.out" <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(16)]
open(sys.argv[2] + ".ready", "w").write("%d\n" % int(time.time() * 1000))
t0 = time.time()
for c in conns:
    c.settimeout(20)
    c.recv(1)  # b"" once baton cuts it
open(sys.argv[2], "w").write("%.1f\n" % (time.time() - t0))
PY
IP=$!
track_pid "$IP"
# all 16 connected and taken by baton (its fd count shows them) before the
# 17th: on a loaded machine the client may still be opening them
wait_file "$T/idle.out.ready" 10 || bail_out "the idle client did not connect"
_idle_taken() { [ "$(fd_count "$BATON_PID")" -ge $((after + 16)) ]; }
wait_until 10 _idle_taken || bail_out "baton did not take the 16 idle connections"
# counted from when they connected: baton cuts them 5 s after that
t0=$(cat "$T/idle.out.ready")
code=$(HTTP_TIMEOUT=15 mget 127.0.0.1:$M /healthz)
is "$code" 200 "a request behind 16 idle connections is answered"
cmp_ok "$(($(now_ms) - t0))" -ge 3000 "... once the idle ones are cut"
wait_file "$T/idle.out" 20
cmp_ok "$(cut -d. -f1 "$T/idle.out")" -le 8 "idle connections are cut after about 5 s"
done_testing
