#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# bench/first-response.sh: the time from launch to the first answered
# connection, side by side in one run: the worker alone on a socket bound
# beforehand (bare), the same behind `sh -c` (one fork and exec more: the
# least any fork/exec supervisor adds, the floor), baton, an older baton
# when given, and Perl's start_server. The runs are interleaved, so that
# drift on a busy machine hits every column alike. Prints the median and
# the minimum of each and baton's ratio to the `sh -c` floor.
#
# usage: bench/first-response.sh [RUNS]     (default 3 per column)
#
# environment:
#   BATON=PATH         baton binary (default ./baton, then the one beside bench/)
#   BATON_OLD=PATH     a second baton to compare (e.g. baton 0.2.0)
#   START_SERVER=PATH  Perl's start_server (default: the one on PATH; "none"
#                      skips it)
#   BENCH_BIN=DIR      prebuilt bench/worker and bench/util (make sets it);
#                      otherwise they are compiled with ${CC:-cc}
#
# The clock is bench/util's firstreq: it forks and execs the command,
# then sends GET / every 0.2 ms until a 200 comes back, on the monotonic
# clock, and stops the command's process group. The worker is
# bench/worker (one process, epoll): it answers as soon as it has read
# SERVER_STARTER_PORT, so the figures are mostly the supervisor's.

set -u -o pipefail
set +m # no job control: util's child is the leader of its own group

RUNS=${1:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
bench_number first-response RUNS "$RUNS" 1 1000
bench_baton first-response
case $BATON in /*) ;; *) BATON=$PWD/$BATON ;; esac
OLD=${BATON_OLD:-}
if [ -n "$OLD" ] && [ ! -x "$OLD" ]; then
	echo "first-response: BATON_OLD=$OLD is not an executable" >&2
	exit 1
fi
SS=${START_SERVER:-$(command -v start_server 2>/dev/null || true)}
NO_SS="skipped (not installed: Debian's libserver-starter-perl)"
[ "$SS" = none ] && SS= NO_SS="skipped (START_SERVER=none)"

bench_workdir first-response
if [ -n "${BENCH_BIN:-}" ] && [ -x "$BENCH_BIN/worker" ] &&
	[ -x "$BENCH_BIN/util" ]; then
	BIN=$BENCH_BIN
else
	BIN=$W
	for p in worker util; do
		${CC:-cc} -O2 -Wall -o "$BIN/$p" "$HERE/$p.c" 2>"$W/cc-$p.log" || {
			echo "first-response: cannot compile bench/$p.c:" >&2
			cat "$W/cc-$p.log" >&2
			exit 1
		}
	done
fi
WORKER=$BIN/worker UTIL=$BIN/util

# time NAME [-d] PORT -- CMD...: one run; appends the ms to $W/NAME.ms,
# or a failure line to $W/NAME.err
time_one() {
	local name=$1 t
	shift
	if t=$(timeout 60 "$UTIL" firstreq "$@" 2>>"$W/$name.err"); then
		echo "$t" >>"$W/$name.ms"
	else
		echo "run failed" >>"$W/$name.err"
	fi
}

# the supervisors bind the port themselves; bare and sh -c get it bound
# by util (-d) on fd 3 with SERVER_STARTER_PORT set
COLS=(bare sh baton)
[ -n "$OLD" ] && COLS+=(old)
[ -n "$SS" ] && COLS+=(start_server)
# one port per column, asked for before the clock runs (free_port starts
# a Python); each run binds it again with SO_REUSEADDR, as bench/run does
declare -A PORT
for c in "${COLS[@]}"; do
	PORT[$c]=$(free_port) || exit 1
done
for ((i = 0; i < RUNS; i++)); do
	# each round starts at another column: none always runs right
	# after the same neighbour
	for ((j = 0; j < ${#COLS[@]}; j++)); do
		c=${COLS[(i + j) % ${#COLS[@]}]}
		port=${PORT[$c]}
		case $c in
		bare) time_one bare -d "$port" -- "$WORKER" ;;
		# dash execs the last command of -c in place: ":" after it
		# keeps the fork, as a supervisor has one
		sh) time_one sh -d "$port" -- sh -c '"$0"; :' "$WORKER" ;;
		baton) time_one baton "$port" -- "$BATON" \
			"--port=127.0.0.1:$port" -- "$WORKER" ;;
		old) time_one old "$port" -- "$OLD" \
			"--port=127.0.0.1:$port" -- "$WORKER" ;;
		start_server) time_one start_server "$port" -- "$SS" \
			"--port=127.0.0.1:$port" -- "$WORKER" ;;
		esac
	done
done

# stats NAME: "median min max n" of the column's runs, or nothing
stats() {
	[ -s "$W/$1.ms" ] || return 0
	sort -g "$W/$1.ms" | awk '{a[NR] = $1}
		END {
			m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
			printf "%.3f %.3f %.3f %d\n", m, a[1], a[NR], NR
		}'
}
read -r FMED FMIN _ _ < <(stats sh)
row() { # LABEL NAME
	local med mn mx n
	if ! read -r med mn mx n < <(stats "$2"); then
		printf '%-30s failed: %s\n' "$1" \
			"$(tail -n 2 "$W/$2.err" 2>/dev/null | tr '\n' ' ' | cut -c1-80)"
		return
	fi
	printf '%-30s %7.2f ms %7.2f ms %7.2f ms %6s %6s %4s\n' "$1" \
		"$med" "$mn" "$mx" \
		"$(awk -v a="$med" -v b="${FMED:-0}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')" \
		"$(awk -v a="$mn" -v b="${FMIN:-0}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')" \
		"$n"
}

printf '%-30s %10s %10s %10s %6s %6s %4s\n' "launch -> first response" \
	median min max "/sh" "/sh" runs
printf '%-30s %10s %10s %10s %6s %6s\n' "" "" "" "" "(med)" "(min)"
row "bare worker (pre-bound)" bare
row "sh -c worker (the floor)" sh
row "baton" baton
[ -n "$OLD" ] && row "baton (BATON_OLD)" old
if [ -n "$SS" ]; then
	row "start_server" start_server
else
	printf '%-30s %s\n' start_server "$NO_SS"
fi
echo "baton: $BATON${OLD:+; BATON_OLD: $OLD}${SS:+; start_server: $SS}"
echo "target: baton <= 1.15x the sh -c floor ($RUNS runs each, interleaved)"
