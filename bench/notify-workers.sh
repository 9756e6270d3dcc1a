#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# bench/notify-workers.sh: the CPU baton spends matching notify datagrams
# to workers with --num-workers=64, when they come from a process of the
# workers' uid that is no worker (each one is matched against every
# worker by its ancestry in /proc). Prints per mille of a core at RATE
# datagrams per second, for baton and, when given, an older baton, one
# after the other.
#
# usage: bench/notify-workers.sh [SECONDS] [RATE] [WORKERS]  (default 10 550 64)
#
# environment:
#   BATON=PATH       baton binary (default ./baton, then the one beside bench/)
#   BATON_OLD=PATH   a second baton to compare (e.g. /work/baton-0.2.0)

set -u -o pipefail

SECS=${1:-10}
RATE=${2:-550}
WORKERS=${3:-64}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
bench_baton notify-workers
command -v python3 >/dev/null || { echo "notify-workers: needs python3" >&2; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/notify-workers.XXXXXX") || exit 1
PID=
cleanup() {
	[ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && sleep 1
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$W/send.py" <<'PY'
import socket, sys, time
addr, rate, secs = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
addr = "\0" + addr[1:] if addr.startswith("@") else addr
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
t0 = time.monotonic()
n = 0
while time.monotonic() - t0 < secs:
    s.sendto(b"STATUS=not a worker", addr)
    n += 1
    time.sleep(max(0, t0 + n / rate - time.monotonic()))
print(n)
PY

ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' /proc/"$1"/stat 2>/dev/null; }

run() { # NAME BINARY
	local port=$((20000 + RANDOM % 10000)) i addr= t0 t1 n
	# the workers never say READY=1: generation 1 stays starting, and
	# every datagram is matched against all of its workers
	"$2" --port=127.0.0.1:$port --ready=notify --num-workers="$WORKERS" \
		-- sleep 100000 >"$W/$1.log" 2>&1 </dev/null &
	PID=$!
	for i in $(seq 100); do
		for c in $(cat /proc/$PID/task/*/children 2>/dev/null); do
			addr=$(tr '\0' '\n' </proc/"$c"/environ 2>/dev/null |
				sed -n 's/^NOTIFY_SOCKET=//p')
			[ -n "$addr" ] && break 2
		done
		sleep 0.1
	done
	[ -n "$addr" ] || { echo "$1: no NOTIFY_SOCKET found" >&2; return; }
	sleep 1
	t0=$(ticks "$PID")
	n=$(python3 "$W/send.py" "$addr" "$RATE" "$SECS")
	t1=$(ticks "$PID")
	printf '%-10s %d datagrams in %d s from a non-worker, %d workers: %d per mille of a core\n' \
		"$1" "$n" "$SECS" "$WORKERS" \
		$(((t1 - t0) * 1000 / $(getconf CLK_TCK) / SECS))
	kill -TERM "$PID"
	wait "$PID" 2>/dev/null
	PID=
}

run baton "$BATON"
[ -n "${BATON_OLD:-}" ] && run baton-old "$BATON_OLD"
exit 0
