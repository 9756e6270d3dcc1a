#!/bin/bash
# SPDX-License-Identifier: ISC
# A restart's receipt says what the clients saw, in a network namespace of
# the test's own: restarts under load with a healthy worker lose nothing and
# every receipt says 0; SYNs dropped on a full queue (--backlog=4) nobody
# accepts from show as dropped when clients timed out connecting; clients
# that give up (0.5 s) while nobody accepts are abandoned, exactly as many
# as timed out; an old worker that ignores
# TERM and holds k requests past --stop-timeout has k cut, exactly as many
# as the clients that got no answer. Every count is exact by construction
# (tests/honesty-worker.py accepts nothing, or exactly k, when it matters,
# and says when it stopped accepting), never by timing.

# Its own network namespace, so that nobody else's connections show in
# the namespace-wide figures: as root, "unshare -n" runs this script again
# inside one (lo brought up there).
if [ -z "${BATON_HONESTY_NETNS:-}" ] && [ "$(id -u)" = 0 ] &&
	unshare -n true 2>/dev/null; then
	BATON_HONESTY_NETNS=1 exec unshare -n bash "${BASH_SOURCE[0]}" "$@"
fi
. "$(dirname "$0")/lib.sh"
baton_only_script "restart receipts"
[ -n "${BATON_HONESTY_NETNS:-}" ] ||
	skip_all "needs a network namespace of its own (unshare -n, as root)"
command -v ip >/dev/null || skip_all "ip (iproute2) is not installed: lo stays down"
ip link set lo up || bail_out "cannot bring up lo in the test's network namespace"
HW=${HONESTY_WORKER:-$top_srcdir/tests/honesty-worker.py}
command -v python3 >/dev/null || skip_all "python3 is not installed"
W=$T/w
mkdir "$W"

# receipt GEN FIELD: FIELD of the receipt of the restart to generation GEN
# in STATUS.json (a total, or a top-level field), empty when none
receipt() {
	python3 - "$T/st.json" "$1" "$2" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    sys.exit(0)
for r in d.get("receipts") or []:
    if str(r.get("generation")) != sys.argv[2]:
        continue
    k = sys.argv[3]
    for o in [r] + [v for v in r.values() if isinstance(v, dict)]:
        if k in o and not isinstance(o[k], (dict, list)):
            v = o[k]
            print("null" if v is None else str(v).lower() if isinstance(v, bool) else v)
            sys.exit(0)
PY
}

# receipt_final GEN: that restart's receipt is finished
receipt_final() {
	local f
	f=$(receipt "$1" finished_at)
	[ -n "$f" ] && [ "$f" != null ]
}

# queue_abandoned: the first listener's running total of clients that gave
# up while queued (STATUS.json, always on)
queue_abandoned() {
	python3 - "$T/st.json" <<'PY'
import json, sys
try:
    q = json.load(open(sys.argv[1]))["listeners"][0]["queue"]
    print(int(q["abandoned"]))
except (OSError, ValueError, KeyError, IndexError, TypeError):
    print(-1)
PY
}
_abandoned_reaches() { [ "$(queue_abandoned)" -ge "$1" ]; }

lg() { # lg OUT KEY: a count of loadgen's line
	sed -n "s/.* $2=\([0-9-]*\).*/\1/p" <<<" $1"
}

