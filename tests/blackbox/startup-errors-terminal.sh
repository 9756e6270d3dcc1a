#!/bin/bash
# SPDX-License-Identifier: ISC
# A start-up error is shown where the user typed the command, even when
# --log-file has taken stderr, and even from the --daemonize'd process
# (start_server wrote it into the log file only, and its --daemonize
# parent exited 0 whatever happened).
. "$(dirname "$0")/lib.sh"
baton_only_script "start-up errors on the terminal are a baton fix"

P=$(free_port)
"$WORKER" --launch -- "$BATON" --port=127.0.0.1:$P -- "$WORKER" \
	>"$T/first.out" 2>"$T/first.err" </dev/null &
FIRST=$!
_track "$FIRST"
wait_until 10 port_listening "$P" || bail_out "first baton did not come up"

run_baton --log-file="$T/log" --port=127.0.0.1:$P -- "$WORKER"
is "$RUN_STATUS" 2 "--log-file, port in use: exit 2"
like "$RUN_ERR" "cannot bind 127\.0\.0\.1:$P: Address already in use" \
	"... and the message is on the terminal"
like "$(cat "$T/log")" "cannot bind 127\.0\.0\.1:$P" "... and in the log file"

run_baton --daemonize --log-file="$T/dlog" --pid-file="$T/pid" \
	--port=127.0.0.1:$P -- "$WORKER"
is "$RUN_STATUS" 2 "--daemonize, port in use: exit 2"
like "$RUN_ERR" "cannot bind 127\.0\.0\.1:$P" "... the message is on the terminal"

P2=$(free_port)
run_baton --daemonize --log-file="$T/dlog" --pid-file="$T/pid" \
	--port=127.0.0.1:$P2 -- "$T/no-such-program"
is "$RUN_STATUS" 5 "--daemonize, program missing: the parent exits 5"
like "$RUN_ERR" "cannot exec $T/no-such-program: No such file or directory" \
	"... with the daemon's message on the terminal"
check_not "... and no daemon is left holding the pid file" test -e "$T/pid"

kill -TERM "$FIRST"
check "the first baton stops" wait_until 10 pid_gone "$FIRST"
done_testing
