#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# bench/listeners.sh: 1,000 listeners: time to bind and serve, one HUP, RSS; baton beside start_server.
#
# usage: bench/listeners.sh [--count N] [--runs N] [--kind path|port]
#
# For each supervisor (baton, then Perl's start_server when installed) and
# each run: start it with N listeners (--path unix sockets in a scratch
# directory, or --port on free 127.0.0.1 ports) and the helper's worker,
# which answers on every listener with its generation. Figures:
#   first  ms from exec until the first listener answers gen=1
#   last   ms from exec until the last listener answers gen=1 (all bound)
#   req    one request's round trip on the last listener, once up (us)
#   hup    ms from SIGHUP (sent BENCH_SETTLE seconds, default 2, after
#          the start, once generation 1 is past --interval) until the
#          last listener answers gen=2
#   rss    the supervisor's VmRSS with N listeners and one worker, just
#          before the HUP (kB)
# Each figure is the median of the runs. Loopback only; every wait is
# bounded (BENCH_TIMEOUT_MS, default 60000); ulimit -n is raised to 4096.
#
# Environment: BATON (default ./baton, then the one beside bench/),
# START_SERVER (default: the one on PATH; "none" skips it), CC.

set -u -o pipefail
set +m

HERE=$(cd "$(dirname "$0")" && pwd)
PROG=bench/listeners.sh
COUNT=1000 RUNS=3 KIND=path
while [ $# -gt 0 ]; do
	case $1 in
	--count) COUNT=${2:-}; shift ;;
	--count=*) COUNT=${1#*=} ;;
	--runs) RUNS=${2:-}; shift ;;
	--runs=*) RUNS=${1#*=} ;;
	--kind) KIND=${2:-}; shift ;;
	--kind=*) KIND=${1#*=} ;;
	-h | --help) sed -n '3,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "$PROG: unknown option: $1" >&2; exit 1 ;;
	esac
	shift
done
case $COUNT in '' | *[!0-9]*) echo "$PROG: --count needs a number" >&2; exit 1 ;; esac
case $RUNS in '' | *[!0-9]*) echo "$PROG: --runs needs a number" >&2; exit 1 ;; esac
[ "$COUNT" -ge 1 ] && [ "$COUNT" -le 3000 ] || { echo "$PROG: --count: 1..3000" >&2; exit 1; }
[ "$RUNS" -ge 1 ] && [ "$RUNS" -le 50 ] || { echo "$PROG: --runs: 1..50" >&2; exit 1; }
case $KIND in path | port) ;; *) echo "$PROG: --kind: path or port" >&2; exit 1 ;; esac
TIMEOUT_MS=${BENCH_TIMEOUT_MS:-60000}
SETTLE=${BENCH_SETTLE:-2}

ulimit -n 4096 || { echo "$PROG: cannot raise ulimit -n to 4096" >&2; exit 1; }

BATON=${BATON:-}
if [ -z "$BATON" ]; then
	if [ -x ./baton ]; then BATON=$PWD/baton; else BATON=$HERE/../baton; fi
fi
[ -x "$BATON" ] || { echo "$PROG: no baton at $BATON (set BATON)" >&2; exit 1; }
SS=${START_SERVER:-$(command -v start_server || true)}
[ "$SS" = none ] && SS=

