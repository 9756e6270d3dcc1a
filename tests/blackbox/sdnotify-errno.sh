#!/bin/bash
# SPDX-License-Identifier: ISC
# A fatal error under a service manager: baton.1 promises ERRNO= whenever a
# system call failed, and STATUS= with the message, whatever the step that
# failed (binding, the pid file, the exec of the program, the options read
# before anything else).
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/blackbox/lib-sdnotify.sh"

# fails CASE ERRNO STATUS-ERE BATON-ARG...: baton exits; the manager got
# STATUS= matching STATUS-ERE and ERRNO=ERRNO (none when ERRNO is -)
fails() {
	local name=$1 errno=$2 re=$3 line
	shift 3
	sink_start -- "$@"
	check "$name: baton exits" wait_file_contains "$SLOG" " exit pid=$BATON_PID " 10
	line=$(sink_msgs 'STATUS=' | head -n 1)
	like "$(line_field "$line" STATUS)" "$re" "$name: STATUS= carries the message"
	if [ "$errno" = - ]; then
		is "$(line_field "$line" ERRNO)" "" "$name: no ERRNO= (no system call failed)"
	else
		is "$(line_field "$line" ERRNO)" "$errno" "$name: ERRNO=$errno"
	fi
}

P=$(free_port)
python3 -c 'import socket,time,sys
s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); time.sleep(60)' "$P" &
track_pid $!
wait_until 10 port_listening "$P"
# EADDRINUSE is 98 on Linux
fails "a port in use" 98 "^baton: cannot bind 127.0.0.1:$P: Address already in use\$" \
	--port=127.0.0.1:$P -- "${WORKER_CMD[@]}"

Q=$(free_port)
fails "a pid file in a missing directory" 2 "^baton: cannot open pid file $T/nowhere/p.pid: No such file or directory\$" \
	--pid-file="$T/nowhere/p.pid" --port=127.0.0.1:$Q -- "${WORKER_CMD[@]}"

fails "a program that does not exist" 2 "^baton: .*$T/no-such-program: No such file or directory\$" \
	--port=127.0.0.1:$Q -- "$T/no-such-program"

fails "an unknown --user" - "^baton: .*no-such-user-b4t0n" \
	--user=no-such-user-b4t0n --port=127.0.0.1:$Q -- "${WORKER_CMD[@]}"
done_testing
