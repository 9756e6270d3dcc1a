#!/bin/bash
# SPDX-License-Identifier: ISC
# --ready=notify: two foreign uids taking turns on the workers' notify
# socket get a bounded number of log lines (one per interval for the
# cause, then a count of what was suppressed), not one line per datagram
# (0.2.0 remembered only the last uid it had warned about).
. "$(dirname "$0")/lib.sh"
baton_only_script "notify flood from two foreign uids: a bounded log"
[ "$(id -u)" = 0 ] || skip_all "needs root to send as other uids"
command -v python3 >/dev/null || skip_all "python3 not found"

# the worker: says READY=1, leaves its NOTIFY_SOCKET for the flooder
cat >"$T/worker.py" <<'PY'
import os, socket, time
addr = os.environ["NOTIFY_SOCKET"]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"READY=1", "\0" + addr[1:] if addr.startswith("@") else addr)
with open(os.environ["MARK"] + ".tmp", "w") as f:
    f.write(addr)
os.rename(os.environ["MARK"] + ".tmp", os.environ["MARK"])
while True:
    time.sleep(60)
PY

# flood.py ADDR SECONDS MAX: as root, switch the real uid (what
# SCM_CREDENTIALS reports) between 65534 and 65533 for every datagram,
# keeping 0 as the saved uid to switch back,
# for SECONDS or MAX datagrams; prints how many were sent
cat >"$T/flood.py" <<'PY'
import os, socket, sys, time
addr, secs, most = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
addr = "\0" + addr[1:] if addr.startswith("@") else addr
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setblocking(False)
end, sent, uids = time.monotonic() + secs, 0, (65534, 65533)
while time.monotonic() < end and sent < most:
    os.setresuid(uids[sent % 2], uids[sent % 2], 0)
    try:
        s.sendto(b"READY=1\nSTATUS=forged", addr)
        sent += 1
    except BlockingIOError:
        time.sleep(0.0005)
    finally:
        os.setresuid(0, 0, 0)
print(sent)
PY

warnings() { grep -c "ignoring notify datagrams from uid" "$T/baton.err"; }

S=$T/status
export MARK=$T/addr
start_baton --port=127.0.0.1:"$(free_port)" --ready=notify --status-file="$S" -- \
	python3 "$T/worker.py"
wait_file "$MARK" 20 || bail_out "the worker did not start"
wait_until 10 file_contains "$S.json" '"ready":true' || bail_out "generation 1 never ready"

t0=$(now_ms)
sent=$(python3 "$T/flood.py" "$(cat "$MARK")" "$(scaled 2)" 500000)
diag "sent $sent datagrams alternating uids 65534 and 65533 in $(($(now_ms) - t0)) ms"
cmp_ok "$sent" -gt 1000 "the flood was sent"
# what baton still had queued is read within a moment
nap 0.5
n=$(warnings)
diag "log: $n warning lines, $(wc -l <"$T/baton.err") lines, $(wc -c <"$T/baton.err") bytes"
cmp_ok "$n" -lt 20 "a flood from two uids taking turns logs fewer than 20 warnings"
file_like "$T/baton.err" "${WARN_PREFIX}ignoring notify datagrams from uid 6553[34]: not the workers' uid" \
	"the first foreign sender is named"
# the rest is counted: reported when the interval (10 s) ends
check "a line reports how many warnings were suppressed" wait_file_contains "$T/baton.err" \
	"${WARN_PREFIX}warnings about notify datagrams from other uids: [0-9]+ more suppressed in the last 10 s" 20
held=$(sed -nE 's/.*other uids: ([0-9]+) more suppressed.*/\1/p' "$T/baton.err" | head -n 1)
cmp_ok "$((held + $(warnings)))" -ge "$((sent / 2))" "the count covers the flood"
unlike "$(cat "$S.json")" forged "no forged STATUS reached the status file"
check "baton still runs" pid_alive "$BATON_PID"
done_testing
