#!/bin/bash
# SPDX-License-Identifier: ISC
# The status file is Server::Starter's format, so each program's --restart
# and --stop drive the other's supervisor (needs Perl's start_server).
. "$(dirname "$0")/lib.sh"
is_perl && skip_all "the supervisor under test is start_server itself"
PERL_SS=${PERL_START_SERVER:-/usr/bin/start_server}
[ -x "$PERL_SS" ] || skip_all "Perl's start_server not installed ($PERL_SS)"

run_tool() { # run_tool PROGRAM ARG...: like run_baton with another program
	local saved=$BATON
	BATON=$1
	shift
	run_baton "$@"
	BATON=$saved
}

RUN_TIMEOUT=15
# baton supervises, start_server --restart / --stop
P=$(free_port)
serve_baton --until=status:1 --port=127.0.0.1:$P --pid-file="$T/b.pid" --status-file="$T/b.status" -- "${WORKER_CMD[@]}"
run_tool "$PERL_SS" --restart --pid-file="$T/b.pid" --status-file="$T/b.status"
is "$RUN_STATUS" 0 "start_server --restart against baton exits 0"
is "$(status_gens "$T/b.status")" 2 "only generation 2 is left"
is "$(http_gen 127.0.0.1:$P)" 2 "generation 2 answers"
run_tool "$PERL_SS" --stop --pid-file="$T/b.pid"
is "$RUN_STATUS" 0 "start_server --stop against baton exits 0"
check "baton has exited when it returns" pid_gone "$BATON_PID"
wait_baton_exit 5
is "$BATON_STATUS" 0 "baton exited 0"

# start_server supervises, baton --restart / --stop
rm -f "$T"/report.*
Q=$(free_port)
saved=$BATON
BATON=$PERL_SS
BATON_ERR=$T/perl.err start_baton --port=127.0.0.1:$Q --pid-file="$T/p.pid" --status-file="$T/p.status" \
	-- "${WORKER_CMD[@]}"
BATON=$saved
wait_status "$T/p.status" 1 10 || bail_out "start_server did not come up"
run_baton --restart --pid-file="$T/p.pid" --status-file="$T/p.status"
is "$RUN_STATUS" 0 "baton --restart against start_server exits 0"
is "$(status_gens "$T/p.status")" 2 "only generation 2 is left"
is "$(http_gen 127.0.0.1:$Q)" 2 "generation 2 answers"
run_baton --stop --pid-file="$T/p.pid"
is "$RUN_STATUS" 0 "baton --stop against start_server exits 0"
check "start_server has exited when it returns" pid_gone "$BATON_PID"
done_testing
