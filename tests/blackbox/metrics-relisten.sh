#!/bin/bash
# SPDX-License-Identifier: ISC
# A worker that calls listen() again on its inherited socket changes the
# backlog for every generation: baton sees it in its next sample, says so
# in the log, and the backlog gauge follows.
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
done_testing
