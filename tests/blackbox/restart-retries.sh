#!/bin/bash
# SPDX-License-Identifier: ISC
# Drop-in retry, baton's side: a failed restart is retried with
# backoff until a generation serves (the serving one untouched throughout);
# --restart-retries=N bounds it (0: roll back for good, as baton 0.1.0 did),
# with a log line; "baton --restart" exits 4 at the first failed attempt and
# says that baton keeps retrying; the JSON status says so too.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/blackbox/lib-restart.sh"
baton_only_script "--restart-retries, the JSON status and --restart's message are baton's"

cat >"$T/app" <<APP
#!/bin/sh
[ -e "$T/broken" ] && exit 3
exec "$WORKER" --report "$T/report.%g" --on-signal-log "$T/signals.log"
APP
chmod +x "$T/app"

# up NAME ARG...: a supervisor logging to $T/NAME.log; generation 1 serves
up() {
	local name=$1
	shift
	rm -f "$T/broken"
	P=$(free_port)
	L=$T/$name.log
	CTL=(--pid-file="$T/$name.pid" --status-file="$T/$name.status")
	start_baton --port=127.0.0.1:$P --log-file="$L" "${CTL[@]}" "$@" -- "$T/app"
	wait_status "$T/$name.status" 1 10 || bail_out "supervisor $name did not come up"
	pid1=$(http_pid 127.0.0.1:$P)
}

# 1. --restart-retries=0: one attempt, rolled back, nothing more
up zero --restart-retries=0
touch "$T/broken"
kill -HUP "$BATON_PID"
check "retries=0: generation 2 fails and is rolled back" \
	wait_file_contains "$L" 'restart failed: generation 2 .*generation 1 keeps serving$' 10
sleep "$(scaled 3)"
is "$(log_count "$L" 'failed to start')" 1 "retries=0: no second attempt"
is "$(http_pid 127.0.0.1:$P)" "$pid1" "retries=0: generation 1 still serves"
is "$(json_field "$T/zero.status.json" retrying)" false "retries=0: the JSON status says no retry"
kill -TERM "$BATON_PID"
wait_baton_exit 10

# 2. --restart-retries=2: three attempts in all (0 s, then 1 s apart), then
# a log line and nothing more
up two --restart-retries=2
touch "$T/broken"
kill -HUP "$BATON_PID"
check "retries=2: baton gives up after the third attempt, and says so" \
	wait_file_contains "$L" 'restart failed: generation 4 .*generation 1 keeps serving; giving up after 3 attempts \(--restart-retries=2\)' 15
file_like "$L" 'restart failed: generation 2 .*; retrying at once' "the first retry comes at once"
file_like "$L" 'restart failed: generation 3 .*; retrying in 1s' "the second after 1 s"
sleep "$(scaled 3)"
is "$(log_count "$L" 'failed to start')" 3 "retries=2: no fourth attempt"
is "$(http_pid 127.0.0.1:$P)" "$pid1" "retries=2: generation 1 still serves"
is "$(signals_of "$pid1")" "" "and it was never signalled"
is "$(json_field "$T/two.status.json" retrying)" false "the JSON status: not retrying any more"
kill -TERM "$BATON_PID"
wait_baton_exit 10

# 3. the default: retried until it serves; --restart exits 4 at once
up forever
touch "$T/broken"
RUN_TIMEOUT=12
run_baton --restart "${CTL[@]}"
is "$RUN_STATUS" 4 "--restart exits 4 at the first failed attempt"
cmp_ok "$RUN_MS" -lt "$(scaled_ms 8000)" "quickly (${RUN_MS} ms)"
like "$RUN_ERR" "${MSG_PREFIX}restart failed: generation [23] .*exited with status 3.*; baton keeps retrying" \
	"and says that baton keeps retrying"
diag "--restart said: $RUN_ERR"
check "baton keeps retrying: a third and fourth attempt" \
	wait_file_contains "$L" 'restart failed: generation 4 .*; retrying in 2s' 15
is "$(json_field "$T/forever.status.json" retrying)" true "the JSON status: retrying"
like "$(json_field "$T/forever.status.json" retry_at)" '^[0-9]{10}' "with the time of the next attempt"
is "$(http_pid 127.0.0.1:$P)" "$pid1" "generation 1 serves throughout"
rm -f "$T/broken"
check "once fixed, a retry serves without another HUP" \
	wait_until 20 eval '[ "$(http_gen 127.0.0.1:$P)" -ge 5 ] 2>/dev/null'
check "generation 1 is retired then" wait_pid_gone "$pid1" 10
check "the JSON status: no longer retrying" \
	wait_until 5 eval '[ "$(json_field "$T/forever.status.json" retrying)" = false ]'
done_testing
