#!/bin/bash
# SPDX-License-Identifier: ISC
# WATCHDOG=1 at half of WATCHDOG_USEC when the manager asks baton for it
# (WATCHDOG_PID unset or baton's pid), still after a SIGUSR2 re-exec, and
# never when WATCHDOG_PID names another process.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/blackbox/lib-sdnotify.sh"

P=$(free_port)
sink_start WATCHDOG_USEC=1000000 -- --port=127.0.0.1:$P -- "${WORKER_CMD[@]}"
check "generation 1 serves" wait_sink 'READY=1' 10
check "several WATCHDOG=1 (WATCHDOG_USEC=1000000)" wait_sink 'WATCHDOG=1$' 5 10
# the gaps between them, by the sink's clock: about 0.5 s, not a flood
gaps=$(sink_msgs 'WATCHDOG=1$' | sed 's/^usec=\([0-9]*\).*/\1/' |
	awk 'NR > 1 { print $1 - p } { p = $1 }')
min=$(sort -n <<<"$gaps" | head -n 1)
cmp_ok "${min:-0}" -ge 350000 "no closer than about half of WATCHDOG_USEC (shortest gap ${min} us)"
avg=$(awk '{ s += $1; n++ } END { print n ? int(s / n) : 0 }' <<<"$gaps")
cmp_ok "$avg" -le 700000 "and on average within it (average gap ${avg} us)"
is "$(sink_msgs 'WATCHDOG=1$' | awk '{ print $2 }' | sort -u)" "pid=$BATON_PID" "each from baton"
env_has=no
report_has_env "$(report 1)" WATCHDOG_USEC && env_has=yes
is "$env_has" no "the worker does not get WATCHDOG_USEC"

n=$(sink_count 'WATCHDOG=1$')
kill -USR2 "$BATON_PID"
check "re-executed" wait_sink 'STATUS=re-executed' 10
check "WATCHDOG=1 goes on after a re-exec" wait_sink 'WATCHDOG=1$' $((n + 4)) 10
kill -TERM "$BATON_PID"
check "baton exits" wait_file_contains "$SLOG" " exit pid=$BATON_PID " 10

# WATCHDOG_PID names another process: the watchdog is not baton's

sink_start WATCHDOG_USEC=200000 WATCHDOG_PID=1 -- --port=127.0.0.1:$P -- "${WORKER_CMD[@]}"
check "generation 1 serves" wait_sink 'READY=1' 10
sleep 1
is "$(sink_count 'WATCHDOG=1')" 0 "no WATCHDOG=1 when WATCHDOG_PID is not baton's"
kill -TERM "$BATON_PID"
wait_file_contains "$SLOG" " exit pid=$BATON_PID " 10
done_testing
