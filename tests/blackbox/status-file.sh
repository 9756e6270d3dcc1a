#!/bin/bash
# SPDX-License-Identifier: ISC
# --status-file: "generation:pid" lines for every live worker, rewritten as
# workers come and go, numeric order (baton fix: start_server sorts as
# strings, 1 10 11 2), removed at exit.
. "$(dirname "$0")/lib.sh"

S=$T/status
P=$(free_port)
# old generations ignore USR1 and stay: one line each
start_baton --port=127.0.0.1:$P --status-file="$S" --signal-on-hup=USR1 --interval=0 -- "${WORKER_CMD[@]}"
check "the status file lists generation 1" wait_status "$S" 1 10
wait_report 1 5
is "$(cat "$S")" "1:$(report_val "$(report 1)" pid)" "its line is gen:pid of the worker"
check_not "it is written atomically (no temporary file left)" eval 'ls "$T" | grep -qE "^status\.[0-9]+$"'
for g in $(seq 2 11); do
	kill -HUP "$BATON_PID"
	wait_report $g 10 || bail_out "no generation $g"
	wait_until 5 grep -qs "^$g:" "$S"
done
is "$(wc -l <"$S")" 11 "eleven live generations, eleven lines"
ok_lines=1
for g in $(seq 1 11); do
	[ "$(status_pid_of "$S" $g)" = "$(report_val "$(report $g)" pid)" ] || ok_lines=0
done
is "$ok_lines" 1 "each line names its generation's worker"
if baton_only "numeric order"; then
	is "$(status_gens "$S")" "1 2 3 4 5 6 7 8 9 10 11" "lines in numeric order"
fi

# a worker that goes away is dropped from the file
kill -TERM "$(report_val "$(report 3)" pid)"
check "an old worker that exits is dropped" wait_until 5 eval '! grep -q "^3:" "$S"'
is "$(wc -l <"$S")" 10 "ten lines left"

if baton_only "the JSON status beside it"; then
	check "F.json is written too" test -s "$S.json"
	if command -v python3 >/dev/null 2>&1; then
		check "F.json is valid JSON" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$S.json"
	fi
fi

kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "TERM: exit 0"
check_not "the status file is removed at exit" test -e "$S"
if baton_only "the JSON status removed at exit"; then
	check_not "F.json is removed at exit" test -e "$S.json"
fi
done_testing
