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

# the same address twice: "given twice", before anything is bound (0.2.0:
# "cannot bind ...: Address already in use", exit 2)
if baton_only "the same --port or --path twice"; then
	P3=$(free_port)
	run_baton --port=127.0.0.1:$P3 --port=127.0.0.1:$P3 -- "$WORKER" --report "$T/r-twice"
	is "$RUN_STATUS" 1 "--port given twice: exit 1"
	like "$RUN_ERR" "^${MSG_PREFIX}--port=127.0.0.1:$P3 given twice$" "the message names the port"
	check_not "no worker was started" test -e "$T/r-twice.1"
	check_not "nothing is left listening" port_listening "$P3"
	run_baton --port=$P3 --port=0.0.0.0:$P3 -- "$WORKER"
	like "$RUN_ERR" "^${MSG_PREFIX}--port=0.0.0.0:$P3 given twice \(first as --port=$P3\)$" \
		"a bare port and 0.0.0.0 are the same address"
	run_baton --port="[::1]:$P3" --port="[0:0::1]:$P3" -- "$WORKER"
	like "$RUN_ERR" "given twice \(first as --port=\[::1\]:$P3\)$" "IPv6 addresses compared as addresses"
	run_baton --path="$T/twice.sock" --path="$T/twice.sock" -- "$WORKER"
	is "$RUN_STATUS" 1 "--path given twice: exit 1"
	like "$RUN_ERR" "^${MSG_PREFIX}--path=$T/twice.sock given twice$" "the message names the path"
	check_not "no socket file was made" test -e "$T/twice.sock"
	run_baton --port=127.0.0.1:$P3 --sockopts=reuseport --port=127.0.0.1:$P3 -- "$WORKER"
	like "$RUN_ERR" "given twice" "SO_REUSEPORT on one of the two only: given twice"
	# what stays allowed: two SO_REUSEPORT sockets on one address (the
	# kernel spreads connections over them), port 0 twice, TCP and UDP
	rm -f "$T"/report.*
	serve_baton --until=report:1 --port=127.0.0.1:$P3 --port=127.0.0.1:$P3 --reuseport \
		-- "${WORKER_CMD[@]}"
	is "$(report_env "$(report 1)" SERVER_STARTER_PORT)" "127.0.0.1:$P3=3;127.0.0.1:$P3=4" \
		"--reuseport: two sockets on one address still work"
	check "and are answered" http_ok 127.0.0.1:$P3
	kill -TERM "$BATON_PID"
	wait_baton_exit 10
	run_baton --check --port=127.0.0.1:0 --port=127.0.0.1:0 --port=127.0.0.1:$P3 --port=u$P3
	is "$RUN_STATUS" 0 "port 0 twice, and TCP and UDP on one port, are no repetition"
fi
done_testing
