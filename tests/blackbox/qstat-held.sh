#!/bin/bash
# SPDX-License-Identifier: ISC
# The established connections a worker's process group holds on baton's
# listener, counted the way per-generation counts are (the group's socket
# inodes from /proc mapped onto one sock_diag dump, through tests/qprobe):
# equal to what ss(8) shows with 30 and 300 held connections spread over
# two processes of the group, and blind to the connections another process
# holds on another port of the same count.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/blackbox/lib-qstat.sh"
command -v python3 >/dev/null || skip_all "python3 not found"
baton_only_script "each worker in a process group of its own"

# the worker and a forked helper (same process group) accept and keep
cat >"$T/holder.py" <<'PY'
import os, socket, sys
l = socket.socket(fileno=int(os.environ["SERVER_STARTER_PORT"].split("=")[1]))
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
os.fork()
held = []
while True:
    held.append(l.accept()[0])
PY
# a process outside baton that accepts 5 connections on port $2 and keeps
cat >"$T/outside.py" <<'PY'
import socket, sys, time
l = socket.socket()
l.bind(("127.0.0.1", int(sys.argv[1])))
l.listen(16)
cs = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for i in range(5)]
held = [l.accept()[0] for c in cs]
open(sys.argv[2], "w").close()
time.sleep(120)
PY

established() { # established PORT: server-side ESTABLISHED sockets on it
	ss -Htn state established "( sport = :$1 )" 2>/dev/null | wc -l
}
count_is() { [ "$(established "$1")" -eq "$2" ]; }

P=$(free_port)
Q=$(free_port)
start_baton --port=127.0.0.1:$P -- python3 "$T/holder.py" "$T/holder.pid"
wait_until 10 port_listening "$P" || bail_out "supervisor did not come up"
wait_file "$T/holder.pid" 10 || bail_out "the worker did not start"
wpid=$(cat "$T/holder.pid")
ino=$(tcp_inode "$P")
python3 "$T/outside.py" "$Q" "$T/outside.ready" &
track_pid $!
wait_file "$T/outside.ready" 10 || bail_out "the outside acceptor did not start"

for n in 30 300; do
	"$QPROBE" --kind tcp --inode "$ino" --connect "127.0.0.1:$P" --count "$n" \
		--hold 120 >/dev/null &
	client=$!
	track_pid "$client"
	wait_until 10 count_is "$P" "$n" ||
		diag "ss shows $(established "$P") of $n"
	out=$("$QPROBE" --held "$wpid" --port "$P,$Q")
	diag "qprobe: $out"
	is "$(jfield "$out" held)" "$(established "$P")" \
		"$n connections: the count equals ss"
	is "$(jfield "$out" held)" "$n" "... and the connections opened"
	is "$(jfield "$out" processes)" 2 "both processes of the group were read"
	kill "$client" 2>/dev/null
	wait "$client" 2>/dev/null
	wait_until 10 count_is "$P" 0 || diag "ss still shows $(established "$P")"
done
is "$(established "$Q")" 5 "the outside process holds 5 on the other port"
out=$("$QPROBE" --held "$wpid" --port "$P,$Q")
is "$(jfield "$out" held)" 0 "clients gone: the ends the worker keeps (CLOSE-WAIT) are not established"

kill -TERM "$BATON_PID"
wait_baton_exit 10
done_testing
