#!/bin/bash
# SPDX-License-Identifier: ISC
# --log-file refuses a symbolic link, at start-up and on SIGUSR1's reopen:
# a baton run as root must not append, through a link a local user planted,
# to a file of the link's choosing.
. "$(dirname "$0")/lib.sh"
baton_only_script "--log-file refuses a symlink"

echo "precious" >"$T/target"
ln -s "$T/target" "$T/link.log"
P=$(free_port)
run_baton --log-file="$T/link.log" --pid-file="$T/pid" --port=127.0.0.1:"$P" \
	-- "${WORKER_CMD[@]}"
is "$RUN_STATUS" 3 "a symlinked log file: exit 3"
like "$RUN_ERR" "^${MSG_PREFIX}cannot open log file $T/link.log: Too many levels of symbolic links$" \
	"message: cannot open log file F: Too many levels of symbolic links"
is "$(cat "$T/target")" "precious" "the link's target is untouched"
check_not "no worker was started" test -e "$(report 1)"
check_not "no pid file is left" test -e "$T/pid"

# rotation: the path becomes a link between start and SIGUSR1
L=$T/app.log
start_baton --log-file="$L" --port=127.0.0.1:"$P" -- "${WORKER_CMD[@]}"
wait_report 1 10 || bail_out "no worker report"
mv "$L" "$L.1"
ln -s "$T/target" "$L"
kill -USR1 "$BATON_PID"
check "SIGUSR1 onto a link: refused, said in the log still open" wait_file_contains "$L.1" \
	"received SIGUSR1: cannot reopen log file $L: Too many levels of symbolic links" 10
is "$(cat "$T/target")" "precious" "... the link's target is untouched"
check "... baton keeps running" pid_alive "$BATON_PID"
kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "TERM: exit 0"
done_testing
