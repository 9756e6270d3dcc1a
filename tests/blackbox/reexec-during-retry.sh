#!/bin/bash
# SPDX-License-Identifier: ISC
# SIGUSR2 during a retry backoff names the real reason. Nothing
# is starting and baton is not stopping while a failed start waits out its
# backoff, yet 0.2.0 refused the re-exec "while a generation is starting
# or baton is stopping". It now says a retry is pending, and when the next
# attempt starts.
#
# Likewise while what an exited worker left in its process group is being
# stopped: the proof baton keeps for that group (the worker, unreaped)
# cannot cross the exec, so the re-exec waits, and says why. 0.2.0
# re-executed and forgot the group: a leftover that ignores SIGTERM then
# never got its SIGKILL and kept the port.
. "$(dirname "$0")/lib.sh"
baton_only_script "start_server has no SIGUSR2 re-exec"

plan 10
P=$(free_port)
L=$T/baton.log
# every attempt fails: retried after 0, 1, 2, 4 ... s
start_baton --port=127.0.0.1:$P --log-file="$L" -- sh -c 'exit 1'
check "a failed start waits out its backoff" \
	wait_file_contains "$L" "retrying in 2s \\(3 consecutive failures\\)" 10
kill -USR2 "$BATON_PID"
check "SIGUSR2 during the backoff is refused" \
	wait_file_contains "$L" "received SIGUSR2: cannot re-exec" 5
line=$(grep "received SIGUSR2: cannot re-exec" "$L" | head -n 1)
diag "log: $line"
like "$line" "cannot re-exec while a retry is pending \\(the next attempt starts in [0-9]+s" \
	"the message names the retry backoff"
unlike "$line" "generation is starting|is stopping" "and no reason that does not hold"
check "baton carries on retrying" \
	wait_file_contains "$L" "retrying in 4s \\(4 consecutive failures\\)" 10
kill -TERM "$BATON_PID"
wait_baton_exit 10

P=$(free_port)
L=$T/left.log
start_baton --port=127.0.0.1:$P --stop-timeout="$(scaled 5)" --log-file="$L" -- \
	sh -c "(trap '' TERM; exec sleep 641) & exec $WORKER"
wait_http 127.0.0.1:$P 10 || bail_out "baton did not serve"
W=$(http_pid 127.0.0.1:$P)
left=$(pgrep -g "$W" -f '^sleep 641$')
kill -KILL "$W"
wait_file_contains "$L" "worker $W .*left processes" 10 || bail_out "no SIGTERM to the leftover"
# once the generation that replaced it serves: nothing else is unsettled
wait_file_contains "$L" "generation 2 is serving" 10 || bail_out "generation 2 did not serve"
kill -USR2 "$BATON_PID"
check "SIGUSR2 while a worker's leftovers are being stopped is refused" \
	wait_file_contains "$L" "cannot re-exec while processes a worker left behind are being stopped" 5
check "the leftover gets its SIGKILL at the end of the grace" \
	wait_file_contains "$L" "processes of worker $W .*sending SIGKILL" 10
check "and is gone" wait_pid_gone "$left" 5
check "then the worker, kept as a zombie while its group was stopped, is reaped" \
	wait_until 5 eval "[ ! -e /proc/$W ]"
kill -USR2 "$BATON_PID"
check "SIGUSR2 afterwards re-executes" wait_file_contains "$L" "re-executed: generation [0-9]+ keeps serving" 10
kill -TERM "$BATON_PID"
wait_baton_exit 10
done_testing
