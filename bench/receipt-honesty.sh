#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# bench/receipt-honesty.sh: faults injected into restarts, what the clients counted beside what the restart's receipt says.
#
# usage: bench/receipt-honesty.sh [--runs R] [--restarts N] [--cases LIST]
#
# Each case runs R times (default 10) and prints one row a run: the
# clients' own counts, the receipt's figures (STATUS.json's receipts), and
# whether they agree. Cases (LIST, default 1,2,3,4,5):
#   1  N restarts (default 10) under load (tests/loadgen, 8 clients) with
#      a healthy worker: the clients lose nothing, every receipt says 0.
#   2  --backlog=4; the new generation accepts nothing while the old one
#      drains (it stopped accepting), under load from the HUP on (16
#      clients, 0.5 s timeout): dropped > 0 exactly when clients timed out
#      connecting.
#   3  clients with a 0.5 s timeout while nobody accepts (the old
#      generation drains, the new one stalls): abandoned = the clients that
#      gave up, all of them before anyone accepted them. Exact.
#   4  an old worker that ignores TERM and holds k requests (k from 1 to
#      20, one k a run), --stop-timeout=1: cut = k = the clients that got
#      no answer. Exact.
#   5  keep-alive load (bench/load, 40 connections) on
#      examples/c/http-worker --close-idle-at-stop, 6 s with a HUP at 1, 2,
#      3 and 4 s: reset > 0 whenever the clients saw read errors or resets;
#      and the namespace's TcpOutRsts over 4 s in the middle of the same
#      load without a restart (the control) stay 0.
# As root it runs in a network namespace of its own (unshare -n), so the
# namespace-wide figures (reset) hold this bench's connections only;
# otherwise it says so and runs in the host's.
#
# The workers are tests/honesty-worker.py (cases 1-4; they say when they
# stopped accepting and how many connections they hold, so that the counts
# are exact by construction) and examples/c/http-worker (case 5). Build
# first: make && make tests/loadgen bench/load. Environment: BATON (default
# ./baton, then the one beside bench/).

set -u -o pipefail
set +m

HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${BENCH_NETNS:-}" ] && [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
	BENCH_NETNS=1 exec unshare -n bash "$HERE/$(basename "$0")" "$@"
fi
. "$HERE/lib.sh"
PROG=bench/receipt-honesty.sh
RUNS=10 RESTARTS=10 CASES=1,2,3,4,5
while [ $# -gt 0 ]; do
	case $1 in
	--runs) RUNS=${2:-}; shift ;;
	--runs=*) RUNS=${1#*=} ;;
	--restarts) RESTARTS=${2:-}; shift ;;
	--restarts=*) RESTARTS=${1#*=} ;;
	--cases) CASES=${2:-}; shift ;;
	--cases=*) CASES=${1#*=} ;;
	-h | --help) sed -n '3,37p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "$PROG: unknown option: $1" >&2; exit 1 ;;
	esac
	shift
done
bench_number "$PROG" --runs "$RUNS" 1 100
bench_number "$PROG" --restarts "$RESTARTS" 1 100
bench_baton "$PROG"
HWPY=$BENCH_TOP/tests/honesty-worker.py
LOADGEN=${LOADGEN:-$BENCH_TOP/tests/loadgen}
LOAD=${LOAD:-$BENCH_TOP/bench/load}
HW=${HTTP_WORKER:-$BENCH_TOP/examples/c/http-worker}
for p in "$LOADGEN" "$LOAD" "$HW"; do
	[ -x "$p" ] || { echo "$PROG: $p is not built (make && make tests/loadgen bench/load)" >&2; exit 1; }
done
if [ -n "${BENCH_NETNS:-}" ]; then
	ip link set lo up || { echo "$PROG: cannot bring up lo in the namespace" >&2; exit 1; }
	NS="a network namespace of its own"
else
	NS="the host's network namespace (not root: reset counts every program's)"
fi
bench_workdir baton-receipt-honesty
WD=$W/w

