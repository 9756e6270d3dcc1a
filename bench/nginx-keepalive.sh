#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# bench/nginx-keepalive.sh: nginx under wrk keep-alive across HUPs: p99 and stop time, baton (non-blocking and blocking listener) beside nginx's own reload.
#
# usage: bench/nginx-keepalive.sh [--runs N] [--hups N] [--modes LIST]
#
# Each run starts nginx (2 workers, "return 200") on a free 127.0.0.1 port,
# puts wrk keep-alive load on it (2 threads, 32 connections, 2*HUPS+2 s),
# sends HUPS reloads 2 s apart, then, once wrk is done, stops it and times
# the stop. Modes:
#   baton     baton --pass-fds-as=nginx (the listener is non-blocking)
#   blocking  the same with --sockopts=nonblock=off: the listener blocking,
#             as baton 0.2.0 and start_server pass it
#   own       nginx alone, bound by itself, reloaded with its own HUP
# (baton: HUP to baton, QUIT to the old generation; stop: TERM to baton,
# QUIT to nginx; own: HUP and QUIT to nginx's master.) Figures per run:
# wrk's p99 latency, its request count and socket errors, and the ms from
# the stop signal until the supervisor (or nginx's master) is gone, at most
# 60 s (printed as ">60000"). Loopback only; every wait is bounded.
#
# Environment: BATON (default ./baton, then the one beside bench/), NGINX
# (default: nginx on PATH or /usr/sbin/nginx), WRK (default wrk).

set -u -o pipefail
set +m

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
PROG=bench/nginx-keepalive.sh
RUNS=3 HUPS=5 MODES=baton,blocking,own
WORKERS=${BENCH_NGINX_WORKERS:-2}
while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=${2:-}; shift ;;
	--runs=*) RUNS=${1#*=} ;;
	--hups) HUPS=${2:-}; shift ;;
	--hups=*) HUPS=${1#*=} ;;
	--modes) MODES=${2:-}; shift ;;
	--modes=*) MODES=${1#*=} ;;
	-h | --help) sed -n '3,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "$PROG: unknown option: $1" >&2; exit 1 ;;
	esac
	shift
done
bench_number "$PROG" --runs "$RUNS" 1 50
bench_number "$PROG" --hups "$HUPS" 1 20

bench_baton "$PROG"
BATON=$(cd "$(dirname "$BATON")" && pwd)/$(basename "$BATON")
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
WRK=${WRK:-wrk}
[ -x "$NGINX" ] || { echo "$PROG: nginx is not installed (package nginx-light)" >&2; exit 1; }
command -v "$WRK" >/dev/null || { echo "$PROG: wrk is not installed" >&2; exit 1; }

D=$(mktemp -d "${TMPDIR:-/tmp}/baton-nginx-bench.XXXXXX")
PIDS=
cleanup() {
	local p
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	# nginx's masters and workers of every run, by their pid files
	for p in "$D"/ng/*.pid; do
		[ -f "$p" ] && kill -KILL "$(cat "$p")" 2>/dev/null
	done
	rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM



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

conf() { # conf PORT
	mkdir -p "$D/ng/tmp"
	cat >"$D/ng/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes $WORKERS;
error_log $D/ng/error.log notice;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $D/ng/tmp;
  proxy_temp_path $D/ng/tmp;
  fastcgi_temp_path $D/ng/tmp;
  uwsgi_temp_path $D/ng/tmp;
  scgi_temp_path $D/ng/tmp;
  server { listen 127.0.0.1:$1; location / { return 200 "ok\n"; } }
}
EOF
}

# p99 of a wrk --latency report, in ms
p99_ms() {
	awk '$1 == "99%" {
		v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
		if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000
		printf "%.1f", v; found = 1 }
		END { if (!found) print "?" }' "$1"
}

run_one() { # run_one MODE: prints "p99_ms requests errors stop_ms"
	local mode=$1 port pid sup wrkpid t0 i dur stop errs reqs
	port=$(free_port)
	rm -rf "$D/ng"
	conf "$port"
	dur=$((2 * HUPS + 2))
	case $mode in
	baton | blocking)
		local extra=()
		[ "$mode" = blocking ] && extra=(--sockopts=nonblock=off)
		"$BATON" --port=127.0.0.1:"$port" "${extra[@]}" --pass-fds-as=nginx \
			--signal-on-hup=QUIT --signal-on-term=QUIT -- \
			sh -c 'exec "$0" -p "$1" -c "$1/nginx.conf" -g "pid $1/nginx.$SERVER_STARTER_GENERATION.pid;"' \
			"$NGINX" "$D/ng" >"$D/sup.out" 2>&1 </dev/null &
		sup=$!
		;;
	own)
		"$NGINX" -p "$D/ng" -c "$D/ng/nginx.conf" -g "pid $D/ng/own.pid;" \
			>"$D/sup.out" 2>&1 </dev/null &
		sup=$!
		;;
	esac
	PIDS="$PIDS $sup"
	if ! wait_for 20000 answers "$port"; then
		echo "? ? ? ?"
		kill -KILL "$sup" 2>/dev/null
		return
	fi
	sleep 1
	"$WRK" -t2 -c32 -d"${dur}s" --timeout 5s --latency "http://127.0.0.1:$port/" >"$D/wrk.out" 2>&1 &
	wrkpid=$!
	PIDS="$PIDS $wrkpid"
	sleep 1
	for ((i = 0; i < HUPS; i++)); do
		kill -HUP "$sup"
		sleep 2
	done
	wait_for $(((dur + 10) * 1000)) gone "$wrkpid"
	wait "$wrkpid" 2>/dev/null
	t0=$(now_ms)
	case $mode in own) kill -QUIT "$sup" ;; *) kill -TERM "$sup" ;; esac
	if wait_for 60000 gone "$sup"; then
		stop=$(($(now_ms) - t0))
	else
		stop=">60000"
		kill -KILL "$sup" 2>/dev/null
	fi
	wait "$sup" 2>/dev/null
	reqs=$(awk '/requests in/ { print $1 }' "$D/wrk.out")
	errs=$(awk '/Socket errors/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' "$D/wrk.out")
	echo "$(p99_ms "$D/wrk.out") ${reqs:-?} ${errs:-0} $stop"
}

echo "nginx $("$NGINX" -v 2>&1 | sed 's/.*\///'), wrk -t2 -c32 keep-alive, $HUPS HUPs 2 s apart, $RUNS runs"
printf '%-9s %4s %9s %9s %7s %8s\n' mode run p99_ms requests errors stop_ms
for mode in ${MODES//,/ }; do
	case $mode in baton | blocking | own) ;; *) echo "$PROG: unknown mode $mode" >&2; exit 1 ;; esac
	for ((r = 1; r <= RUNS; r++)); do
		read -r p99 reqs errs stop < <(run_one "$mode")
		printf '%-9s %4d %9s %9s %7s %8s\n' "$mode" "$r" "$p99" "$reqs" "$errs" "$stop"
	done
done
