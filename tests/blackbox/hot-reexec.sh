#!/bin/bash
# SPDX-License-Identifier: ISC
# Self re-exec: SIGUSR2 makes baton exec its own binary again,
# keeping its pid, the listening sockets, the locked pid file and the running
# workers (still its children), so a new baton binary takes over without a
# restart of the workers. Under load: no failed request. A replaced binary is
# picked up; a binary that cannot be executed leaves baton running as before.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/blackbox/lib-restart.sh"
baton_only_script "self re-exec (SIGUSR2) is baton's"

cat >"$T/app" <<APP
#!/bin/sh
[ -e "$T/slow" ] && exec "$WORKER" --report "$T/report.%g" --on-signal-log "$T/signals.log" --notify-ready --boot-delay $(scaled 3)
exec "$WORKER" --report "$T/report.%g" --on-signal-log "$T/signals.log" --notify-ready --term-delay 1.5
APP
chmod +x "$T/app"

# ---- 1. re-exec under load ---------------------------------------------------
P=$(free_port)
L=$T/baton.log
serve_baton --until=status:1 --port=127.0.0.1:$P --ready=notify --log-file="$L" --pid-file="$T/pid" \
	--status-file="$T/status" -- "$T/app"
pid1=$(report_val "$(report 1)" pid)
fds0=$(proc_fds "$BATON_PID")

start_load lg 127.0.0.1 $P --seconds "$(scaled 4)" --max-requests 40000 --concurrency 4 --pause-ms 2 --timeout-ms "$(scaled_ms 2000)"
nap 0.5
kill -USR2 "$BATON_PID"
check "USR2: baton re-executes" wait_file_contains "$L" 're-executed: generation 1 keeps serving' 5
file_like "$L" 'received SIGUSR2: re-executing' "the log announces it"
nap 0.5
kill -USR2 "$BATON_PID"
check "a second USR2: re-executed again" \
	wait_until 5 eval '[ "$(log_count "$L" "re-executed: generation 1 keeps serving")" = 2 ]'
finish_load lg 15
is "$LOAD_STATUS" 0 "no request failed across two re-execs"
like "$LOAD_OUT" " failed=0 refused=0 reset=0 timeout=0 " "none refused, reset or timed out"
like "$LOAD_OUT" " min_gen=1 max_gen=1 " "every answer from generation 1"
check "baton is still running" pid_alive "$BATON_PID"
is "$(cat "$T/pid")" "$BATON_PID" "with the same pid (pid file)"
check "the same worker is alive" pid_alive "$pid1"
is "$(proc_ppid "$pid1")" "$BATON_PID" "and still baton's child"
is "$(http_pid 127.0.0.1:$P)" "$pid1" "it answers"
is "$(status_pid_of "$T/status" 1)" "$pid1" "the status file lists it"
is "$(json_states "$T/status.json")" "1:serving" "the JSON status: generation 1 serving"
is "$(signals_of "$pid1")" "" "the worker got no signal"
is "$(proc_fds "$BATON_PID")" "$fds0" "baton has as many fds as before ($fds0)"
P2=$(free_port)
RUN_TIMEOUT=5 run_baton --port=127.0.0.1:$P2 --pid-file="$T/pid" -- "$WORKER"
is "$RUN_STATUS" 3 "the pid file is still locked: a second baton exits 3"

kill -HUP "$BATON_PID"
check "a HUP after the re-exec: generation 2 takes over (readiness works)" \
	wait_status "$T/status" "1 2" 8
# generation 1 drains for 1.5 s after its TERM: re-exec meanwhile
kill -USR2 "$BATON_PID"
check "USR2 while generation 1 is retiring: re-executed" \
	wait_until 3 eval '[ "$(log_count "$L" "re-executed: generation 2 keeps serving")" = 1 ]'
check "the retiring worker is still alive after the re-exec" pid_alive "$pid1"
like "$(json_states "$T/status.json")" "2:serving.*1:retiring|1:retiring.*2:serving" \
	"the JSON status carries the retiring generation across"
