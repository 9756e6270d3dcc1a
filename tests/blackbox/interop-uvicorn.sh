#!/bin/bash
# SPDX-License-Identifier: ISC
# uvicorn (Debian's python3-uvicorn) with "--fd 3": uvicorn serves on the
# socket baton passed and stops gracefully on TERM (baton's default signal:
# it stops accepting, finishes the requests in flight, then exits). A HUP
# under bounded load loses no request, a 2 s request in flight at the HUP is
# finished by generation 1, a new pid answers; TERM stops everything (issue 11).
. "$(dirname "$0")/lib-interop.sh"
baton_only_script "baton passes fd 3 (start_server's first fd is 4)"
PY=/usr/bin/python3
[ -x "$PY" ] && "$PY" -c 'import uvicorn' 2>/dev/null ||
	skip_all "uvicorn is not installed (package python3-uvicorn)"

write_asgi_app uvicorn
P=$(free_port)
start_baton --port=127.0.0.1:$P --status-file="$T/status" -- \
	"$PY" -m uvicorn --app-dir "$T/app" --fd 3 --no-access-log app:asgi
interop_up 127.0.0.1:$P uvicorn
interop_hup 127.0.0.1:$P /sleep/2000
interop_stop "$P" uvicorn
done_testing
