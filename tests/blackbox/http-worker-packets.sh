#!/bin/bash
# SPDX-License-Identifier: ISC
# examples/c/http-worker writes its headers and body corked (baton_cork):
# each answer leaves in one data segment, not two. Counted with nstat's
# TcpExtTCPOrigDataSent (segments that carry new sequence space, SYNs
# included) in a network namespace of the test's own, where only these
# exchanges send anything: per HTTP/1.0 exchange the SYN, the SYN-ACK, the
# request and the answer (5 when the answer is written in two segments).
if [ -z "${_BATON_IN_NETNS:-}" ] && unshare -n true 2>/dev/null; then
	_BATON_IN_NETNS=1 exec unshare -n bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
baton_only_script "the C example is baton's"
HW=${HTTP_WORKER:-$top_builddir/examples/c/http-worker}
[ -x "$HW" ] || skip_all "$HW is not built"
[ -n "${_BATON_IN_NETNS:-}" ] ||
	skip_all "cannot make a network namespace (needs root and unshare)"
command -v nstat >/dev/null || skip_all "nstat (iproute2) not installed"
ip link set lo up || skip_all "cannot bring lo up in the namespace"
plan 3

serve_baton --port=127.0.0.1:8080 -- "$HW" -w 1
data_segs() { nstat -saz TcpExtTCPOrigDataSent | awk '$1 == "TcpExtTCPOrigDataSent" { print $2 }'; }
a=$(data_segs)
ok=0
for i in 1 2 3 4 5; do
	body=$(curl -s --http1.0 -m "$(scaled 5)" http://127.0.0.1:8080/) &&
		[[ $body == gen=1* ]] && ok=$((ok + 1))
done
b=$(data_segs)
is "$ok" 5 "five answers from the example worker"
diag "new-data segments for 5 exchanges: $((b - a))"
is "$((b - a))" 20 "each exchange is SYN, SYN-ACK, the request and the whole answer in one segment"

# a slow answer still comes whole (quick-ack is set before it)
like "$(curl -s --http1.0 -m "$(scaled 5)" http://127.0.0.1:8080/sleep/50)" "^gen=1 " \
	"GET /sleep/MS answers"
done_testing
