#!/bin/bash
# SPDX-License-Identifier: ISC
# --stop-delay=auto[:MAX]: after SIGTERM a client keeps opening new
# connections for 4 s (a load balancer while the endpoint's removal
# propagates). With auto none of them fails: baton keeps serving until
# none has arrived for 2 s, and says how long it waited and why. A fixed
# --stop-delay=2 stops while they still arrive, and some fail.
#
# Arrivals are the network namespace's passive opens: run in a namespace
# of our own when unshare(1) allows it, so that other programs' traffic
# does not make baton wait its MAX (it would still pass, slower).
if [ -z "${DRAIN_NETNS:-}" ] && command -v unshare >/dev/null 2>&1 &&
	command -v ip >/dev/null 2>&1 &&
	unshare -rn true 2>/dev/null; then
	export DRAIN_NETNS=own
	exec unshare -rn sh -c 'ip link set lo up && exec "$0" "$@"' "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
baton_only_script "--stop-delay=auto"
command -v python3 >/dev/null 2>&1 || skip_all "no python3"
[ -r /proc/net/snmp ] || skip_all "no /proc/net/snmp"
diag "network namespace: ${DRAIN_NETNS:-shared} (DRAIN_NETNS=shared keeps the host's)"
worker_cmd
ARRIVALS=$top_srcdir/tests/drain-arrivals.py
LATE=$(scaled 4)

# one stop under the late-arrival client: DELAY is the --stop-delay
stop_under_load() {
	local delay=$1 tag=$2 P S
	P=$(free_port)
	S=$T/status-$tag
	BATON_ERR=$T/baton-$tag.err start_baton --port=127.0.0.1:$P \
		--status-file="$S" --interval=0 --stop-delay="$delay" \
		-- "${WORKER_CMD[@]}"
	wait_status "$S" 1 10 || bail_out "$tag: generation 1 never served"
	wait_http "127.0.0.1:$P" 10 || bail_out "$tag: no answer"
	timeout 120 python3 "$ARRIVALS" "$P" "$LATE" >"$T/client-$tag.out" 2>&1 &
	CPID=$!
	nap 0.2
	T0=$(now_ms)
	kill -TERM "$BATON_PID"
	wait "$CPID"
	wait_baton_exit 60 || bail_out "$tag: baton did not exit"
	T1=$(now_ms)
	diag "$tag: $(cat "$T/client-$tag.out"); baton exited $((T1 - T0)) ms after TERM"
	grep -E "stop-delay|stopping" "$T/baton-$tag.err" | while read -r l; do diag "$l"; done
}
failed_of() { sed -n 's/^ok [0-9]* failed \([0-9]*\)$/\1/p' "$T/client-$1.out"; }

stop_under_load auto:12 auto
is "$(failed_of auto)" 0 "auto: 0 of the late connections failed"
like "$(cat "$T/client-auto.out")" "^ok [1-9][0-9]* failed" "auto: the late connections were served"
check "auto: the log says how long it waited and why" file_contains "$T/baton-auto.err" \
	"--stop-delay=auto: waited [0-9.]+s(; no connection arrived for [0-9.]+s|, the most it waits)"
if [ "${DRAIN_NETNS:-}" = own ]; then
	check "auto, in a namespace of its own: it stopped because arrivals stopped" \
		file_contains "$T/baton-auto.err" "no connection arrived for [0-9.]+s"
fi

stop_under_load 2 fixed
cmp_ok "$(failed_of fixed)" -gt 0 "fixed --stop-delay=2: some late connections failed"
done_testing
