#!/bin/bash
# SPDX-License-Identifier: ISC
# hypercorn (Debian's python3-hypercorn) with "--bind fd://3": hypercorn
# serves on the socket baton passed and stops gracefully on TERM (baton's
# default signal: it stops accepting and finishes the requests in flight,
# for up to --graceful-timeout). A HUP under bounded load loses no request, a
# 2 s request in flight at the HUP is finished by generation 1, a new pid
# answers; TERM stops everything (issue 11).
. "$(dirname "$0")/lib-interop.sh"
baton_only_script "baton passes fd 3 (start_server's first fd is 4)"
command -v hypercorn >/dev/null || skip_all "hypercorn is not installed (package python3-hypercorn)"

write_asgi_app hypercorn
P=$(free_port)
start_baton --port=127.0.0.1:$P --status-file="$T/status" -- \
	hypercorn --bind fd://3 --workers 2 --graceful-timeout 10 app:asgi
interop_up 127.0.0.1:$P hypercorn
interop_hup 127.0.0.1:$P /sleep/2000
interop_stop "$P" hypercorn
done_testing
