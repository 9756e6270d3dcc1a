#!/bin/bash
# SPDX-License-Identifier: ISC
# A unix stream listener's queue through baton: --backlog=3, 6
# non-blocking connects: 4 are queued (backlog + 1), 2 get EAGAIN; --stats
# and /metrics show len 4, limit 3, and no drops (unix has no counter).
. "$(dirname "$0")/lib.sh"
baton_only_script "queue metrics are a baton extension"
. "$top_srcdir/tests/blackbox/lib-qstat.sh"
. "$top_srcdir/tests/blackbox/lib-metrics.sh"

S=$T/s.sock
M=$(free_port)
start_baton --path="$S" --backlog=3 --status-file="$T/st" \
	--metrics-listen=127.0.0.1:$M -- sleep 600
wait_until 10 mcode_is 127.0.0.1:$M /healthz 200 || bail_out "no metrics listener"
ino=$(unix_inode "$S")
out=$("$QPROBE" --kind unix --inode "$ino" --connect "$S" --count 6)
is "$(jfield "$out" connected)" 4 "4 connects succeed, 2 get EAGAIN"

out=$("$BATON" --stats --status-file="$T/st" --format=json)
is "$(jq_py "$out" 'j["listeners"][0]["queue"]["len"]')" 4 "--stats: len 4"
is "$(jq_py "$out" 'j["listeners"][0]["queue"]["limit"]')" 3 "--stats: limit 3"
is "$(jq_py "$out" 'j["listeners"][0]["queue"]["drops"]')" None "--stats: drops null"
text=$("$BATON" --stats --status-file="$T/st")
is "$text" "$S  queue 4/3  peak 4" "--stats text: no drops part for unix"

line="baton_listener_accept_queue_length{listener=\"$S\",proto=\"unix\"} 4"
check "GET /metrics shows the queue" wait_until 10 eval 'mbody 127.0.0.1:$M /metrics | grep -qF "$line"'
unlike "$(mbody 127.0.0.1:$M /metrics)" "baton_listener_drops_total" "no drops series for a unix listener"
done_testing
