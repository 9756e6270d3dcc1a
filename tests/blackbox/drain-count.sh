#!/bin/bash
# SPDX-License-Identifier: ISC
# Connections per generation: with 30, 300 and 3,000 connections held by
# the workers, STATUS.json's generations[].connections, baton --stats and
# baton_generation_connections say what ss(8) says; after a HUP the
# retiring generation's count falls as its clients close, and its drain
# is logged when it ends. Connections on a unix listener count too
# (unix_diag).
. "$(dirname "$0")/lib.sh"
baton_only_script "generations[].connections"
command -v python3 >/dev/null 2>&1 || skip_all "no python3"
command -v ss >/dev/null 2>&1 || skip_all "no ss(8)"
ulimit -n 8192 2>/dev/null || skip_all "cannot raise the fd limit to 8192"

S=$T/status
P=$(free_port)
HOLD=$top_srcdir/tests/drain-hold.py
CLIENT=$top_srcdir/tests/drain-client.py

# generation GEN's connections in STATUS.json ("null", "absent", or "")
conns_of() {
	python3 -c '
import json, sys
try:
    j = json.load(open(sys.argv[1]))
except Exception:
    sys.exit(0)
for g in j.get("generations", []):
    if g.get("generation") == int(sys.argv[2]):
        c = g.get("connections", "absent")
        print("null" if c is None else c)
' "$S.json" "$1"
}
ss_count() { ss -tnH state established "( sport = :$P )" | wc -l; }
_conns_are() { [ "$(conns_of "$1")" = "$2" ] && [ "$(ss_count)" = "$2" ]; }
_client_says() { grep -qx "open $1" "$T/client.out"; }

# a client holding N connections (on WHERE, default the TCP port), told
# to close some through a fifo
client_start() {
	rm -f "$T/client.in" "$T/client.out"
	mkfifo "$T/client.in"
	timeout 300 python3 "$CLIENT" "${2:-$P}" "$1" <"$T/client.in" >"$T/client.out" 2>"$T/client.err" &
	CLIENT_PID=$!
	exec 7>"$T/client.in"
	wait_until 60 _client_says "$1" || bail_out "client could not open $1: $(cat "$T/client.err")"
}
client_stop() {
	exec 7>&-
	wait "$CLIENT_PID" 2>/dev/null
}

U=$T/sock
start_baton --port=127.0.0.1:$P --path="$U" --status-file="$S" --interval=0 -- python3 "$HOLD"
wait_status "$S" 1 10 || bail_out "generation 1 never served"
check "no connection: 0 counted" wait_until 10 _conns_are 1 0

for n in 30 300 3000; do
	client_start $n
	check "$n held connections: STATUS.json says $n, as ss does" wait_until 20 _conns_are 1 $n
	diag "STATUS.json $(conns_of 1), ss $(ss_count)"
	if [ $n = 300 ]; then
		like "$("$BATON" --stats --format=prom --status-file="$S")" \
			'baton_generation_connections\{generation="1",state="serving"\} 300' \
			"baton_generation_connections: 300"
		unlike "$("$BATON" --stats --status-file="$S")" "^generation" \
			"baton --stats at rest: one line per listener, no generation line"
	fi
	client_stop
	check "$n closed: 0" wait_until 20 _conns_are 1 0
done

# a retiring generation: its count falls as its clients close
client_start 300
check "300 held before the HUP" wait_until 20 _conns_are 1 300
kill -HUP "$BATON_PID"
wait_until 10 _status_is "$S" "1 2" || bail_out "generation 2 never served beside 1"
_state1() { python3 -c '
import json, sys
for g in json.load(open(sys.argv[1]))["generations"]:
    if g["generation"] == 1: print(g["state"])' "$S.json" 2>/dev/null; }
_retiring_with() { [ "$(_state1)" = retiring ] && [ "$(conns_of 1)" = "$1" ]; }
check "generation 1 retiring with 300" wait_until 5 _retiring_with 300
for left in 200 100; do
	echo "close 100" >&7
	wait_until 10 _client_says $left || bail_out "client did not close"
	# at most 1 s old while retiring (plus the sample's own time)
	check "clients close: retiring generation 1 counts $left within 2 s" \
		wait_until 2 _retiring_with $left
	like "$("$BATON" --stats --status-file="$S")" \
		"generation 1 \(retiring\): $left connections" "baton --stats while it retires: $left"
	diag "generation 1: $(_state1) $(conns_of 1), ss $(ss_count)"
done
is "$(conns_of 2)" 0 "generation 2 holds none of them"
echo "close 100" >&7
check "the last clients close: generation 1 is gone" wait_until 10 _status_is "$S" 2
check "its drain is logged: 300 connections → 0" \
	wait_file_contains "$T/baton.err" "generation 1 retired: 300 connections → 0 in [0-9]+ s" 5
grep "retired:" "$T/baton.err" | while read -r l; do diag "$l"; done
client_stop

# a unix listener: its accepted sockets carry its path (ss -x)
ss_unix() { ss -xH state established src "$U" | wc -l; }
_unix_conns_are() { [ "$(conns_of 2)" = "$1" ] && [ "$(ss_unix)" = "$1" ]; }
client_start 25 "$U"
check "25 connections on the unix listener: STATUS.json says 25, as ss -x does" \
	wait_until 20 _unix_conns_are 25
diag "STATUS.json $(conns_of 2), ss -x $(ss_unix)"
client_stop
check "unix clients closed: 0" wait_until 20 _unix_conns_are 0

kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "TERM: exit 0"
done_testing
