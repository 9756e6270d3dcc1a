#!/bin/bash
# SPDX-License-Identifier: ISC
# Every restart gets a receipt: STATUS.json's "receipts" (outcome, the
# totals), one log line when it finishes, --stats (text and prom) and the
# .prom file; "baton --restart --max-lost=N" waits for it and exits 0,
# 6 when the restart lost more than N (an old worker that ignores TERM
# and holds k connections at --stop-timeout: k cut), 4 when it was rolled
# back. A second HUP during a restart closes the first as superseded.
. "$(dirname "$0")/lib.sh"
baton_only_script "restart receipts are baton's"
command -v python3 >/dev/null 2>&1 || skip_all "no python3 to read STATUS.json"

# receipt FILE INDEX FIELD...: the fields of receipts[INDEX] (-1 the
# newest), space-separated; "none" without such a receipt
receipt() {
	python3 -c '
import json, sys
try:
    j = json.load(open(sys.argv[1]))
    r = j["receipts"][int(sys.argv[2])]
except Exception:
    print("none"); sys.exit(0)
print(" ".join(str(r.get(k)) for k in sys.argv[3:]))
' "$@"
}
_receipt_is() { [ "$(receipt "$1" "$2" "${@:4}")" = "$3" ]; }

cat >"$T/app" <<APP
#!/bin/sh
[ -e "$T/broken" ] && exec "$WORKER" --report "$T/report.%g" --exit-immediately 3
[ -e "$T/slow" ] && exec "$WORKER" --report "$T/report.%g" --boot-delay "$(scaled 1.5)" --notify-ready
exec "$WORKER" --report "$T/report.%g" --notify-ready
APP
chmod +x "$T/app"
P=$(free_port)
L=$T/baton.log
S=$T/status
CTL=(--pid-file="$T/pid" --status-file="$S")
serve_baton --until=status:1 --port=127.0.0.1:$P --restart-retries=0 --ready=notify \
	--log-file="$L" --metrics-file="$T/m.prom" --metrics-interval=0.2 "${CTL[@]}" -- "$T/app"

# 1. a HUP, a healthy worker
kill -HUP "$BATON_PID"
check "a HUP: a receipt, promoted, nothing lost" \
	wait_until 10 _receipt_is "$S.json" -1 "1 hup 2 1 promoted 0" id trigger generation previous outcome total
diag "receipt: $(receipt "$S.json" -1 id dropped abandoned cut total reset queue_peak wait_max_ms started_at ready_at finished_at)"
is "$(receipt "$S.json" -1 dropped abandoned cut)" "0 0 0" "dropped, abandoned and cut are 0"
like "$(receipt "$S.json" -1 ready_at finished_at)" '^[0-9.]+ [0-9.]+$' "ready_at and finished_at are times"
file_like "$L" 'restart 1 \(generation 1 → 2, hup\): [0-9.]+ s, 0 connections lost \(0 dropped, 0 abandoned, 0 cut\); queue peak [0-9]+, longest wait [0-9]+ ms' \
	"the log line when the restart finished"
run_baton --stats --status-file="$S"
like "$RUN_OUT" 'restart 1 \(generation 1 → 2, hup\): [0-9.]+ s, 0 connections lost' "--stats prints the last receipt"
like "$RUN_OUT" "127.0.0.1:$P .*wait [0-9]+ ms  idle [0-9]+  abandoned [0-9]+" "--stats: the accept queue's wait, idle, abandoned"
run_baton --stats --format=prom --status-file="$S"
like "$RUN_OUT" 'baton_restart_lost_connections_total\{reason="cut"\} 0' "--stats --format=prom: lost connections by reason"
like "$RUN_OUT" 'baton_last_restart_duration_seconds [0-9]+\.[0-9]{3}' "... the last restart's duration"
like "$RUN_OUT" "baton_listener_accept_wait_seconds\\{listener=\"127.0.0.1:$P\",proto=\"tcp\"\\} [0-9.]+" \
	"... the listener's accept wait"
check "the .prom file: the last restart's loss" \
	wait_file_contains "$T/m.prom" '^baton_last_restart_lost_connections 0$' 5
file_like "$T/m.prom" '^baton_listener_abandoned_total\{' "the .prom file: baton_listener_abandoned_total"
file_like "$T/m.prom" '^baton_listener_queued_idle\{' "the .prom file: baton_listener_queued_idle"
like "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["listeners"][0]["queue"])' "$S.json")" \
	"'wait_max_ms': [0-9]+, 'idle': [0-9]+, 'abandoned': [0-9]+" "STATUS.json: the queue's wait_max_ms, idle, abandoned"

