#!/bin/bash
# SPDX-License-Identifier: ISC
# --pass-fds-as: the fds in each server family's own
# variables, checked from inside the worker.
. "$(dirname "$0")/lib.sh"
baton_only_script "--pass-fds-as"

P=$(free_port)
S=$T/s.sock
start_baton --port=127.0.0.1:$P --path="$S" --sockopts=name=api \
	--pass-fds-as=server-starter,systemd,nginx,unicorn,einhorn -- \
	"$WORKER" --report "$T/all.%g"
wait_file "$T/all.1" 10 || bail_out "no worker report"
R=$T/all.1
is "$(report_env "$R" SERVER_STARTER_PORT)" "127.0.0.1:$P=3;$S=4" "server-starter: SERVER_STARTER_PORT"
is "$(report_env "$R" SERVER_STARTER_GENERATION)" 1 "server-starter: SERVER_STARTER_GENERATION"
is "$(report_env "$R" LISTEN_FDS)" 2 "systemd: LISTEN_FDS=2"
is "$(report_env "$R" LISTEN_PID)" "$(report_val "$R" pid)" "systemd: LISTEN_PID is the worker's own pid"
is "$(report_env "$R" LISTEN_FDNAMES)" "127.0.0.1_$P:api" \
	"systemd: LISTEN_FDNAMES from the key, or from --sockopts=name="
is "$(report_env "$R" NGINX)" "3;4;" "nginx: NGINX=\"3;4;\" with the trailing ';'"
is "$(report_env "$R" UNICORN_FD)" "3,4" "unicorn: UNICORN_FD=\"3,4\""
is "$(report_env "$R" EINHORN_FD_COUNT)" 2 "einhorn: EINHORN_FD_COUNT"
is "$(report_env "$R" EINHORN_FD_0) $(report_env "$R" EINHORN_FD_1)" "3 4" "einhorn: EINHORN_FD_0, EINHORN_FD_1"
is "$(report_val "$R" fds)" "0 1 2 3 4" "the worker has fds 3 and 4"
kill -HUP "$BATON_PID"
wait_file "$T/all.2" 10
is "$(report_env "$T/all.2" LISTEN_PID)" "$(report_val "$T/all.2" pid)" \
	"generation 2: LISTEN_PID is again the worker's own pid"
kill -TERM "$BATON_PID"
wait_baton_exit 10

# systemd alone: no SERVER_STARTER_ variable, and stale LISTEN_ ones replaced
P=$(free_port)
LISTEN_FDS=7 NGINX=9 start_baton --port=127.0.0.1:$P --pass-fds-as=systemd -- \
	"$WORKER" --report "$T/sd.1"
wait_file "$T/sd.1" 10 || bail_out "no worker report"
check_not "systemd alone: no SERVER_STARTER_PORT" report_has_env "$T/sd.1" SERVER_STARTER_PORT
# the generation is not a way of passing fds: every dialect keeps it
# (nginx's "pid nginx.$SERVER_STARTER_GENERATION.pid")
is "$(report_env "$T/sd.1" SERVER_STARTER_GENERATION)" 1 "systemd alone: SERVER_STARTER_GENERATION is kept"
is "$(report_env "$T/sd.1" LISTEN_FDS)" 1 "LISTEN_FDS is baton's, not the one it inherited"
is "$(report_env "$T/sd.1" LISTEN_FDNAMES)" "127.0.0.1_$P" "LISTEN_FDNAMES for one listener"
is "$(report_env "$T/sd.1" NGINX)" 9 "a dialect not asked for leaves its variable alone"
kill -TERM "$BATON_PID"
wait_baton_exit 10

# nginx alone: SERVER_STARTER_GENERATION in each generation
P=$(free_port)
start_baton --port=127.0.0.1:$P --pass-fds-as=nginx -- "$WORKER" --report "$T/ng.%g"
wait_file "$T/ng.1" 10 || bail_out "no worker report"
check_not "nginx alone: no SERVER_STARTER_PORT" report_has_env "$T/ng.1" SERVER_STARTER_PORT
is "$(report_env "$T/ng.1" SERVER_STARTER_GENERATION)" 1 "nginx alone: SERVER_STARTER_GENERATION=1"
kill -HUP "$BATON_PID"
wait_file "$T/ng.2" 10
is "$(report_env "$T/ng.2" SERVER_STARTER_GENERATION)" 2 "nginx alone: SERVER_STARTER_GENERATION=2 in generation 2"
kill -TERM "$BATON_PID"
wait_baton_exit 10

# a pin that breaks the systemd protocol's numbering is refused at start-up
run_baton --port=127.0.0.1:$(free_port)=5 --pass-fds-as=systemd -- "$WORKER"
is "$RUN_STATUS" 1 "a pin off fd 3 with systemd: exit status 1"
like "$RUN_ERR" "cannot pin 127.0.0.1:[0-9]+ to fd 5 with --pass-fds-as=systemd: the systemd protocol passes fds 3, 4, ... without gaps" \
	"the message names the listener and the rule"
run_baton --check --port=127.0.0.1:$(free_port)=5 --pass-fds-as=nginx,unicorn,einhorn
is "$RUN_STATUS" 0 "the same pin is fine for nginx, unicorn and einhorn (--check passes)"
run_baton --pass-fds-as=systemd,inetd -- "$WORKER"
is "$RUN_STATUS" 1 "an unknown dialect: exit status 1"
like "$RUN_ERR" "invalid --pass-fds-as value \"systemd,inetd\": unknown dialect \"inetd\"" "the message quotes it"
run_baton --port=127.0.0.1:$(free_port) --sockopts=name=a:b -- "$WORKER"
like "$RUN_ERR" "name=a:b: only printable characters other than ':'" "a name with ':' is refused"
done_testing
