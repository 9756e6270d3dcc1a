#!/bin/bash
# SPDX-License-Identifier: ISC
# --port SPEC=FD pins a listener to a given fd number in the worker
# (for JVMs and inetd-style servers, including fd 0).
. "$(dirname "$0")/lib.sh"

P1=$(free_port) P2=$(free_port) P3=$(free_port)
serve_baton --until=report:1 --port=127.0.0.1:$P1=9 --port=127.0.0.1:$P2 -- "${WORKER_CMD[@]}"
R=$(report 1)
b=3
is_perl && b=4
is "$(report_val "$R" port)" "127.0.0.1:$P1=9;127.0.0.1:$P2=$b" \
	"SERVER_STARTER_PORT: the pinned entry names its fd"
like "$(report_fd "$R" 9)" "cloexec=0 .*type=stream family=inet addr=127.0.0.1:$P1 listening=1" \
	"fd 9 is the pinned listener"
like "$(report_fd "$R" $b)" "type=stream family=inet addr=127.0.0.1:$P2 listening=1" \
	"the unpinned listener takes the lowest free number"
check "the pinned port answers" http_ok 127.0.0.1:$P1
check "the other port answers" http_ok 127.0.0.1:$P2

# =0: the listener becomes the worker's stdin
serve_baton "--until=file:$T/stdin-report" --port=127.0.0.1:$P3=0 -- "$WORKER" --report "$T/stdin-report"
is "$(report_val "$T/stdin-report" port)" "127.0.0.1:$P3=0" "SERVER_STARTER_PORT names fd 0"
like "$(report_fd "$T/stdin-report" 0)" "type=stream family=inet addr=127.0.0.1:$P3 listening=1" \
	"the worker's stdin is the listener"
check "a port pinned to fd 0 answers" wait_http 127.0.0.1:$P3 5
done_testing
