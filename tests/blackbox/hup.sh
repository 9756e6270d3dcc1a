#!/bin/bash
# SPDX-License-Identifier: ISC
# SIGHUP: a new generation starts, then the old one gets --signal-on-hup
# (TERM by default) and is gone; the new generation answers.
. "$(dirname "$0")/lib.sh"

P=$(free_port)
serve_baton --port=127.0.0.1:$P --status-file="$T/status" -- "${WORKER_CMD[@]}"
is "$(http_gen 127.0.0.1:$P)" 1 "generation 1 answers first"
wait_status "$T/status" 1 5
pid1=$(report_val "$(report 1)" pid)
is "$(status_pid_of "$T/status" 1)" "$pid1" "status file names the gen-1 worker"

kill -HUP "$BATON_PID"
check "a HUP starts generation 2" wait_report 2 10
pid2=$(report_val "$(report 2)" pid)
is "$(report_val "$(report 2)" generation)" 2 "SERVER_STARTER_GENERATION=2 in the new worker"
is "$(report_val "$(report 2)" port)" "$(report_val "$(report 1)" port)" \
	"the new generation gets the same SERVER_STARTER_PORT"
check "the old worker is sent TERM" wait_file_contains "$T/signals.log" "^TERM $pid1 1 " 10
check "the old worker is gone" wait_pid_gone "$pid1" 10
check "generation 2 answers" wait_gen 127.0.0.1:$P 2 5
check "the status file lists only generation 2" wait_status "$T/status" 2 5
is "$(status_pid_of "$T/status" 2)" "$pid2" "status file names the gen-2 worker"
is "$(signals_of "$pid2")" "" "the new worker got no signal"
check "the supervisor is still running" pid_alive "$BATON_PID"

# the same socket all along: the listener inode is shared by both generations
ino1=$(report_fd "$(report 1)" "$(report_val "$(report 1)" listener | cut -d' ' -f2)" | grep -o 'socket:\[[0-9]*\]')
ino2=$(report_fd "$(report 2)" "$(report_val "$(report 2)" listener | cut -d' ' -f2)" | grep -o 'socket:\[[0-9]*\]')
is "$ino2" "$ino1" "both generations inherit the same listening socket"

# more HUPs, one after the other
for g in 3 4; do
	prev=$(report_val "$(report $((g - 1)))" pid)
	kill -HUP "$BATON_PID"
	check "HUP number $((g - 1)) gives generation $g" wait_gen 127.0.0.1:$P $g 10
	check "generation $((g - 1)) is gone after it" wait_pid_gone "$prev" 10
done
check "the status file lists only generation 4" wait_status "$T/status" 4 5

if baton_only "HUP is logged with the contract's messages"; then
	file_like "$T/baton.err" 'received SIGHUP, starting a new generation' "HUP message"
	file_like "$T/baton.err" 'generation 2 is ready; retiring generation 1' "retire message"
	file_like "$T/baton.err" "starting new worker $pid2 \\(generation 2\\)" "start message names pid and generation"
fi
done_testing
