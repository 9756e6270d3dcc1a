#!/bin/bash
# SPDX-License-Identifier: ISC
# --dir: the worker runs in DIR (a relative program path is resolved there);
# the supervisor checks DIR at start-up (baton: exit 3).
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/app/bin"
ln -s "$WORKER" "$T/app/bin/server"
P=$(free_port)
start_baton --port=127.0.0.1:$P --dir="$T/app" -- ./bin/server --report "$T/report.%g"
check "a relative program path is found in --dir" wait_report 1 10
is "$(report_val "$(report 1)" cwd)" "$T/app" "the worker's cwd is --dir"
check "it serves" wait_http 127.0.0.1:$P 5
kill -HUP "$BATON_PID"
wait_report 2 10
is "$(report_val "$(report 2)" cwd)" "$T/app" "and so is generation 2's"
kill -TERM "$BATON_PID"
wait_baton_exit 10

if baton_only "a missing --dir is an error at start-up"; then
	RUN_TIMEOUT=8
	run_baton --port=127.0.0.1:$P --dir="$T/nowhere" -- "$WORKER" --report "$T/r-nowhere"
	is "$RUN_STATUS" 3 "--dir=missing exits 3"
	like "$RUN_ERR" "^${MSG_PREFIX}.*$T/nowhere" "the message names the directory"
	like "$RUN_ERR" "No such file or directory" "and the cause"
	check_not "no worker ran" test -e "$T/r-nowhere"
fi
done_testing
