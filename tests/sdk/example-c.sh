#!/bin/bash
# SPDX-License-Identifier: ISC
# example-c.sh: the C example (libbaton + libev, prefork) under the
# supervisor: it serves, a HUP under load hands over to generation 2 with no
# failed request while generation 1 finishes the request it was serving, and
# with notify readiness the generation is ready when the worker says so.
. "$(dirname "$0")/sdk-lib.sh"

P=$(free_port)
start_baton --port=127.0.0.1:$P --status-file="$T/status" -- "$C_WORKER" -w 3
wait_http 127.0.0.1:$P 10 || bail_out "the C example did not come up: $(tail -n 5 "$T/baton.err")"
like "$(http_get 127.0.0.1:$P)" "^gen=1 pid=[0-9]+ server=c-prefork listener=127.0.0.1:$P\$" \
	"it answers with its generation and listener key"
file_like "$T/baton.err" "generation 1 ready: 3 processes on 1 listeners" \
	"the master saw all 3 processes ready"

hup_under_load 127.0.0.1 $P 1 2 /sleep/1500
wait_status "$T/status" 2 10
is "$(status_gens "$T/status")" 2 "generation 1 is gone after its graceful stop"
file_like "$T/baton.err" "generation 1 stopped" "generation 1 stopped on its own (TERM)"
stop_supervisor

# readiness on NOTIFY_SOCKET: a baton extension (--ready=notify)
if baton_only "notify readiness: the generation serves once READY=1 arrives"; then
	: >"$T/baton.err"
	rm -f "$T/status"
	start_baton --port=127.0.0.1:$P --ready=notify --ready-timeout="$(scaled 10)" \
		--status-file="$T/status" -- "$C_WORKER" -w 2
	if wait_status "$T/status" 1 10 && [ "$(http_gen 127.0.0.1:$P)" = 1 ]; then
		pass "notify readiness: the generation serves once READY=1 arrives"
	else
		fail "notify readiness: the generation serves once READY=1 arrives" "$(tail -n 5 "$T/baton.err")"
	fi
	kill -HUP "$BATON_PID"
	if wait_status "$T/status" 2 10; then
		pass "notify readiness: a HUP hands over once generation 2 is ready"
	else
		fail "notify readiness: a HUP hands over once generation 2 is ready" "$(tail -n 5 "$T/baton.err")"
	fi
	stop_supervisor
fi
done_testing
