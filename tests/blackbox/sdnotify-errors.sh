#!/bin/bash
# SPDX-License-Identifier: ISC
# Start-up failures under a service manager: --daemonize is refused (the
# manager would lose the daemon), and a fatal error reaches the manager as
# STATUS= (and ERRNO= when a system call failed) before baton exits.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/blackbox/lib-sdnotify.sh"

P=$(free_port)
sink_start -- --daemonize --log-file="$T/d.log" --port=127.0.0.1:$P -- "${WORKER_CMD[@]}"
check "--daemonize under NOTIFY_SOCKET: baton exits" wait_file_contains "$SLOG" " exit pid=$BATON_PID " 10
like "$(grep ' exit pid=' "$SLOG")" "status=1\$" "with status 1 (usage)"
msg='cannot use --daemonize under a service manager \(NOTIFY_SOCKET is set\): run baton in the foreground \(Type=notify\)'
check "the message says why and what to do" file_contains "$T/baton.err" "^baton: $msg\$"
line=$(sink_msgs 'STATUS=' | head -n 1)
like "$(line_field "$line" STATUS)" "^baton: $msg\$" "the manager gets it as STATUS="
check_not "no daemon was left behind" port_listening "$P"

# a system call failed: ERRNO= as well (ENOENT = 2)
sink_start -- --dir="$T/nowhere" --port=127.0.0.1:$P -- "${WORKER_CMD[@]}"
check "a missing --dir: baton exits" wait_file_contains "$SLOG" " exit pid=$BATON_PID " 10
line=$(sink_msgs 'STATUS=' | head -n 1)
like "$(line_field "$line" STATUS)" "^baton: cannot use --dir $T/nowhere: No such file or directory\$" \
	"STATUS= carries the message"
is "$(line_field "$line" ERRNO)" 2 "ERRNO=2 (ENOENT)"
is "$(sink_count 'READY=1')" 0 "and no READY=1"

# the port is taken: STATUS= with the message, exit status 2
python3 -c 'import socket,time,sys
s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); time.sleep(30)' "$P" &
track_pid $!
wait_until 10 port_listening "$P"
sink_start -- --port=127.0.0.1:$P -- "${WORKER_CMD[@]}"
check "a port in use: baton exits" wait_file_contains "$SLOG" " exit pid=$BATON_PID status=2" 10
line=$(sink_msgs 'STATUS=' | head -n 1)
like "$(line_field "$line" STATUS)" "^baton: cannot bind 127.0.0.1:$P: " "STATUS= names the address"
done_testing
