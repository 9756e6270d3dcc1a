#!/bin/bash
# SPDX-License-Identifier: ISC
# Stop timeout: a worker that ignores TERM gets SIGKILL
# --stop-timeout seconds after it, both when it is retired by a HUP and when
# baton itself is stopped with TERM; the log names the pid each time.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/blackbox/lib-restart.sh"
baton_only_script "--stop-timeout is an extension"

P=$(free_port)
L=$T/baton.log
# The stop timeout is 4 s (times the time scale): the checks that the
# worker outlived its TERM are made 1 s (scaled) after it, which leaves the
# script 3 s of slack on a loaded machine before the SIGKILL is due.
ST=$(scaled 4)
ST_MS=$(_to_ms "$ST")
serve_baton --until=status:1 --port=127.0.0.1:$P --stop-timeout="$ST" --log-file="$L" --status-file="$T/status" \
	-- "${WORKER_CMD[@]}" --ignore-term
pid1=$(report_val "$(report 1)" pid)

# retiring on HUP
kill -HUP "$BATON_PID"
check "HUP: the old worker is sent TERM" wait_signal TERM "$pid1" 5
check "generation 2 serves" wait_gen 127.0.0.1:$P 2 5
pid2=$(report_val "$(report 2)" pid)
nap 1
check "1 s later the old worker, ignoring TERM, is alive" pid_alive "$pid1"
is "$(status_gens "$T/status")" "1 2" "the status file lists the retiring generation beside the new one"
check "it is gone after the stop timeout" wait_pid_gone "$pid1" 6
t_term=$(log_ms "$L" "sending SIGTERM to worker $pid1 \\(generation 1\\)")
t_kill=$(log_ms "$L" "worker $pid1 \\(generation 1\\) still alive .*sending SIGKILL")
if [ -n "$t_term" ] && [ -n "$t_kill" ]; then
	pass "the log names the pid for the TERM and for the SIGKILL"
	cmp_ok $((t_kill - t_term)) -ge $((ST_MS - 100)) "SIGKILL not before ${ST} s ($((t_kill - t_term)) ms after TERM)"
	cmp_ok $((t_kill - t_term)) -le $((ST_MS + $(scaled_ms 600))) "SIGKILL right after ${ST} s ($((t_kill - t_term)) ms after TERM)"
else
	fail "the log names the pid for the TERM and for the SIGKILL" "term=$t_term kill=$t_kill" "$(tail -n 15 "$L")"
	fail "(no timestamps to compare)"
	fail "(no timestamps to compare)"
fi
check "the death is logged as killed by SIGKILL" wait_file_contains "$L" \
	"worker $pid1 \\(generation 1\\) killed by signal (9|KILL|SIGKILL)" 2
check "the status file lists generation 2 only" wait_status "$T/status" 2 3
check "generation 2 answers" http_ok 127.0.0.1:$P
is "$(signals_of "$pid2")" "" "the new worker got no signal"

# stopping baton
t0=$(now_ms)
kill -TERM "$BATON_PID"
check "TERM: the worker is sent TERM" wait_signal TERM "$pid2" 5
nap 1
check "1 s later baton waits for it" pid_alive "$BATON_PID"
check "baton exits after the stop timeout" wait_baton_exit 7
dt=$(($(now_ms) - t0))
is "$BATON_STATUS" 0 "with status 0"
cmp_ok "$dt" -ge $((ST_MS - 100)) "not before the stop timeout (${dt} ms)"
cmp_ok "$dt" -lt $((ST_MS + $(scaled_ms 2500))) "soon after it (${dt} ms)"
check "the worker is gone" pid_gone "$pid2"
file_like "$L" "worker $pid2 \\(generation 2\\) still alive ${ST//./\\.}s after SIGTERM: sending SIGKILL" \
	"the log: worker PID (generation 2) still alive ${ST}s after SIGTERM: sending SIGKILL"
file_like "$L" "worker $pid2 \\(generation 2\\) killed by signal (9|KILL|SIGKILL)" \
	"the log: worker PID (generation 2) killed by signal KILL"
t_term=$(log_ms "$L" "sending SIGTERM to worker $pid2 \\(generation 2\\)")
t_kill=$(log_ms "$L" "worker $pid2 \\(generation 2\\) still alive")
[ -n "$t_term" ] && [ -n "$t_kill" ] &&
	cmp_ok $((t_kill - t_term)) -ge $((ST_MS - 100)) "shutdown: SIGKILL ${ST} s after TERM ($((t_kill - t_term)) ms)"
check "the status file is removed at exit" test ! -e "$T/status"
is "$(tagged_pids)" "" "no process is left"
done_testing
