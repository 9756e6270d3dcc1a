#!/bin/bash
# SPDX-License-Identifier: ISC
# Helpers for the hot-restart scripts (tests/blackbox/hot-*.sh), sourced
# after lib.sh: log timestamps, background load, /proc figures of the
# supervisor, the JSON status.

# ---- timestamps in --log-file ------------------------------------------------
# With --log-file, baton prefixes its lines with local time:
#   2024-05-01T12:34:56.789 baton: message

# _stamp_ms "YYYY-MM-DDTHH:MM:SS.mmm": milliseconds since the epoch
_stamp_ms() {
	local s=$1 secs
	secs=$(date -d "${s:0:10} ${s:11:8}" +%s 2>/dev/null) || return 1
	echo $((secs * 1000 + 10#${s:20:3}))
}

# log_ms FILE ERE [N]: the time (ms since the epoch) of the Nth line of FILE
# (default: the first) that carries a timestamp and matches ERE. Fails if
# there is no such line.
log_ms() {
	local line
	line=$(grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12} ' "$1" 2>/dev/null |
		grep -E -- "$2" | sed -n "${3:-1}p")
	[ -n "$line" ] || return 1
	_stamp_ms "${line%% *}"
}

# log_all_ms FILE ERE: the times of every matching line, one a line
log_all_ms() {
	local line
	grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12} ' "$1" 2>/dev/null |
		grep -E -- "$2" | while IFS= read -r line; do
		_stamp_ms "${line%% *}"
	done
}

# log_count_until FILE ERE T: how many timestamped lines match ERE and were
# written at or before T (ms since the epoch). A count by baton's own clock,
# which a slow test script cannot skew.
log_count_until() {
	local n=0 t
	for t in $(log_all_ms "$1" "$2"); do
		[ "$t" -le "$3" ] && n=$((n + 1))
	done
	echo "$n"
}

# log_count FILE ERE: how many lines match
log_count() {
	local n
	n=$(grep -Ec -- "$2" "$1" 2>/dev/null)
	echo "${n:-0}"
}

# ---- background load ---------------------------------------------------------

# start_load NAME LOADGEN-ARG...: runs the load client in the background,
# its line in $T/NAME.out, its complaints in $T/NAME.err.
start_load() {
	local name=$1
	shift
	"$LOADGEN" "$@" --stop-file "$T/$name.stop" --verbose >"$T/$name.out" 2>"$T/$name.err" &
	eval "_load_pid_$name=\$!"
	_track $!
}

# stop_load NAME: the clients stop now (their --stop-file), before their
# --seconds are up: once what they were to run across has happened
stop_load() { : >"$T/$1.stop"; }

# finish_load NAME [TIMEOUT]: waits for it (bounded); sets LOAD_STATUS (the
# client's exit status, 255 if it had to be killed) and LOAD_OUT (its line).
finish_load() {
	local name=$1 pid
	eval "pid=\$_load_pid_$name"
	LOAD_STATUS=255
	if wait_until "${2:-30}" pid_gone "$pid"; then
		wait "$pid" 2>/dev/null
		LOAD_STATUS=$?
	else
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	LOAD_OUT=$(cat "$T/$name.out" 2>/dev/null)
	diag "$name: $LOAD_OUT"
	[ -s "$T/$name.err" ] && diag "$(sort "$T/$name.err" | uniq -c | head -n 10)"
	return 0
}

# load_val KEY: a figure of the load client's line (requests, failed, ...)
load_val() {
	printf '%s\n' "$LOAD_OUT" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'
}

# ---- the supervisor seen from /proc ----------------------------------------

