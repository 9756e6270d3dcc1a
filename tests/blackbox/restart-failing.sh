#!/bin/bash
# SPDX-License-Identifier: ISC
# Bug fix: --restart never hangs. When the new generation fails, the restart
# is rolled back (the old generation keeps serving, no retry until the next
# HUP) and --restart exits 4 at once. start_server waits forever.
# --restart-retries=0: a single rollback (restart-retries.sh tests the
# default, retried, case).
. "$(dirname "$0")/lib.sh"
baton_only_script "start_server --restart hangs when the new generation fails"

cat >"$T/app" <<APP
#!/bin/sh
[ -e "$T/broken" ] && exit 3
exec "$WORKER" --report "$T/report.%g" --on-signal-log "$T/signals.log"
APP
chmod +x "$T/app"
P=$(free_port)
serve_baton --until=status:1 --port=127.0.0.1:$P --restart-retries=0 --pid-file="$T/pid" --status-file="$T/status" -- "$T/app"
pid1=$(report_val "$(report 1)" pid)

touch "$T/broken"
RUN_TIMEOUT=12
run_baton --restart --pid-file="$T/pid" --status-file="$T/status"
is "$RUN_STATUS" 4 "--restart exits 4 when the new generation fails"
cmp_ok "$RUN_MS" -lt "$(scaled_ms 8000)" "quickly (${RUN_MS} ms)"
isnt "$RUN_ERR" "" "with a reason on stderr"
diag "--restart said: $RUN_ERR"
file_like "$T/baton.err" 'failed to start: exited with status 3' "the supervisor logs the failure"
check "the old generation still serves" http_ok 127.0.0.1:$P
is "$(http_gen 127.0.0.1:$P)" 1 "generation 1 answers"
is "$(signals_of "$pid1")" "" "the old worker was not signalled"
is "$(status_gens "$T/status")" 1 "the status file lists generation 1 only"
n=$(grep -c 'failed to start' "$T/baton.err")
nap 3
is "$(grep -c 'failed to start' "$T/baton.err")" "$n" "no retry until the next HUP"

rm -f "$T/broken"
run_baton --restart --pid-file="$T/pid" --status-file="$T/status"
is "$RUN_STATUS" 0 "once fixed, --restart exits 0"
check "the new generation serves" wait_until 5 eval '[ "$(http_gen 127.0.0.1:$P)" != 1 ]'
check "the old worker is gone" pid_gone "$pid1"
is "$(wc -l <"$T/status")" 1 "one generation in the status file"
done_testing
