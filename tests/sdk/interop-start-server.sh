#!/bin/bash
# SPDX-License-Identifier: ISC
# interop-start-server.sh: libbaton's C example under Perl's start_server
# (Server::Starter 0.35), whatever supervisor the rest of the suite tests.
# start_server's first fd is 4, not 3; its keys are the options as written.
# Serves on every listener, survives a HUP under load, stops cleanly.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
BATON=$(command -v start_server) || {
	echo "1..0 # SKIP start_server is not installed (Debian package libserver-starter-perl)"
	exit 0
}
BATON_FLAVOUR=perl
. "$(dirname "$0")/sdk-lib.sh"

P=$(free_port)
Q=$(free_port)
start_baton --port=$P --port=127.0.0.1:$Q --path="$T/c.sock" --status-file="$T/status" \
	-- "$C_WORKER" -w 2
wait_http 127.0.0.1:$Q 10 || bail_out "the C example did not come up: $(tail -n 5 "$T/baton.err")"
file_like "$T/baton.err" "listening on 0\.0\.0\.0:$P \(key $P, fd 4\)" "the bare port is fd 4, key \"$P\""
file_like "$T/baton.err" "listening on 127\.0\.0\.1:$Q \(key 127\.0\.0\.1:$Q, fd 5\)" \
	"host:port is fd 5, key \"127.0.0.1:$Q\""
file_like "$T/baton.err" "listening on $T/c\.sock \(key $T/c\.sock, fd 6\)" "the path is fd 6, keyed by itself"
like "$(http_get 127.0.0.1:$P)" "^gen=1 .* listener=$P\$" "it answers on the bare port"
like "$(http_get_unix "$T/c.sock")" "^gen=1 .* listener=$T/c.sock\$" "it answers on the unix socket"
hup_under_load 127.0.0.1 $Q 1 2 /sleep/1500
wait_status "$T/status" 2 10
is "$(status_gens "$T/status")" 2 "generation 1 is gone after its graceful stop"
stop_supervisor
done_testing
