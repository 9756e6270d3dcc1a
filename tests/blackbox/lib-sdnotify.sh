#!/bin/bash
# SPDX-License-Identifier: ISC
# Helpers for the sdnotify-*.sh scripts: baton run under tests/notify-sink,
# a stand-in for systemd's notify socket (see tests/notify-sink.c for the
# log format: "usec=RECV pid=PID msg=FIELD|FIELD... [fd=ADDR]...").
# Source after lib.sh.

SINK=${SINK:-$top_builddir/tests/notify-sink}
[ -x "$SINK" ] || bail_out "$SINK not built (make check builds it)"
baton_only_script "baton's own sd_notify messages"
SOCK=$T/notify.sock
SLOG=$T/sink.log

# sink_start [--relaunch N] [VAR=VALUE...] -- BATON-ARG...: baton under the
# sink (NOTIFY_SOCKET=$SOCK, the VARs set); sets SINK_PID and BATON_PID (its
# first start). A previous run's log is moved aside.
sink_start() {
	local pre=() env=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		case $1 in
		--relaunch) pre+=("$1" "$2"); shift ;;
		*=*) env+=("$1") ;;
		esac
		shift
	done
	shift
	# each run its own log: the helpers below read only the current one
	[ -e "$SLOG" ] && mv "$SLOG" "$SLOG.$(now_ms)"
	"$SINK" "${pre[@]}" "$SOCK" "$SLOG" -- env "${env[@]}" "$BATON" "$@" \
		>>"$T/baton.out" 2>>"$T/baton.err" </dev/null &
	SINK_PID=$!
	_track "$SINK_PID"
	wait_file_contains "$SLOG" " start pid=" 10 || bail_out "the sink did not start baton"
	BATON_PID=$(sed -n 's/.* start pid=\([0-9]*\).*/\1/p' "$SLOG" | head -n 1)
	_track "$BATON_PID"
}

# sink_msgs ERE: the log lines of datagrams whose text matches ERE
sink_msgs() { grep -E "^usec=[0-9]+ pid=[0-9]+ msg=(.*\|)?$1" "$SLOG" 2>/dev/null; }

# sink_count ERE: how many datagrams match
sink_count() { sink_msgs "$1" | wc -l | tr -d ' '; }

# wait_sink ERE [N] TIMEOUT: until N (default 1) datagrams match
wait_sink() {
	local re=$1 n=1
	[ $# -gt 2 ] && { n=$2; shift; }
	wait_until "${2:-10}" _sink_has "$re" "$n"
}
_sink_has() { [ "$(sink_count "$1")" -ge "$2" ]; }

# line_usec LINE: its receive time; line_pid LINE: its sender
line_usec() { sed -n 's/^usec=\([0-9]*\).*/\1/p' <<<"$1" | head -n 1; }
line_pid() { sed -n 's/^usec=[0-9]* pid=\([0-9]*\).*/\1/p' <<<"$1" | head -n 1; }

# line_field LINE KEY: the value of KEY= in the datagram of LINE
line_field() {
	sed -n 's/^usec=[0-9]* pid=[0-9]* msg=//p' <<<"$1" | head -n 1 |
		sed 's/ fd=.*//' | tr '|' '\n' | sed -n "s/^$2=//p" | head -n 1
}

# sink_order ERE...: the first datagram matching each ERE comes in this
# order (and each is there)
sink_order() {
	local prev=0 n
	for re in "$@"; do
		n=$(grep -nE "^usec=[0-9]+ pid=[0-9]+ msg=(.*\|)?$re" "$SLOG" | awk -F: -v p="$prev" '$1 > p { print $1; exit }')
		[ -n "$n" ] || return 1
		prev=$n
	done
}

# _served_or_gone PID: that baton sent READY=1, or exited
_served_or_gone() {
	grep -qE "^usec=[0-9]+ pid=$1 msg=(.*\|)?READY=1" "$SLOG" ||
		grep -q " exit pid=$1 " "$SLOG"
}
