#!/bin/bash
# SPDX-License-Identifier: ISC
# What a worker leaves behind must not keep the port. Each
# worker has a process group of its own; once the worker is gone, what is
# left of its group is stopped (SIGTERM, then SIGKILL after --stop-timeout),
# and before baton exits, so is every process it started (strays adopted as
# subreaper included). When baton exits, nothing it started holds a listener.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/blackbox/lib-restart.sh"
baton_only_script "start_server leaves a worker's children running"

# sleeps_of TAG: the live "sleep TAG" processes this test started
sleeps_of() {
	local p
	for p in $(tagged_pids); do
		[ "$(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null)" = "sleep $1 " ] && echo "$p"
	done
}
no_sleeps() { [ -z "$(sleeps_of "$1")" ]; }
port_free() { ! port_listening "$1"; }

# 1. sh -c 'sleep & exec worker', then TERM
P=$(free_port)
L=$T/a.log
start_baton --port=127.0.0.1:$P --log-file="$L" -- sh -c "sleep 601 & exec $WORKER"
check "the worker serves" wait_http 127.0.0.1:$P 10
s=$(sleeps_of 601)
isnt "$s" "" "its helper runs (pid $s) and holds the listener"
kill -TERM "$BATON_PID"
check "TERM: baton exits" wait_baton_exit 15
is "$BATON_STATUS" 0 "with status 0"
check "no helper left" no_sleeps 601
check "no process listens on the port any more" port_free "$P"
file_like "$L" "left processes in its process group: sending SIGTERM" "the log says what baton did"
start_baton --port=127.0.0.1:$P -- "$WORKER"
check "the port can be bound again: a new supervisor serves on it" wait_http 127.0.0.1:$P 10
kill -TERM "$BATON_PID"
wait_baton_exit 10

# 2. the same on a HUP: the old generation's helper goes with it
P=$(free_port)
start_baton --port=127.0.0.1:$P --status-file="$T/b.status" -- sh -c "sleep 602 & exec $WORKER"
wait_status "$T/b.status" 1 10 || bail_out "supervisor did not come up"
old=$(sleeps_of 602)
kill -HUP "$BATON_PID"
check "HUP: generation 2 takes over" wait_status "$T/b.status" 2 15
check "the old generation's helper is gone once it retired" wait_until 10 _none_alive $old
is "$(sleeps_of 602 | wc -l)" 1 "the new generation's helper runs"
kill -TERM "$BATON_PID"
wait_baton_exit 15
check "and is gone once baton exits" no_sleeps 602

# 3. a crash-looping worker that double-forks leaks nothing
P=$(free_port)
L=$T/c.log
start_baton --port=127.0.0.1:$P --log-file="$L" -- sh -c '(sleep 603 &); exit 1'
check "four attempts fail (0, 1 and 2 s apart)" \
	wait_until 20 eval '[ "$(log_count "$L" "failed to start")" -ge 4 ]'
check "no leaked process after them" wait_until 5 no_sleeps 603
kill -TERM "$BATON_PID"
wait_baton_exit 10

# 4. strays that ignore SIGTERM, one of them out of the worker's group:
# SIGKILL after --stop-timeout, logged, and baton's exit stays bounded
P=$(free_port)
L=$T/d.log
start_baton --port=127.0.0.1:$P --stop-timeout=1 --log-file="$L" -- \
	sh -c "trap '' TERM; sleep 604 & setsid sleep 605 & exec $WORKER"
check "the worker serves" wait_http 127.0.0.1:$P 10
check "both helpers run" wait_until 5 eval '[ -n "$(sleeps_of 604)" ] && [ -n "$(sleeps_of 605)" ]'
wpid=$(http_pid 127.0.0.1:$P)
t0=$(now_ms)
kill -TERM "$BATON_PID"
check "TERM: baton exits" wait_baton_exit 15
cmp_ok $(($(now_ms) - t0)) -lt "$(scaled_ms 8000)" "within --stop-timeout and the bounded wait ($(($(now_ms) - t0)) ms)"
check "no helper left" eval 'no_sleeps 604 && no_sleeps 605'
check "no process listens on the port any more" port_free "$P"
file_like "$L" "stray process [0-9]+ \\(from worker $wpid, generation 1\\) still running: sending SIGTERM" \
	"the log names the stray, its worker and its generation"
file_like "$L" "stray process [0-9]+ still running 1s after SIGTERM: sending SIGKILL" \
	"and the SIGKILL, for the one that left the worker's group too"
done_testing
