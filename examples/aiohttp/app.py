# SPDX-License-Identifier: ISC
"""An aiohttp server on the socket baton passes as fd 3 (Debian's
python3-aiohttp):

    baton --port=127.0.0.1:8080 -- python3 app.py

web.run_app stops on TERM (baton's default stop signal): it closes the
listener, then gives the handlers in flight up to shutdown_timeout seconds
to finish. It answers "gen=GENERATION pid=PID" on every path, after a pause
on /sleep/MS (the interop test's slow request).
"""
import asyncio
import os
import socket

from aiohttp import web


async def handle(request):
    path = request.path
    if path.startswith("/sleep/"):
        await asyncio.sleep(int(path[7:]) / 1000)
    return web.Response(text="gen=%s pid=%d server=aiohttp\n" % (
        os.environ.get("SERVER_STARTER_GENERATION", "?"), os.getpid()))


app = web.Application()
app.router.add_get("/{tail:.*}", handle)
# fd 3 is the first socket baton passes (SERVER_STARTER_PORT names it)
web.run_app(app, sock=socket.socket(fileno=3), shutdown_timeout=30,
            print=None, access_log=None)
