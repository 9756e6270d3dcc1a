#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# bench/receipt-baton.sh: the CPU a running baton spends, idle and per
# restart, with N TCP listeners (no client): run it against two builds to
# see what the restart receipts add (the steady accept-queue scan at
# --metrics-interval, the 50 ms tick while a restart is in progress, the
# receipt's full samples, the log line and the larger STATUS.json).
#
# usage: BATON=./baton bench/receipt-baton.sh [LISTENERS] [SECONDS] [RESTARTS]
#        (10, 30, 10)
# Prints baton's own CPU (/proc/PID/schedstat: ns on a CPU, exact, unlike
# the 10 ms ticks of /proc/PID/stat) over SECONDS idle, and over RESTARTS
# "baton --restart" one after another (each restart's spawn, status
# writes and receipt included).
set -u
B=${BATON:-./baton}
W=${WORKER:-tests/worker}
N=${1:-10} SECS=${2:-30} RESTARTS=${3:-10}
D=$(mktemp -d /tmp/receipt-baton.XXXXXX)
trap 'rm -rf "$D"' EXIT
# ports below the ephemeral range, so that no client's port is in the way
base=$((12000 + RANDOM % 6000))
args=()
for i in $(seq 0 $((N - 1))); do args+=(--port=127.0.0.1:$((base + i))); done
timeout $((SECS * 3 + 120)) "$B" "${args[@]}" --pid-file="$D/pid" --status-file="$D/st" \
	--interval=0 --log-file="$D/log" -- "$W" --quiet >/dev/null 2>&1 &
tp=$!
for _ in $(seq 1 100); do [ -s "$D/st.json" ] && break; sleep 0.1; done
[ -s "$D/pid" ] || { echo "baton did not start: $(tail -n 1 "$D/log")" >&2; exit 1; }
sleep 1
bp=$(cat "$D/pid")
cpu_us() { awk '{ print int($1 / 1000) }' "/proc/$bp/schedstat"; }
t0=$(cpu_us)
sleep "$SECS"
t1=$(cpu_us)
echo "$N listeners, idle: $((t1 - t0)) us of CPU in $SECS s ($(awk -v c=$((t1 - t0)) -v s="$SECS" 'BEGIN { printf "%.3f", c / s / 1e4 }') % of a core)"
t0=$(cpu_us)
for _ in $(seq 1 "$RESTARTS"); do
	timeout 60 "$B" --restart --pid-file="$D/pid" --status-file="$D/st" >/dev/null 2>&1
done
t1=$(cpu_us)
echo "$N listeners, $RESTARTS restarts: $(((t1 - t0) / RESTARTS)) us of CPU per restart"
grep -m 1 'connections lost' "$D/log" | sed 's/^[^ ]* //'
kill "$bp"
wait "$tp"
