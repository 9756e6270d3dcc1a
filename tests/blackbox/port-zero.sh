#!/bin/bash
# SPDX-License-Identifier: ISC
# --port=HOST:0: the port the kernel chose is shown wherever the
# listener is (the log, --check, STATUS.json, --stats in its three formats,
# /metrics), across a self re-exec too; SERVER_STARTER_PORT keeps the spec
# as given, and a connection to the chosen port is answered. 0.2.0 showed
# it nowhere but in ss(8).
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/blackbox/lib-metrics.sh"
baton_only_script "the chosen port is shown by baton's extensions"
worker_cmd

M=$(free_port)
start_baton --port=127.0.0.1:0 --status-file="$T/status" --metrics-listen=127.0.0.1:$M \
	-- "${WORKER_CMD[@]}"
wait_file_contains "$T/baton.err" "the kernel chose port" 10 ||
	bail_out "baton did not say which port the kernel chose"
line=$(grep "the kernel chose port" "$T/baton.err")
like "$line" "^${MSG_PREFIX}listening on 127\\.0\\.0\\.1:0: the kernel chose port [1-9][0-9]* \\(127\\.0\\.0\\.1:[1-9][0-9]*\\)$" \
	"the log names the port the kernel chose"
P=$(printf '%s\n' "$line" | sed -n 's/.*the kernel chose port \([0-9]*\) .*/\1/p')
check "a connection to that port is answered" wait_http 127.0.0.1:$P 10
wait_report 1 10
is "$(report_env "$(report 1)" SERVER_STARTER_PORT)" "127.0.0.1:0=3" \
	"SERVER_STARTER_PORT keeps the spec as given"

wait_file "$T/status.json" 10
json=$(cat "$T/status.json")
is "$(jq_py "$json" "[l['port'] for l in j['listeners'] if l['key'] == '127.0.0.1:0']")" "[$P]" \
	"STATUS.json: the listener keyed 127.0.0.1:0 has \"port\":$P"

run_baton --stats --status-file="$T/status"
like "$RUN_OUT" "^127\\.0\\.0\\.1:0 \\(port $P\\)  queue " "--stats shows the chosen port"
run_baton --stats --format=json --status-file="$T/status"
is "$(jq_py "$RUN_OUT" "j['listeners'][0]['port']")" "$P" "--stats --format=json: \"port\":$P"
run_baton --stats --format=prom --status-file="$T/status"
like "$RUN_OUT" "baton_listener_port\\{listener=\"127\\.0\\.0\\.1:0\",proto=\"tcp\"\\} $P" \
	"--stats --format=prom: baton_listener_port"
metrics_port_is() { # the chosen port is in /metrics
	mbody 127.0.0.1:$M /metrics | grep -qx "baton_listener_port{listener=\"127.0.0.1:0\",proto=\"tcp\"} $P"
}
check "/metrics: baton_listener_port $P" wait_until 10 metrics_port_is

# a self re-exec keeps the socket, and still knows its port
wait_file_contains "$T/baton.err" "generation 1 is serving" 10 || bail_out "generation 1 does not serve"
: >"$T/baton.err"
kill -USR2 "$BATON_PID"
check "USR2: baton re-executes" wait_file_contains "$T/baton.err" 're-executed' 10
check "after the re-exec, /metrics still has the chosen port" wait_until 10 metrics_port_is
check "and the port is still answered" http_ok 127.0.0.1:$P
kill -TERM "$BATON_PID"
wait_baton_exit 15

# --check binds, says the port, and lets it go
run_baton --check --port=127.0.0.1:0 --port=u0
is "$RUN_STATUS" 0 "--check with port 0 exits 0"
like "$RUN_OUT" "^127\\.0\\.0\\.1:0 \\(port [1-9][0-9]*\\) +tcp +3 " "--check shows the TCP port the kernel chose"
like "$RUN_OUT" "^0 \\(port [1-9][0-9]*\\) +udp +4 " "... and the UDP one"
done_testing
