#!/bin/bash
# SPDX-License-Identifier: ISC
# example-node.sh: the Node example (net.Server on an inherited fd) under the
# supervisor: serves, survives a HUP under load finishing its in-flight
# request, and stops cleanly.
. "$(dirname "$0")/sdk-lib.sh"
need node nodejs

P=$(free_port)
start_baton --port=127.0.0.1:$P --status-file="$T/status" -- node "$EXAMPLES/node/worker.js"
wait_http 127.0.0.1:$P 10 || bail_out "the Node example did not come up: $(tail -n 5 "$T/baton.err")"
like "$(http_get 127.0.0.1:$P)" "^gen=1 pid=[0-9]+ server=node listener=127.0.0.1:$P\$" \
	"it answers with its generation and listener key"
hup_under_load 127.0.0.1 $P 1 2 /sleep/1500
wait_status "$T/status" 2 10
is "$(status_gens "$T/status")" 2 "generation 1 is gone after its graceful stop"
file_like "$T/baton.err" "generation 1 stopped" "generation 1 stopped on its own (TERM)"
stop_supervisor
done_testing
