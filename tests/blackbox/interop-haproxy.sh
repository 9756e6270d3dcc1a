#!/bin/bash
# SPDX-License-Identifier: ISC
# HAProxy (Debian's haproxy) with "bind fd@3": HAProxy listens on the socket
# baton passed and answers itself (http-request return: generation and pid).
# USR1 is HAProxy's soft stop: it stops listening, finishes the connections
# it has, then exits; TERM is its hard stop, which cuts them (17 requests
# lost across 5 HUPs in the trial of issue 22). So baton is run with
# --signal-on-hup=USR1 --signal-on-term=USR1. A HUP under bounded load loses
# no request, a new pid answers, generation 1 exits; TERM stops everything.
. "$(dirname "$0")/lib-interop.sh"
baton_only_script "baton passes fd 3 (start_server's first fd is 4)"
HAPROXY_BIN=$(command -v haproxy || ls /usr/sbin/haproxy 2>/dev/null)
[ -x "$HAPROXY_BIN" ] || skip_all "haproxy is not installed (package haproxy)"

cat >"$T/haproxy.cfg" <<'EOF2'
global
    maxconn 512
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend web
    bind fd@3
    http-request return status 200 content-type text/plain lf-string "gen=%[env(SERVER_STARTER_GENERATION)] pid=%pid server=haproxy\n"
EOF2
P=$(free_port)
# -db: in the foreground, one process (no master), as baton's worker
start_baton --port=127.0.0.1:$P --signal-on-hup=USR1 --signal-on-term=USR1 \
	--status-file="$T/status" -- "$HAPROXY_BIN" -db -f "$T/haproxy.cfg"
interop_up 127.0.0.1:$P HAProxy
interop_hup 127.0.0.1:$P
interop_stop "$P" HAProxy
done_testing
