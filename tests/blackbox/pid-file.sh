#!/bin/bash
# SPDX-License-Identifier: ISC
# --pid-file: holds the supervisor's pid, locked (flock) while it runs,
# removed at exit. A second supervisor with the same pid file is refused
# (baton fix: start_server truncates it and blocks).
. "$(dirname "$0")/lib.sh"

F=$T/app.pid
echo 999999 >"$F" # stale, unlocked: a crashed supervisor's
P=$(free_port)
serve_baton --port=127.0.0.1:$P --pid-file="$F" -- "${WORKER_CMD[@]}"
check "a stale pid file is taken over" wait_until 5 eval '[ "$(cat "$F")" = "$BATON_PID" ]'
is "$(wc -c <"$F")" "$((${#BATON_PID} + 1))" "the pid file is the pid and a newline, nothing else"
flock -n -E 99 "$F" true
is "$?" 99 "the pid file is locked while the supervisor runs (flock -n fails)"

if baton_only "a second supervisor with the same pid file is refused"; then
	before=$(stat -c '%i %s %Y' "$F")
	P2=$(free_port)
	RUN_TIMEOUT=8
	run_baton --port=127.0.0.1:$P2 --pid-file="$F" -- "$WORKER" --report "$T/second"
	is "$RUN_STATUS" 3 "exit 3"
	like "$RUN_ERR" "^${MSG_PREFIX}pid file $F is locked: another supervisor \\(pid $BATON_PID\\) is running" \
		"message: pid file F is locked: another supervisor (pid N) is running"
	cmp_ok "$RUN_MS" -lt "$(scaled_ms 3000)" "at once, without waiting for the lock (${RUN_MS} ms)"
	is "$(cat "$F")" "$BATON_PID" "the pid file still holds the first supervisor's pid"
	is "$(stat -c '%i %s %Y' "$F")" "$before" "the pid file is untouched (inode, size, mtime)"
	check_not "the second supervisor started no worker" test -e "$T/second"
	check "the first supervisor still serves" http_ok 127.0.0.1:$P
	flock -n -E 99 "$F" true
	is "$?" 99 "and still holds the lock"
fi

kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "TERM: exit 0"
check_not "the pid file is removed at exit" test -e "$F"
done_testing
