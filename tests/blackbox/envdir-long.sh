#!/bin/bash
# SPDX-License-Identifier: ISC
# An envdir value is passed whole (0.2.0 cut it to 65,535 bytes without a
# word, where start_server passes 100,000): its whole first line, up to
# what exec can carry (MAX_ARG_STRLEN: 131,072 bytes per NAME=value string,
# its NUL included); a longer one is ignored with a warning, not cut. And
# a file named ENVDIR swapped the directory being read at the next load:
# it is reserved now, ignored with a warning like BATON_*.
. "$(dirname "$0")/lib.sh"
baton_only_script "envdir limits are baton's"

E=$T/env
O=$T/other
mkdir "$E" "$O"
long() { head -c "$1" /dev/zero | tr '\0' x; }
long 100000 >"$E/HUNDRED_K"
long 131066 >"$E/EDGE" # "EDGE=" + 131,066 + NUL = 131,072
echo >>"$E/EDGE"       # a newline ends the first line
long 131067 >"$E/OVER"
echo "$O" >"$E/ENVDIR"
echo swapped >"$O/SWAP"
echo kept >"$E/APP"
P=$(free_port)
start_baton --port=127.0.0.1:$P --envdir="$E" -- "${WORKER_CMD[@]}"
wait_report 1 10 || bail_out "no worker report: $(tail -3 "$T/baton.err")"
v=$(report_env "$(report 1)" HUNDRED_K)
is "${#v}" 100000 "a 100,000-byte value reaches the worker whole"
v=$(report_env "$(report 1)" EDGE)
is "${#v}" 131066 "a value exactly as long as exec carries reaches it whole"
check_not "a longer one is not set (no cut value)" report_has_env "$(report 1)" OVER
file_like "$T/baton.err" "${WARN_PREFIX}envdir $E: ignoring OVER: its first line is longer than exec can carry \(131071 bytes for NAME=value\)" \
	"... and baton says why"
file_like "$T/baton.err" "${WARN_PREFIX}envdir $E: ignoring ENVDIR: reserved for baton" \
	"a file named ENVDIR is ignored, with a warning"
is "$(report_env "$(report 1)" ENVDIR)" "$E" "the worker's ENVDIR is the real one"
is "$(report_env "$(report 1)" APP)" kept "other files are read as before"

kill -HUP "$BATON_PID"
wait_report 2 10 || bail_out "no generation 2: $(tail -3 "$T/baton.err")"
check_not "after a HUP the envdir was not swapped for the other directory" \
	report_has_env "$(report 2)" SWAP
is "$(report_env "$(report 2)" APP)" kept "... its files are still read"
v=$(report_env "$(report 2)" HUNDRED_K)
is "${#v}" 100000 "... the long value is still whole"
is "$(grep -c 'ignoring OVER' "$T/baton.err")" 1 "the long file is reported once, not at every load"
check "baton still runs" pid_alive "$BATON_PID"
kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "TERM: exit 0"
done_testing
