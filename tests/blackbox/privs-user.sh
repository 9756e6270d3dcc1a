#!/bin/bash
# SPDX-License-Identifier: ISC
# --user: a root baton runs its workers as an unprivileged user,
# with every capability set empty (bounding set included), no low port, the
# user's USER/LOGNAME/HOME, and --die-with-supervisor still in force (the
# kernel clears the parent-death signal on a uid change: it is set after).
# baton itself stays root. A HUP gives generation 2 the same credentials,
# and --ready=notify works across the uid change.
. "$(dirname "$0")/lib.sh"
baton_only_script "--user is an extension"
[ "$(id -u)" = 0 ] || skip_all "needs root"
id nobody >/dev/null 2>&1 || skip_all "no user nobody"
NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)
NOBODY_HOME=$(getent passwd nobody | cut -d: -f6)
# the worker (as nobody) writes its reports here
chmod 1777 "$T"

creds_are_nobody() { # REPORT-FILE: uid and gid nobody's in all four slots
	local r=$1 u=$NOBODY_UID g=$NOBODY_GID
	is "$(report_val "$r" status_Uid)" "$u $u $u $u" "$2: Uid $u in all four slots"
	is "$(report_val "$r" status_Gid)" "$g $g $g $g" "$2: Gid $g in all four slots"
}

cat >"$T/app" <<APP
#!/bin/sh
exec "$WORKER" --report "$T/report.%g" --notify-ready
APP
chmod 755 "$T/app"
P=$(free_port)
start_baton --port=127.0.0.1:$P --user=nobody --die-with-supervisor \
	--ready=notify --status-file="$T/status" -- "$T/app"
wait_report 1 10 || bail_out "no report from generation 1"
r1=$(report 1)
creds_are_nobody "$r1" "generation 1"
is "$(report_val "$r1" status_Groups)" "$(id -G nobody)" "the groups are nobody's (initgroups)"
for set in CapInh CapPrm CapEff CapBnd CapAmb; do
	is "$(report_val "$r1" status_$set)" 0000000000000000 "$set is empty"
done
is "$(report_val "$r1" status_NoNewPrivs)" 0 "NoNewPrivs is 0 without --no-new-privs"
is "$(report_val "$r1" lowbind)" EACCES "binding a port below 1024 is refused with EACCES"
is "$(report_val "$r1" pdeathsig)" 9 "--die-with-supervisor: the parent-death signal is still 9"
is "$(report_env "$r1" USER)" nobody "USER=nobody"
is "$(report_env "$r1" LOGNAME)" nobody "LOGNAME=nobody"
is "$(report_env "$r1" HOME)" "$NOBODY_HOME" "HOME from the password entry"
check "generation 1 serves (--ready=notify across the uid change)" wait_status "$T/status" 1 10
check "it answers" wait_http 127.0.0.1:$P 5
like "$(grep '^Uid:' /proc/"$BATON_PID"/status)" "^Uid:[[:space:]]+0[[:space:]]" "baton itself is still uid 0"

kill -HUP "$BATON_PID"
check "HUP: generation 2 answers" wait_gen 127.0.0.1:$P 2 15
check "and becomes the only one (ready by notify)" wait_status "$T/status" 2 15
r2=$(report 2)
creds_are_nobody "$r2" "generation 2"
is "$(report_val "$r2" status_CapPrm)" 0000000000000000 "generation 2: CapPrm empty"
is "$(report_val "$r2" pdeathsig)" 9 "generation 2: parent-death signal 9"
kill -TERM "$BATON_PID"
check "TERM: baton exits" wait_baton_exit 10
is "$BATON_STATUS" 0 "with status 0"

# --user=USER:GROUP: that group, and no supplementary group by default
rm -f "$T"/report.*
P=$(free_port)
start_baton --port=127.0.0.1:$P --user=nobody:"$(getent group 0 | cut -d: -f1)" \
	-- "$WORKER" --report "$T/report.%g"
wait_report 1 10 || bail_out "no report with USER:GROUP"
is "$(report_val "$(report 1)" status_Gid)" "0 0 0 0" "USER:GROUP: the gid is GROUP's"
is "$(report_val "$(report 1)" status_Groups)" "" "and no supplementary group (none)"
kill -TERM "$BATON_PID"
wait_baton_exit 10
done_testing
