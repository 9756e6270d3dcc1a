#!/bin/bash
# --kill-old-delay: after the new generation is up, wait N seconds before
# signalling the old one (both generations serve meanwhile). Default 0, or 5
# with auto-restart.
. "$(dirname "$0")/lib.sh"

P=$(free_port)
start_baton --port=127.0.0.1:$P --kill-old-delay=3 -- "${WORKER_CMD[@]}"
wait_http 127.0.0.1:$P 10 || bail_out "supervisor did not come up"
wait_report 1 5
pid1=$(report_val "$(report 1)" pid)
kill -HUP "$BATON_PID"
wait_report 2 10 || bail_out "no generation 2"
t0=$(now_ms)
check "the old worker is signalled" wait_signal TERM "$pid1" 10
dt=$(($(now_ms) - t0))
# interval (1 s) + kill-old-delay (3 s) after the new worker started
cmp_ok "$dt" -ge 3500 "not before interval + kill-old-delay (${dt} ms after the new worker started)"
cmp_ok "$dt" -le 7000 "but soon after (${dt} ms)"
check "the old worker is gone" wait_pid_gone "$pid1" 5
check "generation 2 answers" wait_gen 127.0.0.1:$P 2 5
kill -TERM "$BATON_PID"
wait_baton_exit 10

# default with --enable-auto-restart: 5 s
P=$(free_port)
start_baton --port=127.0.0.1:$P --enable-auto-restart --auto-restart-interval=1000 \
	-- "$WORKER" --report "$T/a.%g" --on-signal-log "$T/a.sig"
wait_http 127.0.0.1:$P 10 || bail_out "supervisor did not come up"
wait_file "$T/a.1" 5
apid1=$(report_val "$T/a.1" pid)
kill -HUP "$BATON_PID"
wait_file "$T/a.2" 10 || bail_out "no generation 2"
t0=$(now_ms)
check "auto-restart on: the old worker is signalled" wait_signal TERM "$apid1" 12 "$T/a.sig"
dt=$(($(now_ms) - t0))
cmp_ok "$dt" -ge 5500 "with the default kill-old-delay of 5 s (${dt} ms)"
cmp_ok "$dt" -le 9000 "but not much later (${dt} ms)"
done_testing
