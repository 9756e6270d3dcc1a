#!/bin/bash
# SPDX-License-Identifier: ISC
# A worker that sends STOPPING=1 in a loop on NOTIFY_SOCKET gets one log
# line, not one per datagram (every line an outside
# party can cause is bounded; 0.2.0 logged "worker N (generation G) is
# stopping" for each datagram).
. "$(dirname "$0")/lib.sh"
baton_only_script "notify STOPPING=1 flood: one log line"
command -v python3 >/dev/null || skip_all "python3 not found"

# the worker: READY=1, then STOPPING=1 MAX times (bounded in count and
# time), then a mark with how many went out; it keeps running
cat >"$T/worker.py" <<'PY'
import os, socket, sys, time
addr = os.environ["NOTIFY_SOCKET"]
addr = "\0" + addr[1:] if addr.startswith("@") else addr
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"READY=1", addr)
most, end, sent = 2000, time.monotonic() + float(sys.argv[1]), 0
while sent < most and time.monotonic() < end:
    try:
        s.sendto(b"STOPPING=1", addr)
        sent += 1
    except (BlockingIOError, OSError):
        time.sleep(0.001)
with open(os.environ["MARK"] + ".tmp", "w") as f:
    f.write(str(sent))
os.rename(os.environ["MARK"] + ".tmp", os.environ["MARK"])
while True:
    time.sleep(60)
PY

S=$T/status
export MARK=$T/sent
start_baton --port=127.0.0.1:"$(free_port)" --ready=notify --status-file="$S" -- \
	python3 "$T/worker.py" "$(scaled 5)"
wait_file "$MARK" 30 || bail_out "the worker did not finish its datagrams"
sent=$(cat "$MARK")
cmp_ok "$sent" -ge 100 "the worker sent STOPPING=1 many times"
# baton reads what is queued within a moment; the one line comes first
check "the worker's STOPPING=1 is logged" wait_file_contains "$T/baton.err" \
	"${MSG_PREFIX}worker [0-9]+ \(generation 1\) is stopping" 10
nap 0.5
n=$(grep -c "is stopping" "$T/baton.err")
diag "sent $sent datagrams; log: $n 'is stopping' lines"
is "$n" 1 "one line for the worker, however many datagrams"
check "baton still runs" pid_alive "$BATON_PID"
done_testing
