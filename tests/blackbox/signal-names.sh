#!/bin/bash
# SPDX-License-Identifier: ISC
# --signal-on-hup/--signal-on-term names: TERM, SIGTERM, term and 15 all
# mean SIGTERM; an unknown name is refused at start-up (baton fix:
# start_server dies at the first HUP, orphaning its workers).
. "$(dirname "$0")/lib.sh"

# one supervisor per spelling, side by side
i=0
for spelling in TERM SIGTERM term 15 USR1 sigusr1 "$(kill -l USR1)"; do
	i=$((i + 1))
	port[$i]=$(free_port)
	name[$i]=$spelling
	BATON_ERR=$T/err.$i start_baton --port=127.0.0.1:${port[$i]} --signal-on-hup="$spelling" \
		-- "$WORKER" --report "$T/r$i.%g" --on-signal-log "$T/sig.$i"
	sup[$i]=$BATON_PID
done
for j in $(seq 1 $i); do
	wait_file "$T/r$j.1" 10 || bail_out "supervisor ${name[$j]} did not come up"
	kill -HUP "${sup[$j]}"
done
for j in $(seq 1 $i); do
	want=TERM
	case ${name[$j]} in *[Uu][Ss][Rr]1 | "$(kill -l USR1)") want=USR1 ;; esac
	pid1=$(report_val "$T/r$j.1" pid)
	check "--signal-on-hup=${name[$j]} sends $want" wait_signal $want "$pid1" 10 "$T/sig.$j"
done

if baton_only "unknown signal names are refused at start-up"; then
	P=$(free_port)
	RUN_TIMEOUT=5
	run_baton --port=127.0.0.1:$P --signal-on-hup=FOO -- "$WORKER" --report "$T/bad1"
	is "$RUN_STATUS" 1 "--signal-on-hup=FOO exits 1"
	like "$RUN_ERR" "^${MSG_PREFIX}invalid --signal-on-hup value \"FOO\": unknown signal" \
		"message: invalid --signal-on-hup value \"FOO\": unknown signal"
	check_not "no worker was started" test -e "$T/bad1"
	run_baton --port=127.0.0.1:$P --signal-on-term=SIGBAR -- "$WORKER" --report "$T/bad2"
	is "$RUN_STATUS" 1 "--signal-on-term=SIGBAR exits 1"
	like "$RUN_ERR" "invalid --signal-on-term value \"SIGBAR\": unknown signal" "message names the option and value"
	run_baton --port=127.0.0.1:$P --signal-on-hup=999 -- "$WORKER" --report "$T/bad3"
	is "$RUN_STATUS" 1 "--signal-on-hup=999 exits 1"
	run_baton --port=127.0.0.1:$P --signal-on-hup= -- "$WORKER" --report "$T/bad4"
	is "$RUN_STATUS" 1 "an empty --signal-on-hup exits 1"
fi
done_testing
