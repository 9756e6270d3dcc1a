#!/bin/bash
# SPDX-License-Identifier: ISC
# --envdir cannot set the names baton owns (BATON_*, SERVER_STARTER_*,
# LISTEN_*, NOTIFY_SOCKET, WATCHDOG_*): such a file is skipped with one
# warning. A big envdir is watched, not re-read every second: an
# unreadable file in it is reported once. What it costs baton while idle is
# a figure, not an assertion here (it moves with the machine's load):
# bench/envdir-idle.sh prints it.
. "$(dirname "$0")/lib.sh"
baton_only_script "envdir reserved names and change-only re-reads"

E=$T/env
mkdir "$E"
echo forged >"$E/BATON_REEXEC_STATE"
echo 1=1 >"$E/SERVER_STARTER_PORT"
echo 3 >"$E/LISTEN_FDS"
echo 7 >"$E/WATCHDOG_USEC"
echo kept >"$E/APP_VALUE"
P=$(free_port)
start_baton --port=127.0.0.1:$P --envdir="$E" -- "${WORKER_CMD[@]}"
wait_report 1 10 || bail_out "no worker report"
check "baton binds and the worker answers" wait_http 127.0.0.1:$P 10
is "$(report_env "$(report 1)" SERVER_STARTER_PORT)" "127.0.0.1:$P=3" \
	"the worker sees the real SERVER_STARTER_PORT"
check_not "the worker gets no LISTEN_FDS from the envdir" \
	report_has_env "$(report 1)" LISTEN_FDS
check_not "nor WATCHDOG_USEC" report_has_env "$(report 1)" WATCHDOG_USEC
check_not "nor BATON_REEXEC_STATE" report_has_env "$(report 1)" BATON_REEXEC_STATE
is "$(report_env "$(report 1)" APP_VALUE)" kept "other names are set as before"
for n in BATON_REEXEC_STATE SERVER_STARTER_PORT LISTEN_FDS WATCHDOG_USEC; do
	file_like "$T/baton.err" "${WARN_PREFIX}envdir $E: ignoring $n: reserved for baton" \
		"the warning names $n"
done
kill -HUP "$BATON_PID"
wait_report 2 10 || bail_out "no generation 2"
is "$(report_env "$(report 2)" SERVER_STARTER_PORT)" "127.0.0.1:$P=3" \
	"after a HUP too"
is "$(grep -c 'ignoring LISTEN_FDS' "$T/baton.err")" 1 \
	"each reserved file is reported once, not at every load"
kill -TERM "$BATON_PID"
wait_baton_exit 10 || bail_out "baton did not stop"

# 5,000 files and an unreadable one (a symlink loop: even root cannot
# read it): baton must not read them again every second.
B=$T/big
mkdir "$B"
for i in $(seq 1 5000); do echo "value $i" >"$B/VAR_$i"; done
ln -s LOOP "$B/LOOP"
: >"$T/baton.err"
P=$(free_port)
start_baton --port=127.0.0.1:$P --envdir="$B" -- "$WORKER" --report "$T/big.%g"
wait_file "$T/big.1" 20 || bail_out "no worker report with 5,000 files"
check "with 5,000 files, the worker answers" wait_http 127.0.0.1:$P 20
is "$(report_env "$T/big.1" VAR_4999)" "value 4999" "and sees them"
# after the start-up: generation 1 promoted (its one-off checks done, "is
# serving" is logged after them). On a loaded machine the promotion can
# come after the worker answers.
check "baton logs that generation 1 is serving" \
	wait_file_contains "$T/baton.err" "generation 1 is serving" 20
nap 3 # long enough for a re-read every second to show
is "$(grep -c "cannot read $B/LOOP" "$T/baton.err")" 1 \
	"the unreadable file is reported once, not every second"
echo "new value" >"$B/VAR_17"
kill -HUP "$BATON_PID"
wait_file "$T/big.2" 20
is "$(report_env "$T/big.2" VAR_17)" "new value" "a changed file is still read"
done_testing
