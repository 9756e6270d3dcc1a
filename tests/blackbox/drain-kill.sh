#!/bin/bash
# SPDX-License-Identifier: ISC
# --kill-when-drained=SECONDS: a retiring generation whose worker ignores
# TERM keeps its full --stop-timeout while it holds connections, and gets
# SIGKILL SECONDS after its last one closed, with the reason in the log.
. "$(dirname "$0")/lib.sh"
baton_only_script "--kill-when-drained"
command -v python3 >/dev/null 2>&1 || skip_all "no python3"

S=$T/status
P=$(free_port)
HOLD=$top_srcdir/tests/drain-hold.py
CLIENT=$top_srcdir/tests/drain-client.py
_client_says() { grep -qx "open $1" "$T/client.out"; }

start_baton --port=127.0.0.1:$P --status-file="$S" --interval=0 \
	--stop-timeout=120 --kill-when-drained=1 -- python3 "$HOLD" --ignore-term
wait_status "$S" 1 10 || bail_out "generation 1 never served"
W1=$(sed -n 's/^1://p' "$S" | head -1)

mkfifo "$T/client.in"
timeout 120 python3 "$CLIENT" "$P" 20 <"$T/client.in" >"$T/client.out" 2>"$T/client.err" &
CLIENT_PID=$!
exec 7>"$T/client.in"
wait_until 20 _client_says 20 || bail_out "client could not connect"

kill -HUP "$BATON_PID"
wait_status "$S" "1 2" 10 || bail_out "generation 2 never served beside 1"
nap 3
check "holding 20 connections, generation 1's worker ignores TERM and lives on" pid_alive "$W1"
file_unlike "$T/baton.err" "SIGKILL" "no SIGKILL while it holds connections"

T0=$(now_ms)
echo "close 20" >&7
wait_until 10 _client_says 0 || bail_out "client did not close"
check "no connection left: generation 1 killed" wait_pid_gone "$W1" 10
T1=$(now_ms)
diag "killed $((T1 - T0)) ms after its last connection closed (--kill-when-drained=1, sampled every second)"
cmp_ok $((T1 - T0)) -ge 900 "not before the 1 s of --kill-when-drained"
check "the log says why" file_contains "$T/baton.err" \
	"generation 1: sending SIGKILL to its workers' process groups, because its workers have held no connection for [0-9]+ s \(--kill-when-drained=1\)"
grep -E "SIGKILL|retired:" "$T/baton.err" | while read -r l; do diag "$l"; done
check "generation 1 is gone, 2 serves" wait_status "$S" 2 5
exec 7>&-
wait "$CLIENT_PID" 2>/dev/null

# generation 2 ignores TERM too: its worker goes first
kill -KILL "$(sed -n 's/^2://p' "$S" | head -1)"
kill -TERM "$BATON_PID"
wait_baton_exit 10
done_testing
