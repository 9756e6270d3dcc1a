#!/bin/bash
# SPDX-License-Identifier: ISC
# The metrics port answers probes whatever other clients do: while 64 idle connections and 32 slowloris clients are held
# open (each reopened as soon as baton closes it), every /healthz and
# /readyz probe with Kubernetes' 1 s timeout is answered; an idle
# connection is closed after a short time; under a low fd limit, where
# baton serves fewer connections than the crowd holds, the oldest make
# room and the probes still get through. Latency figures: bench/metrics-probes.sh.
. "$(dirname "$0")/lib.sh"
baton_only_script "--metrics-listen is a baton extension"
. "$top_srcdir/tests/blackbox/lib-metrics.sh"
CROWD=$top_srcdir/tests/metrics-crowd.py

probe() { # probe HOST:PORT PATH: the status code within 1 s (000: none)
	curl -gs --noproxy '*' --max-time "$(scaled 1)" -o /dev/null \
		-w '%{http_code}' "http://$1$2" 2>/dev/null
}

probes() { # probes HOST:PORT N: how many of N probes of each path got 200
	local i ok=0
	for ((i = 0; i < $2; i++)); do
		[ "$(probe "$1" /healthz)" = 200 ] && ok=$((ok + 1))
		[ "$(probe "$1" /readyz)" = 200 ] && ok=$((ok + 1))
	done
	echo "$ok"
}

crowd() { # crowd PORT IDLE SLOW NAME: in the background for at most 60 s
	python3 "$CROWD" 127.0.0.1 "$1" "$2" "$3" "$(scaled 60)" "$T/$4.ready" \
		>"$T/$4.out" 2>&1 &
	CROWD_PID=$!
	track_pid $CROWD_PID
	wait_file "$T/$4.ready" 10 || bail_out "the crowd $4 did not start"
}

P=$(free_port)
M=$(free_port)
start_baton --port=127.0.0.1:$P --metrics-listen=127.0.0.1:$M -- "${WORKER_CMD[@]}"
wait_until 10 mcode_is 127.0.0.1:$M /readyz 200 || bail_out "generation 1 never served"
base=$(fd_count "$BATON_PID")

# one idle connection is closed soon (0.2.0 held it 5 s)
python3 - "$M" "$(scaled 20)" >"$T/idle1.out" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
t0 = time.monotonic()
s.settimeout(float(sys.argv[2]))
try:
    print("closed" if s.recv(1) == b"" else "data")
except OSError as e:
    print("error %s" % e)
print(int((time.monotonic() - t0) * 1000))
PY
is "$(head -n 1 "$T/idle1.out")" closed "an idle connection is closed by baton"
cmp_ok "$(tail -n 1 "$T/idle1.out")" -lt "$(scaled_ms 4500)" "... within the header deadline (2 s), before 0.2.0's 5 s"

crowd "$M" 64 32 crowd1
_taken() { [ "$(fd_count "$BATON_PID")" -ge $((base + 80)) ]; }
wait_until 10 _taken || diag "baton holds only $(($(fd_count "$BATON_PID") - base)) crowd connections"
check "baton holds the crowd's connections (the test loads what it says)" _taken
is "$(probes 127.0.0.1:$M 8)" 16 "64 idle + 32 slowloris: 8 /healthz and 8 /readyz probes, each answered within 1 s"
is "$(curl -gs --noproxy '*' --max-time "$(scaled 1)" -o /dev/null -w '%{http_code}' \
	"http://127.0.0.1:$M/metrics")" 200 "... and /metrics too"
kill "$CROWD_PID" 2>/dev/null
wait "$CROWD_PID" 2>/dev/null
_back() { [ "$(fd_count "$BATON_PID")" -le "$base" ]; }
wait_until 10 _back
check "once the crowd leaves, baton's fd count is back to $base" _back
check "baton is alive" pid_alive "$BATON_PID"
kill -TERM "$BATON_PID"
wait_pid_gone "$BATON_PID" 10

# a low fd limit: fewer connections served than the crowd holds
P2=$(free_port)
M2=$(free_port)
old=$(ulimit -S -n)
ulimit -S -n 100
start_baton --port=127.0.0.1:$P2 --metrics-listen=127.0.0.1:$M2 -- "${WORKER_CMD[@]}"
ulimit -S -n "$old"
wait_until 10 mcode_is 127.0.0.1:$M2 /readyz 200 || bail_out "generation 1 never served (ulimit -n 100)"
crowd "$M2" 150 30 crowd2
is "$(probes 127.0.0.1:$M2 8)" 16 "ulimit -n 100, 150 idle + 30 slowloris: every probe answered within 1 s"
like "$(cat "/proc/$BATON_PID/limits" 2>/dev/null | grep 'open files')" " 100 " "baton runs with a soft limit of 100 fds"
cmp_ok "$(fd_count "$BATON_PID")" -le 100 "baton stays within it"
wait_file_contains "$T/baton.err" "connections closed to make room" 10
file_like "$T/baton.err" "metrics listener 127\.0\.0\.1:$M2: [0-9]+ connections closed to make room \([0-9]+ of them at the fd limit\); at most [0-9]+ are served at once" \
	"the evictions are reported, once"
is "$(grep -c "connections closed to make room" "$T/baton.err")" 1 "... once a minute at most"
done_testing
