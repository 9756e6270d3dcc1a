#!/bin/bash
# SPDX-License-Identifier: ISC
# Rollback: a new generation that exits (or is killed) before it is
# ready is rolled back. The serving worker keeps answering, untouched;
# "baton --restart" exits 4 with the reason; the JSON status keeps the
# failure in last_failure; nothing is retried until the next restart
# (--restart-retries=0: a single rollback; restart-retries.sh tests the
# default, retried, case).
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/blackbox/lib-restart.sh"
baton_only_script "rollback and the JSON status are baton's"

cat >"$T/app" <<APP
#!/bin/sh
[ -e "$T/broken" ] && exec "$WORKER" --report "$T/report.%g" --exit-immediately 3
[ -e "$T/hang" ] && exec "$WORKER" --report "$T/report.%g" --boot-delay 20 --notify-ready
exec "$WORKER" --report "$T/report.%g" --on-signal-log "$T/signals.log" --notify-ready
APP
chmod +x "$T/app"
P=$(free_port)
L=$T/baton.log
CTL=(--pid-file="$T/pid" --status-file="$T/status")
serve_baton --until=status:1 --port=127.0.0.1:$P --restart-retries=0 --ready=notify --log-file="$L" "${CTL[@]}" -- "$T/app"
pid1=$(report_val "$(report 1)" pid)
is "$(http_pid 127.0.0.1:$P)" "$pid1" "generation 1 serves"
is "$(json_last_failure "$T/status.json")" null "no failure in the JSON status yet"

start_load lg 127.0.0.1 $P --seconds "$(scaled 12)" --max-requests 40000 --concurrency 2 \
	--pause-ms 5 --timeout-ms "$(scaled_ms 2000)"

# 1. the new worker exits with status 3 before READY=1
touch "$T/broken"
RUN_TIMEOUT=15
run_baton --restart "${CTL[@]}"
is "$RUN_STATUS" 4 "--restart exits 4 when the new generation exits before it is ready"
cmp_ok "$RUN_MS" -lt "$(scaled_ms 5000)" "at once (${RUN_MS} ms)"
diag "--restart said: $RUN_ERR"
pid2=$(report_val "$(report 2)" pid)
like "$RUN_ERR" "restart failed: generation 2 .*exited with status 3" \
	"its message names the generation and the exit status"
is "$(http_pid 127.0.0.1:$P)" "$pid1" "the same worker (pid $pid1) still answers"
is "$(signals_of "$pid1")" "" "and it was not signalled"
is "$(status_gens "$T/status")" 1 "the status file lists generation 1 only"
is "$(json_states "$T/status.json")" "1:serving" "the JSON status: generation 1 serving, nothing else"
lf=$(json_last_failure "$T/status.json")
like "$lf" '"generation":2,' "JSON last_failure names generation 2"
like "$lf" "\"reason\":\"[^\"]*${pid2}[^\"]*exited with status 3" "JSON last_failure gives the pid and the cause"
like "$lf" '"time":[0-9]{10}' "JSON last_failure has a time"
file_like "$L" "new worker $pid2 \\(generation 2\\) failed to start: exited with status 3" \
	"the log: new worker PID failed to start: exited with status 3"
file_like "$L" "restart failed: generation 2 .*generation 1 keeps serving" \
	"the log: restart failed ... generation 1 keeps serving"
n=$(log_count "$L" 'starting new worker')
nap 2
is "$(log_count "$L" 'starting new worker')" "$n" "no retry until the next restart"

# 2. the new worker is killed by a signal while it boots
rm -f "$T/broken"
touch "$T/hang"
timeout -k 2 "$(scaled 20)" "$WORKER" --launch -- "$BATON" --restart "${CTL[@]}" >"$T/r2.out" 2>"$T/r2.err" </dev/null &
rp=$!
_track $rp
check "a second restart: generation 3 boots" wait_report 3 5
pid3=$(report_val "$(report 3)" pid)
nap 0.5
check "the --restart client waits while generation 3 boots" pid_alive "$rp"
kill -KILL "$pid3"
wait_until 5 pid_gone "$rp"
wait "$rp"
is "$?" 4 "--restart exits 4 when the booting worker is killed"
diag "--restart said: $(cat "$T/r2.err")"
file_like "$T/r2.err" "restart failed: generation 3 .*killed by signal (9|KILL|SIGKILL)" \
	"its message names the generation and the signal"
is "$(http_pid 127.0.0.1:$P)" "$pid1" "still the same worker answers"
like "$(json_last_failure "$T/status.json")" '"generation":3,.*killed by signal' \
	"JSON last_failure: generation 3, killed by a signal"
is "$(status_gens "$T/status")" 1 "the status file lists generation 1 only"

# 3. fixed: the next restart goes through
rm -f "$T/hang"
run_baton --restart "${CTL[@]}"
is "$RUN_STATUS" 0 "once the program works, --restart exits 0"
[ "$RUN_STATUS" = 0 ] || diag "--restart said: $RUN_ERR"
pid4=$(report_val "$(report 4)" pid)
is "$(status_gens "$T/status")" 4 "the status file lists generation 4 only"
check "the old worker is gone" wait_pid_gone "$pid1" 5
is "$(http_pid 127.0.0.1:$P)" "$pid4" "generation 4 answers"

# a second of answers from generation 4 alone, then the clients stop
nap 1
stop_load lg
finish_load lg 20
is "$LOAD_STATUS" 0 "no request failed through the failed and the good restarts"
like "$LOAD_OUT" " failed=0 " "failed=0"
like "$LOAD_OUT" " min_gen=1 .* last_gen=4$" "answers from generation 1, then 4"
unlike "$LOAD_OUT" "max_gen=[23] " "never from the failed generations"
done_testing
