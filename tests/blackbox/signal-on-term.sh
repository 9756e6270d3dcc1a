#!/bin/bash
# SPDX-License-Identifier: ISC
# --signal-on-term: the signal the workers get when the supervisor gets
# TERM. INT always forwards TERM.
. "$(dirname "$0")/lib.sh"

P=$(free_port)
serve_baton --port=127.0.0.1:$P --signal-on-term=QUIT --pid-file="$T/pid" -- "${WORKER_CMD[@]}"
wait_report 1 5
pid1=$(report_val "$(report 1)" pid)
kill -TERM "$BATON_PID"
check "TERM: the supervisor exits" wait_baton_exit 10
is "$BATON_STATUS" 0 "with status 0"
is "$(signals_of "$pid1")" QUIT "the worker got QUIT (--signal-on-term), nothing else"
check "the worker is gone" pid_gone "$pid1"
check_not "the pid file is removed" test -e "$T/pid"
check_not "the port is closed" port_listening "$P"

rm -f "$T/report.1"
serve_baton --port=127.0.0.1:$P --signal-on-term=QUIT -- "${WORKER_CMD[@]}"
wait_report 1 5
pid1=$(report_val "$(report 1)" pid)
kill -INT "$BATON_PID"
check "INT: the supervisor exits" wait_baton_exit 10
is "$BATON_STATUS" 0 "with status 0"
is "$(signals_of "$pid1")" TERM "INT forwards TERM whatever --signal-on-term says"
check "the worker is gone" pid_gone "$pid1"
done_testing
