#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# bench/keepalive-hup.sh: requests lost under keep-alive load and a HUP every second, examples/c/http-worker's graceful stop beside the naive one.
#
# usage: bench/keepalive-hup.sh [--seconds N] [--connections N] [--workers N]
#                               [--runs N] [--modes LIST]
#
# Each run starts baton (--ready=notify --stop-timeout=10) with
# examples/c/http-worker on a free 127.0.0.1 port, puts wrk keep-alive load
# on it (2 threads, CONNECTIONS connections, default 100, for SECONDS s,
# default 60) and sends baton a HUP every second meanwhile: a new
# generation, and the old one gets TERM once the new one is ready. Modes:
#   graceful  http-worker as it is: after TERM it answers the next request
#             on each idle keep-alive connection with "Connection: close",
#             and closes what is still idle only before the deadline
#             (BATON_STOP_TIMEOUT)
#   naive     http-worker --close-idle-at-stop: it closes every idle
#             connection at TERM, racing the client's next request
# Figures per run: the restarts that retired a generation (hups), wrk's
# requests, its socket errors (connect, read, write, timeout) and its
# non-2xx answers, and lost: their sum. Every wait is bounded; loopback
# only.
#
# Environment: BATON (default ./baton, then the one beside bench/),
# HTTP_WORKER (default examples/c/http-worker beside bench/), WRK (wrk).

set -u -o pipefail
set +m

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
PROG=bench/keepalive-hup.sh
SECONDS_=60 CONNS=100 WORKERS=2 RUNS=1 MODES=graceful,naive
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) SECONDS_=${2:-}; shift ;;
	--seconds=*) SECONDS_=${1#*=} ;;
	--connections) CONNS=${2:-}; shift ;;
	--connections=*) CONNS=${1#*=} ;;
	--workers) WORKERS=${2:-}; shift ;;
	--workers=*) WORKERS=${1#*=} ;;
	--runs) RUNS=${2:-}; shift ;;
	--runs=*) RUNS=${1#*=} ;;
	--modes) MODES=${2:-}; shift ;;
	--modes=*) MODES=${1#*=} ;;
	-h | --help) sed -n '3,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "$PROG: unknown option: $1" >&2; exit 1 ;;
	esac
	shift
done
bench_number "$PROG" --seconds "$SECONDS_" 3 600
bench_number "$PROG" --connections "$CONNS" 2 1000
bench_number "$PROG" --workers "$WORKERS" 1 16
bench_number "$PROG" --runs "$RUNS" 1 50

bench_baton "$PROG"
HW=${HTTP_WORKER:-$BENCH_TOP/examples/c/http-worker}
WRK=${WRK:-wrk}
[ -x "$HW" ] || { echo "$PROG: $HW is not built (make examples/c/http-worker)" >&2; exit 1; }
command -v "$WRK" >/dev/null || { echo "$PROG: wrk is not installed" >&2; exit 1; }
case $("$HW" --no-such-option 2>&1) in *--close-idle-at-stop*) ;; *) false ;; esac ||
	{ echo "$PROG: $HW has no --close-idle-at-stop" >&2; exit 1; }
bench_workdir baton-keepalive-hup

answers() { curl -s -m 1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/" 2>/dev/null | grep -q 200; }

# wait_for MS CMD...: until CMD succeeds, at most MS ms
wait_for() {
	local end=$(($(now_ms) + $1))
	shift
	until "$@"; do
		[ "$(now_ms)" -ge "$end" ] && return 1
		sleep 0.05
	done
}

gone() { ! kill -0 "$1" 2>/dev/null; }

# run_one MODE: prints "restarts requests connect read write timeout non2xx"
run_one() {
	local mode=$1 port sup wrkpid i extra=() gens
	[ "$mode" = naive ] && extra=(--close-idle-at-stop)
	port=$(free_port)
	"$BATON" --port=127.0.0.1:"$port" --ready=notify --stop-timeout=10 -- \
		"$HW" -w "$WORKERS" "${extra[@]}" >"$W/$mode.log" 2>&1 </dev/null &
	sup=$!
	PIDS+=("$sup")
	if ! wait_for 20000 answers "$port"; then
		echo "? ? ? ? ? ? ?"
		kill -KILL "$sup" 2>/dev/null
		return
	fi
	"$WRK" -t2 -c"$CONNS" -d"${SECONDS_}s" --timeout 5s \
		"http://127.0.0.1:$port/" >"$W/wrk.$mode.out" 2>&1 &
	wrkpid=$!
	PIDS+=("$wrkpid")
	# a HUP a second while wrk runs, the last one a second before its end
	for ((i = 1; i < SECONDS_; i++)); do
		sleep 1
		gone "$wrkpid" && break
		kill -HUP "$sup"
	done
	wait_for $(((SECONDS_ + 15) * 1000)) gone "$wrkpid"
	wait "$wrkpid" 2>/dev/null
	kill -TERM "$sup"
	wait_for 20000 gone "$sup" || kill -KILL "$sup" 2>/dev/null
	wait "$sup" 2>/dev/null
	[ -n "${BENCH_KEEP:-}" ] && cp "$W/$mode.log" "$W/wrk.$mode.out" "$BENCH_KEEP"/ 2>/dev/null
	# restarts that retired a generation, as baton logged them
	gens=$(grep -c 'is ready; retiring generation' "$W/$mode.log")
	awk -v gens="$gens" '
		/requests in/ { req = $1 }
		/Socket errors/ { gsub(",", ""); c = $4; r = $6; w = $8; t = $10 }
		/Non-2xx/ { n = $NF }
		END { printf "%s %s %d %d %d %d %d\n", gens, req ? req : "?", c, r, w, t, n }' \
		"$W/wrk.$mode.out"
}

echo "baton + examples/c/http-worker -w $WORKERS, wrk -t2 -c$CONNS keep-alive, ${SECONDS_} s, a HUP every second, $RUNS run(s)"
printf '%-9s %4s %5s %9s %8s %5s %6s %8s %7s %5s\n' \
	mode run hups requests connect read write timeout non2xx lost
for mode in ${MODES//,/ }; do
	case $mode in graceful | naive) ;; *) echo "$PROG: unknown mode $mode" >&2; exit 1 ;; esac
	for ((r = 1; r <= RUNS; r++)); do
		read -r gens reqs c rd wr t n < <(run_one "$mode")
		lost='?'
		[ "$reqs" != '?' ] && lost=$((c + rd + wr + t + n))
		printf '%-9s %4d %5s %9s %8s %5s %6s %8s %7s %5s\n' \
			"$mode" "$r" "$gens" "$reqs" "$c" "$rd" "$wr" "$t" "$n" "$lost"
	done
done
