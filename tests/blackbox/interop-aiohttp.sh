#!/bin/bash
# SPDX-License-Identifier: ISC
# aiohttp (Debian's python3-aiohttp), examples/aiohttp/app.py:
# web.run_app(app, sock=socket.socket(fileno=3)) serves on the socket baton
# passed and stops on TERM (baton's default signal): it closes its listener
# and gives the handlers in flight up to shutdown_timeout to finish. A HUP
# under bounded load, a 2 s request in flight at the HUP finished by
# generation 1, a new pid answers; TERM stops everything.
#
# aiohttp's stop closes the connections it has accepted but whose request it
# has not read yet (asyncio, as uvicorn and hypercorn), so under load a few
# clients in flight at the stop can be reset, with or without a supervisor.
# That is measured first: the same server reloaded by a script, without
# baton (own_reload_lost in lib-interop.sh). The HUP under load then asserts
# baton's share strictly (nothing refused, nothing timed out) and at most
# that many resets, and the same 4 connections under baton's HUP lose no
# more than under the server's own reload.
. "$(dirname "$0")/lib-interop.sh"
baton_only_script "baton passes fd 3 (start_server's first fd is 4)"
PY=/usr/bin/python3
[ -x "$PY" ] && "$PY" -c 'import aiohttp' 2>/dev/null ||
	skip_all "aiohttp is not installed (package python3-aiohttp)"

APP=$top_srcdir/examples/aiohttp/app.py
own_reload_lost "$(free_port)" TERM "$PY" "$APP"
INTEROP_OWN_LOST=$OWN_LOST
P=$(free_port)
start_baton --port=127.0.0.1:$P --status-file="$T/status" -- "$PY" "$APP"
interop_up 127.0.0.1:$P aiohttp
interop_hup 127.0.0.1:$P /sleep/2000
baton_reload_lost 127.0.0.1:$P 3
cmp_ok "$BATON_LOST" -le "$OWN_LOST" \
	"of 4 connections accepted and not yet served, baton's HUP loses no more than the server's own reload ($BATON_LOST, $OWN_LOST)"
interop_stop "$P" aiohttp
done_testing
