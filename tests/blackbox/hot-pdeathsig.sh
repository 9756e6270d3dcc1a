#!/bin/bash
# SPDX-License-Identifier: ISC
# --die-with-supervisor: workers get PR_SET_PDEATHSIG, so when baton
# is SIGKILLed (no chance to stop them) they are gone within a second, the
# serving and the retiring ones alike. Without the option they survive, as
# under start_server. Also: baton is a child subreaper, so a process a worker
# double-forks is reparented to baton and reaped by it.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/blackbox/lib-restart.sh"
baton_only_script "--die-with-supervisor is an extension"

# ---- with the option ------------------------------------------------------
P=$(free_port)
serve_baton --until=status:1 --port=127.0.0.1:$P --die-with-supervisor --status-file="$T/status" \
	-- "${WORKER_CMD[@]}" --ignore-term
pid1=$(report_val "$(report 1)" pid)
kill -HUP "$BATON_PID"
check "HUP: generation 2 serves" wait_status "$T/status" "1 2" 8
pid2=$(report_val "$(report 2)" pid)
check "the retiring worker (it ignores TERM) is alive" pid_alive "$pid1"
check "the serving worker is alive" pid_alive "$pid2"
t0=$(now_ms)
{ kill -KILL "$BATON_PID"; wait "$BATON_PID"; } 2>/dev/null # reaps it (quietly)
check "SIGKILL to baton: both workers are gone within 1 s" wait_until 1 _none_alive "$pid1" "$pid2"
diag "gone after $(($(now_ms) - t0)) ms"
check "the port is closed" wait_until 2 eval '! port_listening '"$P"
rm -f "$T"/report.* "$T/status" "$T/status.json"

# ---- without it ----------------------------------------------------------------
P=$(free_port)
serve_baton --until=status:1 --port=127.0.0.1:$P --status-file="$T/status" -- "${WORKER_CMD[@]}"
pid1=$(report_val "$(report 1)" pid)
{ kill -KILL "$BATON_PID"; wait "$BATON_PID"; } 2>/dev/null
nap 1.5
check "without --die-with-supervisor the worker survives baton's SIGKILL" pid_alive "$pid1"
is "$(http_pid 127.0.0.1:$P)" "$pid1" "and still answers"
kill -TERM "$pid1"
check "cleaned up" wait_pid_gone "$pid1" 5

# ---- subreaper ------------------------------------------------------------------
cat >"$T/app" <<APP
#!/bin/sh
# double fork: the grandchild is orphaned at once
( sleep $(scaled 3) & echo \$! >"$T/orphan" )
exec "$WORKER" --report "$T/report.%g"
APP
chmod +x "$T/app"
rm -f "$T"/report.*
P=$(free_port)
serve_baton --until=report:1 --port=127.0.0.1:$P -- "$T/app"
orphan=$(cat "$T/orphan")
check "the double-forked process is alive" pid_alive "$orphan"
is "$(proc_ppid "$orphan")" "$BATON_PID" "it was reparented to baton (child subreaper)"
check "it exits" wait_pid_gone "$orphan" 5
nap 0.5
is "$(zombies_of "$BATON_PID")" "" "baton reaped it: no <defunct> child"
check "baton is still running" pid_alive "$BATON_PID"
kill -TERM "$BATON_PID"
check "TERM: baton exits" wait_baton_exit 10
is "$BATON_STATUS" 0 "with status 0"
done_testing
