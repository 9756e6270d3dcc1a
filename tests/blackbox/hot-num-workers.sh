#!/bin/bash
# SPDX-License-Identifier: ISC
# --num-workers=3: three worker processes per generation, told their
# index in BATON_WORKER_INDEX; with --ready=notify a generation is ready once
# all three sent READY=1; a serving worker that dies is replaced alone, in
# the same generation. Also SIGUSR1: baton reopens --log-file (rotation).
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/blackbox/lib-restart.sh"
baton_only_script "--num-workers and SIGUSR1 are extensions"

# worker i needs i times 1.5 s (scaled) to boot: the generation is ready
# after 3 s, and 1.5 s after its second worker
B1=$(scaled 1.5)
B2=$(scaled 3)
B2_MS=$(_to_ms "$B2")
cat >"$T/app" <<APP
#!/bin/sh
case "\$BATON_WORKER_INDEX" in 0) d=0 ;; 1) d=$B1 ;; *) d=$B2 ;; esac
exec "$WORKER" --report "$T/r.%g.%p" --on-signal-log "$T/signals.log" --notify-ready \
	--boot-delay "\$d"
APP
chmod +x "$T/app"
P=$(free_port)
L=$T/baton.log
# up once the log says so (its timestamp is read below), and the status
# file lists the three workers
serve_baton "--until=log:generation 1 is serving" --port=127.0.0.1:$P --num-workers=3 --ready=notify \
	--log-file="$L" --pid-file="$T/pid" --status-file="$T/status" -- "$T/app"
wait_status "$T/status" "1 1 1" 10 || bail_out "the status file does not list 3 workers: $(cat "$T/status")"

# gen_pids GEN: pids from the reports of GEN, sorted; gen_indexes GEN
gen_pids() {
	local f
	for f in $(reports_of "$1"); do report_val "$f" pid; done | sort -n | tr '\n' ' ' | sed 's/ $//'
}
gen_indexes() {
	local f
	for f in $(reports_of "$1"); do report_env "$f" BATON_WORKER_INDEX; done | sort | tr '\n' ' ' | sed 's/ $//'
}
pid_of_index() { # pid_of_index GEN INDEX: the newest report's pid
	local f
	# by modification time: pids are not ordered (they wrap, and
	# "10012" sorts before "9944")
	for f in $(ls -tr $(reports_of "$1") 2>/dev/null); do
		[ "$(report_env "$f" BATON_WORKER_INDEX)" = "$2" ] && report_val "$f" pid
	done | tail -n 1
}

is "$(reports_of 1 | wc -l | tr -d ' ')" 3 "generation 1 has three workers"
is "$(gen_indexes 1)" "0 1 2" "BATON_WORKER_INDEX is 0, 1 and 2"
pids1=$(gen_pids 1)
is "$(status_pids "$T/status" 1)" "$pids1" "the status file lists the three pids"
t_start=$(log_ms "$L" 'starting new worker [0-9]+ \(generation 1, worker 0\)')
t_serving=$(log_ms "$L" 'generation 1 is serving')
is "$(log_count "$L" '\(generation 1\) is ready')" 3 "three READY=1 are logged for generation 1"
if [ -n "$t_start" ] && [ -n "$t_serving" ]; then
	cmp_ok $((t_serving - t_start)) -ge $((B2_MS - 100)) \
		"generation 1 is serving only once the slowest worker is ready ($((t_serving - t_start)) ms)"
else
	fail "the start and serving lines are logged" "start=$t_start serving=$t_serving" "$(tail -n 15 "$L")"
fi

# a restart waits for all three new workers
start_load lg 127.0.0.1 $P --seconds "$(scaled 4)" --max-requests 40000 --concurrency 3 --pause-ms 2 --timeout-ms "$(scaled_ms 2000)"
nap 0.3
kill -HUP "$BATON_PID"
# the moment two of the three new workers are ready: the third is 1.5 s
# (scaled) away, and the old generation must still be whole
_two_ready() { [ "$(log_count "$L" '\(generation 2\) is ready')" -ge 2 ]; }
wait_until 6 _two_ready || diag "generation 2: fewer than two workers ready: $(tail -n 5 "$L")"
is "$(status_pids "$T/status" 1)" "$pids1" "two new workers ready of three: the three old workers are listed"
alive=0
for p in $pids1; do pid_alive "$p" && alive=$((alive + 1)); done
is "$alive" 3 "all three old workers are alive while the third new one boots"
is "$(awk '$1 == "TERM"' "$T/signals.log" 2>/dev/null | wc -l | tr -d ' ')" 0 "no TERM sent yet"
check "generation 2 takes over with three workers" wait_status "$T/status" "2 2 2" 8
t_start=$(log_ms "$L" 'starting new worker [0-9]+ \(generation 2, worker 0\)')
t_last_ready=$(log_all_ms "$L" '\(generation 2\) is ready' | sort -n | tail -n 1)
t_retire=$(log_ms "$L" 'generation 2 is ready; retiring generation 1')
is "$(log_count "$L" '\(generation 2\) is ready')" 3 "three READY=1 are logged for generation 2"
if [ -n "$t_start" ] && [ -n "$t_last_ready" ] && [ -n "$t_retire" ]; then
	cmp_ok "$t_retire" -ge "$t_last_ready" "generation 1 retired after the third READY=1"
	cmp_ok $((t_retire - t_start)) -ge $((B2_MS - 100)) "that is after the slowest boot ($((t_retire - t_start)) ms)"
