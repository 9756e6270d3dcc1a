#!/bin/bash
# SPDX-License-Identifier: ISC
# Every deadline is on the monotonic clock. baton runs under
# libfaketime (Debian package faketime) with the monotonic clock left
# alone (DONT_FAKE_MONOTONIC=1), and the wall clock is stepped by +1 h or
# -1 h while a deadline runs. 0.2.0 computed them from ev_now() (wall
# time): after -1 h a leftover that ignores SIGTERM got its SIGKILL an hour
# late (and baton --stop waited as long); after +1 h baton gave up on it
# without a SIGKILL ("survive SIGKILL; exiting anyway") and left it
# holding the port. --auto-restart-interval and the 10-second "stable
# service" check moved with the wall clock too.
. "$(dirname "$0")/lib.sh"
baton_only_script "start_server has no such deadlines"

FT=
for f in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1; do
	[ -f "$f" ] && FT=$f && break
done
[ -n "$FT" ] || skip_all "libfaketime is not installed (Debian package faketime)"

CLOCK=$T/clock
# step OFFSET: the faked wall clock is OFFSET (+3600, -3600, +0) from the
# real one, from now on (FAKETIME_NO_CACHE: read at every call)
step() {
	echo "$1" >"$CLOCK.new" && mv -f "$CLOCK.new" "$CLOCK"
}
# faked CMD...: CMD with the wall clock faked, the monotonic one not (a
# baton built with --enable-sanitizers accepts the preload before ASan's
# runtime: verify_asan_link_order=0)
faked() {
	LD_PRELOAD=$FT FAKETIME_TIMESTAMP_FILE=$CLOCK FAKETIME_NO_CACHE=1 \
		DONT_FAKE_MONOTONIC=1 \
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 "$@"
}
fake_now() { faked date +%s; }
# log_epoch LOG ERE: the time stamp of the first line of LOG matching ERE,
# in seconds (as baton's wall clock had it)
log_epoch() {
	local stamp
	stamp=$(grep -E -m 1 -- "$2" "$1" | cut -d' ' -f1)
	date -d "${stamp%.*}" +%s 2>/dev/null
}

step +0
d=$(($(fake_now) - $(date +%s)))
step +3600
d2=$(($(fake_now) - $(date +%s)))
step +0
if [ "$d" -gt 2 ] || [ "$d" -lt -2 ] || [ "$d2" -lt 3590 ] || [ "$d2" -gt 3610 ]; then
	skip_all "libfaketime does not step the clock here ($d s, then $d2 s)"
fi

# leftover_case STEP HOURS: a worker dies and leaves a process that ignores
# SIGTERM in its group; the clock steps by STEP during the grace; the
# SIGKILL must come at the end of the grace all the same
leftover_case() {
	local s=$1 h=$2 P L W left t0 t1 e1 e2 jump
	P=$(free_port)
	L=$T/left$s.log
	step +0
	faked start_baton --port=127.0.0.1:$P --stop-timeout="$(scaled 3)" --log-file="$L" -- \
		sh -c "(trap '' TERM; exec sleep 631) & exec $WORKER"
	wait_http 127.0.0.1:$P 10 || bail_out "baton did not serve"
	W=$(http_pid 127.0.0.1:$P)
	left=$(pgrep -g "$W" -f '^sleep 631$')
	t0=$(now_ms)
	kill -KILL "$W"
	wait_file_contains "$L" "worker $W .*left processes" 10 || bail_out "no SIGTERM to the leftover"
	step "$s"
	check "clock $h h during a worker's grace: SIGKILL sent to its leftovers" \
		wait_file_contains "$L" "processes of worker $W .*sending SIGKILL" 8
	t1=$(now_ms)
	diag "figure: SIGKILL $((t1 - t0)) ms after the worker died (grace $(scaled 3) s, clock stepped ${s}s)"
	# the step reached baton: its log's wall clock jumped by about as much
	e1=$(log_epoch "$L" "worker $W .*left processes")
	e2=$(log_epoch "$L" "processes of worker $W .*sending SIGKILL")
	if [ -n "$e1" ] && [ -n "$e2" ]; then
		jump=$((e2 - e1))
		cmp_ok "$(((jump - s) * (jump - s)))" -lt 3600 "clock $h h: baton's wall clock moved by it (${jump}s in its log)"
	else
		fail "clock $h h: baton's wall clock moved by it (no SIGKILL line to tell)"
	fi
	check "clock $h h: the leftover is gone" wait_pid_gone "$left" 5
	file_unlike "$L" "survive SIGKILL" "clock $h h: no 'survive SIGKILL'"
	kill -TERM "$BATON_PID"
	wait_baton_exit 15
}

