#!/bin/bash
# SPDX-License-Identifier: ISC
# Bug fix: SIGQUIT stops cleanly like SIGINT (TERM forwarded to the workers,
# files removed, exit 0). start_server dies on QUIT (status 131), orphaning
# its workers and leaving its files behind.
. "$(dirname "$0")/lib.sh"
baton_only_script "start_server does not handle SIGQUIT"

P=$(free_port)
serve_baton --port=127.0.0.1:$P --pid-file="$T/pid" --status-file="$T/status" \
	--signal-on-term=USR1 -- "${WORKER_CMD[@]}"
wait_status "$T/status" 1 5
pid1=$(report_val "$(report 1)" pid)
kill -QUIT "$BATON_PID"
check "QUIT: the supervisor exits" wait_baton_exit 10
is "$BATON_STATUS" 0 "with status 0"
is "$(signals_of "$pid1")" TERM "the worker got TERM (like INT, whatever --signal-on-term says)"
check "the worker is gone: no orphan" wait_pid_gone "$pid1" 2
check_not "pid file removed" test -e "$T/pid"
check_not "status file removed" test -e "$T/status"
check_not "port closed" port_listening "$P"
done_testing
