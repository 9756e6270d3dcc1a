#!/bin/bash
# SPDX-License-Identifier: ISC
# --signal-on-hup: the signal sent to the old generation on a restart.
. "$(dirname "$0")/lib.sh"

P=$(free_port)
# lower case with a SIG prefix, as start_server normalises it
serve_baton --port=127.0.0.1:$P --signal-on-hup=sigusr1 --status-file="$T/status" -- "${WORKER_CMD[@]}"
wait_report 1 5
pid1=$(report_val "$(report 1)" pid)
kill -HUP "$BATON_PID"
check "generation 2 starts" wait_report 2 10
pid2=$(report_val "$(report 2)" pid)
check "the old worker gets USR1" wait_signal USR1 "$pid1" 10
nap 0.5
is "$(signals_of "$pid1")" USR1 "and nothing else"
check "the old worker (which ignores USR1) is still running" pid_alive "$pid1"
is "$(signals_of "$pid2")" "" "the new worker got no signal"
check "the status file lists both generations" wait_status "$T/status" "1 2" 5

# TERM: every worker, old and new, gets --signal-on-term (TERM)
kill -TERM "$BATON_PID"
check "the supervisor exits" wait_baton_exit 10
is "$BATON_STATUS" 0 "with status 0"
check "the old worker got TERM at shutdown" file_contains "$T/signals.log" "^TERM $pid1 "
check "the new worker got TERM at shutdown" file_contains "$T/signals.log" "^TERM $pid2 "
check "the old worker is gone" pid_gone "$pid1"
check "the new worker is gone" pid_gone "$pid2"
done_testing
