#!/bin/bash
# SPDX-License-Identifier: ISC
# --max-old-generations=1: workers that ignore TERM pile up as
# retiring generations; beyond the cap the oldest retiring generation gets
# SIGKILL. After 3 HUPs only one retiring generation is left beside the
# serving one.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/blackbox/lib-restart.sh"
baton_only_script "--max-old-generations is an extension"

P=$(free_port)
L=$T/baton.log
# the stop timeout is longer than the test: only the cap kills
serve_baton --until=status:1 --port=127.0.0.1:$P --max-old-generations=1 --stop-timeout=60 --interval=0.5 \
	--log-file="$L" --status-file="$T/status" -- "${WORKER_CMD[@]}" --ignore-term
pid1=$(report_val "$(report 1)" pid)

kill -HUP "$BATON_PID"
check "HUP 1: generation 2 serves, generation 1 retires" wait_status "$T/status" "1 2" 5
pid2=$(report_val "$(report 2)" pid)
check "generation 1 got TERM" wait_signal TERM "$pid1" 3
nap 0.3
check "one retiring generation is within the cap: its worker is alive" pid_alive "$pid1"

kill -HUP "$BATON_PID"
check "HUP 2: generation 3 serves" wait_gen 127.0.0.1:$P 3 5
pid3=$(report_val "$(report 3)" pid)
check "two retiring generations: the oldest (1) is killed" wait_pid_gone "$pid1" 3
check "generation 2 (retiring) is alive" pid_alive "$pid2"
file_like "$L" "retiring generations \\(--max-old-generations=1\\): sending SIGKILL to generation 1" \
	"the log names the generation killed for the cap"
check "the kill of its worker is logged with the pid" wait_file_contains "$L" \
	"worker $pid1 \\(generation 1\\) killed by signal (9|KILL|SIGKILL)" 3
check "the status file lists generations 2 and 3" wait_status "$T/status" "2 3" 3

kill -HUP "$BATON_PID"
check "HUP 3: generation 4 serves" wait_gen 127.0.0.1:$P 4 5
pid4=$(report_val "$(report 4)" pid)
check "generation 2 is killed" wait_pid_gone "$pid2" 3
file_like "$L" "sending SIGKILL to generation 2" "the log names generation 2"
check "the status file lists generations 3 and 4" wait_status "$T/status" "3 4" 3
nap 0.5
alive=
for p in $pid1 $pid2 $pid3; do pid_alive "$p" && alive="$alive $p"; done
is "$alive" " $pid3" "after 3 HUPs one retiring worker is alive: generation 3's"
check "it got TERM (it is retiring, not serving)" file_contains "$T/signals.log" "^TERM $pid3 "
check "generation 4's worker serves" pid_alive "$pid4"
is "$(signals_of "$pid4")" "" "and got no signal"
is "$(json_states "$T/status.json")" "4:serving 3:retiring" "the JSON status: 4 serving, 3 retiring"
is "$(zombies_of "$BATON_PID")" "" "no zombie"
is "$(live_children "$BATON_PID" | wc -w | tr -d ' ')" 2 "baton has two children"

# clean up: the workers ignore TERM; baton waits for them
kill -TERM "$BATON_PID"
nap 0.5
kill -KILL "$pid3" "$pid4" 2>/dev/null
check "TERM (and the workers killed): baton exits" wait_baton_exit 10
is "$BATON_STATUS" 0 "with status 0"
done_testing
