#!/bin/bash
# SPDX-License-Identifier: ISC
# TERM and INT stop everything: every worker (old generations included) gets
# its signal, the supervisor waits for them all, cleans up and exits 0.
. "$(dirname "$0")/lib.sh"

# the workers drain for 3 s (scaled) after TERM: "still draining" is checked
# 0.5 s (scaled) after they got it, which leaves a slow script ample slack
TD=$(scaled 3)
TD_MS=$(_to_ms "$TD")
for sig in TERM INT; do
	rm -f "$T"/report.* "$T/signals.log"
	P=$(free_port)
	serve_baton --port=127.0.0.1:$P --path="$T/s.sock" --pid-file="$T/pid" \
		--status-file="$T/status" --signal-on-hup=USR1 -- "${WORKER_CMD[@]}" --term-delay "$TD"
	wait_report 1 5
	kill -HUP "$BATON_PID" # generation 1 gets USR1 and stays
	wait_status "$T/status" "1 2" 10 || bail_out "no generation 2"
	pid1=$(report_val "$(report 1)" pid)
	pid2=$(report_val "$(report 2)" pid)
	t0=$(now_ms)
	kill -s $sig "$BATON_PID"
	check "$sig: both workers get TERM" \
		wait_until 5 eval "file_contains $T/signals.log '^TERM $pid1 ' && file_contains $T/signals.log '^TERM $pid2 '"
	nap 0.5
	check "$sig: the supervisor waits for workers still draining" pid_alive "$BATON_PID"
	check "$sig: the supervisor exits" wait_baton_exit 15
	dt=$(($(now_ms) - t0))
	is "$BATON_STATUS" 0 "$sig: exit status 0"
	cmp_ok "$dt" -ge $((TD_MS - 100)) "$sig: only after the workers finished (${dt} ms)"
	check "$sig: worker 1 is gone" pid_gone "$pid1"
	check "$sig: worker 2 is gone" pid_gone "$pid2"
	check_not "$sig: pid file removed" test -e "$T/pid"
	check_not "$sig: status file removed" test -e "$T/status"
	check_not "$sig: socket file removed" test -e "$T/s.sock"
	check_not "$sig: port closed" port_listening "$P"
done
done_testing
