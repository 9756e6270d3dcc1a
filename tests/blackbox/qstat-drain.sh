#!/bin/bash
# SPDX-License-Identifier: ISC
# STATUS.json's queue.len follows the queue down as it drains, back to 0
# (0.2.0 rewrote the file only when the peak, the drops or the limit
# moved, so it kept showing the last peak), and the drop line counts
# handshake packets, as the kernel does, not connections.
. "$(dirname "$0")/lib.sh"
baton_only_script "queue figures in STATUS.json are a baton extension"
. "$top_srcdir/tests/blackbox/lib-qstat.sh"
command -v python3 >/dev/null || skip_all "python3 not found"

# a worker that accepts nothing until $GO exists, then everything
cat >"$T/worker.py" <<'PY'
import os, socket, time
fd = int(os.environ["SERVER_STARTER_PORT"].split("=")[-1])
s = socket.socket(fileno=fd)
while not os.path.exists(os.environ["GO"]):
    time.sleep(0.05)
while True:
    c, _ = s.accept()
    c.close()
PY
export GO=$T/go

qlen() { # the queue length of the first listener in STATUS.json
	python3 - "$T/st.json" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    print(d["listeners"][0]["queue"]["len"])
except Exception as e:
    print("?")
PY
}
qlen_is() { [ "$(qlen)" = "$1" ]; }

P=$(free_port)
start_baton --port=127.0.0.1:$P --backlog=4 --status-file="$T/st" -- python3 "$T/worker.py"
wait_until 10 port_listening "$P" || bail_out "supervisor did not come up"
ino=$(tcp_inode "$P")
"$QPROBE" --kind tcp --inode "$ino" --connect 127.0.0.1:$P --count 10 >/dev/null
check "STATUS.json shows the full queue (5)" wait_until 10 qlen_is 5
check "the drops are reported as handshake packets, not connections" wait_file_contains "$T/baton.err" \
	"127\.0\.0\.1:$P dropped [0-9]+ handshake packets \(SYN or final ACK\) in the last minute \(queue full at 5/4\); raise" 10
file_unlike "$T/baton.err" "dropped [0-9]+ connections" "no line calls them connections"

touch "$GO"
check "once the worker accepts, STATUS.json shows the queue back at 0" wait_until 10 qlen_is 0
diag "queue: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["listeners"][0]["queue"])' "$T/st.json")"
done_testing
