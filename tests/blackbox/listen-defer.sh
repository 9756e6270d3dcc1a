#!/bin/bash
# SPDX-License-Identifier: ISC
# --defer-accept: a client that connects and sends nothing never reaches the
# worker within the deferral, while one that sends a request is served at
# once; without it, the idle client is accepted and holds the (blocking,
# one-at-a-time) test worker until its 2 s read timeout.
. "$(dirname "$0")/lib.sh"
baton_only_script "--defer-accept is a baton extension"

P1=$(free_port) # defer-accept=30
P2=$(free_port) # none
P3=$(free_port) # defer-accept=1

serve_baton --until=http:127.0.0.1:$P2 --port=127.0.0.1:$P1 --sockopts=defer-accept=30 --port=127.0.0.1:$P2 \
	--port=127.0.0.1:$P3 --sockopts=defer-accept=1 -- "${WORKER_CMD[@]}"
R=$(report 1)
d1=$(grep -E '^sockopt 3 ' "$R" | grep -o 'defer_accept=[0-9]*')
d2=$(grep -E '^sockopt 4 ' "$R" | grep -o 'defer_accept=[0-9]*')
diag "the worker's listeners: $P1 $d1, $P2 $d2"
isnt "${d1#defer_accept=}" 0 "the worker's socket on $P1 defers accept"
is "$d2" defer_accept=0 "the worker's socket on $P2 does not"

# idle_connect PORT: connect, send nothing; the fd is in IDLE
idle_connect() {
	exec {IDLE}<>"/dev/tcp/127.0.0.1/$1"
}
idle_close() {
	exec {IDLE}>&-
}
# idle_answer SECONDS: the first line the server sends to the idle client
idle_answer() {
	local line=
	IFS= read -r -t "$1" -u "$IDLE" line
	printf '%s' "${line%$'\r'}"
}

# ---- with defer-accept --------------------------------------------------
idle_connect $P1 || bail_out "cannot connect to $P1"
t0=$(now_ms)
body=$(http_get 127.0.0.1:$P1)
ms=$(($(now_ms) - t0))
like "$body" "gen=1" "with defer-accept, a client that sends a request is served"
# not scaled: it tells "at once" from the worker's fixed 2 s read timeout
cmp_ok "$ms" -lt 1500 "... at once, the idle connection before it notwithstanding (${ms} ms)"
t0=$(now_ms)
is "$(idle_answer 3)" "" "the idle client is not accepted by the worker within 3 s"
diag "listen queue of $P1: $(ss -Hltn "sport = :$P1" 2>/dev/null)"
idle_close

# ---- without -------------------------------------------------------------
idle_connect $P2 || bail_out "cannot connect to $P2"
t0=$(now_ms)
body=$(HTTP_TIMEOUT=6 http_get 127.0.0.1:$P2)
ms=$(($(now_ms) - t0))
like "$body" "gen=1" "without defer-accept, a client that sends is served too"
cmp_ok "$ms" -ge 1000 "... but only after the worker gave up on the idle client (${ms} ms)"
is "$(idle_answer "$(scaled 4)")" "HTTP/1.0 200 OK" "the idle client was accepted by the worker"
idle_close

# ---- after the deferral, the kernel hands the connection over anyway -------
idle_connect $P3 || bail_out "cannot connect to $P3"
t0=$(now_ms)
ans=$(idle_answer "$(scaled 8)")
ms=$(($(now_ms) - t0))
is "$ans" "HTTP/1.0 200 OK" "with defer-accept=1, an idle client reaches the worker once the deferral ends"
cmp_ok "$ms" -ge 2000 "... after the deferral and the worker's 2 s read timeout (${ms} ms)"
idle_close

kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "baton stops cleanly"
done_testing
