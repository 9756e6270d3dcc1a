#!/bin/bash
# SPDX-License-Identifier: ISC
# The accept queue of a baton unix --path listener, read from outside by
# inode (tests/qprobe, through qstat's sock_diag lookup): with --backlog=3
# and a worker that never accepts, of 6 non-blocking connects 4 succeed and
# 2 get EAGAIN; length 4, limit 3, and no drop counter (unix has none).
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/blackbox/lib-qstat.sh"

S=$T/q.sock
start_baton --path="$S" --backlog=3 -- sleep 600
wait_until 10 test -S "$S" || bail_out "supervisor did not come up"
wait_until 10 test -n "$(unix_inode "$S")" || bail_out "no inode for $S in ss -lx"
ino=$(unix_inode "$S")
check "the inode read is baton's own listener" baton_has_socket "$ino"

out=$("$QPROBE" --kind unix --inode "$ino")
is "$(jfield "$out" len)/$(jfield "$out" limit)" 0/3 "before any connect: queue 0/3"

out=$("$QPROBE" --kind unix --inode "$ino" --connect "$S" --count 6)
diag "qprobe: $out"
is "$(jfield "$out" connected)" 4 "4 connects succeed (backlog + 1)"
is "$(jfield "$out" refused)" 2 "2 get EAGAIN"
is "$(jfield "$out" len)" 4 "accept queue length 4"
is "$(jfield "$out" limit)" 3 "limit: the backlog, 3"
is "$(jfield "$out" drops)" null "no drop counter for a unix listener"

ssline=$(ss -Hlxn src "$S" 2>/dev/null)
diag "ss: $ssline"
# the clients are gone, but what they queued stays until accepted
is "$(awk '{ print $3 "/" $4; exit }' <<<"$ssline")" "4/3" "ss -lx agrees: Recv-Q 4, Send-Q 3"
done_testing
