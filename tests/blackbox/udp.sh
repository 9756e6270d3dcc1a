#!/bin/bash
# SPDX-License-Identifier: ISC
# The "u" prefix: UDP listeners (SOCK_DGRAM, not listening), v4 and v6,
# beside a TCP listener on the same port number.
. "$(dirname "$0")/lib.sh"

P1=$(free_port) P2=$(free_port) P3=$(free_port)
serve_baton --until=report:1 --port=u$P1 --port=127.0.0.1:u$P2 --port=127.0.0.1:$P2 --port="[::1]:u$P3" \
	-- "${WORKER_CMD[@]}"
R=$(report 1)
b=3
is_perl && b=4
# Server::Starter drops the "u" from the key; the contract keeps its env
# format, so workers tell UDP from TCP with SO_TYPE.
is "$(report_val "$R" port)" "$P1=$b;127.0.0.1:$P2=$((b + 1));127.0.0.1:$P2=$((b + 2));[::1]:$P3=$((b + 3))" \
	"SERVER_STARTER_PORT for u-prefixed ports (start_server's keys)"
like "$(report_fd "$R" $b)" "type=dgram family=inet addr=0.0.0.0:$P1 listening=0" "uPORT: UDP on 0.0.0.0"
like "$(report_fd "$R" $((b + 1)))" "type=dgram family=inet addr=127.0.0.1:$P2 listening=0" "HOST:uPORT: UDP on HOST"
like "$(report_fd "$R" $((b + 2)))" "type=stream family=inet addr=127.0.0.1:$P2 listening=1" "TCP on the same port number"
like "$(report_fd "$R" $((b + 3)))" "type=dgram family=inet6 addr=\\[::1\\]:$P3 listening=0 .*v6only=1" "[::1]:uPORT: UDP over IPv6, V6ONLY"
like "$(report_fd "$R" $b)" "cloexec=0 nonblock=0 .*reuseaddr=1" "UDP fd: inheritable, blocking, SO_REUSEADDR"

out=$("$LOADGEN" 127.0.0.1 $P1 --udp --seconds "$(scaled 5)" --max-requests 5 --timeout-ms "$(scaled_ms 2000)")
like "$out" "ok=5 failed=0" "a datagram to uPORT is answered"
out=$("$LOADGEN" 127.0.0.1 $P2 --udp --seconds "$(scaled 5)" --max-requests 5 --timeout-ms "$(scaled_ms 2000)")
like "$out" "ok=5 failed=0.* last_gen=1" "a datagram to HOST:uPORT is answered by generation 1"
out=$("$LOADGEN" ::1 $P3 --udp --seconds "$(scaled 5)" --max-requests 5 --timeout-ms "$(scaled_ms 2000)")
like "$out" "ok=5 failed=0" "a datagram to [::1]:uPORT is answered"
check "TCP on the same number answers" http_ok 127.0.0.1:$P2

kill -HUP "$BATON_PID"
check "after a HUP generation 2 answers TCP" wait_gen 127.0.0.1:$P2 2 10
pid1=$(report_val "$R" pid)
check "generation 1 is gone" wait_pid_gone "$pid1" 10
out=$("$LOADGEN" 127.0.0.1 $P2 --udp --seconds "$(scaled 5)" --max-requests 3 --timeout-ms "$(scaled_ms 2000)")
like "$out" "ok=3 failed=0.* last_gen=2" "and UDP"
done_testing
