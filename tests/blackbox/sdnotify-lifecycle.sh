#!/bin/bash
# SPDX-License-Identifier: ISC
# baton tells its own service manager (NOTIFY_SOCKET, as Type=notify and
# Type=notify-reload expect): READY=1 + STATUS= once generation 1 serves and
# not before; on HUP RELOADING=1 with MONOTONIC_USEC taken after the HUP,
# then READY=1 + STATUS= when the new generation serves or is rolled back;
# STOPPING=1 at stop; all of it still after a SIGUSR2 re-exec.
# --restart-retries=0: one rollback (a retry would serve, and send its own
# READY=1, once $T/fail is gone).
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/blackbox/lib-sdnotify.sh"

P=$(free_port)
# generation 2 and later fail while $T/fail exists: a rollback on demand
cat >"$T/w.sh" <<W
#!/bin/sh
[ -e "$T/fail" ] && [ "\$SERVER_STARTER_GENERATION" -gt 1 ] && exit 3
exec "$WORKER" --report "$T/report.%g" --on-signal-log "$T/signals.log"
W
chmod +x "$T/w.sh"
sink_start -- --interval=1 --restart-retries=0 --port=127.0.0.1:$P -- "$T/w.sh"
check "generation 1 serves" wait_http 127.0.0.1:$P 10
check "READY=1 reaches the manager" wait_sink 'READY=1' 10
start=$(line_usec "$(grep ' start pid=' "$SLOG")")
ready=$(sink_msgs 'READY=1' | head -n 1)
is "$(line_pid "$ready")" "$BATON_PID" "sent by baton itself (SCM_CREDENTIALS)"
cmp_ok "$(($(line_usec "$ready") - start))" -ge 1000000 \
	"not before generation 1 has lasted --interval=1 ($(($(line_usec "$ready") - start)) us after the start)"
is "$(line_field "$ready" STATUS)" "generation 1 serving" "with STATUS=generation 1 serving"
is "$(sink_count '(READY|RELOADING|STOPPING)=1')" 1 "nothing else before the first HUP"

# a HUP: RELOADING=1, MONOTONIC_USEC between the HUP and its receipt
t0=$("$SINK" now)
kill -HUP "$BATON_PID"
check "RELOADING=1 on HUP" wait_sink 'RELOADING=1' 10
rel=$(sink_msgs 'RELOADING=1' | head -n 1)
mono=$(line_field "$rel" MONOTONIC_USEC)
like "$mono" '^[0-9]+$' "with MONOTONIC_USEC ($mono)"
cmp_ok "${mono:-0}" -ge "$t0" "MONOTONIC_USEC is not earlier than the HUP ($t0)"
cmp_ok "${mono:-0}" -le "$(line_usec "$rel")" "nor later than its receipt"
check "READY=1 once generation 2 serves" wait_sink 'READY=1\|STATUS=generation 2 serving' 10
check "in the order RELOADING=1, READY=1" sink_order 'RELOADING=1' 'READY=1\|STATUS=generation 2 serving'
check "generation 2 answers" wait_gen 127.0.0.1:$P 2 10

# a HUP that is rolled back: READY=1 too, the STATUS= says why
touch "$T/fail"
kill -HUP "$BATON_PID"
check "a rolled-back restart ends the reload with READY=1" \
	wait_sink 'READY=1\|STATUS=restart failed: generation 3 .*generation 2 keeps serving' 10
check "after its own RELOADING=1" sink_order 'STATUS=generation 2 serving' 'RELOADING=1' \
	'READY=1\|STATUS=restart failed: generation 3'
rm -f "$T/fail"

# a re-exec keeps the manager's socket
kill -USR2 "$BATON_PID"
check "after a SIGUSR2 re-exec, a STATUS= from the new image" wait_sink 'STATUS=re-executed' 10
kill -HUP "$BATON_PID"
check "RELOADING=1 after the re-exec" wait_sink 'RELOADING=1' 3 10
check "READY=1 when generation 4 serves" wait_sink 'READY=1\|STATUS=generation 4 serving' 10
last=$(sink_msgs 'STATUS=generation 4 serving' | head -n 1)
is "$(line_pid "$last")" "$BATON_PID" "still from baton's pid"

kill -TERM "$BATON_PID"
check "baton exits on TERM" wait_file_contains "$SLOG" " exit pid=$BATON_PID status=0" 10
check "STOPPING=1 before it exits" sink_order 'STATUS=generation 4 serving' 'STOPPING=1'
stop=$(sink_msgs 'STOPPING=1' | head -n 1)
is "$(line_pid "$stop")" "$BATON_PID" "sent by baton"
is "$(sink_count 'READY=1')" 4 "four READY=1 in all (start, HUP, rollback, HUP)"
done_testing
