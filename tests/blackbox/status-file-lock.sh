#!/bin/bash
# SPDX-License-Identifier: ISC
# One --status-file, one baton (in 0.2.0 two ran, overwrote each other's
# file, and the first to stop deleted the other's): the second is refused (exit 3, as for a locked pid file), through a
# lock on STATUS.lock beside it held for the first one's life, across a
# SIGUSR2 re-exec; the first one's files are left intact.
. "$(dirname "$0")/lib.sh"
baton_only_script "the status file's lock is baton's"

P=$(free_port)
P2=$(free_port)
RUN_TIMEOUT=6
L=$T/a.log
serve_baton --until=status:1 --status-file="$T/st" --log-file="$L" \
	--port=127.0.0.1:"$P" -- "${WORKER_CMD[@]}"
FIRST=$BATON_PID
before=$(cat "$T/st")
json_before=$(cat "$T/st.json")

second() {
	run_baton --status-file="$T/st" --port=127.0.0.1:"$P2" -- \
		"$WORKER" --report "$T/second.%g"
}

second
is "$RUN_STATUS" 3 "a second baton with the same status file: exit 3"
like "$RUN_ERR" "^${MSG_PREFIX}status file $T/st is in use: another supervisor \(pid $FIRST\) writes it \($T/st.lock is locked\)$" \
	"the message names the status file and the running supervisor"
check_not "... it started no worker" test -e "$T/second.1"
check_not "... nor bound its port" port_listening "$P2"
is "$(cat "$T/st")" "$before" "the first one's status file is intact"
is "$(cat "$T/st.json" 2>/dev/null)" "$json_before" "... its JSON too"
check "the first one still serves" http_ok 127.0.0.1:"$P"

# across a re-exec the lock stays held
kill -USR2 "$FIRST"
check "USR2: the first one re-executes" wait_file_contains "$L" 're-executed: generation 1 keeps serving' 10
second
is "$RUN_STATUS" 3 "after the re-exec a second baton is still refused"
like "$RUN_ERR" "status file $T/st is in use: another supervisor \(pid $FIRST\)" "... naming it"
is "$(cat "$T/st")" "$before" "... the status file still intact"

# a HUP writes the file the second one would have deleted
kill -HUP "$FIRST"
wait_status "$T/st" 2 15 || bail_out "no generation 2: $(tail -3 "$L")"
check "the first one keeps its status file after a restart" test -s "$T/st"

kill -TERM "$FIRST"
wait_baton_exit 10 "$FIRST"
is "$BATON_STATUS" 0 "the first one stops cleanly"
check_not "... and removes its status file" test -e "$T/st"
check_not "... and the lock file" test -e "$T/st.lock"

# a lock file left by a killed supervisor is not locked: reused
serve_baton --until=status:1 --status-file="$T/st" --port=127.0.0.1:"$P" -- "${WORKER_CMD[@]}"
kill -KILL "$BATON_PID"
wait_baton_exit 10
check "a killed supervisor leaves its lock file" test -e "$T/st.lock"
# the killed one's status file already says generation 1: without it
# gone, --until would return before the new baton is up (and a TERM
# sent before its handlers are set kills it)
rm -f "$T"/report.* "$T/st"
serve_baton --until=status:1 --status-file="$T/st" --port=127.0.0.1:"$P2" -- "${WORKER_CMD[@]}"
pass "a new baton takes the stale lock file over"
kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "... and stops cleanly"
done_testing
