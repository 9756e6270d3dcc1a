#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# bench/metrics-probes.sh: the latency of /healthz and /readyz probes on
# baton's metrics port (p50, p99, max, and the probes that missed
# Kubernetes' 1 s timeout) with nothing else on it, while 1,000 idle
# connections and 300 slowloris clients are held open, and while 10,000
# idle connections are (issue 16, rule 4); with baton's fd count and RSS
# at the end of each. The hostile clients reopen every connection baton
# closes (tests/metrics-crowd.py).
#
# usage: bench/metrics-probes.sh [PROBES]     (default 400 per scenario)
#
# environment:
#   BATON=PATH      baton binary (default ./baton, then the one beside bench/)
#   BATON_OLD=PATH  a second baton to compare (e.g. baton 0.2.0)
#   PROBES_OLD=N    probes per scenario for it (default 40: each probe
#                   that misses costs its 1 s timeout)
#   WORKER=PATH     the worker (default tests/worker beside bench/)

set -u -o pipefail

PROBES=${1:-400}
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
. "$HERE/lib.sh"
bench_baton metrics-probes
WORKER=${WORKER:-$TOP/tests/worker}
[ -x "$WORKER" ] || { echo "metrics-probes: no $WORKER (make tests/worker)" >&2; exit 1; }
CROWD=$TOP/tests/metrics-crowd.py
command -v python3 >/dev/null || { echo "metrics-probes: needs python3" >&2; exit 1; }
# the 10,000 connections are the client's fds as well
ulimit -n 30000 2>/dev/null || ulimit -n "$(ulimit -H -n)"

bench_workdir metrics-probes


# probe PORT N: N probes, /healthz and /readyz in turn, 10 ms apart;
# prints "p50 p99 max missed" in ms
probe() {
	python3 - "$1" "$2" <<'PY'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
lat, missed = [], 0
for i in range(n):
    path = "/healthz" if i % 2 == 0 else "/readyz"
    t0 = time.monotonic()
    ok = False
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
        s.settimeout(max(0.001, 1 - (time.monotonic() - t0)))
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
        d = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            d += b
        s.close()
        ok = d.startswith(b"HTTP/1.1 200 ")
    except OSError:
        pass
    dt = (time.monotonic() - t0) * 1000
    if ok and dt <= 1000:
        lat.append(dt)
    else:
        missed += 1
    time.sleep(0.01)
lat.sort()
def pct(p):
    return "%.1f" % lat[min(len(lat) - 1, int(len(lat) * p))] if lat else "n/a"
print(pct(0.50), pct(0.99), "%.1f" % lat[-1] if lat else "n/a", missed)
PY
}

# scenario BATON NAME LABEL IDLE SLOW: one row
scenario() {
	local b=$1 name=$2 label=$3 idle=$4 slow=$5 P M bp cp r fds rss n=$PROBES
	[ "$name" = old ] && n=${PROBES_OLD:-40}
	P=$(free_port)
	M=$(free_port)
	"$b" --port=127.0.0.1:$P --metrics-listen=127.0.0.1:$M -- "$WORKER" --quiet \
		>"$W/baton.out" 2>"$W/baton.err" </dev/null &
	bp=$!
	PIDS+=("$bp")
	for _ in $(seq 100); do
		curl -sf --max-time 1 -o /dev/null "http://127.0.0.1:$M/readyz" && break
		sleep 0.1
	done
	cp=
	if [ $((idle + slow)) -gt 0 ]; then
		python3 "$CROWD" 127.0.0.1 "$M" "$idle" "$slow" 600 "$W/ready" >"$W/crowd.out" 2>&1 &
		cp=$!
		PIDS+=("$cp")
		for _ in $(seq 600); do [ -f "$W/ready" ] && break; sleep 0.1; done
		sleep 3 # let the crowd fill and churn
	fi
	r=$(probe "$M" "$n")
	fds=$(ls "/proc/$bp/fd" 2>/dev/null | wc -l)
	rss=$(awk '/^VmRSS/ {print $2}' "/proc/$bp/status" 2>/dev/null)
	[ -n "$cp" ] && kill "$cp" 2>/dev/null && wait "$cp" 2>/dev/null
	kill -TERM "$bp" 2>/dev/null
	wait "$bp" 2>/dev/null
	rm -f "$W/ready"
	# shellcheck disable=SC2086
	set -- $r
	printf '%-12s %-30s %8s %8s %8s %6s/%-5s %6s %8s\n' "$name" "$label" "$1" "$2" "$3" "$4" "$n" "$fds" "${rss:-?}"
}

printf '%-12s %-30s %8s %8s %8s %12s %6s %8s\n' baton scenario p50_ms p99_ms max_ms missed fds rss_kB
for pair in "new:$BATON" ${BATON_OLD:+"old:$BATON_OLD"}; do
	name=${pair%%:*}
	b=${pair#*:}
	scenario "$b" "$name" "nothing else" 0 0
	scenario "$b" "$name" "1,000 idle + 300 slowloris" 1000 300
	scenario "$b" "$name" "10,000 idle" 10000 0
done
