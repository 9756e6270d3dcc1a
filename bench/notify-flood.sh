#!/usr/bin/env bash
# SPDX-License-Identifier: ISC
# bench/notify-flood.sh: the CPU baton spends while processes flood the
# workers' notify socket with STATUS= datagrams: from another uid (nobody:
# dropped on the sender's credentials, before any /proc walk) and from the
# workers' own uid (a worker's child: each datagram is checked against the
# worker's process tree, then taken). Printed as per mille of a core and
# as CPU microseconds per datagram sent. Was an assertion (under 25 % of a
# core) in tests/blackbox/notify-trust.sh, which failed on a loaded machine.
#
# usage: bench/notify-flood.sh [SECONDS] [FLOODERS]   (default 5 s, 3)
#
# Needs root (to send as nobody), setpriv and python3.
# environment:
#   BATON=PATH   baton binary (default ./baton, then the one beside bench/)

set -u -o pipefail

SECS=${1:-5}
N=${2:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
bench_baton notify-flood
[ "$(id -u)" = 0 ] || { echo "notify-flood: needs root (to send as nobody)" >&2; exit 1; }
command -v setpriv >/dev/null && command -v python3 >/dev/null ||
	{ echo "notify-flood: needs setpriv and python3" >&2; exit 1; }

bench_workdir notify-flood
chmod 711 "$W" # nobody runs the flooder from here
mkdir -m 1777 "$W/out" # and writes its count there

# flood.py: the worker. It says READY=1, then starts N flooders (as
# nobody, or as itself) that send STATUS= datagrams for SECONDS after a
# START file appears, each writing how many it sent; then it waits.
cat >"$W/flood.py" <<'PY'
import os, socket, sys, time
addr = os.environ["NOTIFY_SOCKET"]
if addr.startswith("@"):
    addr = "\0" + addr[1:]
w = os.environ["W"]
if sys.argv[1] == "--flood":
    while not os.path.exists(w + "/START"):
        time.sleep(0.01)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setblocking(False)
    n = 0
    end = time.monotonic() + float(sys.argv[2])
    while time.monotonic() < end:
        try:
            s.sendto(b"STATUS=flood", addr)
            n += 1
        except BlockingIOError:
            time.sleep(0.0005)
    open("%s/out/sent.%d" % (w, os.getpid()), "w").write("%d\n" % n)
    sys.exit(0)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"READY=1", addr)
who, n, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for _ in range(n):
    cmd = [sys.executable, sys.argv[0], "--flood", secs]
    if who == "nobody":
        cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] + cmd
    os.spawnvp(os.P_NOWAIT, cmd[0], cmd)
open(w + "/ready", "w").close()
while True:
    time.sleep(60)
PY
chmod 644 "$W/flood.py"
export W

ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' /proc/"$1"/stat 2>/dev/null; }
hz=$(getconf CLK_TCK)

printf 'notify flood: %d flooders for %d s each row\n' "$N" "$SECS"
printf '%-22s %12s %14s %14s\n' sender "datagrams/s" "per mille" "us/datagram"
port=$((20000 + RANDOM % 10000))
for who in nobody worker-uid; do
	rm -f "$W"/START "$W"/ready "$W"/out/sent.*
	port=$((port + 1))
	"$BATON" --port=127.0.0.1:$port --ready=notify -- \
		python3 "$W/flood.py" "$who" "$N" "$SECS" >"$W/$who.log" 2>&1 </dev/null &
	pid=$!
	PIDS+=("$pid")
	for _ in $(seq 1 200); do [ -e "$W/ready" ] && break; sleep 0.05; done
	sleep 1 # let the start-up settle
	t0=$(ticks "$pid")
	ms0=$(now_ms)
	: >"$W/START"
	for _ in $(seq 1 $((SECS * 20 + 200))); do
		[ "$(ls "$W/out" | grep -c '^sent\.')" -ge "$N" ] && break
		sleep 0.05
	done
	t1=$(ticks "$pid")
	ms=$(($(now_ms) - ms0))
	sent=$(cat "$W"/out/sent.* 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
	awk -v n="$who" -v d=$((t1 - t0)) -v hz="$hz" -v ms="$ms" -v sent="$sent" 'BEGIN {
		c = d / hz
		printf "%-22s %12d %14.0f %14.2f\n", n, sent * 1000 / ms, c * 1000 * 1000 / ms,
			sent ? c * 1e6 / sent : 0 }'
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
done
