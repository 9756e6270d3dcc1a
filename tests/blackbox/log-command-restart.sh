#!/bin/bash
# SPDX-License-Identifier: ISC
# --log-file="| command": a command that dies is restarted (1 s, 2 s, 4 s
# ... 30 s apart) on the same pipe, which baton keeps open meanwhile: baton
# keeps running and logging, restarts still work, and a worker that
# restored SIGPIPE's default action is not killed by writing to the log.
# Before, the output was lost until baton restarted, and such a
# worker died of SIGPIPE on its next line.
. "$(dirname "$0")/lib.sh"
baton_only_script "the log command is restarted"

PL=$T/piped.log
P=$(free_port)
# the worker puts SIGPIPE back to its default action, as many servers do
start_baton --port=127.0.0.1:"$P" --log-file="| exec cat >>$PL" -- \
	perl -e '$SIG{PIPE} = "DEFAULT"; exec @ARGV or die "exec: $!\n"' \
	"${WORKER_CMD[@]}"
wait_report 1 10 || bail_out "no worker report"
pid1=$(report_val "$(report 1)" pid)
check "the worker's lines reach the command" \
	wait_file_contains "$PL" "^worker: pid $pid1 gen 1 serving" 10
logger=$(pgrep -P "$BATON_PID" -x cat)
[ -n "$logger" ] || bail_out "no log command (cat) among baton's children"

kill -KILL "$logger"
check "the log command is gone" wait_pid_gone "$logger" 5
# at once, while no command reads: the lines wait in the pipe
kill -HUP "$BATON_PID"
check "baton says so once the command is back" wait_file_contains "$PL" \
	"log command \(pid $logger\) exited \(killed by signal KILL\); restarting it in 1s" 15
check "... and that it restarted it" \
	wait_file_contains "$PL" 'restarted log command "exec cat >>.*" \(pid [0-9]+\)' 10
new=$(pgrep -P "$BATON_PID" -x cat)
isnt "${new:-$logger}" "$logger" "a new log command runs"
check "HUP still works: generation 2 serves" wait_gen 127.0.0.1:"$P" 2 15
wait_report 2 10
pid2=$(report_val "$(report 2)" pid)
check "generation 2's lines reach the new command" \
	wait_file_contains "$PL" "^worker: pid $pid2 gen 2 serving" 10
check "the old worker stopped on TERM, not killed by SIGPIPE" \
	wait_file_contains "$PL" "old worker $pid1 \(generation 1\) exited with status 0" 15
file_unlike "$PL" "signal PIPE" "no process was killed by SIGPIPE"
check "baton is still running" pid_alive "$BATON_PID"

# across a re-exec (SIGUSR2) the command is still baton's to restart
kill -USR2 "$BATON_PID"
check "re-exec" wait_file_contains "$PL" "re-executed: generation 2 keeps serving" 10
kill -KILL "$new"
check "after a re-exec, a dead command is still restarted" wait_file_contains "$PL" \
	"log command \(pid $new\) exited \(killed by signal KILL\); restarting it in [0-9]+s" 15
check "... and output flows again" wait_until 10 eval \
	'[ "$(grep -c "restarted log command" "$PL")" -ge 2 ]'

kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "TERM: exit 0"
check "the log command goes away with baton" \
	wait_until 5 eval '[ -z "$(tagged_pids)" ]'
check "baton's last line was written" file_contains "$PL" "all workers are gone; exiting"
done_testing
