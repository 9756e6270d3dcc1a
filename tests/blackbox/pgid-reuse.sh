#!/bin/bash
# SPDX-License-Identifier: ISC
# baton never signals a number it has not proven is
# still its own. A worker dies and leaves a process in its group that
# ignores SIGTERM; the group then empties during the grace, and an
# unrelated process gets the freed number and makes it its own process
# group (a setsid daemon). At the end of the grace, 0.2.0 sent SIGKILL to
# that group. Now the exited worker stays unreaped (a zombie keeps its pid
# and group id in use) until its group is empty, and the group is never
# signalled after that: the unrelated process survives.
#
# The reuse is forced in a pid namespace of our own (unshare -pf), where
# /proc/sys/kernel/ns_last_pid chooses the next pid: N-1 written, then a
# fork gets N if N is free.
if [ -z "${BATON_IN_PIDNS:-}" ]; then
	if unshare -pf --mount-proc true 2>/dev/null; then
		BATON_IN_PIDNS=1 exec unshare -pf --mount-proc bash "$0" "$@"
	elif unshare -U -r -pf --mount-proc true 2>/dev/null; then
		BATON_IN_PIDNS=1 exec unshare -U -r -pf --mount-proc bash "$0" "$@"
	fi
	. "$(dirname "$0")/lib.sh"
	skip_all "cannot make a pid namespace here (unshare -pf)"
fi
. "$(dirname "$0")/lib.sh"
baton_only_script "start_server keeps no process group"
[ -w /proc/sys/kernel/ns_last_pid ] || skip_all "ns_last_pid is not writable in the namespace"

# pgrp_of PID: its process group, from /proc/PID/stat
pgrp_of() {
	local stat
	stat=$(cat /proc/"$1"/stat 2>/dev/null) || return 1
	stat=${stat##*) }
	# shellcheck disable=SC2086 # the fields, split on purpose
	set -- $stat
	echo "$3"
}

# take_pid N TAG: start "setsid sleep TAG" (an unrelated session and
# process group leader) with pid N; prints its pid once it has N.
# Bounded: N is free only once baton has let go of it.
take_pid() {
	local n=$1 tag=$2 i p
	for ((i = 0; i < 400; i++)); do
		echo $((n - 1)) >/proc/sys/kernel/ns_last_pid
		setsid sleep "$tag" </dev/null >/dev/null 2>&1 &
		p=$!
		if [ "$p" = "$n" ]; then
			echo "$p"
			return 0
		fi
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
		sleep 0.01
	done
	return 1
}

plan 7
P=$(free_port)
L=$T/baton.log
GRACE=$(scaled 4)
start_baton --port=127.0.0.1:$P --stop-timeout="$GRACE" --log-file="$L" -- \
	sh -c "(trap '' TERM; exec sleep 611) & exec $WORKER"
check "the worker serves" wait_http 127.0.0.1:$P 10
W=$(http_pid 127.0.0.1:$P)
left=$(pgrep -g "$W" -f '^sleep 611$')
check "its helper runs in its process group (pid ${left:-none})" test -n "$left"

# the worker dies; its helper ignores the SIGTERM sent to the group
kill -KILL "$W"
check "baton sends SIGTERM to what the worker left" \
	wait_file_contains "$L" "worker $W \\(generation 1\\) left processes in its process group" 10
t0=$(now_ms)
# the group empties during the grace; at once, an unrelated process
# takes the number (the helper is gone from /proc once baton reaped it)
kill -KILL "$left"
for ((i = 0; i < 100000; i++)); do [ -e /proc/"$left" ] || break; done
intruder=$(take_pid "$W" 612)
took=$(($(now_ms) - t0))
check "an unrelated process got pid $W, the number of the worker's old group (after $took ms)" \
	test "${intruder:-}" = "$W"
is "$(pgrp_of "$W")" "$W" "it leads a process group of that number"

# past the grace and the SIGKILL that 0.2.0 sent at its end
sleep_until_ms $((t0 + $(scaled_ms 4000) + $(scaled_ms 1500)))
check "the unrelated process is alive after the grace" pid_alive "$W"
file_unlike "$L" "processes of worker $W .*sending SIGKILL" \
	"baton sent no SIGKILL to the number after its group had emptied"
kill -KILL "$W" 2>/dev/null
kill -TERM "$BATON_PID"
wait_baton_exit 15
done_testing
