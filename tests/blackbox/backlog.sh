#!/bin/bash
# SPDX-License-Identifier: ISC
# --backlog: the listen(2) backlog of every listener; default SOMAXCONN
# (4096), capped by net.core.somaxconn.
. "$(dirname "$0")/lib.sh"
command -v ss >/dev/null 2>&1 || skip_all "ss(8) not installed"

backlog_of() { # the Send-Q column of a listening TCP port = its backlog
	ss -Hltn "sport = :$1" 2>/dev/null | awk '{ print $3; exit }'
}

P1=$(free_port) P2=$(free_port)
serve_baton --port=127.0.0.1:$P1 --port=127.0.0.1:$P2 --backlog=7 -- "$WORKER"
is "$(backlog_of $P1)" 7 "--backlog=7: first port"
is "$(backlog_of $P2)" 7 "--backlog=7: second port"
kill -TERM "$BATON_PID"
wait_baton_exit 10

start_baton --path="$T/s.sock" --backlog=9 -- "$WORKER"
wait_until 10 test -S "$T/s.sock" && wait_until 5 http_ok_unix "$T/s.sock"
is "$(ss -Hlx src "$T/s.sock" 2>/dev/null | awk '{ print $4; exit }')" 9 "--backlog=9: a unix --path too"
kill -TERM "$BATON_PID"
wait_baton_exit 10

max=$(cat /proc/sys/net/core/somaxconn)
want=4096
[ "$max" -lt 4096 ] && want=$max
serve_baton --port=127.0.0.1:$P1 -- "$WORKER"
is "$(backlog_of $P1)" "$want" "default backlog: SOMAXCONN (4096) capped by net.core.somaxconn ($max)"
done_testing
