#!/bin/bash
# SPDX-License-Identifier: ISC
# Bug fix: a new generation that dies during --kill-old-delay is a failed
# restart: the old generation is not signalled and keeps serving (no retry
# until the next HUP). start_server TERMs the old workers anyway, leaving
# nobody serving until it restarts. --restart-retries=0: a single rollback
# (a retried generation would answer too; restart-retries.sh tests those).
. "$(dirname "$0")/lib.sh"
baton_only_script "start_server kills the old generation anyway"

cat >"$T/app" <<APP
#!/bin/sh
if [ -e "$T/dies" ]; then
	exec "$WORKER" --report "$T/report.%g" --on-signal-log "$T/signals.log" --exit-after $(scaled 1.5) --exit-code 9
fi
exec "$WORKER" --report "$T/report.%g" --on-signal-log "$T/signals.log"
APP
chmod +x "$T/app"
P=$(free_port)
serve_baton --until=status:1 --port=127.0.0.1:$P --restart-retries=0 --kill-old-delay="$(scaled 3)" --interval="$(scaled 1)" --status-file="$T/status" -- "$T/app"
pid1=$(report_val "$(report 1)" pid)

touch "$T/dies"
kill -HUP "$BATON_PID"
wait_report 2 10 || bail_out "no generation 2"
pid2=$(report_val "$(report 2)" pid)
check "generation 2 passes --interval, then dies within the kill-old-delay" wait_pid_gone "$pid2" 5
nap 3 # past the end of the kill-old-delay
is "$(signals_of "$pid1")" "" "the old worker was not signalled"
check "the old worker is alive" pid_alive "$pid1"
is "$(http_gen 127.0.0.1:$P)" 1 "generation 1 still answers"
is "$(status_gens "$T/status")" 1 "the status file lists generation 1 only"
check_not "no new generation until the next HUP" test -e "$(report 3)"
check "the supervisor is still running" pid_alive "$BATON_PID"

rm -f "$T/dies"
kill -HUP "$BATON_PID"
check "the next HUP starts generation 3" wait_report 3 10
check "generation 1 is retired after the kill-old-delay" wait_signal TERM "$pid1" 10
check "generation 3 answers" wait_gen 127.0.0.1:$P 3 5
done_testing
