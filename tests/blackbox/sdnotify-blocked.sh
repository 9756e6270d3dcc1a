#!/bin/bash
# SPDX-License-Identifier: ISC
# baton never blocks on its service manager (STYLE.md rule 3): when the
# manager stops reading NOTIFY_SOCKET and its queue fills, baton still
# restarts a dead worker, restarts on HUP and stops on TERM. It drops the
# notifications that do not fit, says so once the manager reads again
# ("N notifications to the service manager dropped while its socket was
# full") and sends the state the manager missed, so that it ends up with
# the right one.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/blackbox/lib-sdnotify.sh"

# _last_status_is TEXT: the last STATUS= the manager got is TEXT
_last_status_is() {
	[ "$(line_field "$(sink_msgs 'STATUS=' | tail -n 1)" STATUS)" = "$1" ]
}

_full_warnings() {
	[ "$(grep -c "the service manager's socket NOTIFY_SOCKET=$SOCK is full" "$T/baton.err")" -ge "$1" ]
}

P=$(free_port)
# a watchdog every 10 ms fills the stopped manager's queue at once
sink_start WATCHDOG_USEC=20000 -- --port=127.0.0.1:$P -- "${WORKER_CMD[@]}"
check "generation 1 serves" wait_sink 'READY=1' 10
wait_gen 127.0.0.1:$P 1 10

kill -STOP "$SINK_PID"
check "the manager stops reading: baton says its socket is full" \
	wait_until 10 _full_warnings 1
pid=$(http_pid 127.0.0.1:$P)
kill -KILL "$pid"
check "manager stalled: a killed worker is replaced" wait_gen 127.0.0.1:$P 2 10
kill -HUP "$BATON_PID"
check "manager stalled: HUP restarts" wait_gen 127.0.0.1:$P 3 10

kill -CONT "$SINK_PID"
check "the manager reads again: baton counts what it dropped" \
	wait_file_contains "$T/baton.err" \
	"baton: [0-9]+ notifications? to the service manager dropped while its socket was full\$" 10
check "and the manager ends with the current state" \
	wait_until 10 _last_status_is "generation 3 serving"

kill -STOP "$SINK_PID"
check "stalled again" wait_until 10 _full_warnings 2
kill -TERM "$BATON_PID"
check "manager stalled: TERM stops baton" wait_pid_gone "$BATON_PID" 10
kill -CONT "$SINK_PID"
check "the manager sees it exit with status 0" \
	wait_file_contains "$SLOG" " exit pid=$BATON_PID status=0" 10
done_testing