else
	fail "the start, ready and retire lines are logged" \
		"start=$t_start ready=$t_last_ready retire=$t_retire" "$(tail -n 15 "$L")"
fi
check "the three old workers are gone" wait_until 5 _none_alive $pids1
finish_load lg 15
is "$LOAD_STATUS" 0 "no request failed during the restart"

# one serving worker dies: only that one is replaced, in generation 2
pids2=$(gen_pids 2)
victim=$(pid_of_index 2 1)
kill -KILL "$victim"
check "the dead worker is logged" wait_file_contains "$L" \
	"worker $victim \\(generation 2\\) killed by signal (9|KILL|SIGKILL) unexpectedly" 3
check "a replacement starts" wait_until 5 eval '[ "$(reports_of 2 | wc -l)" -ge 4 ]'
newpid=$(pid_of_index 2 1)
isnt "$newpid" "$victim" "worker 1 has a new pid ($newpid)"
f=$(for r in $(reports_of 2); do grep -l "^pid $newpid\$" "$r"; done)
is "$(report_val "$f" generation)" 2 "the replacement is in generation 2"
is "$(report_env "$f" BATON_WORKER_INDEX)" 1 "with BATON_WORKER_INDEX=1"
file_like "$L" "starting new worker $newpid \\(generation 2, worker 1\\)" "its start is logged with its index"
others=$(for p in $pids2; do [ "$p" != "$victim" ] && echo "$p"; done | tr '\n' ' ' | sed 's/ $//')
ok=1
for p in $others; do pid_alive "$p" || ok=0; done
is "$ok" 1 "the two other workers keep running ($others)"
want=$(echo $others $newpid | tr ' ' '\n' | sort -n | tr '\n' ' ' | sed 's/ $//')
_status_pids_are() { [ "$(status_pids "$T/status" 2)" = "$want" ]; }
if wait_until 5 _status_pids_are; then
	pass "the status file lists generation 2's three live workers"
else
	fail "the status file lists generation 2's three live workers" \
		"got:  '$(status_pids "$T/status" 2)'" "want: '$want'" "JSON: $(cat "$T/status.json")"
fi
is "$(status_gens "$T/status")" "2 2 2" "still generation 2 only"
# worker 1 boots in 1 s, then says READY=1: the JSON status shows it
_json_shows_new() { grep -q "{\"index\":1,\"pid\":$newpid,\"alive\":true,\"ready\":true" "$T/status.json"; }
if wait_until 4 _json_shows_new; then
	pass "the JSON status shows the replacement as worker 1, alive and ready"
else
	fail "the JSON status shows the replacement as worker 1, alive and ready" \
		"got: $(grep -o '"workers":\[[^]]*\]' "$T/status.json")"
fi
check "no generation 3" test -z "$(reports_of 3)"

# SIGUSR1 reopens the log file
mv "$L" "$L.1"
kill -USR1 "$BATON_PID"
check "USR1: baton reopens the log file at its path" wait_file_contains "$L" 'reopened log file' 3
kill -HUP "$BATON_PID"
check "a HUP after the rotation" wait_status "$T/status" "3 3 3" 8
file_like "$L" 'generation 3 is ready; retiring generation 2' "new lines go to the new file"
file_unlike "$L.1" 'generation 3|reopened' "and not to the moved one"
file_like "$L.1" 'generation 2 is ready; retiring generation 1' "the moved file keeps the old lines"

# --restart counts a generation once, however many workers it has
RUN_TIMEOUT=15
run_baton --restart --pid-file="$T/pid" --status-file="$T/status"
is "$RUN_STATUS" 0 "--restart with three workers per generation exits 0"
[ "$RUN_STATUS" = 0 ] || diag "--restart said: $RUN_ERR"
is "$(status_gens "$T/status")" "4 4 4" "when generation 4's three workers serve alone"
done_testing
