#!/bin/bash
# SPDX-License-Identifier: ISC
# The SYN queue, read on request (qprobe --syn: an inet_diag dump of the
# listener's SYN_RECV requests): with --sockopts=defer-accept=30 the bare
# final ACK of a client that sends nothing is dropped, so 5 silent clients
# stay requests: they show in "syn", not in the accept queue's "len".
. "$(dirname "$0")/lib.sh"
baton_only_script "--sockopts=defer-accept is a baton extension"
. "$top_srcdir/tests/blackbox/lib-qstat.sh"

P=$(free_port)
start_baton --port=127.0.0.1:$P --sockopts=defer-accept=30 --backlog=16 -- sleep 600
wait_until 10 port_listening "$P" || bail_out "supervisor did not come up"
ino=$(tcp_inode "$P")
[ -n "$ino" ] || bail_out "no inode for 127.0.0.1:$P in ss -ltne"

out=$("$QPROBE" --kind tcp --inode "$ino" --syn)
is "$(jfield "$out" syn)" 0 "no client yet: syn 0"

# the clients live while qprobe holds them: ss sees them too
"$QPROBE" --kind tcp --inode "$ino" --syn --connect 127.0.0.1:$P --count 5 \
	--hold 30 >"$T/qprobe.out" &
QP=$!
track_pid "$QP"
wait_file_contains "$T/qprobe.out" '"syn"' 10 || bail_out "qprobe printed nothing"
out=$(cat "$T/qprobe.out")
diag "qprobe: $out"
is "$(jfield "$out" syn)" 5 "5 silent clients are in the SYN queue"
is "$(jfield "$out" len)" 0 "... and not in the accept queue"
is "$(jfield "$out" limit)" 16 "limit: the backlog"
n=$(ss -Htn state syn-recv "sport = :$P" 2>/dev/null | wc -l)
is "$n" 5 "ss agrees: 5 sockets in SYN-RECV on the port"
kill "$QP"
done_testing
