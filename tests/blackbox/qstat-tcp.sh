#!/bin/bash
# SPDX-License-Identifier: ISC
# The accept queue of a baton TCP listener, read from outside by inode as
# any local user can (tests/qprobe, through qstat, as "baton --stats" will):
# with --backlog=4 and a worker that never accepts, 10 connects leave 5
# queued (backlog + 1), the other SYNs are dropped and counted, and ss(8)
# shows the same figures.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/blackbox/lib-qstat.sh"

P=$(free_port)
start_baton --port=127.0.0.1:$P --backlog=4 -- sleep 600
wait_until 10 port_listening "$P" || bail_out "supervisor did not come up"
ino=$(tcp_inode "$P")
[ -n "$ino" ] || bail_out "no inode for 127.0.0.1:$P in ss -ltne"
check "the inode read is baton's own listener" baton_has_socket "$ino"

out=$("$QPROBE" --kind tcp --inode "$ino" --connect 127.0.0.1:$P --count 10)
diag "qprobe: $out"
is "$(jfield "$out" connected)" 10 "10 non-blocking connects started"
is "$(jfield "$out" len)" 5 "accept queue length: backlog + 1"
is "$(jfield "$out" limit)" 4 "limit: the backlog"
cmp_ok "$(jfield "$out" drops)" -ge 5 "the 5 SYNs that found the queue full were dropped and counted"
is "$(jfield "$out" syn)" null "no SYN count unless asked for"

ssline=$(ss -Hltn "sport = :$P" 2>/dev/null)
diag "ss: $ssline"
is "$(awk '{ print $2 "/" $3; exit }' <<<"$ssline")" "5/4" "ss -ltn agrees: Recv-Q 5, Send-Q 4"

# the connections stay queued after their clients went away, until accepted
out=$("$QPROBE" --kind tcp --inode "$ino")
is "$(jfield "$out" len)" 5 "a second reading, without new connects, still sees 5"

kill -TERM "$BATON_PID"
wait_baton_exit 10
out=$("$QPROBE" --kind tcp --inode "$ino" 2>&1)
like "$out" "cannot read the queue of tcp inode $ino: No such file or directory" \
	"once baton is gone, its inode names no socket"
done_testing
