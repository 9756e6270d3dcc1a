#!/bin/bash
# SPDX-License-Identifier: ISC
# example-python.sh: the Python example (standard library only) under the
# supervisor: serves on a TCP and a unix listener, survives a HUP under load
# finishing its in-flight request, and stops cleanly.
. "$(dirname "$0")/sdk-lib.sh"
need python3 python3

P=$(free_port)
start_baton --port=127.0.0.1:$P --path="$T/py.sock" --status-file="$T/status" \
	-- python3 "$EXAMPLES/python/worker.py"
wait_http 127.0.0.1:$P 10 || bail_out "the Python example did not come up: $(tail -n 5 "$T/baton.err")"
like "$(http_get 127.0.0.1:$P)" "^gen=1 pid=[0-9]+ server=python listener=127.0.0.1:$P\$" \
	"it answers on the TCP listener"
like "$(http_get_unix "$T/py.sock")" "^gen=1 pid=[0-9]+ server=python listener=$T/py.sock\$" \
	"and on the unix listener"
hup_under_load 127.0.0.1 $P 1 2 /sleep/1500
wait_status "$T/status" 2 10
is "$(status_gens "$T/status")" 2 "generation 1 is gone after its graceful stop"
file_like "$T/baton.err" "generation 1 stopped" "generation 1 stopped on its own (TERM)"
stop_supervisor
done_testing
