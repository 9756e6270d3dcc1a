#!/bin/bash
# SPDX-License-Identifier: ISC
# Bug fix: an exec failure is reported at once (errno pipe); at start-up the
# supervisor exits 5; later, the serving generation stays and nothing is
# removed (start_server's child runs the supervisor's cleanup and deletes the
# pid file, status file and socket files, and retries forever at start-up).
. "$(dirname "$0")/lib.sh"
baton_only_script "exec failures"

P=$(free_port)
RUN_TIMEOUT=6
run_baton --port=127.0.0.1:$P --pid-file="$T/p0" --status-file="$T/s0" -- "$T/nope" --x
is "$RUN_STATUS" 5 "a missing program at start-up: exit 5"
like "$RUN_ERR" "^${MSG_PREFIX}cannot exec $T/nope: No such file or directory" \
	"message: cannot exec PROG: No such file or directory"
cmp_ok "$RUN_MS" -lt "$(scaled_ms 3000)" "at once (${RUN_MS} ms)"

printf 'not a program\n' >"$T/noexec"
chmod -x "$T/noexec"
run_baton --port=127.0.0.1:$P -- "$T/noexec"
is "$RUN_STATUS" 5 "a program without x permission: exit 5"
like "$RUN_ERR" "cannot exec $T/noexec: Permission denied" "message: cannot exec PROG: Permission denied"

run_baton --port=127.0.0.1:$P -- no-such-program-anywhere-$$
is "$RUN_STATUS" 5 "a program not found in PATH: exit 5"
like "$RUN_ERR" "cannot exec no-such-program-anywhere-$$" "the message names it"

# a later generation cannot be executed
cat >"$T/app" <<APP
#!/bin/sh
exec "$WORKER" --report "$T/report.%g" --on-signal-log "$T/signals.log"
APP
chmod +x "$T/app"
serve_baton --until=status:1 --port=127.0.0.1:$P --path="$T/s.sock" --pid-file="$T/pid" --status-file="$T/status" -- "$T/app"
pid1=$(report_val "$(report 1)" pid)
status_before=$(cat "$T/status")
chmod -x "$T/app"
kill -HUP "$BATON_PID"
check "the failure is reported" wait_file_contains "$T/baton.err" "cannot exec $T/app: Permission denied" 5
nap 1.5
check "the supervisor is still running" pid_alive "$BATON_PID"
check "the pid file is still there" test -f "$T/pid"
is "$(cat "$T/pid" 2>/dev/null)" "$BATON_PID" "with the supervisor's pid"
check "the status file is still there" test -f "$T/status"
is "$(cat "$T/status" 2>/dev/null)" "$status_before" "listing generation 1"
check "the socket file is still there" test -S "$T/s.sock"
check "generation 1 still answers on the port" http_ok 127.0.0.1:$P
check "and on the path" http_ok_unix "$T/s.sock"
is "$(signals_of "$pid1")" "" "the old worker was not signalled"

chmod +x "$T/app"
kill -HUP "$BATON_PID"
check "once the program is back, a HUP starts a new generation" \
	wait_until 10 eval '[ "$(http_gen 127.0.0.1:$P)" -gt 1 ] 2>/dev/null'
check "and retires generation 1" wait_pid_gone "$pid1" 10
done_testing
