#!/bin/bash
# SPDX-License-Identifier: ISC
# --port SPEC forms: PORT, HOST:PORT, [V4]:PORT, [::1]:PORT, [::]:PORT,
# hostname:PORT; the SERVER_STARTER_PORT keys, and what each fd really is.
. "$(dirname "$0")/lib.sh"

P1=$(free_port) P2=$(free_port) P3=$(free_port) P4=$(free_port)
P5=$(free_port) P6=$(free_port) P7=$(free_port)
serve_baton --until=report:1 --port=$P1 --port=127.0.0.1:$P2 --port="[::1]:$P3" \
	--port=localhost:$P4 --port="[127.0.0.1]:$P5" --port="[::]:$P6" --port=" $P7 " \
	-- "${WORKER_CMD[@]}"
R=$(report 1)

# fds in option order, consecutive; baton numbers them from 3 (start_server
# from 4: Perl keeps its DATA handle on 3).
b=3
is_perl && b=4
want="$P1=$b;127.0.0.1:$P2=$((b + 1));[::1]:$P3=$((b + 2));localhost:$P4=$((b + 3));127.0.0.1:$P5=$((b + 4));[::]:$P6=$((b + 5));$P7=$((b + 6))"
is "$(report_val "$R" port)" "$want" "SERVER_STARTER_PORT keys are normalised like start_server's"

fd() { report_fd "$R" "$1"; }
like "$(fd $b)" "type=stream family=inet addr=0.0.0.0:$P1 listening=1" "PORT binds 0.0.0.0 (IPv4 only)"
like "$(fd $((b + 1)))" "type=stream family=inet addr=127.0.0.1:$P2 listening=1" "HOST:PORT binds that address"
like "$(fd $((b + 2)))" "type=stream family=inet6 addr=\\[::1\\]:$P3 listening=1 .*v6only=1" "[::1]:PORT is IPv6 with IPV6_V6ONLY"
like "$(fd $((b + 3)))" "type=stream family=inet addr=127.0.0.1:$P4 listening=1" "localhost:PORT resolves to 127.0.0.1 (first IPv4 address)"
like "$(fd $((b + 4)))" "type=stream family=inet addr=127.0.0.1:$P5 listening=1" "[127.0.0.1]:PORT is IPv4"
like "$(fd $((b + 5)))" "type=stream family=inet6 addr=\\[::\\]:$P6 listening=1 .*v6only=1" "[::]:PORT is IPv6-only"
like "$(fd $((b + 6)))" "type=stream family=inet addr=0.0.0.0:$P7 listening=1" "' PORT ': spaces around the value are trimmed"
for i in 0 1 2 3 4 5 6; do
	like "$(fd $((b + i)))" "cloexec=0 nonblock=0 .*reuseaddr=1" "fd $((b + i)): inheritable, blocking, SO_REUSEADDR"
done

check "PORT answers on 127.0.0.1" http_ok 127.0.0.1:$P1
check "HOST:PORT answers" http_ok 127.0.0.1:$P2
check "[::1]:PORT answers" http_ok "[::1]:$P3"
check "localhost:PORT answers on 127.0.0.1" http_ok 127.0.0.1:$P4
check "[127.0.0.1]:PORT answers" http_ok 127.0.0.1:$P5
check "[::]:PORT answers on ::1" http_ok "[::1]:$P6"
check_not "[::]:PORT with V6ONLY does not take IPv4 connections" http_ok 127.0.0.1:$P6

# V6ONLY means the IPv4 side of a [::] port is free for somebody else
start_baton --port=127.0.0.1:$P6 -- "$WORKER"
check "127.0.0.1 can be bound on the port of a V6ONLY [::] listener" wait_http 127.0.0.1:$P6 10

# the worker sees its own generation on every listener
like "$(http_get "[::1]:$P3")" "^gen=1 pid=$(report_val "$R" pid)\$" "the answer comes from the gen-1 worker"
done_testing
