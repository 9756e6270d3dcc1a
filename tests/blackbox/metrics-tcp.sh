#!/bin/bash
# SPDX-License-Identifier: ISC
# The accept queue of a TCP listener made visible: --backlog=4,
# a worker that never accepts, 10 non-blocking connects. --stats (run as a
# client, by inode), the .prom file and GET /metrics all show 5 queued and
# the drops; ss(8) agrees; the log says nothing accepts and that the
# backlog is too small; the metrics socket is not the workers'.
. "$(dirname "$0")/lib.sh"
baton_only_script "queue metrics are a baton extension"
. "$top_srcdir/tests/blackbox/lib-qstat.sh"
. "$top_srcdir/tests/blackbox/lib-metrics.sh"

P=$(free_port)
M=$(free_port)
start_baton --port=127.0.0.1:$P --backlog=4 --status-file="$T/st" \
	--metrics-file="$T/baton.prom" --metrics-listen=127.0.0.1:$M \
	--accept-stall=1 -- sleep 600
wait_until 10 port_listening "$P" || bail_out "supervisor did not come up"
wait_until 10 mcode_is 127.0.0.1:$M /healthz 200 || bail_out "no metrics listener"
ino=$(tcp_inode "$P")

"$QPROBE" --kind tcp --inode "$ino" --connect 127.0.0.1:$P --count 10 >/dev/null

out=$("$BATON" --stats --status-file="$T/st" --format=json)
is "$?" 0 "--stats --format=json exits 0"
q=$(jq_py "$out" 'j["listeners"][0]["queue"]')
diag "queue: $q"
is "$(jq_py "$out" 'j["listeners"][0]["queue"]["len"]')" 5 "--stats: len 5 (backlog + 1)"
is "$(jq_py "$out" 'j["listeners"][0]["queue"]["limit"]')" 4 "--stats: limit 4"
cmp_ok "$(jq_py "$out" 'j["listeners"][0]["queue"]["drops"]')" -ge 5 "--stats: at least 5 drops"
is "$(jq_py "$out" 'j["listeners"][0]["inode"]')" "$ino" "--stats: the inode ss shows"
is "$(jq_py "$out" 'j["listeners"][0]["queue"]["syn"]')" None "--stats: no SYN count unless asked for"
ssline=$(ss -Hltn "sport = :$P" 2>/dev/null)
is "$(awk '{ print $2 "/" $3; exit }' <<<"$ssline")" "5/4" "ss -ltn agrees: Recv-Q 5, Send-Q 4"

text=$("$BATON" --stats --status-file="$T/st")
like "$text" "^127\.0\.0\.1:$P  queue 5/4  peak 5  drops [0-9]+  wait [0-9]+ ms  idle [0-9]+  abandoned [0-9]+$" "--stats text mirrors ss, and the accept queue's wait, idle, abandoned"
prom=$("$BATON" --stats --status-file="$T/st" --format=prom)
like "$prom" "baton_listener_accept_queue_length\{listener=\"127\.0\.0\.1:$P\",proto=\"tcp\"\} 5" \
	"--stats --format=prom"

line="baton_listener_accept_queue_length{listener=\"127.0.0.1:$P\",proto=\"tcp\"} 5"
check "the .prom file shows the queue" wait_until 10 grep -qF "$line" "$T/baton.prom"
check "GET /metrics shows the queue" wait_until 10 eval 'mbody 127.0.0.1:$M /metrics | grep -qF "$line"'
metrics=$(mbody 127.0.0.1:$M /metrics)
like "$metrics" "baton_listener_backlog\{listener=\"127\.0\.0\.1:$P\",proto=\"tcp\"\} 4" "backlog gauge"
like "$metrics" "# TYPE baton_listener_drops_total counter" "drops are a counter"
like "$metrics" "baton_workers\{state=\"serving\"\} 1" "one serving worker"
like "$metrics" "baton_generation 1" "generation 1 serves"
unlike "$metrics" "syn_queue" "no SYN family unless --metrics-syn-queue"
ctype=$(curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$M/metrics")
is "$ctype" "text/plain; version=0.0.4; charset=utf-8" "text format 0.0.4"

check "the stall is reported" wait_file_contains "$T/baton.err" \
	"nothing has accepted on 127\.0\.0\.1:$P for 1 s \(queue 5/4, [0-9]+ dropped\)" 10
check "the drops are reported with the cure" wait_file_contains "$T/baton.err" \
	"127\.0\.0\.1:$P dropped [0-9]+ handshake packets \(SYN or final ACK\) in the last minute \(queue full at 5/4\); raise --backlog \(net\.core\.somaxconn caps it at [0-9]+\)" 10
n=$(grep -c "nothing has accepted on" "$T/baton.err")
is "$n" 1 "the stall is said once"

# the metrics socket is baton's own: neither in the environment nor an fd
wpid=$(children "$BATON_PID" | head -n 1)
env=$(tr '\0' '\n' <"/proc/$wpid/environ" | grep '^SERVER_STARTER_PORT=')
is "$env" "SERVER_STARTER_PORT=127.0.0.1:$P=3" "SERVER_STARTER_PORT has the listener only"
mino=$(ss -Hltne "sport = :$M" 2>/dev/null | grep -o 'ino:[0-9]*' | head -n 1 | cut -d: -f2)
has=no
for f in /proc/"$wpid"/fd/*; do
	[ "$(readlink "$f")" = "socket:[$mino]" ] && has=yes
done
is "$has" no "the worker does not have the metrics socket"

kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "clean stop"
check_not "the .prom file is removed at a clean stop" test -e "$T/baton.prom"
"$BATON" --stats --status-file="$T/st" >/dev/null 2>"$T/stats.err"
is "$?" 4 "--stats when baton is not running: exit 4"
file_like "$T/stats.err" "no supervisor is running" "... and says so"
done_testing
