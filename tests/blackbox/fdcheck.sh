#!/bin/bash
# SPDX-License-Identifier: ISC
# Catch a worker that ignores the socket it was given (issue 11, part 4).
. "$(dirname "$0")/lib.sh"
baton_only_script "fd check"
command -v python3 >/dev/null || skip_all "python3 is not installed"

# a worker that closes the listener baton passed it
P=$(free_port)
start_baton --port=127.0.0.1:$P --interval="$(scaled 0.5)" -- sh -c 'exec 3>&-; exec sleep 300'
check "a worker holding no listener is warned about" \
	wait_file_contains "$T/baton.err" "generation 1: no process of worker [0-9]+ holds 127.0.0.1:$P \(socket:\[[0-9]+\]\); does the server bind its own port\? see --pass-fds-as" 15
kill -TERM "$BATON_PID"
wait_baton_exit 10

# a worker that binds a port of its own (as gunicorn does without -b fd://3)
P=$(free_port)
Q=$(free_port)
: >"$T/baton.err"
start_baton --port=127.0.0.1:$P --interval="$(scaled 1)" -- python3 -c "
import os, socket, time
os.close(3)
s = socket.socket(); s.bind(('127.0.0.1', $Q)); s.listen(1)
time.sleep(300)"
check "its own listening socket is named" \
	wait_file_contains "$T/baton.err" "generation 1: worker [0-9]+ listens on 127.0.0.1:$Q itself \(socket:\[[0-9]+\]\), not on a socket baton passed" 15
kill -TERM "$BATON_PID"
wait_baton_exit 10

# a worker that holds its listener through a child: no warning
P=$(free_port)
: >"$T/baton.err"
start_baton --port=127.0.0.1:$P --path="$T/s.sock" --interval="$(scaled 0.5)" -- \
	sh -c '"$0" --report "$1"; exit' "$WORKER" "$T/report"
wait_file_contains "$T/baton.err" "generation 1 is serving" 15
check_not "a descendant holding the listeners: no warning" grep -Eq "no process of worker|listens on .* itself" "$T/baton.err"

# 100 TCP listeners, all held: none is taken for the worker's own (the
# check used to know baton's first 64 sockets only)
ports=()
for i in $(seq 1 100); do ports+=("--port=127.0.0.1:$(free_port)"); done
kill -TERM "$BATON_PID"
wait_baton_exit 10
: >"$T/baton.err"
start_baton "${ports[@]}" --interval="$(scaled 0.5)" -- sleep 300
wait_file_contains "$T/baton.err" "generation 1 is serving" 15
check_not "100 listeners held by the worker: no warning" grep -Eq "no process of worker|listens on .* itself" "$T/baton.err"
kill -TERM "$BATON_PID"
wait_baton_exit 10
: >"$T/baton.err"
start_baton --port=127.0.0.1:$P --path="$T/s.sock" --interval="$(scaled 0.5)" -- \
	sh -c '"$0" --report "$1"; exit' "$WORKER" "$T/report"
wait_file_contains "$T/baton.err" "generation 1 is serving" 15

# the socket file baton created disappears
rm -f "$T/s.sock"
check "a removed socket file is warned about" \
	wait_file_contains "$T/baton.err" "socket file $T/s.sock that baton created for --path has been removed or replaced" 15
kill -TERM "$BATON_PID"
wait_baton_exit 10
done_testing
