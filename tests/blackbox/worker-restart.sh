#!/bin/bash
# SPDX-License-Identifier: ISC
# A worker that dies is replaced by a new generation; a worker that fails at
# start-up is retried until it comes up.
. "$(dirname "$0")/lib.sh"

# a program that always fails at once, left to retry in the background while
# the rest runs (baton backs off; checked at the end)
cat >"$T/count" <<APP
#!/bin/sh
echo x >>"$T/attempts"
exit 3
APP
chmod +x "$T/count"
t_count=$(now_ms)
if ! is_perl; then
	BATON_ERR=$T/count.err start_baton --port=127.0.0.1:$(free_port) --interval=1 -- "$T/count"
	counter=$BATON_PID
fi

cat >"$T/app" <<APP
#!/bin/sh
# generation 1 exits with 7 after 2 s; the others serve
if [ "\$SERVER_STARTER_GENERATION" = 1 ]; then
	exec "$WORKER" --report "$T/report.%g" --exit-after 2 --exit-code 7
fi
exec "$WORKER" --report "$T/report.%g"
APP
chmod +x "$T/app"

P=$(free_port)
serve_baton --until=report:1 --port=127.0.0.1:$P --status-file="$T/status" -- "$T/app"
pid1=$(report_val "$(report 1)" pid)
check "generation 1 serves" wait_http 127.0.0.1:$P 5
check "generation 1 exits by itself" wait_pid_gone "$pid1" 8
check "a new generation replaces it" wait_gen 127.0.0.1:$P 2 8
check "the status file lists generation 2 only" wait_status "$T/status" 2 5
if baton_only "the death is reported with pid, generation and status"; then
	file_like "$T/baton.err" "worker $pid1 \\(generation 1\\) exited with status 7" \
		"message: worker PID (generation 1) exited with status 7"
fi

# killed by a signal
pid2=$(report_val "$(report 2)" pid)
kill -KILL "$pid2"
check "a worker killed with SIGKILL is replaced" wait_gen 127.0.0.1:$P 3 8
if baton_only "the kill is reported"; then
	file_like "$T/baton.err" "worker $pid2 \\(generation 2\\) killed by signal (9|KILL|SIGKILL)" \
		"message: worker PID (generation 2) killed by signal"
fi
check "the supervisor is still running" pid_alive "$BATON_PID"
kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "TERM: exit 0"

# failing at start-up: retried until it stays up
cat >"$T/flaky" <<APP
#!/bin/sh
[ -e "$T/ok" ] || exit 3
exec "$WORKER" --report "$T/flaky.%g"
APP
chmod +x "$T/flaky"
P=$(free_port)
BATON_ERR=$T/flaky.err start_baton --port=127.0.0.1:$P --interval=1 -- "$T/flaky"
check "a worker failing at start-up is reported" wait_file_contains "$T/flaky.err" 'failed to start' 5
if baton_only "start-up failure message"; then
	file_like "$T/flaky.err" "new worker [0-9]+ \\(generation 1\\) failed to start: exited with status 3" \
		"message: new worker PID (generation 1) failed to start: exited with status 3"
fi
nap 2
check "the supervisor keeps trying" pid_alive "$BATON_PID"
touch "$T/ok"
check "once the program works, it serves" wait_http 127.0.0.1:$P 20

if baton_only "start-up retries back off (0 s, 1 s, 2 s, 4 s...)"; then
	# started at the top; by now it has been failing for a while
	sleep_until_ms $((t_count + $(scaled_ms 5500)))
	el=$(($(now_ms) - t_count))
	n=$(wc -l <"$T/attempts")
	cmp_ok "$n" -ge 3 "retried ($n attempts in $el ms)"
	# 0 s, 1 s, 2 s, 4 s, 8 s apart: at most 5 attempts within 15 s
	if [ "$el" -lt 15000 ]; then
		cmp_ok "$n" -le 5 "with back-off, not in a tight loop ($n attempts in $el ms)"
	else
		skip "back-off count" "took too long to check ($el ms)"
	fi
	kill -TERM "$counter"
	wait_baton_exit 10 "$counter"
	is "$BATON_STATUS" 0 "TERM during start-up retries: exit 0"
fi
done_testing
