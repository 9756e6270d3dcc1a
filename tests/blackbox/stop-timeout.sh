#!/bin/bash
# SPDX-License-Identifier: ISC
# Workers that ignore their stop signal: start_server waits forever; baton's
# --stop-timeout=N escalates to SIGKILL after N seconds (default 0: never).
. "$(dirname "$0")/lib.sh"

# default: no escalation on HUP
P=$(free_port)
serve_baton --until=report:1 --port=127.0.0.1:$P -- "${WORKER_CMD[@]}" --ignore-term
pid1=$(report_val "$(report 1)" pid)
kill -HUP "$BATON_PID"
check "the old worker gets TERM" wait_signal TERM "$pid1" 10
nap 2.5
check "without --stop-timeout, a worker ignoring TERM is left alone" pid_alive "$pid1"
kill -KILL "$pid1"
wait_gen 127.0.0.1:$P 2 5
kill -TERM "$BATON_PID"
nap 1.5
check "and shutdown waits for it (no escalation by default)" pid_alive "$BATON_PID"
kill -KILL "$(report_val "$(report 2)" pid)"
wait_baton_exit 10
rm -f "$T"/report.* "$T/signals.log"

if baton_only "--stop-timeout"; then
	P=$(free_port)
	# 4 s (scaled): "still alive 1 s later" leaves the script 3 s of slack
	ST=$(scaled 4)
	ST_MS=$(_to_ms "$ST")
	serve_baton --until=report:1 --port=127.0.0.1:$P --stop-timeout="$ST" -- "${WORKER_CMD[@]}" --ignore-term
	pid1=$(report_val "$(report 1)" pid)
	kill -HUP "$BATON_PID"
	check "retiring: the old worker gets TERM" wait_signal TERM "$pid1" 10
	t0=$(signal_ms TERM "$pid1")
	nap 1
	check "it is still alive 1 s later" pid_alive "$pid1"
	check "it is killed after the stop timeout" wait_pid_gone "$pid1" 7
	dt=$(($(now_ms) - t0))
	cmp_ok "$dt" -ge $((ST_MS - 500)) "about ${ST} s after TERM (${dt} ms)"
	file_like "$T/baton.err" "worker $pid1 \\(generation 1\\) killed by signal (9|KILL|SIGKILL)" \
		"the kill is logged"
	check "generation 2 serves" wait_gen 127.0.0.1:$P 2 5

	pid2=$(report_val "$(report 2)" pid)
	t0=$(now_ms)
	kill -TERM "$BATON_PID"
	check "shutdown: the supervisor exits although its worker ignores TERM" wait_baton_exit 10
	dt=$(($(now_ms) - t0))
	is "$BATON_STATUS" 0 "with status 0"
	cmp_ok "$dt" -ge $((ST_MS - 500)) "after the stop timeout (${dt} ms)"
	check "the worker is gone" pid_gone "$pid2"
	check "it got TERM first" file_contains "$T/signals.log" "^TERM $pid2 "
fi
done_testing
