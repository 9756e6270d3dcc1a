#!/bin/bash
# SPDX-License-Identifier: ISC
# Readiness deadline: with --ready=notify --ready-timeout=2, a new
# generation that never sends READY=1 is rolled back at the deadline: its
# worker is stopped, the serving one keeps serving, "baton --restart" exits 4
# with the reason. Two cases: a worker that serves but never notifies, and one
# stuck in its boot. --restart-retries=0: one rollback each (a retried
# generation would answer too; restart-retries.sh tests the retries).
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/blackbox/lib-restart.sh"
baton_only_script "--ready=notify and --ready-timeout are extensions"

cat >"$T/app" <<APP
#!/bin/sh
[ -e "$T/silent" ] && exec "$WORKER" --report "$T/report.%g" --on-signal-log "$T/signals.log"
[ -e "$T/stuck" ] && exec "$WORKER" --report "$T/report.%g" --on-signal-log "$T/signals.log" --boot-delay 30 --notify-ready
exec "$WORKER" --report "$T/report.%g" --on-signal-log "$T/signals.log" --notify-ready
APP
chmod +x "$T/app"
P=$(free_port)
L=$T/baton.log
CTL=(--pid-file="$T/pid" --status-file="$T/status")
RT=$(scaled 2) # --ready-timeout
RT_MS=$(_to_ms "$RT")
RT_RE=${RT//./\\.}
serve_baton --until=status:1 --port=127.0.0.1:$P --restart-retries=0 --ready=notify --ready-timeout="$RT" --log-file="$L" "${CTL[@]}" -- "$T/app"
pid1=$(report_val "$(report 1)" pid)
is "$(http_pid 127.0.0.1:$P)" "$pid1" "generation 1 serves"

RUN_TIMEOUT=15
# 1. serves, but never says READY=1
touch "$T/silent"
# meanwhile a process that is not one of baton's workers sends READY=1 to
# generation 2's NOTIFY_SOCKET: it must be ignored
(
	wait_report 2 5 || exit 1
	ns=$(report_env "$(report 2)" NOTIFY_SOCKET) || exit 1
	echo "$ns" >"$T/ns"
	nap 0.3
	NOTIFY_SOCKET=$ns SERVER_STARTER_PORT='' "$WORKER" --notify-ready --exit-after 0.1 --quiet 2>"$T/spoof.err"
	echo $? >"$T/spoof.rc"
) &
spoofer=$!
start_load lg1 127.0.0.1 $P --seconds "$(scaled 4)" --max-requests 20000 --concurrency 2 --pause-ms 5 --timeout-ms "$(scaled_ms 2000)"
run_baton --restart "${CTL[@]}"
diag "--restart said: $RUN_ERR"
pid2=$(report_val "$(report 2)" pid)
is "$RUN_STATUS" 4 "--restart exits 4 when the new generation misses --ready-timeout"
wait "$spoofer"
is "$(cat "$T/spoof.rc" 2>/dev/null)" 0 "a foreign process sent READY=1 to $(cat "$T/ns" 2>/dev/null)"
file_unlike "$T/spoof.err" 'cannot notify' "and the socket took the datagram"
cmp_ok "$RUN_MS" -ge $((RT_MS - 500)) "not before the deadline (${RUN_MS} ms): the foreign READY=1 was ignored"
cmp_ok "$RUN_MS" -lt $((RT_MS + $(scaled_ms 2500))) "soon after it (${RUN_MS} ms)"
like "$RUN_ERR" "restart failed: generation 2 .*0 of 1 workers ready after ${RT_RE}s" "the message gives the cause"
t0=$(log_ms "$L" "starting new worker $pid2 \\(generation 2\\)")
t1=$(log_ms "$L" "generation 2 failed: 0 of 1 workers ready after ${RT_RE}s \\(--ready-timeout\\)")
if [ -n "$t0" ] && [ -n "$t1" ]; then
	dt=$((t1 - t0))
	cmp_ok "$dt" -ge $((RT_MS - 100)) "the log: rolled back at the deadline, not before (${dt} ms after the start)"
	cmp_ok "$dt" -le $((RT_MS + $(scaled_ms 600))) "the log: and right at it (${dt} ms after the start)"
else
	fail "the log has the start and the timeout lines" "start=$t0 timeout=$t1" "$(tail -n 15 "$L")"
	fail "(no timestamps to compare)"
fi
check "the late worker is sent TERM" wait_signal TERM "$pid2" 3
check "the late worker is gone" wait_pid_gone "$pid2" 5
check "the serving worker is alive" pid_alive "$pid1"
is "$(signals_of "$pid1")" "" "and was not signalled"
is "$(http_pid 127.0.0.1:$P)" "$pid1" "the same worker answers after the rollback"
is "$(status_gens "$T/status")" 1 "the status file lists generation 1 only"
lf=$(json_last_failure "$T/status.json")
like "$lf" '"generation":2,.*ready-timeout' "JSON last_failure: generation 2, --ready-timeout"
finish_load lg1 10
is "$LOAD_STATUS" 0 "no request failed around the rollback"

# 2. stuck in its boot: it never serves, so every answer is generation 1's
rm -f "$T/silent"
touch "$T/stuck"
start_load lg2 127.0.0.1 $P --seconds "$(scaled 4)" --max-requests 20000 --concurrency 2 --pause-ms 5 --timeout-ms "$(scaled_ms 2000)"
run_baton --restart "${CTL[@]}"
diag "--restart said: $RUN_ERR"
pid3=$(report_val "$(report 3)" pid)
is "$RUN_STATUS" 4 "stuck in boot: --restart exits 4"
cmp_ok "$RUN_MS" -ge $((RT_MS - 500)) "stuck in boot: not before the deadline (${RUN_MS} ms)"
cmp_ok "$RUN_MS" -lt $((RT_MS + $(scaled_ms 2500))) "stuck in boot: soon after it (${RUN_MS} ms)"
file_like "$L" "generation 3 failed: 0 of 1 workers ready after ${RT_RE}s" "the log gives the cause"
check "the stuck worker is gone" wait_pid_gone "$pid3" 5
is "$(http_pid 127.0.0.1:$P)" "$pid1" "the same worker still answers"
finish_load lg2 10
is "$LOAD_STATUS" 0 "no request failed"
like "$LOAD_OUT" " min_gen=1 max_gen=1 last_gen=1$" "every answer came from generation 1"
is "$(status_gens "$T/status")" 1 "the status file lists generation 1 only"
is "$(json_states "$T/status.json")" "1:serving" "the JSON status lists generation 1 serving only"

# 3. a worker that notifies in time goes through
rm -f "$T/stuck"
run_baton --restart "${CTL[@]}"
is "$RUN_STATUS" 0 "a generation ready in time: --restart exits 0"
check "generation 1 is retired then" wait_pid_gone "$pid1" 5
is "$(http_gen 127.0.0.1:$P)" 4 "generation 4 answers"
done_testing
