#!/bin/bash
# SPDX-License-Identifier: ISC
# The environment variables that stand for options: ENABLE_AUTO_RESTART,
# AUTO_RESTART_INTERVAL, KILL_OLD_DELAY, ENVDIR; an option beats the
# inherited variable. Four supervisors side by side.
. "$(dirname "$0")/lib.sh"

mkdir "$T/env1" "$T/env2"
echo one >"$T/env1/FROM_DIR"
echo two >"$T/env2/FROM_DIR"
P1=$(free_port) P2=$(free_port) P3=$(free_port) P4=$(free_port)

ENABLE_AUTO_RESTART=1 AUTO_RESTART_INTERVAL=2 KILL_OLD_DELAY=0 BATON_ERR=$T/auto.err \
	start_baton --port=127.0.0.1:$P1 -- "$WORKER" --report "$T/a.%g"
KILL_OLD_DELAY=3 BATON_ERR=$T/kill.err \
	start_baton --port=127.0.0.1:$P2 -- "$WORKER" --report "$T/k.%g" --on-signal-log "$T/k.sig"
K=$BATON_PID
ENVDIR=$T/env1 BATON_ERR=$T/envdir.err start_baton --port=127.0.0.1:$P3 -- "$WORKER" --report "$T/e.%g"
ENVDIR=$T/env1 BATON_ERR=$T/envdir2.err start_baton --port=127.0.0.1:$P4 --envdir="$T/env2" \
	-- "$WORKER" --report "$T/f.%g"

wait_file "$T/k.1" 10 || bail_out "no worker report"
wait_http 127.0.0.1:$P2 10
kpid1=$(report_val "$T/k.1" pid)
kill -HUP "$K"
wait_file "$T/k.2" 10 || bail_out "no generation 2"

wait_file "$T/e.1" 10
is "$(report_env "$T/e.1" FROM_DIR)" one "ENVDIR=dir: the worker gets the dir's variables"
wait_file "$T/f.1" 10
is "$(report_env "$T/f.1" FROM_DIR)" two "--envdir beats an inherited ENVDIR"

check "KILL_OLD_DELAY=3: the old worker is signalled" wait_signal TERM "$kpid1" 10 "$T/k.sig"
dt=$(ms_between "$(report_ms "$T/k.2")" "$(signal_ms TERM "$kpid1" "$T/k.sig")")
cmp_ok "$dt" -ge 3750 "after interval + 3 s (${dt} ms after the new worker started)"
cmp_ok "$dt" -le $((4000 + $(scaled_ms 3000))) "but soon after (${dt} ms)"

check "ENABLE_AUTO_RESTART=1 AUTO_RESTART_INTERVAL=2: generation 2 by itself" wait_file "$T/a.2" 8
done_testing
