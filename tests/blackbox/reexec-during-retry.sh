#!/bin/bash
# SPDX-License-Identifier: ISC
# Issue 16: SIGUSR2 during a retry backoff names the real reason. Nothing
# is starting and baton is not stopping while a failed start waits out its
# backoff, yet 0.2.0 refused the re-exec "while a generation is starting
# or baton is stopping". It now says a retry is pending, and when the next
# attempt starts.
. "$(dirname "$0")/lib.sh"
baton_only_script "start_server has no SIGUSR2 re-exec"

plan 5
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
done_testing
