#!/bin/bash
# SPDX-License-Identifier: ISC
# --kill-old-delay: after the new generation is up, wait N seconds before
# signalling the old one (both generations serve meanwhile). Default 0, or 5
# with auto-restart.
. "$(dirname "$0")/lib.sh"

# two supervisors side by side: --kill-old-delay=3, and auto-restart's 5 s
P=$(free_port) Q=$(free_port)
start_baton --port=127.0.0.1:$P --kill-old-delay=3 -- "${WORKER_CMD[@]}"
A=$BATON_PID
BATON_ERR=$T/auto.err start_baton --port=127.0.0.1:$Q --enable-auto-restart \
	--auto-restart-interval=1000 -- "$WORKER" --report "$T/a.%g" --on-signal-log "$T/a.sig"
B=$BATON_PID
wait_http 127.0.0.1:$P 10 || bail_out "supervisor did not come up"
wait_http 127.0.0.1:$Q 10 || bail_out "supervisor did not come up"
wait_report 1 5
wait_file "$T/a.1" 5
pid1=$(report_val "$(report 1)" pid)
apid1=$(report_val "$T/a.1" pid)

kill -HUP "$A" "$B"
wait_report 2 10 || bail_out "no generation 2"
wait_file "$T/a.2" 10 || bail_out "no generation 2 (auto-restart)"

check "the old worker is signalled" wait_signal TERM "$pid1" 10
dt=$(ms_between "$(report_ms "$(report 2)")" "$(signal_ms TERM "$pid1")")
# interval (1 s) + kill-old-delay (3 s) after the new worker started
cmp_ok "$dt" -ge 3750 "not before interval + kill-old-delay (${dt} ms after the new worker started)"
cmp_ok "$dt" -le $((4000 + $(scaled_ms 3000))) "but soon after (${dt} ms)"
check "meanwhile generation 1 was kept: it is gone only now" wait_pid_gone "$pid1" 5
check "generation 2 answers" wait_gen 127.0.0.1:$P 2 5

check "auto-restart on: the old worker is signalled" wait_signal TERM "$apid1" 12 "$T/a.sig"
dt=$(ms_between "$(report_ms "$T/a.2")" "$(signal_ms TERM "$apid1" "$T/a.sig")")
cmp_ok "$dt" -ge 5750 "after interval + the default kill-old-delay of 5 s (${dt} ms)"
cmp_ok "$dt" -le $((6000 + $(scaled_ms 3000))) "but not much later (${dt} ms)"
done_testing
