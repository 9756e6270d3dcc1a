#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# bench/conncount-cost.sh: what counting a generation's connections costs baton, with N established connections (default 10,000).
#
# usage: bench/conncount-cost.sh [--connections N] [--seconds S]
#
# Starts baton --verbose with tests/drain-hold.py (one process that holds
# every connection it accepts) on a free 127.0.0.1 port, opens N client
# connections (tests/drain-client.py), then:
#   rest      S seconds (default 20) at rest: baton samples every
#             --metrics-interval stretched to keep counting under 1% of a
#             CPU, so the gap between samples is reported too
#   retiring  a HUP: generation 1 retires with its N connections, and is
#             counted every second for S seconds
# Per sample, baton's own figure (its debug line: CPU time of the sample,
# sockets mapped, processes of the workers' groups read), and baton's whole
# CPU time over each phase from /proc/PID/stat. Loopback only, every wait
# bounded.
set -u -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
BATON=${BATON:-$TOP/baton}
N=10000
SECS=20
while [ $# -gt 0 ]; do
	case $1 in
	--connections) N=$2; shift 2 ;;
	--seconds) SECS=$2; shift 2 ;;
	*) echo "usage: $0 [--connections N] [--seconds S]" >&2; exit 2 ;;
	esac
done
ulimit -n $((N + 1000)) || { echo "cannot raise the fd limit" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/conncount-cost.XXXXXX")
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() {
	exec 7>&- 2>/dev/null
	[ -n "${BPID:-}" ] && kill -TERM "$BPID" 2>/dev/null
	[ -n "${CPID:-}" ] && kill "$CPID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

timeout $((SECS * 3 + 120)) "$BATON" --verbose --port=127.0.0.1:$PORT --status-file="$T/st" \
	--interval=0 -- python3 "$TOP/tests/drain-hold.py" 2>"$T/err" &
BPID=$!
for _ in $(seq 100); do [ -s "$T/st" ] && break; sleep 0.1; done
mkfifo "$T/in"
timeout $((SECS * 3 + 120)) python3 "$TOP/tests/drain-client.py" "$PORT" "$N" <"$T/in" >"$T/out" &
CPID=$!
exec 7>"$T/in"
for _ in $(seq 600); do grep -qx "open $N" "$T/out" 2>/dev/null && break; sleep 0.1; done
grep -qx "open $N" "$T/out" || { echo "could not open $N connections" >&2; exit 1; }
BATON_PID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$T/st.json")
sleep 3 # let a sample see them all

phase() { # phase NAME: S seconds, then the samples of the phase
	local from to c0 c1
	from=$(wc -l <"$T/err")
	c0=$(ticks "$BATON_PID")
	sleep "$SECS"
	c1=$(ticks "$BATON_PID")
	to=$(wc -l <"$T/err")
	sed -n "$((from + 1)),${to}p" "$T/err" | grep "connections counted" |
		sed 's/.*counted ([a-z]*): \([0-9]*\) sockets of \([0-9]*\) processes.*, \([0-9.]*\) ms of CPU/\1 \2 \3/' >"$T/$1"
	sort -k3 -g "$T/$1" | awk -v name="$1" -v secs="$SECS" -v cpu="$(((c1 - c0) * 1000 / HZ))" '
		{ n++; ms[n] = $3; sock = $1; procs = $2 }
		END {
			if (n == 0) { printf "%-9s no sample\n", name; exit }
			printf "%-9s %6d sockets  %2d procs  %3d samples in %ds (one per %.1fs)  CPU per sample: median %.1f ms, max %.1f ms  baton CPU %d ms = %.2f%% of a core\n",
				name, sock, procs, n, secs, secs / n, ms[int((n + 1) / 2)], ms[n], cpu, cpu / (secs * 10)
		}'
}
echo "baton $("$BATON" --version 2>/dev/null | head -1), $N established connections, $(nproc) CPUs, $(uname -r)"
phase rest
kill -HUP "$BATON_PID"
sleep 1
phase retiring
