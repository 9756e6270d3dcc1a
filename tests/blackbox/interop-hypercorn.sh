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

mkdir "$T/app"
cat >"$T/app/app.py" <<'PY'
import asyncio, os
async def asgi(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            m = await receive()
            if m["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif m["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    if path.startswith("/sleep/"):
        await asyncio.sleep(int(path[7:]) / 1000)
    body = ("gen=%s pid=%d server=hypercorn\n" % (
        os.environ.get("SERVER_STARTER_GENERATION", "?"), os.getpid())).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
PY
P=$(free_port)
export PYTHONPATH=$T/app
start_baton --port=127.0.0.1:$P --status-file="$T/status" -- \
	hypercorn --bind fd://3 --workers 2 --graceful-timeout 10 app:asgi
interop_up 127.0.0.1:$P hypercorn
interop_hup 127.0.0.1:$P /sleep/2000
interop_stop "$P" hypercorn
done_testing
