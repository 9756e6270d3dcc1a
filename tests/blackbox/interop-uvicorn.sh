#!/bin/bash
# SPDX-License-Identifier: ISC
# uvicorn (Debian's python3-uvicorn; the "uvicorn" command is in the
# uvicorn package, this runs "python3 -m uvicorn") with "--fd 3": uvicorn
# serves on the socket baton passed and stops gracefully on TERM (baton's
# default signal:
# it stops accepting, finishes the requests in flight, then exits). A HUP
# under bounded load loses no request, a 2 s request in flight at the HUP is
# finished by generation 1, a new pid answers; TERM stops everything.
#
# uvicorn's stop closes the connections it has accepted but whose request it
# has not read yet (asyncio: the server closes its idle connections when it
# shuts down), so under load a few clients in flight at the stop can be
# reset, with or without a supervisor: 3 of 840 requests on a machine with a
# load of 14. That is measured first: the same server reloaded by a script,
# without baton (own_reload_lost in lib-interop.sh), loses all 4 of 4
# connections it had accepted when it stopped. The HUP under load then
# asserts baton's share strictly (nothing refused, nothing timed out) and at
# most that many resets, and the same 4 connections under baton's HUP lose
# no more than under the server's own reload.
. "$(dirname "$0")/lib-interop.sh"
baton_only_script "baton passes fd 3 (start_server's first fd is 4)"
PY=/usr/bin/python3
[ -x "$PY" ] && "$PY" -c 'import uvicorn' 2>/dev/null ||
	skip_all "uvicorn is not installed (package python3-uvicorn)"

write_asgi_app uvicorn
own_reload_lost "$(free_port)" TERM "$PY" -m uvicorn --app-dir "$T/app" --fd 3 --no-access-log app:asgi
INTEROP_OWN_LOST=$OWN_LOST
P=$(free_port)
# --nodelay, as documented: uvicorn wraps fd 3 as a unix socket
# and never sets TCP_NODELAY on what it accepts; without it every
# keep-alive request waits about 40 ms on Nagle (bench/uvicorn-nodelay.sh)
start_baton --port=127.0.0.1:$P --nodelay --status-file="$T/status" -- \
	"$PY" -m uvicorn --app-dir "$T/app" --fd 3 --no-access-log app:asgi
interop_up 127.0.0.1:$P uvicorn
interop_hup 127.0.0.1:$P /sleep/2000
baton_reload_lost 127.0.0.1:$P 3
cmp_ok "$BATON_LOST" -le "$OWN_LOST" \
	"of 4 connections accepted and not yet served, baton's HUP loses no more than the server's own reload ($BATON_LOST, $OWN_LOST)"
interop_stop "$P" uvicorn
done_testing
