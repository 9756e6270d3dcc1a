#!/bin/bash
# The environment variables that stand for options: ENABLE_AUTO_RESTART,
# AUTO_RESTART_INTERVAL, KILL_OLD_DELAY, ENVDIR; an option beats the
# inherited variable.
. "$(dirname "$0")/lib.sh"

# ENABLE_AUTO_RESTART + AUTO_RESTART_INTERVAL + KILL_OLD_DELAY=0
P=$(free_port)
ENABLE_AUTO_RESTART=1 AUTO_RESTART_INTERVAL=2 KILL_OLD_DELAY=0 \
	start_baton --port=127.0.0.1:$P -- "${WORKER_CMD[@]}"
wait_http 127.0.0.1:$P 10 || bail_out "supervisor did not come up"
check "ENABLE_AUTO_RESTART=1 AUTO_RESTART_INTERVAL=2: generation 2 by itself" wait_report 2 8
kill -TERM "$BATON_PID"
wait_baton_exit 10

# KILL_OLD_DELAY=3
P=$(free_port)
KILL_OLD_DELAY=3 start_baton --port=127.0.0.1:$P -- "$WORKER" --report "$T/k.%g" --on-signal-log "$T/k.sig"
wait_http 127.0.0.1:$P 10 || bail_out "supervisor did not come up"
wait_file "$T/k.1" 5
kpid1=$(report_val "$T/k.1" pid)
kill -HUP "$BATON_PID"
wait_file "$T/k.2" 10 || bail_out "no generation 2"
t0=$(now_ms)
check "KILL_OLD_DELAY=3: the old worker is signalled" wait_signal TERM "$kpid1" 10 "$T/k.sig"
dt=$(($(now_ms) - t0))
cmp_ok "$dt" -ge 3500 "after interval + 3 s (${dt} ms)"
kill -TERM "$BATON_PID"
wait_baton_exit 10

# ENVDIR, and --envdir over an inherited ENVDIR
mkdir "$T/env1" "$T/env2"
echo one >"$T/env1/FROM_DIR"
echo two >"$T/env2/FROM_DIR"
P=$(free_port)
ENVDIR=$T/env1 start_baton --port=127.0.0.1:$P -- "$WORKER" --report "$T/e.%g"
wait_file "$T/e.1" 10 || bail_out "no worker report"
is "$(report_env "$T/e.1" FROM_DIR)" one "ENVDIR=dir: the worker gets the dir's variables"
kill -TERM "$BATON_PID"
wait_baton_exit 10
ENVDIR=$T/env1 start_baton --port=127.0.0.1:$P --envdir="$T/env2" -- "$WORKER" --report "$T/f.%g"
wait_file "$T/f.1" 10 || bail_out "no worker report"
is "$(report_env "$T/f.1" FROM_DIR)" two "--envdir beats an inherited ENVDIR"
done_testing
