#!/bin/bash
# SPDX-License-Identifier: ISC
# "baton --restart" never waits forever. A generation that
# never becomes ready (--ready=notify --ready-timeout=0) ends the wait at
# --restart-timeout with exit 4 and the reason; a stopped supervisor
# (SIGSTOP) is noticed within seconds. On a terminal, --restart shows its
# progress; elsewhere it prints nothing more than before.
. "$(dirname "$0")/lib.sh"
baton_only_script "--restart-timeout and the progress line are baton's"

cat >"$T/app" <<APP
#!/bin/sh
[ -e "$T/silent" ] && exec "$WORKER" --report "$T/report.%g"
exec "$WORKER" --report "$T/report.%g" --notify-ready
APP
chmod +x "$T/app"

# 1. a new generation that never says READY=1, and no readiness deadline
P=$(free_port)
CTL=(--pid-file="$T/pid" --status-file="$T/status")
start_baton --port=127.0.0.1:$P --ready=notify --ready-timeout=0 "${CTL[@]}" -- "$T/app"
wait_status "$T/status" 1 10 || bail_out "supervisor did not come up"
pid1=$(report_val "$(report 1)" pid)
touch "$T/silent"
RUN_TIMEOUT=15
run_baton --restart --restart-timeout=2 "${CTL[@]}"
diag "--restart said: $RUN_ERR"
is "$RUN_STATUS" 4 "--restart-timeout=2: exits 4 when the generation never becomes ready"
cmp_ok "$RUN_MS" -ge 1900 "not before the timeout (${RUN_MS} ms)"
cmp_ok "$RUN_MS" -lt 6000 "soon after it (${RUN_MS} ms)"
like "$RUN_ERR" "${MSG_PREFIX}restart timed out after 2s: generation 2 is still starting" \
	"the message gives the timeout and what is pending"
# (generation 2 accepts on the same socket too: it runs, it is just not ready)
check "generation 1's worker still runs" pid_alive "$pid1"
is "$(status_gens "$T/status")" 1 "the status file lists generation 1 only"

# the default follows the supervisor's deadlines: with none (ready-timeout
# 0), 600 s, so a client is still waiting a few seconds later
"$WORKER" --launch -- "$BATON" --restart "${CTL[@]}" >"$T/r.out" 2>"$T/r.err" </dev/null &
rp=$!
_track $rp
sleep 3
check "without --restart-timeout, --restart is still waiting after 3 s" pid_alive "$rp"
kill -TERM "$rp"
wait_pid_gone "$rp" 5
run_baton --stop --pid-file="$T/pid"
is "$RUN_STATUS" 0 "--stop ends the first supervisor"
rm -f "$T/silent" "$T"/report.*

# 2. a stopped supervisor: noticed within seconds, not at the timeout
Q=$(free_port)
CTL=(--pid-file="$T/pid2" --status-file="$T/status2")
start_baton --port=127.0.0.1:$Q "${CTL[@]}" -- "$T/app"
wait_status "$T/status2" 1 10 || bail_out "second supervisor did not come up"
bpid=$(cat "$T/pid2")
kill -STOP "$bpid"
run_baton --restart "${CTL[@]}"
diag "--restart said: $RUN_ERR"
is "$RUN_STATUS" 4 "a stopped supervisor: --restart exits 4"
cmp_ok "$RUN_MS" -lt 8000 "within seconds (${RUN_MS} ms)"
like "$RUN_ERR" "${MSG_PREFIX}the supervisor \\(pid $bpid\\) is stopped \\(SIGSTOP\\?\\)" \
	"the message names the supervisor and the cause"
kill -CONT "$bpid"
check "continued, it takes the pending restart: generation 2 serves alone" \
	wait_status "$T/status2" 2 10

# 3. the progress line, on a terminal only
run_baton --restart "${CTL[@]}"
is "$RUN_STATUS" 0 "--restart without a terminal exits 0"
is "$RUN_ERR" "" "and prints nothing"
timeout -k 2 20 script -qec "$(printf '%q ' "$BATON" --restart "${CTL[@]}")" /dev/null \
	>"$T/tty.out" 2>&1 </dev/null
is "$?" 0 "--restart on a terminal exits 0"
diag "on a terminal: $(tr -d '\r' <"$T/tty.out")"
for word in "generation 4 starting" ready "generation 3 retiring" done; do
	file_like "$T/tty.out" "$word" "the progress line says \"$word\""
done
file_like "$T/tty.out" "starting.*ready.*retiring.*done" "in that order, on one line"
is "$(status_gens "$T/status2")" 4 "generation 4 serves alone"
done_testing
