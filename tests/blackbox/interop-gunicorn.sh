#!/bin/bash
# SPDX-License-Identifier: ISC
# gunicorn (Debian's gunicorn package) with --pass-fds-as=systemd: no -b,
# no wrapper; a HUP under bounded load loses no request.
. "$(dirname "$0")/lib-interop.sh"
baton_only_script "--pass-fds-as=systemd"
command -v gunicorn >/dev/null || skip_all "gunicorn is not installed (package gunicorn)"

mkdir "$T/app"
cat >"$T/app/app.py" <<'PY'
import os
def app(environ, start_response):
    body = ("gen=%s pid=%d\n" % (os.environ.get("BATON_GEN", "?"), os.getpid())).encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
PY
P=$(free_port)
# gunicorn stops gracefully on TERM (baton's default --signal-on-hup)
start_baton --port=127.0.0.1:$P --pass-fds-as=systemd --status-file="$T/status" -- \
	gunicorn --chdir "$T/app" --workers 2 --graceful-timeout 10 app:app
wait_http 127.0.0.1:$P 20 || bail_out "gunicorn did not answer"
wait_status "$T/status" 1 10
check_not "gunicorn binds no port of its own (no -b)" port_listening 8000
check_not "no fd-check warning" grep -q "holds\|itself" "$T/baton.err"
hup_plain "$P"
kill -TERM "$BATON_PID"
wait_baton_exit 30
is "$BATON_STATUS" 0 "baton and gunicorn stop"
done_testing
