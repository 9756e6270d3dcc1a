#!/bin/bash
# SPDX-License-Identifier: ISC
# waitress (Debian's python3-waitress), examples/waitress/app.py:
# serve(app, sockets=[socket.socket(fileno=3)]) serves on the socket baton
# passed. A HUP under bounded load, a new pid answers, generation
# 1 exits; TERM stops everything.
#
# waitress has no graceful stop: TERM (baton's default signal, and what any
# supervisor sends) ends the process at once, and the connections it holds
# are cut: the ones it accepted and had not served yet, and a request in
# flight (so no slow request is sent across the HUP here). That loss is
# waitress's, with or without a supervisor, and is measured first: the same
# server reloaded by a script, without baton (own_reload_lost in
# lib-interop.sh). The HUP under load then asserts baton's share strictly
# (nothing refused, nothing timed out, no bad answer) and at most that many
# resets, and the same 4 connections under baton's HUP lose no more than
# under the server's own reload.
. "$(dirname "$0")/lib-interop.sh"
baton_only_script "baton passes fd 3 (start_server's first fd is 4)"
PY=/usr/bin/python3
[ -x "$PY" ] && "$PY" -c 'import waitress' 2>/dev/null ||
	skip_all "waitress is not installed (package python3-waitress)"

APP=$top_srcdir/examples/waitress/app.py
own_reload_lost "$(free_port)" TERM "$PY" "$APP"
INTEROP_OWN_LOST=$OWN_LOST
P=$(free_port)
start_baton --port=127.0.0.1:$P --status-file="$T/status" -- "$PY" "$APP"
interop_up 127.0.0.1:$P waitress
interop_hup 127.0.0.1:$P
baton_reload_lost 127.0.0.1:$P 3
cmp_ok "$BATON_LOST" -le "$OWN_LOST" \
	"of 4 connections accepted and not yet served, baton's HUP loses no more than the server's own reload ($BATON_LOST, $OWN_LOST)"
interop_stop "$P" waitress
done_testing
