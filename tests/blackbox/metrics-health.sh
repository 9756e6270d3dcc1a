#!/bin/bash
# SPDX-License-Identifier: ISC
# Health for containers: /readyz and "baton --health [--ready]"
# before the first generation is ready, once it serves, during
# --stop-delay (not ready, the worker still serving, its stop signal only
# after the delay) and after kill -9; a second TERM skips the delay.
. "$(dirname "$0")/lib.sh"
baton_only_script "health and --stop-delay are baton extensions"
. "$top_srcdir/tests/blackbox/lib-metrics.sh"

P=$(free_port)
M=$(free_port)
ST=$T/st
# the stop delay: long enough for the checks made during it (requests and
# two runs of baton --health), which took over 2 s on a loaded machine
SD=$(scaled 6)
start_baton --port=127.0.0.1:$P --status-file="$ST" --ready=notify \
	--metrics-listen=127.0.0.1:$M --stop-delay="$SD" -- \
	"${WORKER_CMD[@]}" --notify-ready --boot-delay 5
wait_until 10 mcode_is 127.0.0.1:$M /healthz 200 || bail_out "no metrics listener"
wait_file "$ST.json" 10 || bail_out "no status file"

# starting: alive, not ready
is "$(mget 127.0.0.1:$M /readyz)" 503 "/readyz during start: 503"
like "$(mbody 127.0.0.1:$M /readyz)" "^not ready: no generation serves yet \(generation 1 is starting\)$" \
	"... with the reason"
"$BATON" --health --status-file="$ST" >"$T/h.out" 2>"$T/h.err"
is "$?" 0 "--health during start: 0 (the supervisor runs)"
"$BATON" --health --ready --status-file="$ST" >"$T/h.out" 2>"$T/h.err"
is "$?" 1 "--health --ready during start: 1"
file_like "$T/h.err" "not ready: no generation serves yet" "... with a one-line reason"

# serving
wait_until 20 mcode_is 127.0.0.1:$M /readyz 200 || bail_out "never ready"
pass "/readyz once generation 1 serves: 200"
like "$(mbody 127.0.0.1:$M /readyz)" "^ready: generation 1 serves$" "... saying which"
"$BATON" --health --ready --status-file="$ST" >"$T/h.out" 2>"$T/h.err"
is "$?" 0 "--health --ready once it serves: 0"
"$BATON" --health --status-file="$ST" --ready >/dev/null 2>&1
is "$?" 0 "--ready after --status-file reads the same"
wpid=$(children "$BATON_PID" | head -n 1)

# stopping with --stop-delay=$SD
t0=$(now_ms)
kill -TERM "$BATON_PID"
wait_until 5 mcode_is 127.0.0.1:$M /readyz 503
pass "/readyz right after SIGTERM: 503"
like "$(mbody 127.0.0.1:$M /readyz)" "^not ready: stopping$" "... the reason: stopping"
is "$(mget 127.0.0.1:$M /healthz)" 200 "/healthz still 200 (the loop runs)"
check "the worker still serves during the delay" http_ok 127.0.0.1:$P
"$BATON" --health --ready --status-file="$ST" >/dev/null 2>"$T/h.err"
is "$?" 1 "--health --ready while stopping: 1"
file_like "$T/h.err" "not ready: stopping" "... because it is stopping"
wait_signal TERM "$wpid" 10
cmp_ok "$(ms_between "$t0" "$(signal_ms TERM "$wpid")")" -ge $(($(_to_ms "$SD") - 200)) \
	"the worker got SIGTERM only after the $SD s delay"
wait_baton_exit 10
is "$BATON_STATUS" 0 "then baton stops cleanly"
file_like "$T/baton.err" "received SIGTERM: not ready any more; the workers keep serving ${SD}s \(--stop-delay\)" \
	"the delay is in the log"

# a second TERM skips the delay
start_baton --port=127.0.0.1:$P --status-file="$ST" \
	--metrics-listen=127.0.0.1:$M --stop-delay=60 -- "${WORKER_CMD[@]}"
wait_until 10 mcode_is 127.0.0.1:$M /readyz 200 || bail_out "second baton never ready"
kill -TERM "$BATON_PID"
wait_until 5 mcode_is 127.0.0.1:$M /readyz 503
kill -TERM "$BATON_PID"
check "a second SIGTERM stops at once" wait_baton_exit 10
file_like "$T/baton.err" "received SIGTERM: stopping now, before the end of --stop-delay" \
	"... and says so"

# killed: --health says not running
start_baton --port=127.0.0.1:$P --status-file="$ST" -- "${WORKER_CMD[@]}"
wait_until 10 eval '"$BATON" --health --ready --status-file="$ST" >/dev/null 2>&1' ||
	bail_out "third baton never ready"
kill -KILL "$BATON_PID"
wait_baton_exit 10
"$BATON" --health --status-file="$ST" >/dev/null 2>"$T/h.err"
is "$?" 1 "--health after kill -9: 1"
file_like "$T/h.err" "not running: supervisor $BATON_PID \(from $ST\.json\) is gone" \
	"... naming the gone supervisor"
done_testing