# receipt GEN FIELD: FIELD of the receipt of the restart to generation GEN
receipt() {
	python3 - "$W/st.json" "$1" "$2" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    sys.exit(0)
for r in d.get("receipts") or []:
    if str(r.get("generation")) == sys.argv[2]:
        v = r.get(sys.argv[3])
        print("null" if v is None else v)
PY
}
has_receipt() { [ -n "$(receipt "$1" outcome)" ]; }
final() { local f; f=$(receipt "$1" finished_at); [ -n "$f" ] && [ "$f" != null ]; }
queue_abandoned() {
	python3 -c 'import json,sys
try: print(int(json.load(open(sys.argv[1]))["listeners"][0]["queue"]["abandoned"]))
except Exception: print(-1)' "$W/st.json"
}
abandoned_reaches() { [ "$(queue_abandoned)" -ge "$1" ]; }
lg() { sed -n "s/.* $2=\([0-9-]*\).*/\1/p" <<<" $1"; }
kv() { sed -n "s/^$2=//p" <<<"$1"; }
gone() { ! kill -0 "$1" 2>/dev/null; }
# wait_for MS CMD...: until CMD succeeds, at most MS ms
wait_for() {
	local end=$(($(now_ms) + $1))
	shift
	until "$@"; do
		[ "$(now_ms)" -ge "$end" ] && return 1
		sleep 0.05
	done
}
# the namespace's TcpOutRsts, as the receipt's reset counts them
ns_resets() {
	awk '$1 == "Tcp:" && !h { for (i = 2; i <= NF; i++) n[i] = $i; h = 1; next }
		$1 == "Tcp:" { for (i = 2; i <= NF; i++) if (n[i] == "OutRsts") print $i }' /proc/net/snmp
}

# start PORT MODE ARG...: baton with the honesty worker in MODE
start() {
	local port=$1 mode=$2
	shift 2
	rm -rf "$WD" "$W/st" "$W/st.json"
	mkdir -p "$WD"
	echo "$mode" >"$WD/mode"
	"$BATON" --port=127.0.0.1:"$port" --status-file="$W/st" --ready=notify "$@" \
		-- python3 "$HWPY" "$WD" >>"$W/baton.log" 2>&1 </dev/null &
	SUP=$!
	PIDS+=("$SUP")
	wait_for 20000 test -e "$WD/ready.1"
}
stop() {
	touch "$WD/release"
	kill -TERM "$SUP" 2>/dev/null
	wait_for 20000 gone "$SUP" || kill -KILL "$SUP" 2>/dev/null
	wait "$SUP" 2>/dev/null
}
verdict() { if "$@"; then echo ok; else echo MISMATCH; fi; }
declare -A OK

case1() { # run
	local port g out load fin=0 tot=0 maxt=0 t rs=0
	port=$(free_port)
	start "$port" serve --stop-timeout=30 || { echo "1 $1 baton did not start"; return; }
	rm -f "$W/stop"
	"$LOADGEN" 127.0.0.1 "$port" --concurrency 8 --seconds 600 --max-requests 100000000 \
		--timeout-ms 5000 --stop-file "$W/stop" >"$W/load.out" 2>&1 &
	load=$!
	PIDS+=("$load")
	for ((g = 2; g <= RESTARTS + 1; g++)); do
		wait_for 20000 test -e "$WD/ready.$((g - 1))"
		sleep 0.2
		kill -HUP "$SUP"
		wait_for 30000 final $g && fin=$((fin + 1))
		t=$(receipt $g total)
		rs=$((rs + $(receipt $g reset)))
		tot=$((tot + ${t:-0}))
		[ "${t:-0}" -gt "$maxt" ] && maxt=$t
	done
	touch "$W/stop"
	wait "$load"
	out=$(cat "$W/load.out")
	stop
	printf '%-4s %3d  %8s %6s %7s  %8s %9s %9s %9s  %s\n' 1 "$1" "$(lg "$out" requests)" "$(lg "$out" failed)" \
		"$RESTARTS" "$fin" "$tot" "$maxt" "$rs" \
		"$(verdict [ "$(lg "$out" failed)" = 0 ] && [ $fin = "$RESTARTS" ] && [ $tot = 0 ])"
}

