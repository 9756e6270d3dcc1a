#!/bin/bash
# SPDX-License-Identifier: ISC
# --log-file: to a file (appended; the workers' stdout/stderr go there too)
# or to a command ("| cmd"), which must not hold the listening sockets and
# must go away with the supervisor.
. "$(dirname "$0")/lib.sh"

L=$T/server.log
echo "earlier line" >"$L"
P=$(free_port)
serve_baton --until=report:1 --port=127.0.0.1:$P --log-file="$L" -- "${WORKER_CMD[@]}"
pid1=$(report_val "$(report 1)" pid)
check "the supervisor logs to the file" wait_file_contains "$L" "starting new worker $pid1" 5
check "the worker's stderr goes to the file" wait_file_contains "$L" "^worker: pid $pid1 gen 1 serving" 5
is "$(head -n 1 "$L")" "earlier line" "the log file is appended to, not truncated"
kill -HUP "$BATON_PID"
wait_report 2 10
pid2=$(report_val "$(report 2)" pid)
check "generation 2's lines follow" wait_file_contains "$L" "^worker: pid $pid2 gen 2 serving" 5
kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "TERM: exit 0"
check "the old worker's exit is in the log" file_contains "$L" "^worker: pid $pid1 gen 1 stopping"

# a pipe to a command
rm -f "$T"/report.*
PL=$T/piped.log
P=$(free_port)
serve_baton --until=report:1 --port=127.0.0.1:$P --log-file="| cat >>$PL" -- "${WORKER_CMD[@]}"
pid1=$(report_val "$(report 1)" pid)
check "the supervisor's lines reach the command" wait_file_contains "$PL" "starting new worker $pid1" 5
check "the worker's lines too" wait_file_contains "$PL" "^worker: pid $pid1 gen 1 serving" 5
ino=$(report_fd "$(report 1)" "$(report_val "$(report 1)" listener | cut -d' ' -f2)" | grep -o 'socket:\[[0-9]*\]')
holders=
for p in $(tagged_pids); do
	[ "$p" = "$BATON_PID" ] || [ "$p" = "$pid1" ] && continue
	# any other process of ours: the logger (and its shell)
	if ls -l /proc/"$p"/fd 2>/dev/null | grep -qF "$ino"; then
		holders="$holders $p($(cat /proc/"$p"/comm))"
	fi
done
is "$holders" "" "the log command does not hold the listening socket"
kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "TERM: exit 0"
check "the log command goes away with the supervisor" wait_until 5 eval '[ -z "$(tagged_pids)" ]'
check "the last lines were written" file_contains "$PL" "^worker: pid $pid1 gen 1 stopping"
done_testing
