#!/bin/bash
# SPDX-License-Identifier: ISC
# Slow boot: a worker that needs 3 s before it serves, restarted
# twice under load with --ready=notify. start_server retires the old worker
# after --interval and leaves clients waiting in the gap; baton retires it only
# once the new one said READY=1: no request fails or waits past 2 s.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/blackbox/lib-restart.sh"
baton_only_script "--ready=notify is an extension"

P=$(free_port)
L=$T/baton.log
CTL=(--pid-file="$T/pid" --status-file="$T/status")
# the boot (3 s) and the clients' patience (2 s) keep their ratio at any
# time scale
BD=$(scaled 3)
BD_MS=$(_to_ms "$BD")
serve_baton --until=status:1 --port=127.0.0.1:$P --ready=notify --log-file="$L" "${CTL[@]}" \
	-- "${WORKER_CMD[@]}" --boot-delay "$BD" --notify-ready
pid1=$(report_val "$(report 1)" pid)
is "$(http_pid 127.0.0.1:$P)" "$pid1" "generation 1 serves"

# 4 clients, 2 s timeout each: a request stuck in the gap counts as failed
start_load lg 127.0.0.1 $P --seconds "$(scaled 11)" --max-requests 40000 --concurrency 4 \
	--pause-ms 2 --timeout-ms "$(scaled_ms 2000)"
nap 0.5
kill -HUP "$BATON_PID"
check "HUP: generation 2 starts" wait_report 2 5
pid2=$(report_val "$(report 2)" pid)
nap 1.5
# one look at everything, then the assertions: on a loaded machine a
# script's own commands take seconds, and each look must come before the
# end of the boot
states=$(json_states "$T/status.json")
gens=$(status_gens "$T/status")
sigs=$(signals_of "$pid1")
pid_alive "$pid1" && alive=yes || alive=no
is "$alive" yes "1.5 s into generation 2's boot the old worker is alive"
is "$sigs" "" "and it has not been signalled"
is "$gens" 1 "the status file still lists generation 1 only"
like "$states" "^2:starting 1:serving$" "the JSON status: 2 starting, 1 serving"
check "generation 2 takes over once ready: the status file lists it alone" wait_status "$T/status" 2 8
check "the old worker got TERM" wait_signal TERM "$pid1" 5
like "$(json_states "$T/status.json")" "^2:serving$" "the JSON status: 2 serving"
check "the old worker is gone" wait_pid_gone "$pid1" 5

kill -HUP "$BATON_PID"
check "a second HUP: generation 3 starts" wait_report 3 5
pid3=$(report_val "$(report 3)" pid)
check "generation 3 takes over" wait_status "$T/status" 3 8
check "generation 2's worker is gone" wait_pid_gone "$pid2" 5

# a second of answers from generation 3 alone, then the clients stop
nap 1
stop_load lg
finish_load lg 20
is "$LOAD_STATUS" 0 "the load client saw no failure"
like "$LOAD_OUT" " failed=0 refused=0 reset=0 timeout=0 " "none refused, reset or timed out (2 s)"
like "$LOAD_OUT" " min_gen=1 max_gen=3 last_gen=3$" "answers from generation 1, then up to 3"
n=$(load_val requests)
cmp_ok "${n:-0}" -ge 500 "the load was real ($n requests)"
lat=$(load_val max_latency_ms)
cmp_ok "${lat:-99999}" -lt "$(scaled_ms 2000)" "no request waited past 2 s (max ${lat} ms)"
is "$(http_pid 127.0.0.1:$P)" "$pid3" "generation 3's worker answers"

# the order, from the log's timestamps
for g in 2 3; do
	eval "p=\$pid$g"
	old=$((g - 1))
	eval "op=\$pid$old"
	t_start=$(log_ms "$L" "starting new worker $p \\(generation $g\\)")
	t_ready=$(log_ms "$L" "worker $p \\(generation $g\\) is ready")
	t_retire=$(log_ms "$L" "generation $g is ready; retiring generation $old")
	t_term=$(log_ms "$L" "sending SIGTERM to worker $op \\(generation $old\\)")
	t_gone=$(log_ms "$L" "worker $op \\(generation $old\\) exited")
	if [ -z "$t_start" ] || [ -z "$t_ready" ] || [ -z "$t_retire" ] || [ -z "$t_term" ]; then
		fail "generation $g: the log has the start, ready, retire and TERM lines" \
			"start=$t_start ready=$t_ready retire=$t_retire term=$t_term" "$(tail -n 20 "$L")"
		continue
	fi
	pass "generation $g: the log has the start, ready, retire and TERM lines"
	cmp_ok $((t_ready - t_start)) -ge $((BD_MS - 200)) \
		"generation $g was ready after its 3 s boot ($((t_ready - t_start)) ms)"
	cmp_ok "$t_retire" -ge "$t_ready" "generation $old retired only after generation $g was ready"
	cmp_ok "$t_term" -ge "$t_ready" "generation $old got TERM only after generation $g was ready"
	cmp_ok $((t_term - t_start)) -ge $((BD_MS - 200)) \
		"generation $old served through generation $g's boot ($((t_term - t_start)) ms)"
	[ -n "$t_gone" ] && cmp_ok "$t_gone" -ge "$t_term" "generation $old exited after its TERM"
done

# "baton --restart" while a restart is in progress: the HUP it sends is
# coalesced into a follow-up restart, and it must wait for that one (the
# generation that started before it may run code older than the deploy)
kill -HUP "$BATON_PID"
check "HUP: generation 4 boots" wait_report 4 5
nap 1
RUN_TIMEOUT=20
run_baton --restart "${CTL[@]}"
gens_then=$(status_gens "$T/status")
diag "--restart: status $RUN_STATUS after $RUN_MS ms; $RUN_ERR"
is "$RUN_STATUS" 0 "--restart during a restart exits 0"
is "$gens_then" 5 "only once the follow-up generation 5 serves alone"
cmp_ok "$RUN_MS" -ge $((BD_MS + $(scaled_ms 500))) "it waited for generation 4's boot and then 5's (${RUN_MS} ms)"
file_like "$L" 'one more restart will follow' "the log says the HUP was coalesced"
done_testing
