#!/bin/bash
# SPDX-License-Identifier: ISC
# Bad listener options are refused before anything is bound: exit 1 with a
# message naming the option, the value and the cause; a listener that cannot
# be set up is exit 2.
. "$(dirname "$0")/lib.sh"
baton_only_script "listener options are a baton extension"

P=$(free_port)

# bad EXPECTED-MESSAGE-ERE ARG...: exit 1, the message, nothing bound
bad() {
	local want=$1
	shift
	run_baton "$@" -- "${WORKER_CMD[@]}"
	if [ "$RUN_STATUS" = 1 ] && printf '%s\n' "$RUN_ERR" | grep -Eq -- "^${MSG_PREFIX}$want"; then
		pass "refused with exit 1: $*"
	else
		fail "refused with exit 1: $*" "status $RUN_STATUS" "$RUN_ERR"
	fi
}

bad "invalid --defer-accept value \"-1\": not a whole number of seconds" --port=127.0.0.1:$P --defer-accept=-1
bad "invalid --defer-accept value \"soon\": not a whole number of seconds" --port=127.0.0.1:$P --defer-accept=soon
bad "invalid --defer-accept value \"1\\.5\": not a whole number of seconds" --port=127.0.0.1:$P --defer-accept=1.5
bad "--defer-accept takes its value after '=': write --defer-accept=5" --port=127.0.0.1:$P --defer-accept 5
bad "invalid --fastopen value \"-3\": not a queue length" --port=127.0.0.1:$P --fastopen=-3
bad "invalid --fastopen value \"--\": not a queue length" --port=127.0.0.1:$P --fastopen
bad "invalid --rcvbuf value \"lots\": not a size in bytes" --port=127.0.0.1:$P --rcvbuf=lots
bad "invalid --sndbuf value \"0\": not a size in bytes" --port=127.0.0.1:$P --sndbuf=0
bad "invalid --backlog value \"-5\": not a positive integer" --port=127.0.0.1:$P --backlog=-5
bad "invalid --socket-mode value \"0999\": not an octal mode" --path="$T/s" --socket-mode=0999
bad "invalid --socket-mode value \"4755\": only permission bits" --path="$T/s" --socket-mode=4755
bad "invalid --socket-owner value \"nosuchuser-baton\": no such user" --path="$T/s" --socket-owner=nosuchuser-baton
bad "invalid --socket-group value \"nosuchgroup-baton\": no such group" --path="$T/s" --socket-group=nosuchgroup-baton
bad "--sockopts must follow the --port or --path it applies to" --sockopts=nodelay --port=127.0.0.1:$P
bad "invalid --sockopts value \"defer-accept=5\" for 127\\.0\\.0\\.1:u$P: defer-accept applies to TCP listeners only" \
	--port=127.0.0.1:u$P --sockopts=defer-accept=5
bad "invalid --sockopts value \"defer-accept\" for $T/s: defer-accept applies to TCP listeners only" \
	--path="$T/s" --sockopts=defer-accept
bad "invalid --sockopts value \"mode=0600\" for 127\\.0\\.0\\.1:$P: mode applies to unix listeners \\(--path\\) only" \
	--port=127.0.0.1:$P --sockopts=mode=0600
bad "invalid --sockopts value \"backlog=8\" for u$P: backlog applies to TCP and unix listeners only" \
	--port=u$P --sockopts=backlog=8
bad "invalid --sockopts value \"dual-stack\" for \\[::1\\]:$P: dual-stack applies to \\[::\\]:PORT listeners only" \
	--port="[::1]:$P" --sockopts=dual-stack
bad "invalid --sockopts value \"nodelay=maybe\" for 127\\.0\\.0\\.1:$P: nodelay=maybe: not on or off" \
	--port=127.0.0.1:$P --sockopts=nodelay=maybe
bad "invalid --sockopts value \"defer-accept=5;backlog=8\" for 127\\.0\\.0\\.1:$P: defer-accept=5;backlog=8: not a whole number" \
	--port=127.0.0.1:$P --sockopts="defer-accept=5;backlog=8"
bad "invalid --sockopts value \"bogus\" for 127\\.0\\.0\\.1:$P: unknown option \"bogus\" \\(known: backlog," \
	--port=127.0.0.1:$P --sockopts=bogus
bad "--defer-accept applies to TCP listeners only, and there is none" --port=127.0.0.1:u$P --defer-accept
bad "--socket-mode applies to unix listeners \\(--path\\) only, and there is none" --port=127.0.0.1:$P --socket-mode=0600
bad "--dual-stack applies to \\[::\\]:PORT listeners only" --port=127.0.0.1:$P --dual-stack
bad "--check cannot be combined with --restart or --stop" --port=127.0.0.1:$P --check --stop --pid-file="$T/pid"
check_not "no socket file was made along the way" test -e "$T/s"
check_not "no port was left bound" port_listening "$P"

# a start_server spec is never taken for options: it has no --sockopts form
bad "invalid --port value \"127\\.0\\.0\\.1:$P,defer-accept\"" --port="127.0.0.1:$P,defer-accept"

# listener set-up failures are exit 2, naming the listener
start_baton --port=127.0.0.1:$P -- "${WORKER_CMD[@]}"
wait_until 10 port_listening "$P" || bail_out "supervisor did not come up"
run_baton --check --port=127.0.0.1:$P
is "$RUN_STATUS" 2 "--check on a port in use exits 2"
like "$RUN_ERR" "${MSG_PREFIX}cannot bind 127\\.0\\.0\\.1:$P: Address already in use" "... naming the address"
run_baton --check --port=127.0.0.1:$P --reuseport
is "$RUN_STATUS" 2 "--reuseport does not share a port with a socket that lacks it"
kill -TERM "$BATON_PID"
wait_baton_exit 10
done_testing
