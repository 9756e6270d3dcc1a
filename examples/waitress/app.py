# SPDX-License-Identifier: ISC
"""A WSGI application served by waitress (Debian's python3-waitress) on the
socket baton passes as fd 3:

    baton --port=127.0.0.1:8080 -- python3 app.py

waitress-serve has no option for an inherited descriptor; serve() takes
listening sockets (sockets=[...]). waitress has no graceful stop: TERM
(baton's default stop signal) ends the process at once, and requests in
flight in the old generation are cut, as when waitress is stopped alone.
It answers "gen=GENERATION pid=PID" on every path, after a pause on
/sleep/MS.
"""
import os
import socket
import time

from waitress import serve


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path.startswith("/sleep/"):
        time.sleep(int(path[7:]) / 1000)
    body = ("gen=%s pid=%d server=waitress\n" % (
        os.environ.get("SERVER_STARTER_GENERATION", "?"), os.getpid())).encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]


# fd 3 is the first socket baton passes (SERVER_STARTER_PORT names it)
serve(app, sockets=[socket.socket(fileno=3)], threads=4, _quiet=True)
