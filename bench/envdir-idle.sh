#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# bench/envdir-idle.sh: the CPU an idle supervisor spends on a 5,000-file
# envdir, in CPU seconds per minute, for baton (and Perl's start_server,
# and an older baton when given, side by side).
#
# usage: bench/envdir-idle.sh [SECONDS] [FILES]    (default 30 s, 5000 files)
#
# environment:
#   BATON=PATH         baton binary (default ./baton, then the one beside bench/)
#   BATON_OLD=PATH     a second baton to compare (e.g. a build of main)
#   START_SERVER=PATH  Perl start_server (default: the one on PATH; "none" to skip)

set -u -o pipefail

SECS=${1:-30}
FILES=${2:-5000}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
bench_baton envdir-idle
START_SERVER=${START_SERVER:-$(command -v start_server || echo none)}

bench_workdir envdir-idle

mkdir "$W/env"
for i in $(seq 1 "$FILES"); do echo "value $i" >"$W/env/VAR_$i"; done

ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' /proc/"$1"/stat 2>/dev/null; }

port=$((20000 + RANDOM % 10000))
NAMES=()
start() { # NAME BINARY
	port=$((port + 1))
	"$2" --port=127.0.0.1:$port --envdir="$W/env" -- sleep 100000 \
		>"$W/$1.log" 2>&1 </dev/null &
	PIDS+=($!)
	NAMES+=("$1")
}
start baton "$BATON"
[ -n "${BATON_OLD:-}" ] && start baton-old "$BATON_OLD"
[ "$START_SERVER" != none ] && [ -x "$START_SERVER" ] && start start_server "$START_SERVER"

sleep 3 # start-up: the first full read of the envdir is not idle cost
declare -a T0
for i in "${!PIDS[@]}"; do T0[i]=$(ticks "${PIDS[i]}"); done
sleep "$SECS"
hz=$(getconf CLK_TCK)
printf 'idle with a %d-file envdir, measured over %d s\n' "$FILES" "$SECS"
printf '%-14s %16s %12s\n' supervisor "CPU s/minute" "% of a core"
for i in "${!PIDS[@]}"; do
	t1=$(ticks "${PIDS[i]}")
	if [ -z "$t1" ]; then
		printf '%-14s %16s\n' "${NAMES[i]}" "(exited; see log)"
		continue
	fi
	awk -v n="${NAMES[i]}" -v d=$((t1 - T0[i])) -v hz="$hz" -v s="$SECS" \
		'BEGIN { c = d / hz; printf "%-14s %16.3f %12.2f\n", n, c * 60 / s, c * 100 / s }'
done