# 2. --restart --max-lost=0 on a clean restart
RUN_TIMEOUT=20
run_baton --restart --max-lost=0 "${CTL[@]}"
is "$RUN_STATUS" 0 "--restart --max-lost=0: exit 0 on a clean restart"
like "$RUN_OUT" '^restart 2 \(generation 2 → 3, hup\): [0-9.]+ s, 0 connections lost' "... and it prints the receipt"

# the fleet gate of examples/: two "hosts" (env as the ssh command), each
# a clean restart of this baton
mkdir -p "$T/bin"
ln -sf "$BATON" "$T/bin/baton"
out=$(PATH="$T/bin:$PATH" SSH=env PIDFILE="$T/pid" STATUSFILE="$S" \
	timeout "$(scaled 40)" sh "$top_srcdir/examples/fleet-rollout.sh" HOST=a HOST=b 2>&1)
is "$?" 0 "examples/fleet-rollout.sh: two clean restarts, exit 0"
like "$out" "all 2 hosts restarted" "... it went through both"

# 3. a second HUP while the first restart's generation boots
touch "$T/slow"
kill -HUP "$BATON_PID"
check "generation 6 boots" wait_report 6 5
kill -HUP "$BATON_PID"
check "the first restart is closed as superseded" \
	wait_until 5 _receipt_is "$S.json" 4 "5 6 superseded" id generation outcome
check "the second restart (generation 7) finishes promoted" \
	wait_until "$(scaled 15)" _receipt_is "$S.json" 5 "6 7 6 promoted" id generation previous outcome
rm -f "$T/slow"

# 4. rolled back: --restart exits 4, even with --max-lost
touch "$T/broken"
run_baton --restart --max-lost=100 "${CTL[@]}"
is "$RUN_STATUS" 4 "a rolled-back restart: --restart --max-lost exits 4"
check "its receipt: rolled_back" wait_until 5 _receipt_is "$S.json" -1 "8 rolled_back" generation outcome
file_like "$L" 'restart 7 \(generation 7 → 8, hup\): [0-9.]+ s, rolled back, ' "the log line says rolled back"
rm -f "$T/broken"
kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "TERM: exit 0"

# 5. an old worker that ignores TERM and holds k connections: cut = k
k=3
cat >"$T/holder" <<'PY'
import os, signal, socket, sys
if os.environ.get("SERVER_STARTER_GENERATION") == "1":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
fd = int(os.environ["SERVER_STARTER_PORT"].split(";")[0].split("=")[1])
s = socket.socket(fileno=fd)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
    with open(sys.argv[1] + "." + os.environ["SERVER_STARTER_GENERATION"], "a") as f:
        f.write("accepted\n")
PY
P2=$(free_port)
CTL2=(--pid-file="$T/pid2" --status-file="$T/status2")
start_baton --port=127.0.0.1:$P2 --stop-timeout=1 --interval=0 --log-file="$T/baton2.log" "${CTL2[@]}" -- \
	python3 "$T/holder" "$T/held"
wait_status "$T/status2" 1 10 || bail_out "the holder never started"
_held() { [ -f "$T/held.1" ] && [ "$(wc -l <"$T/held.1")" -ge $k ]; }
exec 7<>/dev/tcp/127.0.0.1/$P2 8<>/dev/tcp/127.0.0.1/$P2 9<>/dev/tcp/127.0.0.1/$P2
check "generation 1 holds $k connections" wait_until 5 _held
RUN_TIMEOUT=20
run_baton --restart --max-lost=0 "${CTL2[@]}"
is "$RUN_STATUS" 6 "--restart --max-lost=0: exit 6 when the restart cut connections"
like "$RUN_ERR" "the restart lost more connections than allowed" "... and says why"
like "$RUN_OUT" "^restart 1 \\(generation 1 → 2, hup\\): [0-9.]+ s, $k connections lost \\(0 dropped, 0 abandoned, $k cut\\)" \
	"... and prints the receipt: $k cut"
is "$(receipt "$T/status2.json" -1 cut total outcome)" "$k $k promoted" "STATUS.json: cut $k, total $k"
exec 7>&- 8>&- 9>&-
kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "TERM: exit 0"
done_testing
