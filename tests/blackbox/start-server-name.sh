#!/bin/bash
# SPDX-License-Identifier: ISC
# Installed or invoked as "start_server", baton is that program: same
# options, same behaviour; its messages then say "start_server: ".
. "$(dirname "$0")/lib.sh"

mkdir "$T/bin"
ln -s "$BATON" "$T/bin/start_server"
SAVED=$BATON
BATON=$T/bin/start_server
P=$(free_port)
start_baton --port=127.0.0.1:$P --pid-file="$T/pid" -- "${WORKER_CMD[@]}"
check "invoked as start_server, it serves" wait_http 127.0.0.1:$P 10
kill -HUP "$BATON_PID"
check "and restarts on HUP" wait_gen 127.0.0.1:$P 2 10
kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "TERM: exit 0"
run_baton --version
is "$RUN_STATUS" 0 "start_server --version exits 0"
like "$RUN_OUT" '^[0-9]+\.[0-9.]+$' "start_server --version prints the bare number, as Perl's does"
if BATON=$SAVED baton_only "messages prefixed with the name it was invoked as"; then
	run_baton --no-such-option -- true
	like "$RUN_ERR" '^start_server: ' "invoked as start_server: 'start_server: ' prefix"
	BATON=$SAVED run_baton --no-such-option -- true
	like "$RUN_ERR" '^baton: ' "invoked as baton: 'baton: ' prefix"
fi
done_testing
