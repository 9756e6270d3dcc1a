#!/bin/bash
# SPDX-License-Identifier: ISC
# --ready=notify --num-workers=64: a datagram from a process that is no
# worker is matched against every worker by its ancestry in /proc. baton
# reads the sender's ancestors once, not once per worker: 0.2.0's cache
# of 32 verdicts made every datagram walk /proc for each of the 64
# workers. Counted, not timed: the read(2) calls baton makes while it
# handles 200 datagrams (/proc/PID/io syscr; recvmsg is not one).
. "$(dirname "$0")/lib.sh"
baton_only_script "--num-workers is a baton extension"
command -v python3 >/dev/null || skip_all "python3 not found"
[ -r /proc/self/io ] || skip_all "no /proc/PID/io"

syscr() { sed -n 's/^syscr: //p' "/proc/$BATON_PID/io"; }
workers_up() { [ "$(wc -w </proc/"$BATON_PID"/task/"$BATON_PID"/children)" -ge 64 ]; }

start_baton --port=127.0.0.1:"$(free_port)" --ready=notify --num-workers=64 -- sleep 600
wait_until 20 workers_up || bail_out "64 workers did not start"
w=$(awk '{ print $1 }' /proc/"$BATON_PID"/task/"$BATON_PID"/children)
addr=$(tr '\0' '\n' <"/proc/$w/environ" | sed -n 's/^NOTIFY_SOCKET=//p')
[ -n "$addr" ] || bail_out "no NOTIFY_SOCKET in worker $w"
# let the start-up settle: nothing else reads while the workers wait
nap 1

r0=$(syscr)
# 200 datagrams, a few ms apart so that each one is a batch of its own
python3 - "$addr" <<'PY'
import socket, sys, time
a = sys.argv[1]
a = "\0" + a[1:] if a.startswith("@") else a
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for _ in range(200):
    s.sendto(b"STATUS=not a worker", a)
    time.sleep(0.003)
PY
# handled once the reads stop growing
last=-1
wait_until 10 eval '[ "$(syscr)" = "$last" ] || { last=$(syscr); sleep 0.2; false; }'
reads=$(($(syscr) - r0))
diag "baton made $reads read(2) calls for 200 datagrams from a non-worker with 64 workers"
cmp_ok "$reads" -lt $((200 * 32)) "fewer than 32 reads per datagram (not one /proc walk per worker)"
check "baton still runs" pid_alive "$BATON_PID"
done_testing
