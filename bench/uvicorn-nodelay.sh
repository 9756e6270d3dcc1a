#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# bench/uvicorn-nodelay.sh: uvicorn --fd 3 under baton, keep-alive median latency without and with --nodelay.
#
# usage: bench/uvicorn-nodelay.sh [--runs N] [--seconds S]
#
# uvicorn wraps an inherited fd as a unix socket and never sets TCP_NODELAY
# on the TCP connections it accepts, so each keep-alive response (headers
# and body in two writes) waits on Nagle and the client's delayed ACK.
# baton --nodelay sets it on the listener, and accepted sockets inherit it.
# Each run: baton --port=127.0.0.1:P [--nodelay] -- python3 -m uvicorn --fd 3
# with a one-line ASGI app, then wrk -t1 -c4 for S seconds (default 5), and
# wrk's median (50%) latency and request count. Also uvicorn bound by itself
# (--host/--port), for reference. Loopback only; every wait is bounded.
#
# Environment: BATON (default ./baton, then the one beside bench/), PYTHON
# (default /usr/bin/python3, with Debian's python3-uvicorn), WRK (default wrk).

set -u -o pipefail
set +m

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
PROG=bench/uvicorn-nodelay.sh
RUNS=3 SECS=5
while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=${2:-}; shift ;;
	--runs=*) RUNS=${1#*=} ;;
	--seconds) SECS=${2:-}; shift ;;
	--seconds=*) SECS=${1#*=} ;;
	-h | --help) sed -n '3,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "$PROG: unknown option: $1" >&2; exit 1 ;;
	esac
	shift
done
bench_number "$PROG" --runs "$RUNS" 1 50
bench_number "$PROG" --seconds "$SECS" 1 120

bench_baton "$PROG"
PYTHON=${PYTHON:-/usr/bin/python3}
WRK=${WRK:-wrk}
"$PYTHON" -c 'import uvicorn' 2>/dev/null || { echo "$PROG: uvicorn is not installed (package uvicorn)" >&2; exit 1; }
command -v "$WRK" >/dev/null || { echo "$PROG: wrk is not installed" >&2; exit 1; }

D=$(mktemp -d "${TMPDIR:-/tmp}/baton-uvicorn-bench.XXXXXX")
SUP=
cleanup() {
	[ -n "$SUP" ] && kill -KILL "$SUP" 2>/dev/null
	rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

answers() { curl -s -m 1 -o /dev/null "http://127.0.0.1:$1/" 2>/dev/null; }
gone() { ! kill -0 "$1" 2>/dev/null; }
wait_for() { # wait_for MS CMD...
	local end=$(($(now_ms) + $1))
	shift
	until "$@"; do
		[ "$(now_ms)" -ge "$end" ] && return 1
		sleep 0.05
	done
}

cat >"$D/app.py" <<'PY'
async def asgi(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b"ok\n"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"),
                            (b"content-length", b"3")]})
    await send({"type": "http.response.body", "body": body})
PY

# median of a wrk --latency report, in ms
median_ms() {
	awk '$1 == "50%" {
		v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
		if (u == "us") v /= 1000; else if (u == "s") v *= 1000
		printf "%.2f", v; found = 1 }
		END { if (!found) print "?" }' "$1"
}

run_one() { # run_one MODE: "median_ms requests"
	local port reqs
	port=$(free_port)
	case $1 in
	plain) "$BATON" --port=127.0.0.1:"$port" -- "$PYTHON" -m uvicorn --app-dir "$D" \
		--fd 3 --no-access-log app:asgi >"$D/sup.out" 2>&1 </dev/null & ;;
	nodelay) "$BATON" --port=127.0.0.1:"$port" --nodelay -- "$PYTHON" -m uvicorn --app-dir "$D" \
		--fd 3 --no-access-log app:asgi >"$D/sup.out" 2>&1 </dev/null & ;;
	alone) "$PYTHON" -m uvicorn --app-dir "$D" --host 127.0.0.1 --port "$port" \
		--no-access-log app:asgi >"$D/sup.out" 2>&1 </dev/null & ;;
	esac
	SUP=$!
	if ! wait_for 20000 answers "$port"; then
		echo "? ?"
	else
		timeout $((SECS + 10)) "$WRK" -t1 -c4 -d"${SECS}s" --latency "http://127.0.0.1:$port/" >"$D/wrk.out" 2>&1
		reqs=$(awk '/requests in/ { print $1 }' "$D/wrk.out")
		echo "$(median_ms "$D/wrk.out") ${reqs:-?}"
	fi
	kill -TERM "$SUP" 2>/dev/null
	wait_for 10000 gone "$SUP" || kill -KILL "$SUP" 2>/dev/null
	wait "$SUP" 2>/dev/null
	SUP=
}

echo "uvicorn $("$PYTHON" -c 'import uvicorn; print(uvicorn.__version__)'), wrk -t1 -c4 keep-alive, ${SECS} s, $RUNS runs"
printf '%-8s %4s %10s %9s\n' mode run median_ms requests
for mode in plain nodelay alone; do
	for ((r = 1; r <= RUNS; r++)); do
		read -r med reqs < <(run_one "$mode")
		printf '%-8s %4d %10s %9s\n' "$mode" "$r" "$med" "$reqs"
	done
done
