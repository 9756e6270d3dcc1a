#!/bin/bash
# SPDX-License-Identifier: ISC
# The worker's environment: SERVER_STARTER_PORT (also when empty),
# SERVER_STARTER_GENERATION, the supervisor's own environment passed on, and
# the option variables start_server exports.
. "$(dirname "$0")/lib.sh"

# no --port, no --path: the variable is set and empty
MY_VAR='hello world' start_baton -- "${WORKER_CMD[@]}"
wait_report 1 10 || bail_out "no worker report"
R=$(report 1)
is "$(report_val "$R" port_env)" set "SERVER_STARTER_PORT is set without listeners"
is "$(report_env "$R" SERVER_STARTER_PORT)" "" "and empty"
is "$(report_env "$R" SERVER_STARTER_GENERATION)" 1 "SERVER_STARTER_GENERATION=1"
is "$(report_env "$R" MY_VAR)" "hello world" "the supervisor's environment is passed on"
for v in ENVDIR ENABLE_AUTO_RESTART KILL_OLD_DELAY AUTO_RESTART_INTERVAL; do
	check_not "$v is not set when its option is not given" report_has_env "$R" "$v"
done
is "$(report_val "$R" fds)" "0 1 2" "no listener, no fd but stdio"
# nothing else is added: no LISTEN_FDS or NOTIFY_SOCKET unless asked for
extra=$(sed -n 's/^env \([^=]*\)=.*/\1/p' "$R" | sort | comm -23 - <(compgen -e | sort) |
	grep -vx -e _ -e MY_VAR | tr '\n' ' ')
is "$extra" "SERVER_STARTER_GENERATION SERVER_STARTER_PORT " \
	"the worker's environment is the supervisor's plus the two SERVER_STARTER_ variables"
kill -HUP "$BATON_PID"
check "generation 2 after a HUP" wait_report 2 10
is "$(report_env "$(report 2)" SERVER_STARTER_GENERATION)" 2 "SERVER_STARTER_GENERATION=2"
kill -TERM "$BATON_PID"
wait_baton_exit 10

# variables inherited from a parent supervisor are replaced, not passed on
P=$(free_port)
SERVER_STARTER_PORT='80=9' SERVER_STARTER_GENERATION=42 BATON_ERR=$T/nested.err \
	start_baton --port=127.0.0.1:$P -- "$WORKER" --report "$T/nested.%g"
check "nested under another supervisor's variables: the worker starts as generation 1" \
	wait_file "$T/nested.1" 10
b=3
is_perl && b=4
is "$(report_env "$T/nested.1" SERVER_STARTER_PORT)" "127.0.0.1:$P=$b" "SERVER_STARTER_PORT is this supervisor's"
is "$(report_env "$T/nested.1" SERVER_STARTER_GENERATION)" 1 "SERVER_STARTER_GENERATION counts from 1"
kill -TERM "$BATON_PID"
wait_baton_exit 10

# options given: exported to the worker as start_server does
mkdir "$T/envdir"
P=$(free_port)
serve_baton "--until=file:$T/opts.1" --port=127.0.0.1:$P --envdir="$T/envdir" --kill-old-delay=2 \
	--enable-auto-restart --auto-restart-interval=100 -- "$WORKER" --report "$T/opts.%g"
is "$(report_env "$T/opts.1" ENVDIR)" "$T/envdir" "--envdir exports ENVDIR"
is "$(report_env "$T/opts.1" ENABLE_AUTO_RESTART)" 1 "--enable-auto-restart exports ENABLE_AUTO_RESTART=1"
is "$(report_env "$T/opts.1" KILL_OLD_DELAY)" 2 "--kill-old-delay exports KILL_OLD_DELAY"
is "$(report_env "$T/opts.1" AUTO_RESTART_INTERVAL)" 100 "--auto-restart-interval exports AUTO_RESTART_INTERVAL"
b=3
is_perl && b=4
is "$(report_env "$T/opts.1" SERVER_STARTER_PORT)" "127.0.0.1:$P=$b" "SERVER_STARTER_PORT is exact"
done_testing
