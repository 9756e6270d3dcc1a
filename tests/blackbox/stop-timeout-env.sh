#!/bin/bash
# SPDX-License-Identifier: ISC
# Workers learn their deadline: BATON_STOP_TIMEOUT is --stop-timeout (plain
# decimal seconds) in every generation, and is absent without it, even when
# baton's own environment has one. examples/c/http-worker uses it as
# libbaton(3) says: after its stop signal, the next request on an idle
# keep-alive connection gets a whole answer with "Connection: close" (its
# --close-idle-at-stop variant loses that request), and a connection left
# idle is closed before the deadline, so the worker exits on its own.
. "$(dirname "$0")/lib.sh"
baton_only_script "BATON_STOP_TIMEOUT and the keep-alive stop"
HW=${HTTP_WORKER:-$top_builddir/examples/c/http-worker}
command -v python3 >/dev/null || skip_all "python3 is not installed"

# ---- BATON_STOP_TIMEOUT in the worker's environment -------------------------
ST=$(scaled 2.5)
start_baton --stop-timeout="$ST" -- "${WORKER_CMD[@]}"
wait_report 1 10 || bail_out "no worker report: $(tail -n 5 "$T/baton.err")"
is "$(report_env "$(report 1)" BATON_STOP_TIMEOUT)" "$ST" \
	"--stop-timeout=$ST: the worker has BATON_STOP_TIMEOUT=$ST"
kill -HUP "$BATON_PID"
wait_report 2 10 || diag "no report from generation 2"
is "$(report_env "$(report 2)" BATON_STOP_TIMEOUT)" "$ST" "and so has generation 2"
kill -TERM "$BATON_PID"
wait_baton_exit 10
rm -f "$T"/report.*

start_baton --stop-timeout=0.0004 -- "${WORKER_CMD[@]}"
wait_report 1 10 || bail_out "no worker report: $(tail -n 5 "$T/baton.err")"
is "$(report_env "$(report 1)" BATON_STOP_TIMEOUT)" 0.001 \
	"--stop-timeout=0.0004: milliseconds at most, never 0 (0.001)"
kill -TERM "$BATON_PID"
wait_baton_exit 10
rm -f "$T"/report.*

BATON_STOP_TIMEOUT=7 start_baton -- "${WORKER_CMD[@]}"
wait_report 1 10 || bail_out "no worker report: $(tail -n 5 "$T/baton.err")"
check_not "without --stop-timeout there is no BATON_STOP_TIMEOUT, not even baton's own" \
	report_has_env "$(report 1)" BATON_STOP_TIMEOUT
kill -TERM "$BATON_PID"
wait_baton_exit 10
rm -f "$T"/report.*

start_baton --stop-timeout=0 -- "${WORKER_CMD[@]}"
wait_report 1 10 || bail_out "no worker report: $(tail -n 5 "$T/baton.err")"
check_not "--stop-timeout=0 (no deadline): no BATON_STOP_TIMEOUT" \
	report_has_env "$(report 1)" BATON_STOP_TIMEOUT
kill -TERM "$BATON_PID"
wait_baton_exit 10

# ---- http-worker: the keep-alive stop ---------------------------------------
if [ ! -x "$HW" ]; then
	skip "http-worker's keep-alive stop" "$HW is not built"
	done_testing
	exit 0
fi

# ka.py HOST PORT GO-FILE TIMEOUT: two keep-alive connections, one request
# each; once GO-FILE exists, a second request on the first ("busy") one,
# while the second ("idle") one sends nothing and waits for the server to
# close it. Prints what it saw, a line per fact.
cat >"$T/ka.py" <<'EOF'
import os, socket, sys, time
host, port, go, timeout = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])