# stop_case STEP HOURS: baton --stop while a leftover ignores SIGTERM, and the
# clock steps by STEP meanwhile: --stop returns once the SIGKILL took it
stop_case() {
	local s=$1 h=$2 P L W left stray sp t0 t1
	P=$(free_port)
	L=$T/stop$s.log
	step +0
	faked start_baton --port=127.0.0.1:$P --pid-file="$T/stop$s.pid" --stop-timeout="$(scaled 3)" \
		--log-file="$L" -- sh -c "(trap '' TERM; exec sleep 632) & (trap '' TERM; exec setsid sleep 633) & exec $WORKER"
	wait_http 127.0.0.1:$P 10 || bail_out "baton did not serve"
	W=$(http_pid 127.0.0.1:$P)
	left=$(pgrep -g "$W" -f '^sleep 632$')
	# and a stray out of the worker's group (its own session)
	wait_until 5 eval '[ -n "$(pgrep -P "$W" -f "^sleep 633$")" ]' || bail_out "no stray"
	stray=$(pgrep -P "$W" -f '^sleep 633$')
	t0=$(now_ms)
	"$BATON" --stop --pid-file="$T/stop$s.pid" >"$T/stop$s.out" 2>&1 &
	sp=$!
	track_pid "$sp"
	wait_file_contains "$L" "worker $W .*left processes" 10 || bail_out "no SIGTERM to the leftover"
	step "$s"
	check "clock $h h during --stop: baton --stop returns" wait_pid_gone "$sp" 10
	t1=$(now_ms)
	diag "figure: baton --stop took $((t1 - t0)) ms (grace $(scaled 3) s, clock stepped ${s}s)"
	check "clock $h h during --stop: baton exited" wait_baton_exit 5
	file_like "$L" "processes of worker $W .*sending SIGKILL" "clock $h h during --stop: SIGKILL sent"
	file_unlike "$L" "survive SIGKILL" "clock $h h during --stop: no 'survive SIGKILL'"
	check "clock $h h during --stop: the leftover is gone" pid_gone "$left"
	file_like "$L" "stray process $stray still running [0-9.]+s after SIGTERM: sending SIGKILL" \
		"clock $h h during --stop: SIGKILL sent to the stray out of the worker's group"
	check "clock $h h during --stop: the stray is gone" pid_gone "$stray"
}

leftover_case +3600 +1
leftover_case -3600 -1
stop_case +3600 +1
stop_case -3600 -1

# --auto-restart-interval: a step back by an hour must not put the next
# auto-restart an hour away
P=$(free_port)
L=$T/auto.log
step +0
faked start_baton --port=127.0.0.1:$P --enable-auto-restart --auto-restart-interval=2 \
	--log-file="$L" -- "$WORKER"
wait_file_contains "$L" "generation 1 is serving" 10 || bail_out "baton did not serve"
step -3600
check "clock -1 h: the auto-restart still comes after --auto-restart-interval" \
	wait_file_contains "$L" "starting generation 2 \\(auto-restart\\)" 6
kill -TERM "$BATON_PID"
wait_baton_exit 15

# the stable-service check: a worker that dies 1 s after it started has
# not served 10 s, whatever the wall clock says: the backoff goes on
P=$(free_port)
L=$T/stable.log
step +0
faked start_baton --port=127.0.0.1:$P --log-file="$L" -- "$WORKER"
wait_file_contains "$L" "generation 1 is serving" 10 || bail_out "baton did not serve"
kill -KILL "$(http_pid 127.0.0.1:$P)"
wait_file_contains "$L" "generation 2 is serving" 10 || bail_out "generation 2 did not serve"
kill -KILL "$(http_pid 127.0.0.1:$P)"
wait_file_contains "$L" "generation 3 is serving" 10 || bail_out "generation 3 did not serve"
step +3600
# libev reads the wall clock again at most every 0.5 s of monotonic time
# (MIN_TIMEJUMP / 2): the step must be seen before the death
nap 1
kill -KILL "$(http_pid 127.0.0.1:$P)"
check "clock +1 h: a worker that lived seconds still counts as a failure (backoff 2s)" \
	wait_file_contains "$L" "retrying in 2s \\(3 consecutive failures\\)" 5
kill -TERM "$BATON_PID"
wait_baton_exit 15
done_testing
