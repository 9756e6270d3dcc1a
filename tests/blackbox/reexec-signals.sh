#!/bin/bash
# SPDX-License-Identifier: ISC
# A signal that arrives while baton re-executes itself (SIGUSR2) is not
# fatal: the old image blocks HUP, INT, QUIT, TERM, USR1 and USR2 before
# exec, the kernel keeps them pending across it, and the new image acts on
# them once its loop runs. Before the fix `kill -USR2 $B; sleep 0.001;
# kill -HUP $B` killed baton (default action of HUP in the new image before
# its handlers) and orphaned the workers.
. "$(dirname "$0")/lib.sh"
baton_only_script "self re-exec (SIGUSR2) is baton's"

# Many unix listeners make the new image's set-up longer, so the second
# signal lands inside it rather than after.
N=200
LISTENERS=()
for i in $(seq 1 "$N"); do LISTENERS+=(--path="$T/s$i.sock"); done

P=$(free_port)
serve_baton --port=127.0.0.1:$P --pid-file="$T/pid" --status-file="$T/status" \
	"${LISTENERS[@]}" -- "${WORKER_CMD[@]}"
pid1=$(report_val "$(report 1)" pid)

# _reexecs: how many re-execs the log announces so far
_reexecs() { grep -c 'received SIGUSR2: re-executing' "$T/baton.err"; }

# USR2, and HUP as soon as the old image announced the exec: the HUP lands
# while the new image sets up (before its handlers), three times
for round in 1 2 3; do
	gen=$((round + 1))
	# a re-exec waits for a settled state: the generation serving alone
	wait_status "$T/status" $((gen - 1)) 10 || bail_out "generation $((gen - 1)) never served alone"
	n=$(_reexecs)
	kill -USR2 "$BATON_PID"
	# a busy poll, bounded: a 50 ms wait_until step would miss the window
	deadline=$(($(now_ms) + $(scaled_ms 5000)))
	while [ "$(_reexecs)" = "$n" ] && [ "$(now_ms)" -lt "$deadline" ]; do :; done
	kill -HUP "$BATON_PID"
	check "round $round: USR2 then HUP during the exec: generation $gen serves" \
		wait_gen 127.0.0.1:$P $gen 15
	check "round $round: baton is still running" pid_alive "$BATON_PID"
	is "$(cat "$T/pid")" "$BATON_PID" "round $round: with the same pid"
	is "$(_reexecs)" $((n + 1)) "round $round: it did re-exec"
done
check "generation 1's worker is gone (retired, not orphaned)" wait_pid_gone "$pid1" 10

# USR2 then TERM 1 ms later: a clean stop, not a death by signal
wait_status "$T/status" 4 10
kill -USR2 "$BATON_PID"
sleep 0.001
kill -TERM "$BATON_PID"
wait_baton_exit 20
is "$BATON_STATUS" 0 "USR2 then TERM 1 ms later: baton exits 0"
check "the pid file is removed" test ! -e "$T/pid"
check "no socket file is left" test ! -e "$T/s1.sock"
check "no worker is left serving" sh -c "! curl -s -m 2 http://127.0.0.1:$P/ >/dev/null"
done_testing
