#!/bin/bash
# SPDX-License-Identifier: ISC
# --fdstore: each listener goes to the manager's fd store (FDSTORE=1 with
# FDNAME= and the socket in SCM_RIGHTS), so that while baton itself is
# restarted connections queue instead of being refused; the manager then
# starts baton again with them (LISTEN_FDS), and the queued request is
# answered.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/blackbox/lib-sdnotify.sh"

P=$(free_port)
U=$T/s.sock
sink_start --relaunch 1 -- --fdstore --port=127.0.0.1:$P --path="$U" -- "${WORKER_CMD[@]}"
check "generation 1 serves" wait_sink 'STATUS=generation 1 serving' 10
tcp=$(sink_msgs 'FDSTORE=1\|FDNAME=127.0.0.1_'"$P"' ')
like "$tcp" " fd=127\\.0\\.0\\.1:$P,listening\$" "the TCP listener is stored, named 127.0.0.1_$P"
unix=$(sink_msgs "FDSTORE=1\\|FDNAME=$U ")
like "$unix" " fd=$U,listening\$" "the unix listener is stored, named by its path"
is "$(line_pid "$tcp")" "$BATON_PID" "sent by baton"
check "before READY=1" sink_order 'FDSTORE=1' 'READY=1'
check "baton says so" file_contains "$T/baton.err" "listeners handed to the service manager's fd store"

kill -TERM "$BATON_PID"
check "baton stops" wait_file_contains "$SLOG" " exit pid=$BATON_PID status=0" 10
check "the socket file stays with the stored socket" test -S "$U"
# baton is gone: a connection queues in the stored socket
(exec 3<>"/dev/tcp/127.0.0.1/$P" && echo connected >"$T/conn" &&
	printf 'GET / HTTP/1.0\r\n\r\n' >&3 && cat <&3 >"$T/resp") 2>/dev/null &
track_pid $!
check "while baton is down a connection is queued, not refused" wait_file_contains "$T/conn" connected 10

kill -USR1 "$SINK_PID" # the manager starts baton again with the stored fds
check "the manager starts baton again with the 2 fds" \
	wait_file_contains "$SLOG" " start pid=[0-9]+ fds=2" 10
B2=$(sed -n 's/.* start pid=\([0-9]*\) fds=2.*/\1/p' "$SLOG")
track_pid "$B2"
wait_until 10 _served_or_gone "$B2"
check "the queued request is answered after the restart" \
	wait_file_contains "$T/resp" "^gen=1 pid=" 10
like "$(cat "$T/resp")" "gen=1 pid=$(report_val "$(report 1)" pid)" \
	"by the restarted baton's worker"
check "baton adopted both sockets" file_contains "$T/baton.err" \
	"adopting 127\\.0\\.0\\.1:$P \\(fd 3, name \"127\\.0\\.0\\.1_$P\"\\) from systemd"
check "the unix listener serves again" wait_until 10 http_ok_unix "$U"
kill -TERM "$B2"
check "the restarted baton stops" wait_file_contains "$SLOG" " exit pid=$B2 status=0" 10
done_testing
