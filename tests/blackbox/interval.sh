#!/bin/bash
# SPDX-License-Identifier: ISC
# --interval: a new worker counts as started only if it is still alive after
# N seconds; only then is the old generation signalled. A worker that exits
# sooner failed to start and is tried again.
. "$(dirname "$0")/lib.sh"

# --interval=2 (scaled): the old generation is kept until the new one
# survived it
IV=$(scaled 2)
IV_MS=$(_to_ms "$IV")
P=$(free_port)
serve_baton --port=127.0.0.1:$P --interval="$IV" -- "${WORKER_CMD[@]}"
wait_report 1 5
pid1=$(report_val "$(report 1)" pid)
kill -HUP "$BATON_PID"
wait_report 2 10 || bail_out "no generation 2"
check "the old worker is signalled" wait_signal TERM "$pid1" 10
dt=$(ms_between "$(report_ms "$(report 2)")" "$(signal_ms TERM "$pid1")")
cmp_ok "$dt" -ge $((IV_MS - 250)) "not before the new one has lived ${IV} s (${dt} ms after it started)"
cmp_ok "$dt" -le $((IV_MS + $(scaled_ms 3000))) "but soon after (${dt} ms)"
kill -TERM "$BATON_PID"
wait_baton_exit 10

# --interval=0: retire at once
P=$(free_port)
serve_baton --port=127.0.0.1:$P --interval=0 -- "$WORKER" --report "$T/z.%g" --on-signal-log "$T/z.sig"
wait_file "$T/z.1" 5
zpid1=$(report_val "$T/z.1" pid)
kill -HUP "$BATON_PID"
wait_file "$T/z.2" 10 || bail_out "no generation 2"
check "--interval=0: the old worker is signalled" wait_signal TERM "$zpid1" 5 "$T/z.sig"
dt=$(ms_between "$(report_ms "$T/z.2")" "$(signal_ms TERM "$zpid1" "$T/z.sig")")
cmp_ok "$dt" -le "$(scaled_ms 1500)" "--interval=0: right after the new one started (${dt} ms)"
kill -TERM "$BATON_PID"
wait_baton_exit 10

# decimals (baton): --interval=0.5
if baton_only "--interval accepts decimals"; then
	P=$(free_port)
	IV=$(scaled 0.5)
	IV_MS=$(_to_ms "$IV")
	start_baton --port=127.0.0.1:$P --interval="$IV" -- "$WORKER" --report "$T/d.%g" --on-signal-log "$T/d.sig"
	check "--interval=0.5 is accepted" wait_http 127.0.0.1:$P 10
	wait_file "$T/d.1" 5
	dpid1=$(report_val "$T/d.1" pid)
	kill -HUP "$BATON_PID"
	wait_file "$T/d.2" 10
	check "--interval=0.5: the old worker is signalled" wait_signal TERM "$dpid1" 5 "$T/d.sig"
	dt=$(ms_between "$(report_ms "$T/d.2")" "$(signal_ms TERM "$dpid1" "$T/d.sig")")
	cmp_ok "$dt" -ge $((IV_MS - 100)) "not before ${IV} s (${dt} ms)"
	cmp_ok "$dt" -le $((IV_MS + $(scaled_ms 1500))) "nor long after (${dt} ms)"
	kill -TERM "$BATON_PID"
	wait_baton_exit 10
fi

# a worker that dies within the interval failed to start, and is retried
P=$(free_port)
cat >"$T/app" <<APP
#!/bin/sh
if [ -e "$T/short" ]; then
	exec "$WORKER" --report "$T/s.%g" --exit-after 0.5 --exit-code 3
fi
exec "$WORKER" --report "$T/s.%g"
APP
chmod +x "$T/app"
touch "$T/short"
start_baton --port=127.0.0.1:$P --interval=2 --status-file="$T/status" -- "$T/app"
check "a worker exiting within --interval is reported as failed" \
	wait_file_contains "$T/baton.err" 'failed to start' 8
check "and started again" wait_file "$T/s.2" 8
is "$(status_gens "$T/status")" "" "the status file lists no worker while none has started"
rm -f "$T/short"
check "once it stays up, it serves" wait_http 127.0.0.1:$P 20
check "and the status file lists it" wait_until 5 grep -qs . "$T/status"
done_testing
