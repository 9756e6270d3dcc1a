#!/bin/bash
# SPDX-License-Identifier: ISC
# HUP storm: 100 HUPs in quick succession under load. HUPs during a
# restart coalesce into one follow-up restart; the storm ends with exactly one
# serving generation, no zombie, baton's fd count and RSS as before, and no
# failed request.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/blackbox/lib-restart.sh"
baton_only_script "coalescing and the JSON status are baton's"

P=$(free_port)
L=$T/baton.log
serve_baton --until=status:1 --port=127.0.0.1:$P --interval=0.2 --log-file="$L" --status-file="$T/status" \
	-- "$WORKER" --quiet
# one restart first, so that whatever baton allocates once is allocated
kill -HUP "$BATON_PID"
wait_status "$T/status" 2 10 || bail_out "the first restart did not go through"
wait_settled "$T/status" 5
fds0=$(proc_fds "$BATON_PID")
rss0=$(proc_rss_kb "$BATON_PID")
diag "before: $fds0 fds, RSS $rss0 kB, fds: $(ls -l /proc/"$BATON_PID"/fd | awk 'NR > 1 { print $9 $10 $11 }' | tr '\n' ' ')"

start_load lg 127.0.0.1 $P --seconds "$(scaled 6)" --max-requests 60000 --concurrency 4 --pause-ms 2 --timeout-ms "$(scaled_ms 3000)"
nap 0.3
t0=$(now_ms)
for i in $(seq 1 100); do
	kill -HUP "$BATON_PID" || break
	[ $((i % 2)) = 0 ] && sleep 0.02
done
diag "100 HUPs sent in $(($(now_ms) - t0)) ms"
check "baton survives the storm" pid_alive "$BATON_PID"
check "it settles: one generation in the status file, nothing starting or queued" \
	wait_settled "$T/status" 15
last=$(json_field "$T/status.json" last_generation)
diag "generations started: $last; $(log_count "$L" 'one more restart will follow') HUPs coalesced"
cmp_ok "$last" -gt 2 "the storm restarted the workers (last generation $last)"
cmp_ok "$last" -le 102 "never more than one generation per HUP"
is "$(status_lines "$T/status")" 1 "the status file has exactly one line"
is "$(status_gens "$T/status")" "$last" "and it is the last generation started"
is "$(json_states "$T/status.json")" "$last:serving" "the JSON status: one generation, serving"
is "$(json_field "$T/status.json" restart_pending)" false "no restart pending"
wpid=$(status_pid_of "$T/status" "$last")
is "$(live_children "$BATON_PID")" "$wpid" "baton has exactly one child left: the serving worker"
is "$(zombies_of "$BATON_PID")" "" "no <defunct> child of baton"
is "$(http_gen 127.0.0.1:$P)" "$last" "generation $last answers"

fds1=$(proc_fds "$BATON_PID")
rss1=$(proc_rss_kb "$BATON_PID")
diag "after: $fds1 fds, RSS $rss1 kB, fds: $(ls -l /proc/"$BATON_PID"/fd | awk 'NR > 1 { print $9 $10 $11 }' | tr '\n' ' ')"
is "$fds1" "$fds0" "baton's fd count is what it was ($fds0)"
if grep -q libasan "/proc/$BATON_PID/maps" 2>/dev/null; then
	# AddressSanitizer quarantines freed memory by design: RSS says
	# nothing about leaks there (LeakSanitizer checks those at exit)
	skip "baton's RSS grew by at most 256 kB" "baton is built with AddressSanitizer"
else
	cmp_ok $((rss1 - rss0)) -le 256 "baton's RSS grew by at most 256 kB (${rss0} -> ${rss1} kB)"
fi

finish_load lg 20
is "$LOAD_STATUS" 0 "no request failed during the storm"
like "$LOAD_OUT" " failed=0 refused=0 reset=0 timeout=0 " "none refused, reset or timed out"
n=$(load_val requests)
cmp_ok "${n:-0}" -ge 1000 "the load was real ($n requests)"

# and baton still works normally
kill -HUP "$BATON_PID"
check "one more HUP after the storm starts generation $((last + 1))" \
	wait_status "$T/status" $((last + 1)) 5
is "$(live_children "$BATON_PID")" "$(status_pid_of "$T/status" $((last + 1)))" \
	"and leaves one child"
kill -TERM "$BATON_PID"
check "TERM: baton exits" wait_baton_exit 10
is "$BATON_STATUS" 0 "with status 0"
done_testing
