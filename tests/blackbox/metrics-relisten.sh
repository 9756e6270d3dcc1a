#!/bin/bash
# SPDX-License-Identifier: ISC
# A worker that calls listen() again on its inherited socket changes the
# backlog for every generation: baton sees it in its next sample, says so
# in the log, and the backlog gauge follows. A worker that keeps changing
# it gets one line per 10 s, not one per sample.
. "$(dirname "$0")/lib.sh"
baton_only_script "queue diagnosis is a baton extension"
. "$top_srcdir/tests/blackbox/lib-metrics.sh"

P=$(free_port)
M=$(free_port)
start_baton --port=127.0.0.1:$P --backlog=64 --metrics-listen=127.0.0.1:$M \
	--metrics-interval=0.2 -- python3 -c '
import socket, time
s = socket.socket(fileno=3)
time.sleep(1)
s.listen(7)
time.sleep(600)
'
check "the changed backlog is reported" wait_file_contains "$T/baton.err" \
	"the backlog of 127\.0\.0\.1:$P changed from 64 to 7: a worker called listen\(\) on it again" 10
like "$(mbody 127.0.0.1:$M /metrics)" \
	"baton_listener_backlog\{listener=\"127\.0\.0\.1:$P\",proto=\"tcp\"\} 7" "the gauge says 7"
n=$(grep -c "changed from" "$T/baton.err")
is "$n" 1 "said once"
kill -TERM "$BATON_PID"
wait_baton_exit 10 || bail_out "baton did not stop on TERM"

# a worker that changes it again and again, bounded: 20 changes, one
# every 0.3 s (the samples come every 0.1 s, so each change is seen)
: >"$T/baton.err"
P=$(free_port)
M=$(free_port)
start_baton --port=127.0.0.1:$P --backlog=64 --metrics-listen=127.0.0.1:$M \
	--metrics-interval=0.1 -- python3 -c '
import os, socket, sys, time
s = socket.socket(fileno=3)
for i in range(20):
    time.sleep(float(sys.argv[1]))
    s.listen(7 + i % 2)
open(sys.argv[2], "w").close()
time.sleep(600)
' "$(scaled 0.3)" "$T/toggled"
wait_file "$T/toggled" 30 || bail_out "the worker did not finish its listen() calls"
nap 0.3
n=$(grep -c "changed from" "$T/baton.err")
diag "20 backlog changes: $n log lines"
cmp_ok "$n" -le 2 "a worker changing the backlog 20 times in 6 s: at most 2 lines"
check "the rest is counted" wait_file_contains "$T/baton.err" \
	"backlog changes: [0-9]+ more suppressed" 15
done_testing