check "generation 1 is retired and reaped" wait_pid_gone "$pid1" 5
check "the status file then lists generation 2 only" wait_status "$T/status" 2 3
file_like "$L" "worker $pid1 \\(generation 1\\) exited with status 0" "its exit is seen by the new image"
is "$(zombies_of "$BATON_PID")" "" "no zombie"
is "$(report_val "$(report 2)" fds)" "0 1 2 3" "the new worker has stdio and the listener only"

# while a generation is starting, USR2 is refused (and said so)
touch "$T/slow"
kill -HUP "$BATON_PID"
wait_report 3 5
nap 0.3
kill -USR2 "$BATON_PID"
check "USR2 during a restart is refused" wait_file_contains "$L" 'cannot re-exec while a generation is starting' 3
check "the restart still completes" wait_status "$T/status" 3 8
check "baton is still running" pid_alive "$BATON_PID"
rm -f "$T/slow"
kill -TERM "$BATON_PID"
check "TERM: baton exits" wait_baton_exit 10
is "$BATON_STATUS" 0 "with status 0"
check "the pid file is removed" test ! -e "$T/pid"

# ---- 2. the binary was replaced -----------------------------------------------
rm -f "$T"/report.*
mkdir "$T/bin"
cp "$BATON" "$T/bin/baton"
L=$T/baton2.log
P=$(free_port)
# (with --die-with-supervisor: the exec must not count as baton's death)
BATON=$T/bin/baton serve_baton --until=status:1 --port=127.0.0.1:$P --ready=notify --die-with-supervisor \
	--log-file="$L" --status-file="$T/status" -- "$T/app"
pid1=$(report_val "$(report 1)" pid)
ino0=$(exe_inode "$BATON_PID")
is "$ino0" "$(stat -c %i "$T/bin/baton")" "baton runs the copy"
cp "$T/bin/baton" "$T/bin/baton.new"
mv -f "$T/bin/baton.new" "$T/bin/baton"
ino1=$(stat -c %i "$T/bin/baton")
isnt "$ino1" "$ino0" "the file is replaced by another inode"
like "$(readlink /proc/"$BATON_PID"/exe)" '\(deleted\)$' "baton still runs the old (deleted) file"
kill -USR2 "$BATON_PID"
check "USR2: re-executed" wait_file_contains "$L" 're-executed: generation 1 keeps serving' 5
is "$(exe_inode "$BATON_PID")" "$ino1" "/proc/PID/exe is now the new inode"
is "$(readlink /proc/"$BATON_PID"/exe)" "$T/bin/baton" "and the path has no (deleted)"
is "$(http_pid 127.0.0.1:$P)" "$pid1" "the same worker answers (--die-with-supervisor did not fire)"

# ---- 3. the exec fails ----------------------------------------------------------
rm -f "$T/bin/baton"
kill -USR2 "$BATON_PID"
check "USR2 with the binary removed: 'cannot re-exec' is logged" \
	wait_file_contains "$L" 'cannot re-exec' 5
grep 'cannot re-exec' "$L" | head -n 2 | while IFS= read -r line; do diag "log: $line"; done
nap 0.3
check "baton keeps running" pid_alive "$BATON_PID"
is "$(exe_inode "$BATON_PID")" "$ino1" "the same image"
is "$(http_pid 127.0.0.1:$P)" "$pid1" "the same worker answers"
is "$(proc_ppid "$pid1")" "$BATON_PID" "still baton's child"
kill -HUP "$BATON_PID"
check "a HUP still works: generation 2 serves" wait_status "$T/status" 2 8
check "generation 1 is retired" wait_pid_gone "$pid1" 5
is "$(report_val "$(report 2)" fds)" "0 1 2 3" \
	"the new worker has stdio and the listener only (no fd left open by the failed exec)"
kill -TERM "$BATON_PID"
check "TERM: baton exits" wait_baton_exit 10
is "$BATON_STATUS" 0 "with status 0"
done_testing
