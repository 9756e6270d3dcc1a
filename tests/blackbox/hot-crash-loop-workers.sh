#!/bin/bash
# SPDX-License-Identifier: ISC
# Crash loop with --num-workers: one worker slot of a generation that
# has served for a while (past the 10 s stable period) starts crashing. The
# slot is restarted alone, in the same generation, with the same backoff as a
# single worker (0 s, 1 s, 2 s ... between a death and the next start; here
# the slot dies as soon as it starts): the generation's age must not make
# every crash look like the first one.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/blackbox/lib-restart.sh"
baton_only_script "--num-workers and restart backoff are baton's"

cat >"$T/app" <<APP
#!/bin/sh
if [ "\$BATON_WORKER_INDEX" = 1 ] && [ -e "$T/crash" ]; then
	exec "$WORKER" --report "$T/r.%g.%p" --exit-immediately 7 --quiet
fi
exec "$WORKER" --report "$T/r.%g.%p" --notify-ready --quiet
APP
chmod +x "$T/app"
P=$(free_port)
L=$T/baton.log
# up once the log says so (its timestamp is read below), and the status
# file lists the two workers
serve_baton "--until=log:generation 1 is serving" --port=127.0.0.1:$P --num-workers=2 --ready=notify \
	--log-file="$L" --status-file="$T/status" -- "$T/app"
wait_status "$T/status" "1 1" 10 || bail_out "the status file does not list 2 workers: $(cat "$T/status")"
t_ready=$(log_ms "$L" 'generation 1 is serving')
[ -n "$t_ready" ] || bail_out "no 'generation 1 is serving' line"
w0=$(grep -l '^env BATON_WORKER_INDEX=0$' "$T"/r.1.* | head -n 1)
pid0=$(report_val "$w0" pid)
w1=$(grep -l '^env BATON_WORKER_INDEX=1$' "$T"/r.1.* | head -n 1)
pid1=$(report_val "$w1" pid)

# the generation has served 10 s: it is stable
while [ $(($(now_ms) - t_ready)) -lt 10500 ]; do sleep 0.2; done
touch "$T/crash"
n0=$(log_count "$L" 'starting new worker')
cpu0=$(proc_cpu_ticks "$BATON_PID")
state_watch_start "$BATON_PID"
t0=$(now_ms)
kill -KILL "$pid1"
# 5 s after the kill by baton's clock (not scaled: its backoff is not); the
# starts are counted by the log's timestamps, which a slow script cannot skew
sleep_until_ms $((t0 + 5000))
spawns=$(($(log_count_until "$L" 'starting new worker' $((t0 + 5000))) - n0))
cpu1=$(proc_cpu_ticks "$BATON_PID")
diag "$spawns restarts of worker 1 in 5000 ms; baton used $((cpu1 - cpu0)) ticks in $(($(now_ms) - t0)) ms"
cmp_ok "$spawns" -ge 3 "worker 1 is restarted after each crash ($spawns starts in 5 s)"
cmp_ok "$spawns" -le 5 "with backoff, not in a tight loop ($spawns starts in 5 s; ~3 expected: at 0, 1 and 3 s)"
read -r asleep looks <<<"$(state_watch_stop "$BATON_PID")"
cmp_ok "$looks" -ge 15 "baton's state was looked at during the crashes ($looks times)"
cmp_ok $((asleep * 2)) -ge "$looks" "baton does not spin: asleep at $asleep of $looks looks (a spinning loop is always runnable)"

deaths=$(log_all_ms "$L" 'worker [0-9]+ \(generation 1\) (exited with status 7|killed by signal [A-Z0-9]+) unexpectedly' | tr '\n' ' ')
starts=$(log_all_ms "$L" 'starting new worker [0-9]+ \(generation 1, worker 1\)' | tail -n +2 | tr '\n' ' ')
diag "deaths (ms): $deaths" "starts (ms): $starts"
read -r -a D <<<"$deaths"
read -r -a S <<<"$starts"
want=(0 1000 2000)
for i in 0 1 2; do
	if [ -z "${D[$i]}" ] || [ -z "${S[$i]}" ]; then
		fail "death $((i + 1)) and the next start are logged" "deaths: $deaths" "starts: $starts"
		continue
	fi
	gap=$((S[i] - D[i]))
	cmp_ok "$gap" -ge $((want[i] - 100)) "death $((i + 1)) -> next start of worker 1: ${gap} ms (want ~${want[i]} ms)"
	cmp_ok "$gap" -le $((want[i] + $(scaled_ms 600))) "death $((i + 1)) -> next start: not much later than ~${want[i]} ms"
done

check "worker 0 keeps running through it" pid_alive "$pid0"
is "$(json_field "$T/status.json" last_generation)" 1 "still generation 1: no new generation"
check "the service answers" http_ok 127.0.0.1:$P
done_testing
