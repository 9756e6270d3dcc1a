#!/bin/bash
# SPDX-License-Identifier: ISC
# For baton --stop and --restart: the pid in a pid file
# is only a number. A locked pid file whose pid is now an unrelated
# process's (the supervisor gone, the number reused, the lock held by
# another holder of the file) must not get that process signalled. 0.2.0
# checked the lock only and sent SIGTERM (--stop) or SIGHUP (--restart) to
# whatever had the pid. Now the number must be a process holding the pid
# file open, checked after a pidfd was opened on it.
. "$(dirname "$0")/lib.sh"
baton_only_script "start_server --stop is baton's"
command -v flock >/dev/null || skip_all "no flock(1) (util-linux)"

plan 7
PF=$T/baton.pid
SF=$T/baton.status
# the lock, held by a process that is not the one the file names
flock -o -x "$PF" sleep 621 &
holder=$!
track_pid "$holder"
wait_until 5 eval '! flock -n -x "$PF" true' || bail_out "flock did not take the lock"
# an unrelated process, whose pid the file names
sleep 622 &
victim=$!
track_pid "$victim"
echo "$victim" >"$PF"
printf '1:%s\n' "$victim" >"$SF"

run_baton --stop --pid-file="$PF"
isnt "$RUN_STATUS" 0 "--stop fails"
like "$RUN_ERR" "names pid $victim, which does not hold it" "and says the pid is not the supervisor's"
check "the unrelated process got no SIGTERM" pid_alive "$victim"

run_baton --restart --pid-file="$PF" --status-file="$SF"
isnt "$RUN_STATUS" 0 "--restart fails"
check "the unrelated process got no SIGHUP" pid_alive "$victim"
kill -KILL "$victim" "$holder" 2>/dev/null
wait "$victim" "$holder" 2>/dev/null

# the real thing still works
P=$(free_port)
rm -f "$PF"
start_baton --port=127.0.0.1:$P --pid-file="$PF" -- "$WORKER"
wait_http 127.0.0.1:$P 10 || bail_out "baton did not serve"
run_baton --stop --pid-file="$PF"
is "$RUN_STATUS" 0 "--stop of a running baton succeeds"
check "and baton exited" wait_baton_exit 10
done_testing
