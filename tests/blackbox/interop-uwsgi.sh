#!/bin/bash
# SPDX-License-Identifier: ISC
# uWSGI (Debian's uwsgi-core and uwsgi-plugin-python3) with
# "--http-socket fd://3": uWSGI serves on the socket baton passed.
# uWSGI reads TERM as "brutal reload" (the old generation would reload instead
# of exiting, and generations would pile up) and INT and QUIT as "kill at
# once"; the hook "unix_signal:15 gracefully_kill_them_all" (which needs
# --master) makes TERM, baton's default signal, a graceful stop: the workers
# finish what they serve, then the master exits. A HUP under bounded load
# loses no request, a 2 s request in flight at the HUP is finished by
# generation 1, a new pid answers; TERM stops everything.
. "$(dirname "$0")/lib-interop.sh"
baton_only_script "baton passes fd 3 (start_server's first fd is 4)"
command -v uwsgi >/dev/null || skip_all "uwsgi is not installed (package uwsgi-core)"
[ -e /usr/lib/uwsgi/plugins/python3_plugin.so ] ||
	skip_all "uWSGI's Python 3 plugin is not installed (package uwsgi-plugin-python3)"

mkdir "$T/app"
cat >"$T/app/app.py" <<'PY'
import os, time
def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path.startswith("/sleep/"):
        time.sleep(int(path[7:]) / 1000)
    body = ("gen=%s pid=%d server=uwsgi\n" % (
        os.environ.get("SERVER_STARTER_GENERATION", "?"), os.getpid())).encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
PY
P=$(free_port)
start_baton --port=127.0.0.1:$P --status-file="$T/status" -- \
	uwsgi --plugin python3 --master --processes 2 --http-socket fd://3 \
	--wsgi-file "$T/app/app.py" --disable-logging \
	--hook-master-start "unix_signal:15 gracefully_kill_them_all"
interop_up 127.0.0.1:$P uWSGI
interop_hup 127.0.0.1:$P /sleep/2000
interop_stop "$P" uWSGI
done_testing
