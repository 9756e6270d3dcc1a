#!/bin/bash
# SPDX-License-Identifier: ISC
# The metrics listener is bounded: 10,000 requests to /metrics
# leave baton's fd count flat; unknown paths are 404, other methods 405,
# an oversized request 431. HTTP framing: Host required once
# in HTTP/1.1 and never twice, HEAD, absolute-form targets. Idle
# connections are cut after about 2 s and hold no request back.
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

# HTTP framing: Host (RFC 9112 §3.2), HEAD (RFC 9110 §9.1),
# absolute-form targets (RFC 9112 §3.2.2), each as a raw request
raw() { # raw REQUEST: baton's whole answer (printf escapes in REQUEST)
	python3 - "$M" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
d = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    d += b
sys.stdout.write(d.decode("latin-1").replace("\r\n", "\n"))
PY
}
status_of() { head -n 1 <<<"$1" | cut -d' ' -f2; }
a=$(raw 'GET /healthz HTTP/1.1\r\n\r\n')
is "$(status_of "$a")" 400 "HTTP/1.1 without Host: 400"
a=$(raw 'GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n')
is "$(status_of "$a")" 400 "two Host lines: 400"
a=$(raw 'GET /healthz HTTP/1.0\r\n\r\n')
is "$(status_of "$a")" 200 "HTTP/1.0 without Host: 200"
a=$(raw 'GET http://127.0.0.1/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
is "$(status_of "$a")" 200 "an absolute-form target: 200"
is "$(tail -n 1 <<<"$a")" ok "... with /healthz's body"
get=$(raw 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n')
head=$(raw 'HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n')
is "$(status_of "$head")" 200 "HEAD /metrics: 200"
is "$(sed -n '/^$/q;/^Content-Length/p' <<<"$head")" "$(sed -n '/^$/q;/^Content-Length/p' <<<"$get")" \
	"... with GET's Content-Length"
is "$(tail -n 1 <<<"$head")" "Connection: close" "... and no body: the answer ends with its head"
like "$(raw 'HEAD /readyz HTTP/1.0\r\n\r\n')" "^HTTP/1.1 200 OK" "HEAD /readyz: 200"
like "$(raw 'DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n')" "Allow: GET, HEAD" "a 405 allows GET and HEAD"
is "$(curl -sI --max-time 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$M/healthz")" 200 "curl -I /healthz: 200"

# idle connections neither hold a probe back nor stay long (the rest is
# metrics-probes.sh): 16 of them, the 0.2.0 limit, and one more is served
python3 - "$M" "$T/idle.out" <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(16)]
t0 = time.monotonic()
open(sys.argv[2] + ".ready", "w").write("\n")
for c in conns:
    c.settimeout(20)
    c.recv(1)  # b"" once baton cuts it
open(sys.argv[2], "w").write("%d\n" % ((time.monotonic() - t0) * 1000))
PY
IP=$!
track_pid "$IP"
wait_file "$T/idle.out.ready" 10 || bail_out "the idle client did not connect"
_idle_taken() { [ "$(fd_count "$BATON_PID")" -ge $((after + 16)) ]; }
wait_until 10 _idle_taken || bail_out "baton did not take the 16 idle connections"
is "$(HTTP_TIMEOUT=$(scaled 1) mget 127.0.0.1:$M /healthz)" 200 \
	"a request behind 16 idle connections is answered within 1 s"
wait_file "$T/idle.out" 20
cmp_ok "$(cat "$T/idle.out")" -lt "$(scaled_ms 4500)" "idle connections are cut after about 2 s"
done_testing
