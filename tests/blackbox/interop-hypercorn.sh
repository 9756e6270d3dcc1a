#!/bin/bash
# SPDX-License-Identifier: ISC
# hypercorn (Debian's python3-hypercorn) with "--bind fd://3": hypercorn
# serves on the socket baton passed and stops gracefully on TERM (baton's
# default signal: it stops accepting and finishes the requests in flight,
# for up to --graceful-timeout). A HUP under bounded load loses no request, a
# 2 s request in flight at the HUP is finished by generation 1, a new pid
# answers; TERM stops everything.
#
# hypercorn's stop closes the connections it has accepted but whose request
# it has not read yet (asyncio: the server closes its idle connections when
# it shuts down), so under load a few clients in flight at the stop can be
# reset, with or without a supervisor. That is measured first: the same
# server reloaded by a script, without baton (own_reload_lost in
# lib-interop.sh), loses all 4 of 4 connections it had accepted when it
# stopped. The HUP under load then asserts baton's share strictly (nothing
# refused, nothing timed out) and at most that many resets, and the same 4
# connections under baton's HUP lose no more than under the server's own
# reload.
. "$(dirname "$0")/lib-interop.sh"
baton_only_script "baton passes fd 3 (start_server's first fd is 4)"
command -v hypercorn >/dev/null || skip_all "hypercorn is not installed (package python3-hypercorn)"

write_asgi_app hypercorn
own_reload_lost "$(free_port)" TERM hypercorn --bind fd://3 --workers 2 --graceful-timeout 10 app:asgi
INTEROP_OWN_LOST=$OWN_LOST
P=$(free_port)
start_baton --port=127.0.0.1:$P --status-file="$T/status" -- \
	hypercorn --bind fd://3 --workers 2 --graceful-timeout 10 app:asgi
interop_up 127.0.0.1:$P hypercorn
interop_hup 127.0.0.1:$P /sleep/2000
baton_reload_lost 127.0.0.1:$P 3
cmp_ok "$BATON_LOST" -le "$OWN_LOST" \
	"of 4 connections accepted and not yet served, baton's HUP loses no more than the server's own reload ($BATON_LOST, $OWN_LOST)"
interop_stop "$P" hypercorn
done_testing
