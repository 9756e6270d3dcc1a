#!/bin/bash
# SPDX-License-Identifier: ISC
# --enable-auto-restart / --auto-restart-interval: a new generation every
# N seconds without any HUP; without the switch, none.
. "$(dirname "$0")/lib.sh"

P=$(free_port) Q=$(free_port)
start_baton --port=127.0.0.1:$P --enable-auto-restart --auto-restart-interval=2 \
	--kill-old-delay=0 -- "${WORKER_CMD[@]}"
A=$BATON_PID
# side by side: --auto-restart-interval alone does nothing
BATON_ERR=$T/noauto.err start_baton --port=127.0.0.1:$Q --auto-restart-interval=1 -- "$WORKER" --report "$T/n.%g"
B=$BATON_PID
t0=$(now_ms)
wait_http 127.0.0.1:$P 10 || bail_out "supervisor did not come up"
check "generation 2 starts by itself" wait_report 2 8
check "and generation 3" wait_report 3 8
pid1=$(report_val "$(report 1)" pid)
check "generation 1 got TERM" file_contains "$T/signals.log" "^TERM $pid1 "
check "and is gone" wait_pid_gone "$pid1" 5
kill -TERM "$A"
wait_baton_exit 10 "$A"
is "$BATON_STATUS" 0 "TERM: exit 0"

sleep_until_ms $((t0 + $(scaled_ms 4500)))
check "without --enable-auto-restart, no new generation ($(($(now_ms) - t0)) ms)" test ! -e "$T/n.2"
is "$(http_gen 127.0.0.1:$Q)" 1 "generation 1 still answers"
done_testing
