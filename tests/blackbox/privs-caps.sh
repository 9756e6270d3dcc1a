#!/bin/bash
# SPDX-License-Identifier: ISC
# --worker-caps and --no-new-privs: a worker run as nobody keeps
# exactly the capabilities named, as ambient ones (they survive its exec):
# cap_net_bind_service (0x400) in permitted, effective and ambient, a port
# below 1024 binds; NoNewPrivs is 1. --check prints the worker credentials.
. "$(dirname "$0")/lib.sh"
baton_only_script "--worker-caps is an extension"
[ "$(id -u)" = 0 ] || skip_all "needs root"
id nobody >/dev/null 2>&1 || skip_all "no user nobody"
chmod 1777 "$T"
CAP=0000000000000400

P=$(free_port)
start_baton --port=127.0.0.1:$P --user=nobody --worker-caps=net_bind_service \
	--no-new-privs -- "$WORKER" --report "$T/report.%g"
wait_report 1 10 || bail_out "no report from generation 1"
r=$(report 1)
is "$(report_val "$r" status_Uid)" "65534 65534 65534 65534" "the worker runs as nobody"
for set in CapPrm CapEff CapAmb; do
	is "$(report_val "$r" status_$set)" $CAP "$set is cap_net_bind_service only"
done
is "$(report_val "$r" status_NoNewPrivs)" 1 "--no-new-privs: NoNewPrivs 1"
like "$(report_val "$r" lowbind)" "^ok [0-9]+$" "binding a port below 1024 works"
check "it serves" wait_http 127.0.0.1:$P 5
kill -HUP "$BATON_PID"
check "HUP: generation 2 answers" wait_gen 127.0.0.1:$P 2 15
is "$(report_val "$(report 2)" status_CapAmb)" $CAP "generation 2 has the same ambient set"
kill -TERM "$BATON_PID"
check "TERM: baton exits" wait_baton_exit 10

# with the name as libcap spells it in full
rm -f "$T"/report.*
P=$(free_port)
start_baton --port=127.0.0.1:$P --user=nobody --worker-caps=cap_net_bind_service \
	-- "$WORKER" --report "$T/report.%g"
wait_report 1 10 || bail_out "no report with cap_net_bind_service"
is "$(report_val "$(report 1)" status_CapAmb)" $CAP "--worker-caps=cap_net_bind_service is the same"
is "$(report_val "$(report 1)" status_NoNewPrivs)" 0 "and NoNewPrivs 0 without --no-new-privs"
kill -TERM "$BATON_PID"
wait_baton_exit 10

P=$(free_port)
run_baton --check --port=127.0.0.1:$P --user=nobody --worker-caps=net_bind_service --no-new-privs
is "$RUN_STATUS" 0 "--check exits 0"
like "$RUN_OUT" "workers run as nobody:$(id -gn nobody), groups $(id -G nobody | tr ' ' ','), ambient caps cap_net_bind_service, no_new_privs yes" \
	"--check prints the worker credentials"
run_baton --check --port=127.0.0.1:$P
like "$RUN_OUT" "workers run as root:root, groups [^,]*, ambient caps none, no_new_privs no" \
	"without --user: baton's own credentials"
done_testing
