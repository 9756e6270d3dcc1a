#!/bin/bash
# SPDX-License-Identifier: ISC
# bench/packets.sh: TCP segments per HTTP exchange under baton's listener
# options and a worker's per-connection options, counted with nstat
# (TcpInSegs, TcpOutSegs) in a private network namespace, latency beside.
#
#   bench/packets.sh [N]      N exchanges per row (default 200); needs root
#                             (unshare -n), cc, nstat (iproute2)
#
# Every row runs bench/packets.c's server under baton on 127.0.0.1 and its
# client in the same namespace, where nothing else sends a segment: the
# counters move only for the exchanges measured. On loopback each segment
# is counted once out and once in, so TcpOutSegs is the number of packets on
# the wire, both directions. Rows:
#   default            no option
#   defer-accept       --defer-accept (baton)
#   nodelay            --nodelay (baton; inherited by accepted sockets)
#   cork (worker)      the worker corks around its two writes (baton_cork)
#   quickack (worker)  the worker sets quick-ack after each read
#   --cork             baton's --cork on the listener, the worker uncorks
#                      at the end of each response (the same as cork, set
#                      once)
#   classic best       --defer-accept, cork and quick-ack together
#   defer+cork         --defer-accept and a corking worker
# The response is written in two pieces (headers, then body), as most
# servers do.
set -eu
N=${1:-200}
here=$(cd "$(dirname "$0")" && pwd)
BATON=${BATON:-$here/../baton}
if [ -z "${_PACKETS_IN_NETNS:-}" ]; then
	_PACKETS_IN_NETNS=1 exec unshare -n bash "$0" "$@"
fi
ip link set lo up
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
${CC:-cc} -O2 -Wall -o "$scratch/packets" "$here/packets.c"
P=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null || echo 18080)

segs() { nstat -saz TcpOutSegs | awk '$1 == "TcpOutSegs" { print $2 }'; }
insegs() { nstat -saz TcpInSegs | awk '$1 == "TcpInSegs" { print $2 }'; }

# run NAME "BATON-OPTS" "WORKER-OPTS"
run() {
	local name=$1 bopts=$2 wopts=$3 pid i a b c d lat_c lat_k
	# shellcheck disable=SC2086 # option words on purpose
	"$BATON" --port=127.0.0.1:$P $bopts -- "$scratch/packets" serve $wopts \
		>"$scratch/baton.log" 2>&1 &
	pid=$!
	for i in $(seq 100); do
		"$scratch/packets" client $P 1 close >/dev/null 2>&1 && break
		sleep 0.05
	done
	sleep 0.2
	a=$(segs)
	c=$(insegs)
	lat_c=$(timeout 60 "$scratch/packets" client $P "$N" close)
	sleep 0.3
	b=$(segs)
	d=$(insegs)
	close_out=$(((b - a) * 100 / N))
	close_in=$(((d - c) * 100 / N))
	a=$(segs)
	lat_k=$(timeout 60 "$scratch/packets" client $P "$N" keepalive)
	sleep 0.3
	b=$(segs)
	# per request: the connection's set-up and end spread over N
	ka_out=$(((b - a) * 100 / N))
	kill -TERM $pid
	wait $pid 2>/dev/null || true
	printf '%-18s %7d.%02d %8s %8s %9d.%02d %8s %8s\n' "$name" \
		$((close_out / 100)) $((close_out % 100)) ${lat_c% *} ${lat_c#* } \
		$((ka_out / 100)) $((ka_out % 100)) ${lat_k% *} ${lat_k#* }
	[ "$close_out" = "$close_in" ] || echo "  (in/out differ: $close_in/$close_out)"
}

echo "# $(uname -sr), N=$N exchanges per row, 127.0.0.1 in a private netns"
printf '%-18s %10s %8s %8s %12s %8s %8s\n' "" "HTTP/1.0" "mean" "median" "keep-alive" "mean" "median"
printf '%-18s %10s %8s %8s %12s %8s %8s\n' "setup" "segs/exch" "us" "us" "segs/req" "us" "us"
run "default" "" ""
run "defer-accept" "--defer-accept" ""
run "nodelay" "--nodelay" ""
run "cork (worker)" "" "-c"
run "quickack (worker)" "" "-q"
run "--cork" "--cork" "-c"
run "classic best" "--defer-accept" "-c -q"
run "defer+cork" "--defer-accept" "-c"
run "defer+nodelay" "--defer-accept --nodelay" ""