# start PORT ARG...: baton on 127.0.0.1:PORT with the honesty worker, its
# generation 1 in the mode $W/mode says; waits until generation 1 is up
start() {
	local port=$1
	shift
	rm -f "$W"/*.[0-9]* "$W/release"
	serve_baton --until=file:"$W/ready.1" --port=127.0.0.1:"$port" \
		--status-file="$T/st" --ready=notify "$@" -- python3 "$HW" "$W"
}

stop_baton() {
	kill -TERM "$BATON_PID" 2>/dev/null
	touch "$W/release"
	wait_baton_exit 15 || kill -KILL "$BATON_PID" 2>/dev/null
}

# ---- 1: restarts under load, a healthy worker: nothing lost, all 0 -------
P=$(free_port)
echo serve >"$W/mode"
start "$P" --stop-timeout="$(scaled 30)"
rm -f "$T/stop"
"$LOADGEN" 127.0.0.1 "$P" --concurrency 4 --seconds "$(scaled 60)" \
	--max-requests 1000000 --timeout-ms "$(scaled_ms 5000)" \
	--stop-file "$T/stop" >"$T/load1.out" 2>&1 &
load=$!
track_pid $load
N=3
ok_final=0 ok_zero=0
for g in $(seq 2 $((N + 1))); do
	# the last one drains slowly: case 3 restarts from it
	[ $g = $((N + 1)) ] && echo drain >"$W/mode"
	wait_file "$W/ready.$((g - 1))" 10
	nap 0.3 # load on generation g-1 before its restart
	kill -HUP "$BATON_PID"
	if wait_until 20 receipt_final $g; then
		ok_final=$((ok_final + 1))
	else
		diag "no final receipt for generation $g: $(cat "$T/st.json" 2>&1 | head -c 2000)"
	fi
	t=$(receipt $g total) d=$(receipt $g dropped) a=$(receipt $g abandoned) c=$(receipt $g cut)
	diag "restart to generation $g: outcome $(receipt $g outcome), total $t ($d dropped, $a abandoned, $c cut), reset $(receipt $g reset) (netns)"
	[ "$t/$d/$a/$c" = 0/0/0/0 ] && ok_zero=$((ok_zero + 1))
done
touch "$T/stop"
wait $load
out1=$(cat "$T/load1.out")
diag "case 1 clients: $out1"
is $ok_final $N "case 1: $N restarts under load, each with a final receipt"
like "$out1" " failed=0 refused=0 reset=0 timeout=0 other=0 " "case 1: the clients lost nothing"
cmp_ok "$(lg "$out1" ok)" -gt 0 "case 1: ... and were answered"
is $ok_zero $N "case 1: every receipt says 0 lost (0 dropped, 0 abandoned, 0 cut)"

# ---- 3: clients that give up while nobody accepts are abandoned --------
# Generation N+1 drains (it stopped accepting and waits for $W/release),
# generation N+2 accepts nothing: every client that connects meanwhile
# gives up before anyone accepts it.
g=$((N + 2)) old=$((N + 1)) k=8
base=$(queue_abandoned)
echo stall >"$W/mode"
kill -HUP "$BATON_PID"
check "case 3: the old generation stopped accepting" wait_file "$W/stopped.$old" 20
out3=$("$LOADGEN" 127.0.0.1 "$P" --concurrency $k --max-requests $k \
	--seconds "$(scaled 30)" --timeout-ms 500 2>&1)
diag "case 3 clients: $out3"
is "$(lg "$out3" timeout)/$(lg "$out3" ok)" "$k/0" "case 3: $k clients gave up after 0.5 s, none answered"
# the running total sees them before the old generation may go, so the
# receipt's final reading holds them all
if [ "$base" -ge 0 ] && wait_until 20 _abandoned_reaches $((base + k)); then
	pass "case 3: STATUS.json's queue counts them abandoned"
else
	fail "case 3: STATUS.json's queue counts them abandoned" "queue abandoned: $(queue_abandoned), base $base"
fi
touch "$W/release"
check "case 3: the restart's receipt is final once the old generation left" wait_until 20 receipt_final $g
is "$(receipt $g abandoned)" "$(lg "$out3" timeout)" "case 3: abandoned = the clients that gave up before being accepted ($k)"
is "$(receipt $g dropped)/$(receipt $g cut)" 0/0 "case 3: none dropped, none cut"
file_like "$T/baton.err" "restart [0-9]+ \\(generation $old → $g, hup\\): [0-9.]+ s, $k connections lost \\(0 dropped, $k abandoned, 0 cut\\)" \
	"case 3: the log line says $k abandoned"
stop_baton

# ---- 2: a full queue nobody accepts from drops SYNs ---------------------
# --backlog=4: 5 clients that wait fill the accept queue of a listener
# nobody accepts on (the old generation drains, the new one stalls); every
# SYN after them is dropped, and the clients that send them time out
# connecting. Both directions of "dropped > 0 exactly when clients saw SYN
# timeouts": here both, in cases 1 and 3 neither.
P=$(free_port)
echo drain >"$W/mode"
start "$P" --stop-timeout="$(scaled 30)" --backlog=4
echo stall >"$W/mode"
kill -HUP "$BATON_PID"
check "case 2: the old generation stopped accepting" wait_file "$W/stopped.1" 20
"$LOADGEN" 127.0.0.1 "$P" --concurrency 5 --max-requests 5 --seconds "$(scaled 60)" \
	--timeout-ms "$(scaled_ms 60000)" >"$T/load2a.out" 2>&1 &
fill=$!
track_pid $fill
accept_queue() { ss -Hltn "sport = :$P" 2>/dev/null | awk '{ print $2; exit }'; }
_queue_is() { [ "$(accept_queue)" = "$1" ]; }
check "case 2: 5 waiting clients fill the accept queue (backlog 4)" wait_until 20 _queue_is 5
m=6
out2=$("$LOADGEN" 127.0.0.1 "$P" --concurrency $m --max-requests $m \
	--seconds "$(scaled 30)" --timeout-ms 500 2>&1)
diag "case 2 clients: $out2"
is "$(lg "$out2" connect_timeout)/$(lg "$out2" ok)" "$m/0" "case 2: $m clients timed out connecting"
touch "$W/release"
check "case 2: the restart's receipt is final once the old generation left" wait_until 20 receipt_final 2
diag "case 2 receipt: dropped $(receipt 2 dropped), listen_overflows $(receipt 2 listen_overflows) (netns), abandoned $(receipt 2 abandoned)"
# the queue stays full throughout, so each client's SYN was dropped at
# least once (more when one is retried, 1 s after the first)
cmp_ok "$(receipt 2 dropped)" -ge $m "case 2: dropped > 0 as clients saw SYN timeouts: at least one a client ($m)"
is "$(receipt 2 abandoned)/$(receipt 2 cut)" 0/0 "case 2: none abandoned (the 5 still wait), none cut"
kill -TERM $fill 2>/dev/null
stop_baton

# ---- 4: an old worker that ignores TERM and holds k requests -----------
P=$(free_port)
k=5
echo "hold $k" >"$W/mode"
start "$P" --stop-timeout="$(scaled 1)"
"$LOADGEN" 127.0.0.1 "$P" --concurrency $k --max-requests $k \
	--seconds "$(scaled 60)" --timeout-ms "$(scaled_ms 60000)" >"$T/load4.out" 2>&1 &
load=$!
track_pid $load
check "case 4: generation 1 holds $k requests" wait_file "$W/held.1" 20
is "$(cat "$W/held.1" 2>/dev/null)" $k "... exactly $k"
echo serve >"$W/mode"
kill -HUP "$BATON_PID"
check "case 4: the restart's receipt is final after the SIGKILL" wait_until 30 receipt_final 2
wait $load
out4=$(cat "$T/load4.out")
diag "case 4 clients: $out4"
is "$(lg "$out4" failed)/$(lg "$out4" ok)" "$k/0" "case 4: $k clients closed without an answer"
is "$(receipt 2 cut)" "$(lg "$out4" failed)" "case 4: cut = the requests the old worker held ($k)"
is "$(receipt 2 total)" $k "case 4: total $k"
is "$(receipt 2 outcome)" promoted "case 4: the restart was promoted"
file_like "$T/baton.err" "restart 1 \\(generation 1 → 2, hup\\): [0-9.]+ s, $k connections lost \\(0 dropped, 0 abandoned, $k cut\\)" \
	"case 4: the log line says $k cut"
stop_baton
done_testing
