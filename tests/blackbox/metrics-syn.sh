#!/bin/bash
# SPDX-License-Identifier: ISC
# The SYN queue is opt-in (--metrics-syn-queue, a netlink dump per sample):
# with defer-accept, 5 silent clients are requests, not queued connections:
# they show as baton_listener_syn_queue_length 5 and accept_queue 0, and
# the drops their unanswered ACKs cause do not read as "backlog too small".
. "$(dirname "$0")/lib.sh"
baton_only_script "queue metrics are a baton extension"
. "$top_srcdir/tests/blackbox/lib-qstat.sh"
. "$top_srcdir/tests/blackbox/lib-metrics.sh"

P=$(free_port)
M=$(free_port)
start_baton --port=127.0.0.1:$P --sockopts=defer-accept=30 --backlog=16 \
	--status-file="$T/st" --metrics-listen=127.0.0.1:$M --metrics-syn-queue \
	--metrics-interval=0.2 -- sleep 600
wait_until 10 mcode_is 127.0.0.1:$M /healthz 200 || bail_out "no metrics listener"
ino=$(tcp_inode "$P")
like "$(mbody 127.0.0.1:$M /metrics)" \
	"baton_listener_syn_queue_length\{listener=\"127\.0\.0\.1:$P\",proto=\"tcp\"\} 0" \
	"asked for: the SYN family is there from the start"

"$QPROBE" --kind tcp --inode "$ino" --connect 127.0.0.1:$P --count 5 --hold 30 >"$T/qprobe.out" &
QP=$!
track_pid "$QP"
wait_file_contains "$T/qprobe.out" '"syn"' 10 || bail_out "qprobe printed nothing"
syn="baton_listener_syn_queue_length{listener=\"127.0.0.1:$P\",proto=\"tcp\"} 5"
check "5 silent clients in the SYN queue" wait_until 10 eval 'mbody 127.0.0.1:$M /metrics | grep -qF "$syn"'
like "$(mbody 127.0.0.1:$M /metrics)" \
	"baton_listener_accept_queue_length\{listener=\"127\.0\.0\.1:$P\",proto=\"tcp\"\} 0" \
	"... and not in the accept queue"
out=$("$BATON" --stats --status-file="$T/st" --format=json)
is "$(jq_py "$out" 'j["listeners"][0]["queue"]["syn"]')" 5 "--stats reads the SYN queue too"
like "$("$BATON" --stats --status-file="$T/st")" "  syn 5  wait [0-9]+ ms  idle [0-9]+  abandoned [0-9]+$" "--stats text: syn 5, then the accept queue's figures"
sleep 1 # a few samples over the drops of the unanswered ACKs
file_unlike "$T/baton.err" "dropped [0-9]+ (connections|handshake packets)" \
	"defer-accept drops alone are not called a short backlog"
kill "$QP"
done_testing
