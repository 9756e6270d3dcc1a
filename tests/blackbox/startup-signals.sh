#!/bin/bash
# SPDX-License-Identifier: ISC
# A signal that arrives while baton starts up (binding many listeners,
# before its event loop runs) is not fatal: it waits, blocked, and is acted
# on once the loop runs. HUP gives generation 2, TERM a clean stop (pid file
# removed, no worker left), USR1 is only logged. Before the fix each of
# these killed baton with its default action (exit 129, 143, 138),
# leaving the pid and socket files behind.
. "$(dirname "$0")/lib.sh"
baton_only_script "signals during start-up"

# Many unix listeners make a start-up of about 0.1 s: the signals below
# land inside it. One TCP port to ask which generation serves.
N=300
LISTENERS=()
for i in $(seq 1 "$N"); do LISTENERS+=(--path="$T/s$i.sock"); done

_started() { grep -qs "starting now" "$1"; }

# start_and_signal SIG DELAY PORT: start baton and send SIG DELAY seconds
# after it logged "starting now" (before that the launcher, or the dynamic
# loader, may still run: a signal then tests them, not baton). Each round
# logs to its own file.
start_and_signal() {
	local i
	ROUND=$((${ROUND:-0} + 1))
	BATON_ERR=$T/baton.err.$ROUND
	start_baton --port=127.0.0.1:"$3" --pid-file="$T/pid" "${LISTENERS[@]}" \
		-- "${WORKER_CMD[@]}"
	# a busy poll, bounded: a 50 ms wait_until step would miss the window
	for i in $(seq 1 5000); do
		_started "$BATON_ERR" || pid_gone "$BATON_PID" && break
	done
	sleep "$2"
	kill -s "$1" "$BATON_PID"
}

for d in 0.001 0.005 0.02; do
	rm -f "$T"/report.* "$T/pid"
	P=$(free_port)
	start_and_signal HUP "$d" "$P"
	check "HUP ${d}s into start-up: generation 2 serves" wait_gen 127.0.0.1:"$P" 2 15
	check "... baton is still running" pid_alive "$BATON_PID"
	check "... it logged the HUP" file_contains "$BATON_ERR" "received SIGHUP"
	kill -TERM "$BATON_PID"
	wait_baton_exit 15
	is "$BATON_STATUS" 0 "... then TERM: exit 0"
done

for d in 0.001 0.01; do
	rm -f "$T"/report.* "$T/pid"
	P=$(free_port)
	start_and_signal TERM "$d" "$P"
	wait_baton_exit 15
	is "$BATON_STATUS" 0 "TERM ${d}s into start-up: a clean stop, exit 0"
	check_not "... the pid file is removed" test -e "$T/pid"
	check_not "... the socket files are removed" test -e "$T/s1.sock"
	w=$(report_val "$(report 1)" pid)
	if [ -n "$w" ]; then
		check "... the worker it started is gone" wait_pid_gone "$w" 10
	else
		pass "... no worker was started"
	fi
	check "... no process is left" wait_until 5 eval '[ -z "$(tagged_pids)" ]'
done

rm -f "$T"/report.* "$T/pid"
P=$(free_port)
start_and_signal USR1 0.005 "$P"
check "USR1 during start-up: generation 1 serves" wait_gen 127.0.0.1:"$P" 1 15
check "... baton is still running" pid_alive "$BATON_PID"
check "... and says there is no log file to reopen" \
	wait_file_contains "$BATON_ERR" "received SIGUSR1: no log file to reopen" 5
kill -TERM "$BATON_PID"
wait_baton_exit 15
is "$BATON_STATUS" 0 "... then TERM: exit 0"
done_testing
