#!/bin/bash
# SPDX-License-Identifier: ISC
# Twisted (Debian's python3-twisted, whose command is twist3) with the
# systemd: endpoint and baton's --pass-fds-as=systemd (LISTEN_FDS):
# "twist3 web --listen systemd:domain=INET:index=0 --class app.Root" serves a
# resource of ours on the socket baton passed. A HUP under bounded
# load, a new pid answers, generation 1 exits; TERM stops everything.
#
# A resource, not a WSGI application (--wsgi): Twisted 22.4's WSGI container
# did not stop on TERM under load, with or without baton (twist3 alone,
# bound by itself, 4 clients: still running 10 s after TERM), its reactor
# waiting for its WSGI threads while they wait for the reactor.
#
# Twisted has no graceful stop: TERM (baton's default signal, as any
# supervisor's) stops the reactor, and the connections still open are
# dropped, the ones it accepted and had not read a request from yet and any
# request in flight (so no slow request is sent across the HUP here). Stopped
# alone under 4 clients, it reset 4 requests. That loss is Twisted's, with or
# without a supervisor, and is measured first: the same server reloaded by a
# script, without baton (own_reload_lost in lib-interop.sh; LISTEN_FDS set as
# baton sets it). The HUP under load then asserts baton's share strictly
# (nothing refused, nothing timed out, no bad answer) and at most that many
# resets, and the same 4 connections under baton's HUP lose no more than
# under the server's own reload.
. "$(dirname "$0")/lib-interop.sh"
baton_only_script "--pass-fds-as=systemd"
TWIST=$(command -v twist3 || command -v twist)
[ -n "$TWIST" ] && /usr/bin/python3 -c 'import twisted' 2>/dev/null ||
	skip_all "Twisted is not installed (package python3-twisted)"

mkdir "$T/app"
cat >"$T/app/app.py" <<'PY'
import os
from twisted.web.resource import Resource
class Root(Resource):
    isLeaf = True
    def render_GET(self, request):
        request.setHeader(b"content-type", b"text/plain")
        return ("gen=%s pid=%d server=twisted\n" % (
            os.environ.get("SERVER_STARTER_GENERATION", "?"), os.getpid())).encode()
PY
export PYTHONPATH=$T/app
# warnings only: Twisted logs every request at info
TW=("$TWIST" --log-format=text --log-level=warn web --listen systemd:domain=INET:index=0 --class app.Root)
# own-reload.py passes fd 3 as start_server does; the systemd variables,
# with the pid that execs Twisted, as baton's --pass-fds-as=systemd
own_reload_lost "$(free_port)" TERM sh -c 'LISTEN_FDS=1 LISTEN_PID=$$ exec "$@"' sh "${TW[@]}"
INTEROP_OWN_LOST=$OWN_LOST
P=$(free_port)
# server-starter too: the application shows SERVER_STARTER_GENERATION
start_baton --port=127.0.0.1:$P --pass-fds-as=server-starter,systemd --status-file="$T/status" -- "${TW[@]}"
interop_up 127.0.0.1:$P Twisted
interop_hup 127.0.0.1:$P
baton_reload_lost 127.0.0.1:$P 3
cmp_ok "$BATON_LOST" -le "$OWN_LOST" \
	"of 4 connections accepted and not yet served, baton's HUP loses no more than the server's own reload ($BATON_LOST, $OWN_LOST)"
interop_stop "$P" Twisted
done_testing
