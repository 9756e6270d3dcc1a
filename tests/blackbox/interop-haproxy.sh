#!/bin/bash
# SPDX-License-Identifier: ISC
# HAProxy (Debian's haproxy) with "bind fd@3": HAProxy listens on the socket
# baton passed and answers itself (http-request return: generation and pid),
# and passes /sleep/MS to a backend of ours, which answers after the pause
# with the generation and pid HAProxy gives it in headers.
# USR1 is HAProxy's soft stop: it stops listening, finishes the connections
# it has, then exits; TERM is its hard stop, which cuts them (17 requests
# lost across 5 HUPs in a trial, and the request in flight
# here). So baton is run with --signal-on-hup=USR1 --signal-on-term=USR1. A
# HUP under bounded load loses no request, a 2 s request in flight at the
# HUP is finished by generation 1, a new pid answers, generation 1 exits;
# TERM stops everything.
. "$(dirname "$0")/lib-interop.sh"
baton_only_script "baton passes fd 3 (start_server's first fd is 4)"
HAPROXY_BIN=$(command -v haproxy || ls /usr/sbin/haproxy 2>/dev/null)
[ -x "$HAPROXY_BIN" ] || skip_all "haproxy is not installed (package haproxy)"

# the backend: /sleep/MS, answered after MS ms as "gen=X-Gen pid=X-Pid"
cat >"$T/backend.py" <<'PY'
import sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/sleep/"):
            time.sleep(int(self.path[7:]) / 1000)
        body = ("gen=%s pid=%s server=haproxy\n" % (
            self.headers["X-Gen"], self.headers["X-Pid"])).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
BP=$(free_port)
python3 "$T/backend.py" "$BP" 2>"$T/backend.err" &
BACKEND=$!
track_pid "$BACKEND"
wait_http 127.0.0.1:$BP 20 || bail_out "the backend did not answer: $(tail -n 5 "$T/backend.err")"
cat >"$T/haproxy.cfg" <<EOF2
global
    maxconn 512
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend web
    bind fd@3
    use_backend slow if { path_beg /sleep/ }
    http-request return status 200 content-type text/plain lf-string "gen=%[env(SERVER_STARTER_GENERATION)] pid=%pid server=haproxy\n" unless { path_beg /sleep/ }
backend slow
    http-request set-header X-Gen %[env(SERVER_STARTER_GENERATION)]
    http-request set-header X-Pid %pid
    server b 127.0.0.1:$BP
EOF2
P=$(free_port)
# -db: in the foreground, one process (no master), as baton's worker
start_baton --port=127.0.0.1:$P --signal-on-hup=USR1 --signal-on-term=USR1 \
	--status-file="$T/status" -- "$HAPROXY_BIN" -db -f "$T/haproxy.cfg"
interop_up 127.0.0.1:$P HAProxy
interop_hup 127.0.0.1:$P /sleep/2000
# the backend is ours, not HAProxy's: gone before the stop is checked
kill "$BACKEND"
wait "$BACKEND"
interop_stop "$P" HAProxy
done_testing
