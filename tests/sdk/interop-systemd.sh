#!/bin/bash
# SPDX-License-Identifier: ISC
# interop-systemd.sh: libbaton's C example under systemd-socket-activate, the
# systemd protocol with no baton in between: LISTEN_FDS from fd 3, the name
# from LISTEN_FDNAMES, LISTEN_PID checked, READY=1 and STOPPING=1 sent to
# NOTIFY_SOCKET, a graceful stop on TERM.
. "$(dirname "$0")/sdk-lib.sh"
need systemd-socket-activate systemd
need python3 python3

P=$(free_port)
sock="@baton-test-notify-$$-$RANDOM"
# the notify receiver: prints every datagram for 20 s at most
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + sys.argv[1][1:])
print("bound", flush=True)
end = time.time() + 20
while time.time() < end:
    s.settimeout(max(0.1, end - time.time()))
    try:
        msg = s.recv(4096).decode()
    except socket.timeout:
        break
    print(msg.replace("\n", " "), flush=True)
    if "STOPPING=1" in msg:
        break
' "$sock" >"$T/notify.out" 2>&1 &
rcv=$!
track_pid $rcv
wait_file_contains "$T/notify.out" bound 30 || bail_out "the notify receiver did not start"

# systemd-socket-activate passes on only the variables it is told to (-E)
systemd-socket-activate -l 127.0.0.1:$P --fdname=web -E NOTIFY_SOCKET="$sock" \
	-E BATON_TEST_TAG -E PATH "$C_WORKER" -w 2 >"$T/sd.out" 2>"$T/sd.err" </dev/null &
sd=$!
track_pid $sd
wait_until 10 port_listening $P ||
	bail_out "systemd-socket-activate did not listen on 127.0.0.1:$P: $(cat "$T/sd.err")"
# it execs the worker on the first connection: this request starts it
like "$(HTTP_TIMEOUT=10 http_get 127.0.0.1:$P)" "^gen=0 pid=[0-9]+ server=c-prefork listener=web\$" \
	"the worker serves the socket systemd passed, named by LISTEN_FDNAMES"
file_like "$T/sd.err" "^http-worker\[$sd\]: listening on 127\.0\.0\.1:$P \(key web, fd 3\)" \
	"the listener is fd 3, key \"web\", taken by the pid LISTEN_PID names"
wait_file_contains "$T/notify.out" "READY=1" 10
file_like "$T/notify.out" "^READY=1 STATUS=generation 0: 2 processes serving 127\.0\.0\.1:$P" \
	"READY=1 reached NOTIFY_SOCKET once every process accepts"
"$LOADGEN" 127.0.0.1 $P --seconds "$(scaled 1)" --concurrency 4 >"$T/load.out" 2>&1
like "$(cat "$T/load.out")" " failed=0 " "it serves under load"
kill -TERM $sd
if wait_until 10 pid_gone $sd; then pass "TERM: the worker stops"; else fail "TERM: the worker stops"; fi
wait $sd
is "$?" 0 "and exits 0"
wait_file_contains "$T/notify.out" "STOPPING=1" 5
file_like "$T/notify.out" "^STOPPING=1" "STOPPING=1 reached NOTIFY_SOCKET"
wait_until 5 pid_gone $rcv
wait_until 5 eval '[ -z "$(tagged_pids)" ]'
is "$(tagged_pids)" "" "no process is left behind"
done_testing
