#!/bin/bash
# SPDX-License-Identifier: ISC
# --ready=notify: datagrams from a uid other than the workers' are dropped
# before baton walks /proc (a flood from "nobody", even from under a
# worker, changes no readiness and no STATUS), and a STATUS= with invalid
# UTF-8 or control characters is stored as valid UTF-8 in the JSON status.
# What the flood costs baton is a figure, not an assertion here (it moves
# with the machine's load): bench/notify-flood.sh prints it.
. "$(dirname "$0")/lib.sh"
baton_only_script "notify sender uid check and STATUS= sanitising"
[ "$(id -u)" = 0 ] || skip_all "needs root to send as nobody"
command -v setpriv >/dev/null || skip_all "setpriv not found"
command -v python3 >/dev/null || skip_all "python3 not found"
setpriv --reuid=nobody --regid=nogroup --clear-groups true 2>/dev/null ||
	skip_all "cannot run as nobody"

# send.py [--as-nobody N SECONDS]: a worker that says READY=1 with a bad
# STATUS, then (with --as-nobody) starts N children that drop to nobody
# and flood STATUS=forged for SECONDS; it then serves nothing and waits.
cat >"$T/send.py" <<'PY'
import os, socket, sys, time
addr = os.environ["NOTIFY_SOCKET"]
if addr.startswith("@"):
    addr = "\0" + addr[1:]
def send(msg):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.sendto(msg, addr)
    s.close()
if sys.argv[1:2] == ["--flood"]:
    end = time.time() + float(sys.argv[2])
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setblocking(False)
    while time.time() < end:
        try:
            s.sendto(b"STATUS=forged\nREADY=1", addr)
        except BlockingIOError:
            time.sleep(0.0005)
    sys.exit(0)
send(b"READY=1\nSTATUS=ok \xff\xfe caf\xc3\xa9 \x1b[31mred\x07 " + b"x" * 600)
if sys.argv[1:2] == ["--as-nobody"]:
    for _ in range(int(sys.argv[2])):
        os.spawnvp(os.P_NOWAIT, "setpriv", ["setpriv", "--reuid=nobody",
                   "--regid=nogroup", "--clear-groups", os.environ["PY"],
                   sys.argv[0], "--flood", sys.argv[3]])
open(os.environ["MARK"] + ".%s" % os.environ["SERVER_STARTER_GENERATION"], "w").close()
while True:
    time.sleep(60)
PY

# nobody must be able to run the flooders: the test directory is private
chmod 711 "$T"
chmod 644 "$T/send.py"
PY=$(command -v /usr/bin/python3 || command -v python3)
export PY

json_status() { # the STATUS of generation $1's worker 0, as JSON text
	python3 - "$S.json" "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
for g in d["generations"]:
    if g["generation"] == int(sys.argv[2]):
        print(json.dumps(g["workers"][0]["status"]))
PY
}

S=$T/status
P=$(free_port)
export MARK=$T/mark
start_baton --port=127.0.0.1:$P --ready=notify --status-file="$S" -- \
	python3 "$T/send.py" --as-nobody 3 4
wait_file "$T/mark.1" 20 || bail_out "the worker did not start"
wait_until 10 file_contains "$S.json" '"ready":true' || bail_out "generation 1 never ready"
check "the status JSON is valid UTF-8 JSON" python3 -c \
	'import json,sys; json.load(open(sys.argv[1], encoding="utf-8"))' "$S.json"
st=$(json_status 1)
like "$st" '^"ok \\ufffd\\ufffd caf\\u00e9 \[31mred x+"$' \
	"invalid bytes became U+FFFD, control characters are gone"
cmp_ok "$(printf '%s' "$st" | wc -c)" -le 300 "STATUS is cut to 256 bytes"

# the flood runs 4 s from the worker's start: look while it runs and after
wait_file_contains "$T/baton.err" "ignoring notify datagrams from uid 65534" 10
nap 3
unlike "$(json_status 1)" forged "a datagram from nobody does not change STATUS"
file_like "$T/baton.err" "${WARN_PREFIX}ignoring notify datagrams from uid 65534: not the workers' uid" \
	"the dropped sender is named once"
is "$(grep -c 'ignoring notify datagrams' "$T/baton.err")" 1 "only once"
check "and the worker's own generation still serves" wait_until 5 file_contains "$S.json" '"state":"serving"'
done_testing
