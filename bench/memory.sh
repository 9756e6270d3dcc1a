#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# bench/memory.sh: the supervisor's memory with 1 and with N listeners, metrics on; baton beside start_server.
#
# usage: bench/memory.sh [--count N] [--kind port|path] [--scrapes N]
#
# Starts each supervisor with one listener, then with N (default 1,000;
# --port on free 127.0.0.1 ports, or --path sockets in a scratch
# directory), a worker that only holds them (sleep), and, for baton,
# --metrics-interval=1 --metrics-file and --metrics-listen. After 4 s (four
# samples) it scrapes /metrics --scrapes times (default 20), waits 2 s and
# reads the supervisor's /proc/PID/smaps_rollup:
#   PSS   proportional set size: private pages whole, shared ones divided
#         by the number of processes mapping them
#   anon  PSS of anonymous memory (heap, mapped blocks, stack, data)
#   USS   private pages only (Private_Clean + Private_Dirty)
# and prints the increment from 1 to N listeners: the memory the listeners
# cost. The PSS of the shared libraries (libc above all) depends on how many
# other processes map them, so the whole PSS moves from run to run and from
# machine to machine; the reference line gives what sleep(1) costs here.
#
# Environment: BATON (default ./baton, then the one beside bench/),
# START_SERVER (default: the one on PATH; "none" skips it).

set -u -o pipefail
set +m

HERE=$(cd "$(dirname "$0")" && pwd)
PROG=bench/memory.sh
COUNT=1000 KIND=port SCRAPES=20
while [ $# -gt 0 ]; do
	case $1 in
	--count) COUNT=${2:-}; shift ;;
	--count=*) COUNT=${1#*=} ;;
	--kind) KIND=${2:-}; shift ;;
	--kind=*) KIND=${1#*=} ;;
	--scrapes) SCRAPES=${2:-}; shift ;;
	--scrapes=*) SCRAPES=${1#*=} ;;
	-h | --help) sed -n '3,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "$PROG: unknown option: $1" >&2; exit 1 ;;
	esac
	shift
done
case $COUNT in '' | *[!0-9]*) echo "$PROG: --count needs a number" >&2; exit 1 ;; esac
case $SCRAPES in '' | *[!0-9]*) echo "$PROG: --scrapes needs a number" >&2; exit 1 ;; esac
[ "$COUNT" -ge 2 ] && [ "$COUNT" -le 3000 ] || { echo "$PROG: --count: 2..3000" >&2; exit 1; }
[ "$SCRAPES" -le 1000 ] || { echo "$PROG: --scrapes: 0..1000" >&2; exit 1; }
case $KIND in path | port) ;; *) echo "$PROG: --kind: path or port" >&2; exit 1 ;; esac
command -v python3 >/dev/null || { echo "$PROG: needs python3 (free ports)" >&2; exit 1; }
command -v curl >/dev/null || { echo "$PROG: needs curl (scrapes)" >&2; exit 1; }

ulimit -n 4096 || { echo "$PROG: cannot raise ulimit -n to 4096" >&2; exit 1; }

BATON=${BATON:-}
if [ -z "$BATON" ]; then
	if [ -x ./baton ]; then BATON=$PWD/baton; else BATON=$HERE/../baton; fi
fi
[ -x "$BATON" ] || { echo "$PROG: no baton at $BATON (set BATON)" >&2; exit 1; }
SS=${START_SERVER:-$(command -v start_server || true)}
[ "$SS" = none ] && SS=

W=$(mktemp -d /tmp/baton-memory.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$W"
}
trap cleanup EXIT

# N listener options of the kind asked for
listeners() {
	if [ "$KIND" = path ]; then
		mkdir -p "$W/s$1"
		seq 1 "$1" | sed "s|^|--path=$W/s$1/|"
	else
		python3 -c '
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
for s in ss: print("--port=127.0.0.1:%d" % s.getsockname()[1])
' "$1"
	fi
}

freeport() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# "PSS anon USS" of pid, in kB
mem() {
	awk '/^Pss:/ { p = $2 } /^Pss_Anon:/ { a = $2 }
	     /^Private_(Clean|Dirty):/ { u += $2 }
	     END { print p + 0, a + 0, u + 0 }' "/proc/$1/smaps_rollup"
}

# run NAME N: start, settle, scrape, print "PSS anon USS"
run() {
	local name=$1 n=$2 port pid i args
	mapfile -t args < <(listeners "$n")
	if [ "$name" = baton ]; then
		port=$(freeport)
		setsid "$BATON" "${args[@]}" --metrics-interval=1 \
			--metrics-file="$W/m$n.prom" \
			--metrics-listen=127.0.0.1:"$port" -- sleep 600 \
			>"$W/$name-$n.log" 2>&1 &
	else
		setsid "$SS" "${args[@]}" -- sleep 600 >"$W/$name-$n.log" 2>&1 &
	fi
	pid=$!
	PIDS+=("$pid")
	sleep 4
	if [ "$name" = baton ]; then
		for ((i = 0; i < SCRAPES; i++)); do
			curl -s -m 5 -o /dev/null "http://127.0.0.1:$port/metrics"
		done
	fi
	sleep 2
	kill -0 "$pid" 2>/dev/null || { echo "n/a n/a n/a"; return; }
	mem "$pid"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

sleep 600 &
PIDS+=("$!")
sleep 1
read -r ref_pss ref_anon ref_uss < <(mem "$!")

echo "supervisor memory, $COUNT --$KIND listeners vs 1 (kB, /proc/PID/smaps_rollup)"
printf '%-40s %8s %8s %8s\n' "" PSS anon USS
for name in baton start_server; do
	[ "$name" = start_server ] && [ -z "$SS" ] && continue
	read -r p1 a1 u1 < <(run "$name" 1)
	read -r pn an un < <(run "$name" "$COUNT")
	what=$name
	[ "$name" = baton ] && what="baton, metrics on, $SCRAPES scrapes"
	printf '%-40s %8s %8s %8s\n' "$what, 1 listener" "$p1" "$a1" "$u1"
	printf '%-40s %8s %8s %8s\n' "$what, $COUNT listeners" "$pn" "$an" "$un"
	if [ "$pn" != n/a ] && [ "$p1" != n/a ]; then
		printf '%-40s %8s %8s %8s\n' "  the $COUNT listeners cost" \
			$((pn - p1)) $((an - a1)) $((un - u1))
	fi
done
printf '%-40s %8s %8s %8s\n' "reference: sleep(1)" "$ref_pss" "$ref_anon" "$ref_uss"
echo "target (issue 12): what $COUNT listeners cost baton, metrics on, under 512 kB of PSS"