TMP=$(mktemp -d "${TMPDIR:-/tmp}/baton-listeners.XXXXXX") || exit 1
SUP_PID=
cleanup() {
	if [ -n "$SUP_PID" ]; then
		kill -TERM -- "-$SUP_PID" 2>/dev/null
		for _ in $(seq 1 100); do kill -0 "$SUP_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL -- "-$SUP_PID" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

HELPER=$TMP/listeners-helper
${CC:-cc} -O2 -o "$HELPER" "$HERE/listeners-helper.c" ||
	{ echo "$PROG: cannot compile listeners-helper.c" >&2; exit 1; }

# one run of supervisor $1 (a path) into key=value lines on stdout
run_one() {
	local sup=$1 dir args=() first last out pid hup rss i
	dir=$(mktemp -d "$TMP/run.XXXXXX")
	if [ "$KIND" = path ]; then
		for i in $(seq 1 "$COUNT"); do args+=("--path=$dir/s$i"); done
		first=unix:$dir/s1 last=unix:$dir/s$COUNT
	else
		local ports
		mapfile -t ports < <("$HELPER" freeports "$COUNT")
		[ "${#ports[@]}" = "$COUNT" ] || return 1
		for i in "${ports[@]}"; do args+=("--port=127.0.0.1:$i"); done
		first=tcp:${ports[0]} last=tcp:${ports[COUNT - 1]}
	fi
	out=$("$HELPER" start "$TIMEOUT_MS" "$first" "$last" -- \
		"$sup" "${args[@]}" -- "$HELPER" worker 2>"$dir/err") || {
		echo "error=$(head -c 300 "$dir/err" | tr '\n' ' ')"
		SUP_PID=$(sed -n 's/^pid=\([0-9]*\).*/\1/p' <<<"$out")
		cleanup_sup
		return 1
	}
	pid=$(sed -n 's/^pid=\([0-9]*\).*/\1/p' <<<"$out")
	SUP_PID=$pid
	# past --interval (1 s): generation 1 is serving, so the HUP is a
	# restart of its own (baton queues a HUP that comes while the first
	# generation is still starting, until it is serving)
	sleep "$SETTLE"
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
	hup=$("$HELPER" hup "$pid" "$TIMEOUT_MS" "$last" 2 2>>"$dir/err") || hup=
	echo "$out" | tr ' ' '\n' | grep -v '^pid='
	echo "hup_ms=${hup:-timeout}"
	echo "rss_kb=${rss:-?}"
	cleanup_sup
}

cleanup_sup() {
	[ -n "$SUP_PID" ] || return 0
	kill -TERM "$SUP_PID" 2>/dev/null
	for _ in $(seq 1 150); do kill -0 "$SUP_PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL -- "-$SUP_PID" 2>/dev/null
	SUP_PID=
	# workers of the group that outlived their supervisor
	sleep 0.2
}

median() { sort -n | awk '{v[NR] = $1} END {if (NR == 0) print "n/a"; else print v[int((NR + 1) / 2)]}'; }

# figures of supervisor $1 ($2: its column name) over RUNS runs
column() {
	local sup=$1 name=$2 r res=$TMP/$2.res
	: >"$res"
	for r in $(seq 1 "$RUNS"); do
		if ! run_one "$sup" >>"$res"; then
			echo "$name: run $r failed: $(grep '^error=' "$res" | tail -n 1)" >&2
		fi
	done
	for k in first_ms last_ms req_us hup_ms rss_kb; do
		echo "$k $(sed -n "s/^$k=//p" "$res" | grep -v timeout | median)"
	done >"$TMP/$name.med"
}

column "$BATON" baton
[ -n "$SS" ] && column "$SS" start_server

printf '\n%d listeners (--%s), median of %d runs, ulimit -n %s\n\n' \
	"$COUNT" "$KIND" "$RUNS" "$(ulimit -n)"
printf '%-44s %12s %14s\n' "" baton "start_server"
row() { # key, label
	local b s
	b=$(sed -n "s/^$1 //p" "$TMP/baton.med")
	s=n/a
	[ -n "$SS" ] && s=$(sed -n "s/^$1 //p" "$TMP/start_server.med")
	printf '%-44s %12s %14s\n' "$2" "$b" "$s"
}
row first_ms "exec -> first listener answers (ms)"
row last_ms "exec -> last listener answers (ms)"
row req_us "one request on the last listener (us)"
row hup_ms "SIGHUP -> generation 2 answers (ms)"
row rss_kb "supervisor RSS (kB)"
