#!/bin/bash
# SPDX-License-Identifier: ISC
# gunicorn (Debian's gunicorn package) with --pass-fds-as=systemd: no -b,
# no wrapper; a HUP under bounded load loses no request (issue 11).
. "$(dirname "$0")/lib.sh"
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
"$LOADGEN" 127.0.0.1 $P --seconds 30 --max-requests 20000 --concurrency 4 --pause-ms 2 \
	--timeout-ms 5000 --stop-file "$T/stop" >"$T/load.out" 2>"$T/load.err" &
lg=$!
sleep 0.5
kill -HUP "$BATON_PID"
check "generation 2 takes over" wait_status "$T/status" 2 20
sleep 1
touch "$T/stop"
wait_until 15 pid_gone $lg
wait $lg
s=$?
diag "$(cat "$T/load.out")"
is "$s" 0 "no failed request across the HUP"
like "$(cat "$T/load.out")" " failed=0 refused=0 reset=0 timeout=0 " "none refused, reset or timed out"
kill -TERM "$BATON_PID"
wait_baton_exit 30
is "$BATON_STATUS" 0 "baton and gunicorn stop"
done_testing
