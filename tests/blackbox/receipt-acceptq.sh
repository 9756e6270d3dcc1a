#!/bin/bash
# SPDX-License-Identifier: ISC
# What a restart's receipt reads from the kernel, against clients whose
# fate the test knows (through tests/qprobe, on loopback listeners nobody
# accepts on): the connections waiting in the accept queue, the ones that
# sent nothing, the longest wait (within the window the driver measured
# itself, data from a client not restarting it), every client that gave
# up while queued counted exactly once over many scans (10 runs of 10 of
# 10), nothing counted on a second listener scanned in the same dump; and
# the connections a process group holds at SIGKILL counted as cut, not
# those another process holds on the same listener.
. "$(dirname "$0")/lib.sh"
QPROBE=${QPROBE:-$top_builddir/tests/qprobe}
[ -x "$QPROBE" ] || bail_out "$QPROBE not built (make check builds it)"
baton_only_script "restart receipts"

jfield() { # jfield JSON NAME: a number from qprobe's one line
	sed -n "s/.*\"$2\":\([0-9-]*\).*/\1/p" <<<"$1"
}
# the kernel's clock tick at its coarsest (HZ 100): a wait is read in
# ticks, so it may exceed what the driver measured by one
TICK_MS=10

runs=10 k=10 talk=3
wait_ms=$(scaled_ms 200)
ok_abandoned=0 ok_wait=0 ok_idle=0 ok_other=0
for i in $(seq 1 $runs); do
	out=$(timeout 60 "$QPROBE" --acceptq $k --talk $talk --wait "$wait_ms")
	[ $i = 1 ] && diag "qprobe: $out"
	[ "$(jfield "$out" queued)" = $k ] && [ "$(jfield "$out" idle)" = $((k - talk)) ] &&
		ok_idle=$((ok_idle + 1))
	w=$(jfield "$out" wait_max_ms)
	lo=$(jfield "$out" wait_lo_ms)
	hi=$(jfield "$out" wait_hi_ms)
	if [ -n "$w" ] && [ "$w" -ge $((lo - TICK_MS)) ] && [ "$w" -le $((hi + TICK_MS)) ]; then
		ok_wait=$((ok_wait + 1))
	else
		diag "run $i: wait $w ms outside [$lo - $TICK_MS, $hi + $TICK_MS]"
	fi
	[ "$(jfield "$out" abandoned)" = $k ] && ok_abandoned=$((ok_abandoned + 1)) ||
		diag "run $i: $out"
	[ "$(jfield "$out" other_queued)" = 2 ] && [ "$(jfield "$out" other_abandoned)" = 0 ] &&
		ok_other=$((ok_other + 1))
done
is $ok_idle $runs "$k queued, $((k - talk)) of them idle: $runs of $runs runs"
is $ok_wait $runs "the longest wait within the measured window (clients that sent data included): $runs of $runs"
is $ok_abandoned $runs "$k clients that gave up counted exactly $k times over several scans: $runs of $runs"
is $ok_other $runs "the second listener of the same dump: its 2 queued, none abandoned: $runs of $runs"

# more clients than one netlink answer holds, and the first scan right away
out=$(timeout 60 "$QPROBE" --acceptq 300 --talk 0 --wait 0)
is "$(jfield "$out" abandoned)" 300 "300 clients that gave up: 300 abandoned"
is "$(jfield "$out" idle)" 300 "... 300 idle before"

ok_cut=0
for k in 2 7 40; do
	out=$(timeout 60 "$QPROBE" --cut $k)
	diag "qprobe: $out"
	[ "$(jfield "$out" cut)" = $k ] && ok_cut=$((ok_cut + 1))
	like "$out" "\"line\":\"restart 1 \\(generation 1 → 2, hup\\): [0-9.]+ s, $k connections lost \\(0 dropped, 0 abandoned, $k cut\\); queue peak [0-9]+, longest wait [0-9]+ ms\"" \
		"the receipt's line says $k cut"
done
is $ok_cut 3 "the connections a process group holds at SIGKILL are cut, the one another process holds is not"
done_testing
