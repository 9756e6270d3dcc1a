#!/bin/bash
# SPDX-License-Identifier: ISC
# The manager's NOTIFY_SOCKET is baton's alone: a worker never sees it
# (without --ready=notify it has no NOTIFY_SOCKET; with it, baton's own
# socket), nor does the log command, nor a worker after a re-exec.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/blackbox/lib-sdnotify.sh"

P=$(free_port)
sink_start WATCHDOG_USEC=60000000 -- --port=127.0.0.1:$P \
	--log-file="| env > $T/logger.env; exec cat >> $T/log" -- "${WORKER_CMD[@]}"
check "generation 1 serves" wait_sink 'READY=1' 10
wait_report 1 10 || bail_out "no worker report"
for v in NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID; do
	check_not "without --ready=notify the worker has no $v" report_has_env "$(report 1)" $v
done
check "the log command runs" wait_file "$T/logger.env" 10
check_not "the log command has no NOTIFY_SOCKET" grep -q '^NOTIFY_SOCKET=' "$T/logger.env"
kill -USR2 "$BATON_PID"
check "re-executed" wait_sink 'STATUS=re-executed' 10
kill -HUP "$BATON_PID"
check "generation 2 after the re-exec" wait_report 2 10
check_not "nor after a re-exec" report_has_env "$(report 2)" NOTIFY_SOCKET
kill -TERM "$BATON_PID"
check "baton exits" wait_file_contains "$SLOG" " exit pid=$BATON_PID " 10

# --ready=notify: the worker's NOTIFY_SOCKET is baton's readiness socket
P=$(free_port)
sink_start -- --ready=notify --port=127.0.0.1:$P -- "$WORKER" --notify-ready \
	--report "$T/n.%g"
check "a notify worker serves" wait_sink 'STATUS=generation 1 serving' 10
ns=$(report_env "$T/n.1" NOTIFY_SOCKET)
like "$ns" '^@' "with --ready=notify the worker gets an abstract socket ($ns)"
isnt "$ns" "$SOCK" "baton's own, not the manager's"
kill -TERM "$BATON_PID"
check "baton exits" wait_file_contains "$SLOG" " exit pid=$BATON_PID " 10
done_testing
