#!/bin/bash
# SPDX-License-Identifier: ISC
# Catch a worker that ignores the socket it was given.
. "$(dirname "$0")/lib.sh"
baton_only_script "fd check"
command -v python3 >/dev/null || skip_all "python3 is not installed"

# The check runs when a generation is promoted. These workers say READY=1
# (--ready=notify) once they have done what the check must see: with
# --interval the check could come before a slow start-up (python3 under
# load) has closed or bound anything, and find nothing to say.
# notify.py [CLOSE] [BIND-PORT]: closes fd 3 and/or binds a port of its own,
# then READY=1, then sleeps
cat >"$T/notify.py" <<'PY'
import os, socket, sys, time
if "close" in sys.argv[1:]:
    os.close(3)
held = []
for a in sys.argv[1:]:
    if a.isdigit():
        s = socket.socket(); s.bind(("127.0.0.1", int(a))); s.listen(1)
        held.append(s)
addr = os.environ["NOTIFY_SOCKET"]
if addr.startswith("@"):
    addr = "\0" + addr[1:]
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"READY=1", addr)
time.sleep(300)
PY

# a worker that closes the listener baton passed it
P=$(free_port)
start_baton --port=127.0.0.1:$P --ready=notify -- python3 "$T/notify.py" close
check "a worker holding no listener is warned about" \
	wait_file_contains "$T/baton.err" "generation 1: no process of worker [0-9]+ holds 127.0.0.1:$P \(socket:\[[0-9]+\]\); does the server bind its own port\? see --pass-fds-as" 15
kill -TERM "$BATON_PID"
wait_baton_exit 10

# a worker that binds a port of its own (as gunicorn does without -b fd://3)
P=$(free_port)
Q=$(free_port)
: >"$T/baton.err"
start_baton --port=127.0.0.1:$P --ready=notify -- python3 "$T/notify.py" close "$Q"
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
