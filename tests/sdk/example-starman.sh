#!/bin/bash
# SPDX-License-Identifier: ISC
# example-starman.sh: a Plack app run by Starman, which reads
# SERVER_STARTER_PORT itself, under the supervisor with the signals Starman's
# documentation asks for (--signal-on-hup=QUIT --signal-on-term=QUIT):
# serves, survives a HUP under load, stops cleanly.
. "$(dirname "$0")/sdk-lib.sh"
need starman starman
perl -MPlack -e1 2>/dev/null || skip_all "Plack is not installed (Debian package libplack-perl)"

P=$(free_port)
start_baton --port=127.0.0.1:$P --status-file="$T/status" \
	--signal-on-hup=QUIT --signal-on-term=QUIT \
	-- starman --workers 2 "$EXAMPLES/perl/app.psgi"
wait_http 127.0.0.1:$P 20 || bail_out "Starman did not come up: $(tail -n 5 "$T/baton.err")"
like "$(http_get 127.0.0.1:$P)" "^gen=1 pid=[0-9]+ server=starman\$" "Starman answers with the generation"
# A lighter load than the other examples, because of a race in Starman's
# base, Net::Server::PreFork: a child's HUP handler (the graceful stop that
# QUIT asks for) exits at once unless $prop->{connected} is set, and that
# flag is set only after accept() has returned, so a HUP that lands between
# the two drops a connection the child already accepted (seen: 1 reset in
# ~4500 requests at 4-way load). One client pausing 20 ms keeps the children
# mostly blocked in accept(), where the HUP loses nothing.
KNOWN_RESET_RACE="Net::Server::PreFork children exit on HUP between accept() and setting their connected flag, resetting that connection (upstream bug, not baton: refused=0 is checked below)" \
	LOAD_OPTS="--concurrency 1 --pause-ms 20" hup_under_load 127.0.0.1 $P 1 2 /sleep/1500
wait_status "$T/status" 2 15
is "$(status_gens "$T/status")" 2 "generation 1 is gone after QUIT"
stop_supervisor
done_testing
