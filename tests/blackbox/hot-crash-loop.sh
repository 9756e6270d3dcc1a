#!/bin/bash
# SPDX-License-Identifier: ISC
# Crash loop: a serving worker that keeps dying is restarted with
# exponential backoff (0 s, 1 s, 2 s, 4 s ... between a death and the next
# start), each death logged with its exit status; baton does not spin (it is
# asleep whenever it is looked at between restarts);
# the backoff is reset once a generation has served for a stable period (10 s).
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/blackbox/lib-restart.sh"
baton_only_script "restart backoff is baton's (start_server restarts at once)"

cat >"$T/app" <<APP
#!/bin/sh
[ -e "$T/crash" ] && exec "$WORKER" --report "$T/report.%g" --notify-ready --exit-after 0.2 --exit-code 7
exec "$WORKER" --report "$T/report.%g" --notify-ready
APP
chmod +x "$T/app"
touch "$T/crash"
P=$(free_port)
L=$T/baton.log
start_baton --port=127.0.0.1:$P --ready=notify --log-file="$L" --status-file="$T/status" -- "$T/app"
wait_file_contains "$L" "supervisor \\(pid $BATON_PID\\) starting" 5 || bail_out "supervisor did not come up"
cpu0=$(proc_cpu_ticks "$BATON_PID")
state_watch_start "$BATON_PID"
t_begin=$(now_ms)

check "generation 4 dies too" wait_file_contains "$L" "\\(generation 4\\) exited with status 7" 10
# the program is fixed while baton waits 4 s before generation 5; the
# starts are counted by the log's clock up to 2 s after that death, so a
# script slowed down by a loaded machine counts the same
rm -f "$T/crash"
t_d4=$(log_ms "$L" "\\(generation 4\\) exited with status 7")
[ -n "$t_d4" ] || t_d4=$(now_ms)
sleep_until_ms $((t_d4 + 2000)) # not scaled: baton's 4 s backoff is not
spawns=$(log_count_until "$L" 'starting new worker' $((t_d4 + 2000)))
span=$((t_d4 + 2000 - t_begin))
cpu1=$(proc_cpu_ticks "$BATON_PID")
is "$spawns" 4 "4 starts in the first $((span / 1000)) s, not a tight loop"
read -r asleep looks <<<"$(state_watch_stop "$BATON_PID")"
diag "baton used $((cpu1 - cpu0)) CPU ticks during the crash loop (a figure, not a test)"
cmp_ok "$looks" -ge 20 "baton's state was looked at during the crash loop ($looks times)"
cmp_ok $((asleep * 2)) -ge "$looks" "baton does not spin: asleep at $asleep of $looks looks (a spinning loop is always runnable)"

for g in 1 2 3 4; do
	p=$(report_val "$(report $g)" pid)
	file_like "$L" "worker $p \\(generation $g\\) exited with status 7 unexpectedly; restarting" \
		"generation $g's death is logged with pid and exit status"
done

check "generation 5 starts and serves" wait_gen 127.0.0.1:$P 5 6
deaths=$(log_all_ms "$L" 'exited with status 7 unexpectedly' | tr '\n' ' ')
starts=$(log_all_ms "$L" 'starting new worker' | tr '\n' ' ')
diag "deaths (ms): $deaths" "starts (ms): $starts"
read -r -a D <<<"$deaths"
read -r -a S <<<"$starts"
want=(0 1000 2000 4000)
for i in 0 1 2 3; do
	if [ -z "${D[$i]}" ] || [ -z "${S[$((i + 1))]}" ]; then
		fail "backoff after death $((i + 1)): the log has the lines" "deaths: $deaths" "starts: $starts"
		continue
	fi
	gap=$((S[i + 1] - D[i]))
	cmp_ok "$gap" -ge $((want[i] - 100)) "death $((i + 1)) -> next start: ${gap} ms (want ~${want[i]} ms)"
	cmp_ok "$gap" -le $((want[i] + $(scaled_ms 600))) "death $((i + 1)) -> next start: not much later than ~${want[i]} ms"
done
file_like "$L" 'retrying in 1s' "the log announces the 1 s wait"
file_like "$L" 'retrying in 2s' "the log announces the 2 s wait"
file_like "$L" 'retrying in 4s' "the log announces the 4 s wait"

# a generation that served 10 s (stable) resets the backoff
pid5=$(report_val "$(report 5)" pid)
t_ready=$(log_ms "$L" "worker $pid5 \\(generation 5\\) is ready")
[ -n "$t_ready" ] || t_ready=$(now_ms)
while [ $(($(now_ms) - t_ready)) -lt 10500 ]; do sleep 0.2; done
n_retry=$(log_count "$L" 'retrying in')
kill -KILL "$pid5"
check "a stable worker killed: generation 6 starts" wait_report 6 3
t_d=$(log_ms "$L" "worker $pid5 \\(generation 5\\) killed by signal (9|KILL|SIGKILL) unexpectedly")
pid6=$(report_val "$(report 6)" pid)
t_s=$(log_ms "$L" "starting new worker $pid6 \\(generation 6\\)")
if [ -n "$t_d" ] && [ -n "$t_s" ]; then
	cmp_ok $((t_s - t_d)) -le "$(scaled_ms 500)" "after 10 s of service the backoff is reset: restarted at once ($((t_s - t_d)) ms)"
else
	fail "after 10 s of service the backoff is reset" "death=$t_d start=$t_s" "$(tail -n 10 "$L")"
fi
is "$(log_count "$L" 'retrying in')" "$n_retry" "no 'retrying in' for it"

# and the count starts again: a second quick death waits 1 s
check "generation 6 serves" wait_gen 127.0.0.1:$P 6 5
kill -KILL "$pid6"
check "killed again at once: generation 7 starts" wait_report 7 4
t_d=$(log_ms "$L" "worker $pid6 \\(generation 6\\) killed by signal")
t_s=$(log_ms "$L" "starting new worker $(report_val "$(report 7)" pid) \\(generation 7\\)")
if [ -n "$t_d" ] && [ -n "$t_s" ]; then
	gap=$((t_s - t_d))
	cmp_ok "$gap" -ge 900 "a second death in a row waits ~1 s again (${gap} ms)"
	cmp_ok "$gap" -le $((1000 + $(scaled_ms 600))) "and not much more (${gap} ms)"
else
	fail "the second death and the next start are logged" "death=$t_d start=$t_s"
	fail "(no timestamps to compare)"
fi
check "the supervisor is still running" pid_alive "$BATON_PID"
done_testing
