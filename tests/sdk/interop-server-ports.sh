#!/bin/bash
# SPDX-License-Identifier: ISC
# interop-server-ports.sh: a Perl worker that reads its listener with
# Server::Starter::server_ports(), unchanged, under the supervisor: serves,
# survives a HUP under load, stops cleanly.
. "$(dirname "$0")/sdk-lib.sh"
perl -MServer::Starter -e1 2>/dev/null ||
	skip_all "Server::Starter is not installed (Debian package libserver-starter-perl)"

P=$(free_port)
start_baton --port=127.0.0.1:$P --status-file="$T/status" -- perl "$EXAMPLES/perl/server-ports.pl"
wait_http 127.0.0.1:$P 10 || bail_out "server-ports.pl did not come up: $(tail -n 5 "$T/baton.err")"
like "$(http_get 127.0.0.1:$P)" "^gen=1 pid=[0-9]+ server=perl-server-ports listener=127.0.0.1:$P\$" \
	"server_ports() gave it the listener under its key"
hup_under_load 127.0.0.1 $P 1 2 /sleep/1500
wait_status "$T/status" 2 10
is "$(status_gens "$T/status")" 2 "generation 1 is gone after its graceful stop"
stop_supervisor
done_testing
