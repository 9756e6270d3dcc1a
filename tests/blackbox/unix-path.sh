#!/bin/bash
# SPDX-License-Identifier: ISC
# --path: unix stream listeners; env order (--port entries first), mode,
# a stale socket file replaced, removed at exit.
. "$(dirname "$0")/lib.sh"

P=$(free_port)
A=$T/a.sock B=$T/b.sock
"$WORKER" --stale-socket "$B" || bail_out "cannot make a stale socket"
serve_baton --until=report:1 --path="$A" --port=127.0.0.1:$P --path="$B" --pid-file="$T/pid" -- "${WORKER_CMD[@]}"
R=$(report 1)
b=3
is_perl && b=4
is "$(report_val "$R" port)" "127.0.0.1:$P=$b;$A=$((b + 1));$B=$((b + 2))" \
	"SERVER_STARTER_PORT: --port entries first, then --path, each path as given"
like "$(report_fd "$R" $((b + 1)))" "cloexec=0 nonblock=0 .*type=stream family=unix addr=$A listening=1" \
	"the worker has the unix listener"
check "the unix socket answers" http_ok_unix "$A"
check "a stale socket file at --path is replaced" http_ok_unix "$B"
is "$(stat -c %A "$A")" srwxrwxrwx "the socket file is mode srwxrwxrwx (bound with umask 0)"
like "$(http_get_unix "$A")" "^gen=1 pid=" "generation 1 answers on the path"

kill -HUP "$BATON_PID"
check "after a HUP generation 2 answers on the path" wait_unix_gen "$A" 2 10
check "the socket file is still there" test -S "$A"

if baton_only "a live socket at --path is refused"; then
	RUN_TIMEOUT=8
	run_baton --path="$A" -- "$WORKER" --report "$T/r-second"
	is "$RUN_STATUS" 2 "a second supervisor on a live socket path exits 2"
	like "$RUN_ERR" "^${MSG_PREFIX}.*$A.*already in use" "and says the path is in use"
	check "the first supervisor still answers on it" http_ok_unix "$A"
	check_not "no worker was started by the second one" test -e "$T/r-second"
fi

kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "TERM: exit 0"
check_not "the socket file is removed at exit" test -e "$A"
check_not "the other socket file too" test -e "$B"
done_testing
