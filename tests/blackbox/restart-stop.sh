#!/bin/bash
# SPDX-License-Identifier: ISC
# --restart (HUP, then wait until only the new generation is left, exit 0)
# and --stop (TERM, then wait until the supervisor has exited).
. "$(dirname "$0")/lib.sh"

P=$(free_port)
serve_baton --until=status:1 --port=127.0.0.1:$P --pid-file="$T/pid" --status-file="$T/status" -- "${WORKER_CMD[@]}" --term-delay 1
pid1=$(report_val "$(report 1)" pid)

RUN_TIMEOUT=20
run_baton --restart --pid-file="$T/pid" --status-file="$T/status"
is "$RUN_STATUS" 0 "--restart exits 0"
is "$(status_gens "$T/status")" 2 "when it returns, only generation 2 is in the status file"
check "the old worker is gone when it returns" pid_gone "$pid1"
is "$(http_gen 127.0.0.1:$P)" 2 "generation 2 answers"
cmp_ok "$RUN_MS" -lt "$(scaled_ms 10000)" "--restart took ${RUN_MS} ms"

# twice in a row
run_baton --restart --pid-file="$T/pid" --status-file="$T/status"
is "$RUN_STATUS" 0 "a second --restart exits 0"
is "$(status_gens "$T/status")" 3 "only generation 3 is left"

pid3=$(report_val "$(report 3)" pid)
run_baton --stop --pid-file="$T/pid"
is "$RUN_STATUS" 0 "--stop exits 0"
check "when --stop returns, the supervisor has exited" pid_gone "$BATON_PID"
check "and the worker too" pid_gone "$pid3"
cmp_ok "$RUN_MS" -ge 900 "--stop waited for the worker's 1 s drain (${RUN_MS} ms)"
check_not "the pid file is gone" test -e "$T/pid"
wait_baton_exit 5
is "$BATON_STATUS" 0 "the supervisor exited 0"

if baton_only "--restart/--stop with no supervisor running"; then
	RUN_TIMEOUT=10
	echo 999999 >"$T/pid"
	echo "1:999998" >"$T/status"
	run_baton --restart --pid-file="$T/pid" --status-file="$T/status"
	is "$RUN_STATUS" 4 "--restart with a dead pid in the pid file exits 4"
	run_baton --stop --pid-file="$T/pid"
	is "$RUN_STATUS" 4 "--stop with a dead pid in the pid file exits 4"
	rm -f "$T/pid"
	run_baton --restart --pid-file="$T/pid" --status-file="$T/status"
	is "$RUN_STATUS" 4 "--restart with no pid file exits 4"
	like "$RUN_ERR" "$T/pid" "and names the pid file"
	run_baton --stop --pid-file="$T/pid"
	is "$RUN_STATUS" 4 "--stop with no pid file exits 4"
fi
done_testing