def answer(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            return None
        buf += d
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hdr = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    n = int(hdr.get("content-length", "0"))
    while len(body) < n:
        d = s.recv(4096)
        if not d:
            break
        body += d
    return lines[0], hdr.get("connection", "-"), body.decode("latin-1").split(" ")[0], len(body) == n

def ask(s, name):
    try:
        s.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        a = answer(s)
    except OSError as e:
        a = None
        print(name, "error", e.__class__.__name__)
    if a is None:
        print(name, "no-answer")
    else:
        print(name, "status=%s connection=%s body=%s whole=%s" % (a[0].split(" ")[1], a[1], a[2], a[3]))
    sys.stdout.flush()

busy = socket.create_connection((host, port), timeout=timeout)
idle = socket.create_connection((host, port), timeout=timeout)
ask(busy, "first")
ask(idle, "idle-first")
end = time.monotonic() + timeout
while not os.path.exists(go) and time.monotonic() < end:
    time.sleep(0.02)
t0 = time.monotonic()
ask(busy, "second")
try:
    print("busy-then", "eof" if busy.recv(1) == b"" else "data")
except OSError as e:
    print("busy-then", "error", e.__class__.__name__)
try:
    d = idle.recv(1)
    print("idle-then", "eof" if d == b"" else "data", "%d" % ((time.monotonic() - t0) * 1000))
except OSError as e:
    print("idle-then", "error", e.__class__.__name__)
EOF

# ka_run [HTTP-WORKER OPTION...]: baton with --stop-timeout=$ST2, the
# client's connections on generation 1, a HUP, and GO once generation 1's
# process has its TERM; the client's report in $T/ka.out
ST2=$(scaled 3)
ka_run() {
	local P log
	P=$(free_port)
	: >"$T/baton.err"
	rm -f "$T/go" "$T/ka.out" "$T/status"
	serve_baton --port=127.0.0.1:$P --ready=notify --stop-timeout="$ST2" \
		--status-file="$T/status" -- "$HW" -w 1 "$@"
	wait_status "$T/status" 1 10 || diag "status file: $(cat "$T/status" 2>&1)"
	timeout "$(scaled 60)" python3 "$T/ka.py" 127.0.0.1 "$P" "$T/go" "$(scaled 20)" \
		>"$T/ka.out" 2>&1 &
	local client=$!
	wait_file_contains "$T/ka.out" '^idle-first ' 10 || diag "client: $(cat "$T/ka.out")"
	kill -HUP "$BATON_PID"
	# generation 1's process logs its stop: then it has the TERM
	wait_file_contains "$T/baton.err" 'http-worker\[[0-9]+\]: stopping: ' 10 ||
		diag "no stop logged: $(tail -n 5 "$T/baton.err")"
	touch "$T/go"
	wait "$client"
	diag "client: $(tr '\n' ';' <"$T/ka.out")"
	log=$(grep -E 'http-worker\[[0-9]+\]: stopping: ' "$T/baton.err" | head -n 1)
	diag "worker: ${log#*: }"
}

ka_run
is "$(grep '^first ' "$T/ka.out")" "first status=200 connection=keep-alive body=gen=1 whole=True" \
	"http-worker keeps an HTTP/1.1 connection alive"
is "$(grep '^second ' "$T/ka.out")" "second status=200 connection=close body=gen=1 whole=True" \
	"after TERM, the request on the idle keep-alive connection gets a whole answer from generation 1, with Connection: close"
is "$(grep '^busy-then ' "$T/ka.out")" "busy-then eof" "... and then the connection is closed"
like "$(grep '^idle-then ' "$T/ka.out")" '^idle-then eof [0-9]+$' \
	"a connection left idle is closed by the worker"
ms=$(awk '$1 == "idle-then" { print $3 }' "$T/ka.out")
cmp_ok "${ms:-999999}" -lt "$(_to_ms "$ST2")" \
	"... before the deadline (BATON_STOP_TIMEOUT=$ST2 s)"
wait_until 10 file_contains "$T/baton.err" 'generation 1 is gone' ||
	diag "generation 1 still there: $(tail -n 5 "$T/baton.err")"
file_unlike "$T/baton.err" 'SIGKILL' "generation 1 exits on its own: no SIGKILL"
kill -TERM "$BATON_PID"
wait_baton_exit 10

# the naive stop closes the idle connection at TERM: the request is lost
ka_run --close-idle-at-stop
unlike "$(grep '^second ' "$T/ka.out")" "status=200" \
	"http-worker --close-idle-at-stop: the request sent on the idle connection after TERM gets no answer"
kill -TERM "$BATON_PID"
wait_baton_exit 10
done_testing
