#!/bin/bash
# SPDX-License-Identifier: ISC
# The ambient leak: a baton that runs unprivileged with ambient
# cap_net_bind_service (systemd AmbientCapabilities=, setpriv --ambient-caps)
# binds a low port itself, but its workers do not inherit the capability
# (CapAmb 0, a low bind refused) unless --worker-caps names it (0x400).
. "$(dirname "$0")/lib.sh"
baton_only_script "clearing ambient capabilities is baton's"
[ "$(id -u)" = 0 ] || skip_all "needs root (to start baton under setpriv)"
id nobody >/dev/null 2>&1 || skip_all "no user nobody"
command -v setpriv >/dev/null || skip_all "no setpriv (util-linux)"
setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups --inh-caps=+net_bind_service \
	--ambient-caps=+net_bind_service true 2>/dev/null || skip_all "setpriv cannot raise ambient capabilities here"
chmod 1777 "$T"

low_port() { # a free TCP port below 1024, reserved as free_port does (two
	# suites at once took the same one)
	free_port 900 1000
}

SETPRIV="setpriv --reuid=nobody --regid=$(id -g nobody) --clear-groups --inh-caps=+net_bind_service --ambient-caps=+net_bind_service --"
start_unprivileged() {
	# shellcheck disable=SC2086 # SETPRIV: words on purpose
	"$WORKER" --launch -- $SETPRIV "$BATON" "$@" >>"$T/baton.out" 2>>"$T/baton.err" </dev/null &
	BATON_PID=$!
	_track "$BATON_PID"
}

P=$(low_port) || skip_all "no free port below 1024"
start_unprivileged --port=127.0.0.1:$P -- "$WORKER" --report "$T/report.%g"
check "the unprivileged baton binds port $P itself and its worker serves" wait_http 127.0.0.1:$P 10
wait_report 1 10 || bail_out "no report"
like "$(grep '^Uid:' /proc/"$BATON_PID"/status)" "^Uid:[[:space:]]+$(id -u nobody)[[:space:]]" "baton runs as nobody"
like "$(grep '^CapAmb:' /proc/"$BATON_PID"/status)" "0000000000000400$" "with ambient cap_net_bind_service"
is "$(report_val "$(report 1)" status_CapAmb)" 0000000000000000 "its worker's CapAmb is 0"
is "$(report_val "$(report 1)" status_CapPrm)" 0000000000000000 "and CapPrm is 0"
is "$(report_val "$(report 1)" lowbind)" EACCES "the worker cannot bind a low port"
kill -TERM "$BATON_PID"
check "TERM: baton exits" wait_baton_exit 10

rm -f "$T"/report.*
P=$(low_port) || skip_all "no free port below 1024"
start_unprivileged --port=127.0.0.1:$P --worker-caps=net_bind_service -- "$WORKER" --report "$T/report.%g"
check "with --worker-caps=net_bind_service: it serves" wait_http 127.0.0.1:$P 10
wait_report 1 10 || bail_out "no report"
is "$(report_val "$(report 1)" status_CapAmb)" 0000000000000400 "the worker's CapAmb is 0x400"
like "$(report_val "$(report 1)" lowbind)" "^ok [0-9]+$" "and it can bind a low port"
kill -TERM "$BATON_PID"
check "TERM: baton exits" wait_baton_exit 10
done_testing