case2() {
	local port out load dr ab ov
	port=$(free_port)
	start "$port" drain --stop-timeout=30 --backlog=4 || { echo "2 $1 baton did not start"; return; }
	rm -f "$W/stop"
	echo stall >"$WD/mode"
	kill -HUP "$SUP"
	# the load from the receipt's start on, so that every client's loss is
	# in the restart's window (16 clients overflow a queue of 4 on a Python
	# worker before any restart too, and baton opens the receipt when its
	# loop takes the HUP, not when it is sent)
	wait_for 20000 has_receipt 2
	"$LOADGEN" 127.0.0.1 "$port" --concurrency 16 --seconds 120 --max-requests 100000000 \
		--timeout-ms 500 --stop-file "$W/stop" >"$W/load.out" 2>&1 &
	load=$!
	PIDS+=("$load")
	wait_for 20000 test -e "$WD/stopped.1"
	sleep 2 # load on a queue nobody accepts from
	touch "$W/stop"
	wait "$load"
	out=$(cat "$W/load.out")
	touch "$WD/release"
	wait_for 20000 final 2
	dr=$(receipt 2 dropped) ab=$(receipt 2 abandoned) ov=$(receipt 2 listen_overflows)
	stop
	printf '%-4s %3d  %8s %5s %8s %7s  %7s %9s %9s  %s\n' 2 "$1" "$(lg "$out" requests)" "$(lg "$out" ok)" \
		"$(lg "$out" timeout)" "$(lg "$out" connect_timeout)" "$dr" "$ab" "$ov" \
		"$(verdict [ $((${dr:-0} > 0)) = $(($(lg "$out" connect_timeout) > 0)) ])"
}

case3() {
	local port out k=20 base ab dr cut
	port=$(free_port)
	start "$port" drain --stop-timeout=30 || { echo "3 $1 baton did not start"; return; }
	base=$(queue_abandoned)
	echo stall >"$WD/mode"
	kill -HUP "$SUP"
	wait_for 20000 test -e "$WD/stopped.1"
	out=$("$LOADGEN" 127.0.0.1 "$port" --concurrency $k --max-requests $k --seconds 30 --timeout-ms 500 2>&1)
	wait_for 20000 abandoned_reaches $((base + k))
	touch "$WD/release"
	wait_for 20000 final 2
	ab=$(receipt 2 abandoned) dr=$(receipt 2 dropped) cut=$(receipt 2 cut)
	stop
	printf '%-4s %3d  %8s %5s %8s  %9s %7s %4s  %s\n' 3 "$1" "$(lg "$out" requests)" "$(lg "$out" ok)" \
		"$(lg "$out" timeout)" "$ab" "$dr" "$cut" \
		"$(verdict [ "$ab" = "$(lg "$out" timeout)" ])"
}

case4() {
	local port out k=$((1 + ($1 * 7) % 20)) load held cut tot
	port=$(free_port)
	start "$port" "hold $k" --stop-timeout=1 || { echo "4 $1 baton did not start"; return; }
	"$LOADGEN" 127.0.0.1 "$port" --concurrency $k --max-requests $k --seconds 60 \
		--timeout-ms 60000 >"$W/load.out" 2>&1 &
	load=$!
	PIDS+=("$load")
	wait_for 20000 test -e "$WD/held.1"
	held=$(cat "$WD/held.1")
	echo serve >"$WD/mode"
	kill -HUP "$SUP"
	wait_for 30000 final 2
	wait "$load"
	out=$(cat "$W/load.out")
	cut=$(receipt 2 cut) tot=$(receipt 2 total)
	stop
	printf '%-4s %3d  %4s %4s %6s  %4s %5s  %s\n' 4 "$1" "$k" "$held" "$(lg "$out" failed)" "$cut" \
		"$tot" "$(verdict [ "$cut" = "$k" ] && [ "$(lg "$out" failed)" = "$k" ])"
}

