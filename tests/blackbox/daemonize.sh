#!/bin/bash
# SPDX-License-Identifier: ISC
# --daemonize: the command returns at once with 0; the daemon (a new session,
# not the process that was started) runs on, writes the pid file and serves.
. "$(dirname "$0")/lib.sh"

P=$(free_port)
RUN_TIMEOUT=10
run_baton --daemonize --log-file="$T/d.log" --pid-file="$T/d.pid" --status-file="$T/status" \
	--port=127.0.0.1:$P -- "${WORKER_CMD[@]}"
is "$RUN_STATUS" 0 "--daemonize: the command exits 0"
cmp_ok "$RUN_MS" -lt "$(scaled_ms 5000)" "and returns at once (${RUN_MS} ms)"
check "the pid file appears" wait_file "$T/d.pid" 5
wait_until 5 grep -qs . "$T/d.pid"
D=$(cat "$T/d.pid")
track_pid "$D"
check "the daemon named in the pid file runs" pid_alive "$D"
check "it serves" wait_http 127.0.0.1:$P 10
wait_report 1 5
is "$(report_val "$(report 1)" ppid)" "$D" "the worker's parent is the daemon"
dsid=$(ps -o sid= -p "$D" | tr -d ' ')
isnt "$dsid" "$(ps -o sid= -p $$ | tr -d ' ')" "the daemon is in a new session"
like "$(report_fd "$(report 1)" 0)" "target=/dev/null" "the worker's stdin is /dev/null"
like "$(report_fd "$(report 1)" 2)" "target=$T/d.log" "the worker's stderr is the log file"
check "the daemon logs to the log file" wait_file_contains "$T/d.log" "starting new worker" 5

# a start-up error is reported by the command itself, not lost in the daemon
run_baton --daemonize --log-file="$T/d2.log" --pid-file="$T/d2.pid" \
	--port=127.0.0.1:$P -- "$WORKER" --report "$T/d2-report"
isnt "$RUN_STATUS" 0 "--daemonize with a port in use: the command fails"
if baton_only "--daemonize start-up error exit code"; then
	is "$RUN_STATUS" 2 "with exit 2"
fi
nap 0.5
check_not "no daemon was left running (no pid file)" test -s "$T/d2.pid"
check_not "no worker was started" test -e "$T/d2-report"

kill -HUP "$D"
check "HUP to the daemon restarts" wait_gen 127.0.0.1:$P 2 10
kill -TERM "$D"
check "TERM: the daemon exits" wait_pid_gone "$D" 10
check_not "and removes its pid file" test -e "$T/d.pid"
check_not "the port is closed" port_listening "$P"
done_testing
