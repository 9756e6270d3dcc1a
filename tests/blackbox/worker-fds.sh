#!/bin/bash
# SPDX-License-Identifier: ISC
# What a worker inherits: stdio and the listeners and nothing else, the
# listeners inheritable and blocking, an empty signal mask, every signal at
# its default but SIGPIPE ignored (as under start_server).
. "$(dirname "$0")/lib.sh"

P=$(free_port)
serve_baton --until=report:1 --port=127.0.0.1:$P --path="$T/s.sock" --pid-file="$T/pid" \
	--status-file="$T/status" --log-file="$T/log" -- "${WORKER_CMD[@]}"
R=$(report 1)
lfds=$(awk '$1 == "listener" { print $3 }' "$R" | sort -n | tr '\n' ' ')
is "$(report_val "$R" fds)" "0 1 2 ${lfds% }" "the worker has stdio and the listeners, no other fd"
if baton_only "listener fds are 3 and 4"; then
	is "$(report_val "$R" fds)" "0 1 2 3 4" "fds 0 1 2 3 4"
fi
for fd in $lfds; do
	like "$(report_fd "$R" "$fd")" "cloexec=0 nonblock=0 .*listening=1" "fd $fd: inheritable, blocking, listening"
done
is "$(report_val "$R" sigblk)" 0000000000000000 "empty signal mask"
is "$(report_val "$R" sigign)" 0000000000001000 "only SIGPIPE ignored"
like "$(report_fd "$R" 0)" "target=/dev/null" "stdin is /dev/null (as given)"
like "$(report_fd "$R" 1)" "target=$T/log" "stdout is the log file"
like "$(report_fd "$R" 2)" "target=$T/log" "stderr is the log file"
kill -HUP "$BATON_PID"
wait_report 2 10
is "$(report_val "$(report 2)" fds)" "0 1 2 ${lfds% }" "generation 2 as well: no fd leaked by the restart"
kill -TERM "$BATON_PID"
wait_baton_exit 10

# The supervisor inherits junk: an fd without CLOEXEC, ignored signals (as
# under "nohup ... &": HUP, INT and QUIT ignored) and a blocked one. It must
# still act on HUP and INT, and the worker must see none of it.
P2=$(free_port)
"$WORKER" --launch --keep-fds --leak-fd 7 -- env --ignore-signal=HUP,INT,QUIT,USR1 \
	--block-signal=USR2 "$BATON" --port=127.0.0.1:$P2 -- "$WORKER" --report "$T/dirty.%g" \
	>"$T/dirty.out" 2>"$T/dirty.err" </dev/null &
dirty=$!
track_pid $dirty
wait_file "$T/dirty.1" 10 || bail_out "no worker report"
check "the supervisor serves" wait_http 127.0.0.1:$P2 5
if baton_only "the worker is cleaned of what the supervisor inherited"; then
	is "$(report_val "$T/dirty.1" fds)" "0 1 2 3" "an inherited fd (7) does not reach the worker"
	is "$(report_val "$T/dirty.1" sigblk)" 0000000000000000 "a blocked signal is unblocked in the worker"
	is "$(report_val "$T/dirty.1" sigign)" 0000000000001000 "ignored signals are reset, SIGPIPE ignored"
fi
kill -HUP "$dirty"
check "HUP works although the supervisor was started with it ignored (nohup)" wait_gen 127.0.0.1:$P2 2 10
kill -INT "$dirty"
wait_baton_exit 10 "$dirty"
is "$BATON_STATUS" 0 "INT works although it was ignored: exit 0"
done_testing