case5() {
	local port sup out0 out r0 r1 g rs=0 cl0 cl load
	port=$(free_port)
	rm -f "$W/st" "$W/st.json"
	"$BATON" --port=127.0.0.1:"$port" --status-file="$W/st" --ready=notify --stop-timeout=10 \
		-- "$HW" -w 2 --close-idle-at-stop >>"$W/baton.log" 2>&1 </dev/null &
	sup=$!
	PIDS+=("$sup")
	wait_for 20000 curl -s -m 1 -o /dev/null "http://127.0.0.1:$port/"
	# the control: the same load, no restart; the namespace's resets
	# counted over 4 s in its middle (its own start and end are not part
	# of the figure, as they are not part of a restart's window below)
	"$LOAD" -p "$port" -c 40 -d 6 -t 5000 >"$W/load0.out" &
	load=$!
	PIDS+=("$load")
	sleep 1
	r0=$(ns_resets)
	sleep 4
	r1=$(ns_resets)
	wait "$load"
	out0=$(cat "$W/load0.out")
	cl0=$(($(kv "$out0" err_read) + $(kv "$out0" err_connect) + $(kv "$out0" err_write)))
	"$LOAD" -p "$port" -c 40 -d 6 -t 5000 >"$W/load.out" &
	load=$!
	PIDS+=("$load")
	for _ in 1 2 3 4; do
		sleep 1
		kill -HUP "$sup"
	done
	wait "$load"
	out=$(cat "$W/load.out")
	for ((g = 2; g <= 5; g++)); do
		wait_for 20000 final $g
		rs=$((rs + $(receipt $g reset)))
	done
	kill -TERM "$sup"
	wait_for 20000 gone "$sup" || kill -KILL "$sup" 2>/dev/null
	wait "$sup" 2>/dev/null
	cl=$(($(kv "$out" err_read) + $(kv "$out" err_connect) + $(kv "$out" err_write)))
	printf '%-4s %3d  %8s %8s %7s  %8s %8s %7s  %s\n' 5 "$1" "$(kv "$out0" requests)" "$cl0" "$((r1 - r0))" \
		"$(kv "$out" requests)" "$cl" "$rs" \
		"$(verdict [ $((r1 - r0)) = 0 ] && [ "$cl0" = 0 ] && { [ "$cl" = 0 ] || [ "$rs" -gt 0 ]; })"
}

echo "baton $($BATON --version 2>/dev/null | head -n 1), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), in $NS; $RUNS run(s) a case"
for c in ${CASES//,/ }; do
	case $c in
	1) echo "case 1: $RESTARTS restarts a run under load (8 clients), a healthy worker"
	   echo "case run  requests failed restarts  receipts lost_sum  lost_max reset_sum  verdict" ;;
	2) echo "case 2: --backlog=4, the new generation accepts nothing for 2 s under load (16 clients, 0.5 s timeout)"
	   echo "case run  requests    ok  timeout connect  dropped abandoned overflows  verdict (dropped>0 iff connect timeouts)" ;;
	3) echo "case 3: 20 clients with a 0.5 s timeout while nobody accepts"
	   echo "case run  requests    ok  timeout  abandoned dropped  cut  verdict (abandoned = timeouts)" ;;
	4) echo "case 4: the old worker ignores TERM and holds k requests, --stop-timeout=1"
	   echo "case run     k held failed   cut total  verdict (cut = k = failed)" ;;
	5) echo "case 5: keep-alive (40 connections) on http-worker --close-idle-at-stop; control 4 s without restart, then 4 HUPs a second apart during 6 s of load"
	   echo "case run  requests  errors  resets  requests   errors  reset  verdict (control 0/0; reset>0 when errors)"
	   echo "          (control, no restart)      (4 restarts; reset: the receipts')" ;;
	*) echo "$PROG: unknown case $c" >&2; exit 1 ;;
	esac
	OK[$c]=0
	for ((r = 1; r <= RUNS; r++)); do
		row=$("case$c" "$r")
		echo "$row"
		case $row in *" ok") OK[$c]=$((OK[$c] + 1)) ;; esac
	done
	echo "case $c: client and receipt agree in ${OK[$c]} of $RUNS runs"
	echo
done
