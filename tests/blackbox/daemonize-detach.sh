#!/bin/bash
# SPDX-License-Identifier: ISC
# --daemonize lets go of its caller: once the command returns, nothing the
# daemon runs holds the caller's stdout or stderr open (a "| command" log
# used to keep them, so "ssh host baton --daemonize ..." and
# out=$(baton --daemonize ...) never returned), and the log names the
# daemon's pid, not that of the short-lived process that was started.
. "$(dirname "$0")/lib.sh"
baton_only_script "--daemonize detaches fully"

# detached NAME LOG-SPEC LOG-FILE: run baton --daemonize with its stdout
# and stderr a pipe, as $(...) or ssh give; the reader of that pipe must
# see end-of-file soon after the command returned
detached() {
	local name=$1 spec=$2 log=$3 p d
	p=$(free_port)
	rm -f "$T/eof" "$T/d.pid"
	# the reader writes $T/eof once every writer has closed the pipe
	(
		"$WORKER" --launch -- "$BATON" --daemonize --log-file="$spec" --pid-file="$T/d.pid" \
			--port=127.0.0.1:$p -- "${WORKER_CMD[@]}" 2>&1 </dev/null
		echo "status=$?"
	) | { cat >"$T/caller.out"; echo eof >"$T/eof"; } &
	check "$name: the caller's pipe reaches end-of-file" wait_file "$T/eof" 10
	like "$(cat "$T/caller.out")" "^status=0\$" "$name: the command exited 0, saying nothing"
	wait_until 10 grep -qs . "$T/d.pid"
	d=$(cat "$T/d.pid")
	track_pid "$d"
	check "$name: the daemon serves" wait_http 127.0.0.1:$p 10
	check "$name: the log says it started" wait_file_contains "$log" "starting now" 10
	like "$(grep 'starting now' "$log")" "supervisor \\(pid $d\\) starting now" \
		"$name: the log names the daemon's pid ($d, the pid file's)"
	kill -TERM "$d"
	check "$name: TERM stops the daemon" wait_pid_gone "$d" 10
}

detached "--log-file=FILE" "$T/file.log" "$T/file.log"
detached "--log-file=|command" "| exec cat >>$T/cmd.log" "$T/cmd.log"
done_testing
