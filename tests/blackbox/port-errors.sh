#!/bin/bash
# SPDX-License-Identifier: ISC
# --port errors: a bad SPEC, a port in use; nothing is left running.
. "$(dirname "$0")/lib.sh"

RUN_TIMEOUT=8
P=$(free_port)

run_baton --port=abc -- "$WORKER"
isnt "$RUN_STATUS" 0 "--port=abc fails"
like "$RUN_ERR" 'abc' "the message quotes the bad value"
if baton_only "invalid --port exit code and message"; then
	is "$RUN_STATUS" 1 "an invalid --port value exits 1"
	like "$RUN_ERR" "^${MSG_PREFIX}invalid --port value \"abc\"" "message: invalid --port value \"abc\""
fi

run_baton --port=":$P" -- "$WORKER"
isnt "$RUN_STATUS" 0 "--port=:PORT (no host) fails"
diag "--port=:PORT exit status $RUN_STATUS: $RUN_ERR"

if baton_only "an unresolvable host"; then
	RUN_TIMEOUT=20 run_baton --port=nonexistent.invalid:$P -- "$WORKER" --report "$T/r-resolve"
	is "$RUN_STATUS" 2 "an unresolvable host (.invalid) exits 2"
	like "$RUN_ERR" "^${MSG_PREFIX}cannot resolve nonexistent.invalid" "message: cannot resolve HOST"
	check_not "no worker was started" test -e "$T/r-resolve"
fi

# a port somebody else listens on
serve_baton --port=127.0.0.1:$P -- "$WORKER"
first=$BATON_PID
run_baton --port=127.0.0.1:$P -- "${WORKER_CMD[@]}"
isnt "$RUN_STATUS" 0 "binding a port in use fails"
like "$RUN_ERR" 'Address already in use' "the message gives the cause"
if baton_only "bind failure exit code and message"; then
	is "$RUN_STATUS" 2 "a bind failure exits 2"
	like "$RUN_ERR" "^${MSG_PREFIX}cannot bind 127.0.0.1:$P: Address already in use" \
		"message: cannot bind 127.0.0.1:$P: Address already in use"
fi
check_not "no worker was started by the failed supervisor" test -e "$(report 1)"
check "the first supervisor still serves" http_ok 127.0.0.1:$P
check "and is still running" pid_alive "$first"

# a failure on the second --port must not leave the first one bound
P2=$(free_port)
run_baton --port=127.0.0.1:$P2 --port=127.0.0.1:$P -- "$WORKER"
isnt "$RUN_STATUS" 0 "a bind failure on the second --port fails"
check_not "and the first port is not left listening" port_listening "$P2"
done_testing
