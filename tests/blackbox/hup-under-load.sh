#!/bin/bash
# SPDX-License-Identifier: ISC
# The point of it all: hot restarts under load lose no connection. Five
# HUPs while clients connect without pause on TCP and on a unix socket.
. "$(dirname "$0")/lib.sh"

P=$(free_port)
serve_baton --port=127.0.0.1:$P --path="$T/s.sock" --status-file="$T/status" -- "${WORKER_CMD[@]}"
wait_status "$T/status" 1 5

# bounded: 25 s and 60000 requests at most; stopped by $T/stop once done
"$LOADGEN" 127.0.0.1 $P --seconds "$(scaled 25)" --max-requests 60000 --concurrency 4 --pause-ms 2 \
	--timeout-ms "$(scaled_ms 5000)" --stop-file "$T/stop" --verbose >"$T/tcp.out" 2>"$T/tcp.err" &
lg1=$!
"$LOADGEN" x x --unix "$T/s.sock" --seconds "$(scaled 25)" --max-requests 20000 --concurrency 2 --pause-ms 5 \
	--timeout-ms "$(scaled_ms 5000)" --stop-file "$T/stop" --verbose >"$T/unix.out" 2>"$T/unix.err" &
lg2=$!
nap 0.5
for g in 2 3 4 5 6; do
	kill -HUP "$BATON_PID"
	wait_status "$T/status" $g 8 || diag "generation $g did not take over within 8 s"
done
nap 1 # generation 6 alone for a while
touch "$T/stop"
wait_until 10 pid_gone $lg1
wait_until 10 pid_gone $lg2
wait $lg1
s1=$?
wait $lg2
s2=$?
tcp=$(cat "$T/tcp.out")
unix=$(cat "$T/unix.out")
diag "tcp:  $tcp" "unix: $unix"
is "$s1" 0 "TCP load: no failed request"
like "$tcp" " failed=0 refused=0 reset=0 timeout=0 " "TCP: none refused, reset or timed out"
like "$tcp" "max_gen=6 last_gen=6$" "TCP: answers came from generation 6 in the end"
like "$tcp" "min_gen=1 " "TCP: and from generation 1 at first"
is "$s2" 0 "unix load: no failed request"
like "$unix" " failed=0 refused=0 reset=0 timeout=0 " "unix: none refused, reset or timed out"
like "$unix" "max_gen=6 last_gen=6$" "unix: answers came from generation 6 in the end"
n=$(echo "$tcp" | sed 's/.*requests=\([0-9]*\).*/\1/')
cmp_ok "$n" -ge 1000 "the load was real ($n TCP requests)"
is "$(status_gens "$T/status")" 6 "only generation 6 is left"
[ -s "$T/tcp.err" ] && diag "$(head -n 20 "$T/tcp.err")"
done_testing
