#!/bin/bash
# SPDX-License-Identifier: ISC
# The accept queue between restarts: queued connections that have sent
# nothing are called an idle-connection flood in the log, clients that
# gave up while queued are counted (STATUS.json's queue.abandoned,
# baton_listener_abandoned_total) and said in the log, each line once
# (rate-limited), on a listener nobody accepts on.
. "$(dirname "$0")/lib.sh"
baton_only_script "the accept-queue diagnoses are baton's"
command -v python3 >/dev/null 2>&1 || skip_all "no python3"

P=$(free_port)
L=$T/baton.log
k=12
start_baton --port=127.0.0.1:$P --backlog=64 --metrics-interval=0.2 --metrics-file="$T/m.prom" \
	--status-file="$T/st" --log-file="$L" -- sleep 600
wait_file "$T/st.json" 10 || bail_out "no status file"
# k clients that connect, send nothing, and give up after a while
python3 - "$P" "$k" "$(scaled 2.5)" "$T/closed" <<'PY' &
import socket, sys, time
port, k, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
cs = [socket.create_connection(("127.0.0.1", port)) for _ in range(k)]
time.sleep(hold)
for c in cs:
    c.close()
open(sys.argv[4], "w").close()
time.sleep(hold)
PY
cp=$!
track_pid $cp
check "the log calls $k silent queued connections an idle-connection flood" \
	wait_file_contains "$L" "$k of $k queued connections on 127\\.0\\.0\\.1:$P have sent nothing for [0-9]+ s: an idle-connection flood\\? \\(see --defer-accept\\)" 10
wait_file "$T/closed" 10 || bail_out "the clients never closed"
check "the log says the $k clients that gave up while queued" \
	wait_file_contains "$L" "$k clients gave up while queued on 127\\.0\\.0\\.1:$P in the last minute: too few workers, or a stalled generation" 10
_abandoned() {
	[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["listeners"][0]["queue"]["abandoned"])' "$T/st.json" 2>/dev/null)" = "$k" ]
}
check "STATUS.json: queue.abandoned $k" wait_until 5 _abandoned
check "the .prom file: baton_listener_abandoned_total $k" \
	wait_file_contains "$T/m.prom" "^baton_listener_abandoned_total\\{listener=\"127\\.0\\.0\\.1:$P\",proto=\"tcp\"\\} $k\$" 5
is "$(grep -c 'idle-connection flood' "$L")" 1 "the flood said once"
wait "$cp"
kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "TERM: exit 0"
done_testing