proc_fds() { # number of open fds of PID, not counting what it inherited
	# from this script (make -j's jobserver pipe, say): baton marks those
	# close-on-exec, so a re-exec drops them, which is no leak to report
	local mine
	mine=$(for f in /proc/$$/fd/*; do readlink "$f"; done 2>/dev/null | sort -u)
	for f in /proc/"$1"/fd/*; do readlink "$f"; done 2>/dev/null |
		grep -vxF -- "$mine" | grep -vE '^/dev/(null|pts/|tty)' | wc -l
}

proc_rss_kb() { # VmRSS of PID in kB
	awk '$1 == "VmRSS:" { print $2 }' /proc/"$1"/status 2>/dev/null
}

# A supervisor that spins is always runnable ("R" in /proc/PID/stat);
# one that waits for its timers and children is asleep ("S") whenever it
# is looked at, however loaded the machine: a loaded machine delays a
# wakeup, it does not make a sleeping process runnable. How little CPU it
# takes is a figure for bench/, not a test.
#
# state_watch_start PID: look at PID's state every 0.1 s in the
# background, into $T/states.PID; state_watch_stop PID: stop, and print
# "ASLEEP LOOKS" (samples in S or I, samples in all).
state_watch_start() {
	local pid=$1
	: >"$T/states.$pid"
	(
		n=0
		while [ $n -lt 600 ] && [ -r /proc/"$pid"/stat ]; do
			read -r st </proc/"$pid"/stat 2>/dev/null || break
			st=${st##*) }
			echo "${st%% *}" >>"$T/states.$pid"
			sleep 0.1
			n=$((n + 1))
		done
	) &
	STATE_WATCH_PID=$!
}

state_watch_stop() {
	kill "$STATE_WATCH_PID" 2>/dev/null
	wait "$STATE_WATCH_PID" 2>/dev/null
	awk '$1 == "S" || $1 == "I" { s++ } END { print s + 0, NR }' "$T/states.$1"
}

proc_cpu_ticks() { # utime + stime of PID, in clock ticks
	local st
	read -r st 2>/dev/null </proc/"$1"/stat || return 1
	st=${st##*) }
	# shellcheck disable=SC2086
	set -- $st
	echo $((${12} + ${13}))
}

proc_ppid() {
	local st
	read -r st 2>/dev/null </proc/"$1"/stat || return 1
	st=${st##*) }
	# shellcheck disable=SC2086
	set -- $st
	echo "$2"
}

# zombies_of PID: the zombie children of PID (pids, space separated)
zombies_of() {
	ps -o pid=,stat= --ppid "$1" 2>/dev/null | awk '$2 ~ /^Z/ { printf "%s%s", s, $1; s = " " }'
}

# live_children PID: children of PID that are not zombies
live_children() {
	ps -o pid=,stat= --ppid "$1" 2>/dev/null | awk '$2 !~ /^Z/ { printf "%s%s", s, $1; s = " " }'
}

# exe_inode PID: the inode of the binary PID runs
exe_inode() {
	stat -L -c %i /proc/"$1"/exe 2>/dev/null
}

# ---- status files ------------------------------------------------------------

status_lines() { # number of lines of a status file
	if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi
}

status_pids() { # status_pids FILE GEN: the pids of GEN, sorted, space separated
	awk -F: -v g="$2" '$1 == g { print $2 }' "$1" 2>/dev/null | sort -n | tr '\n' ' ' | sed 's/ $//'
}

# json_last_failure FILE: the last_failure object of STATUS.json ("null" or {...})
json_last_failure() {
	sed -n 's/.*"last_failure":\(.*\)}$/\1/p' "$1" 2>/dev/null
}

# json_states FILE: "GEN:STATE" for every generation in STATUS.json
json_states() {
	grep -o '"generation":[0-9]*,"state":"[a-z]*"' "$1" 2>/dev/null |
		sed 's/"generation":\([0-9]*\),"state":"\([a-z]*\)"/\1:\2/' | tr '\n' ' ' | sed 's/ $//'
}

json_field() { # json_field FILE KEY: a top-level scalar ("restart_pending", ...)
	grep -o "\"$2\":[a-z0-9.]*" "$1" 2>/dev/null | head -n 1 | cut -d: -f2
}

# ---- reports of several workers per generation -------------------------------

# reports_of GEN: the report files of generation GEN written with
# --report "$T/r.%g.%p"
reports_of() {
	local f
	for f in "$T"/r."$1".[0-9]*; do
		case $f in *.tmp.*) continue ;; esac
		[ -f "$f" ] && echo "$f"
	done
	return 0
}

# settled STATUS: one generation in the status file, nothing starting or queued
settled() {
	[ "$(status_lines "$1")" = 1 ] &&
		[ "$(json_field "$1.json" restart_pending)" = false ] &&
		! grep -q '"state":"\(starting\|ready\)"' "$1.json" 2>/dev/null
}

# wait_settled STATUS TIMEOUT: settled, and still the same 0.6 s later
_settled_twice() {
	local a
	settled "$1" || return 1
	a=$(cat "$1")
	nap 0.6
	settled "$1" && [ "$(cat "$1")" = "$a" ]
}
wait_settled() { wait_until "${2:-10}" _settled_twice "$1"; }
