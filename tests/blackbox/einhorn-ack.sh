#!/bin/bash
# SPDX-License-Identifier: ISC
# --pass-fds-as=einhorn: a worker written for einhorn's client library
# works unchanged. The library takes a process for a worker only when
# EINHORN_MASTER_PID is its parent's pid, and acknowledges start-up with
# a {"command":"worker:ack"} line on the unix socket EINHORN_SOCK_PATH;
# under --ready=notify that ack makes the generation ready (0.2.0 set
# neither variable). Einhorn's Ruby client sends YAML with %0A for its
# newlines: accepted too. Hostile clients on the socket get a bounded
# answer: idle ones are closed after a deadline, other uids at once, with
# a rate-limited warning; the file is removed when baton exits.
. "$(dirname "$0")/lib.sh"
baton_only_script "the einhorn dialect's command socket is a baton extension"
command -v python3 >/dev/null || skip_all "python3 not found"

# worker.py: what einhorn's python client library (einhorn/client.py)
# does, then waits for $T/go.GEN before acknowledging
cat >"$T/worker.py" <<'PY'
import json, os, socket, sys, time
gen = os.environ["SERVER_STARTER_GENERATION"]
T = os.environ["T"]
def is_worker():
    return os.getppid() == int(os.environ.get("EINHORN_MASTER_PID", -1))
def get_socket(index=0):
    fileno = int(os.environ["EINHORN_FD_%d" % index])
    family = getattr(socket, os.environ.get("EINHORN_FD_FAMILY_%d" % index, "AF_INET"))
    return socket.fromfd(fileno, family, socket.SOCK_STREAM)
def ack_startup(yaml=False):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.environ["EINHORN_SOCK_PATH"])
    if yaml:  # einhorn's Ruby client: YAML, '%' and '\n' escaped
        line = "---%%0Acommand: worker:ack%%0Apid: %d%%0A\n" % os.getpid()
    else:
        line = json.dumps({"command": "worker:ack", "pid": os.getpid()}) + "\n"
    s.sendall(line.encode())
    s.close()
with open(T + "/worker.%s" % gen, "w") as f:
    f.write("is_worker=%s family=%s sock=%s\n" % (is_worker(),
            get_socket().family.name, os.environ.get("EINHORN_SOCK_PATH", "")))
if not is_worker():
    sys.exit(3)   # as the library raises NotEinhornWorker
while not os.path.exists(T + "/go." + gen):
    time.sleep(0.05)
ack_startup(yaml=(gen == "2"))
while True:
    time.sleep(60)
PY
export T

gen_serving() { file_contains "$T/baton.err" "generation $1 is (serving|ready)"; }

start_baton --port=127.0.0.1:"$(free_port)" --ready=notify --pass-fds-as=server-starter,einhorn \
	--status-file="$T/st" -- python3 "$T/worker.py"
wait_file "$T/worker.1" 20 || bail_out "the worker did not start"
w=$(cat "$T/worker.1")
diag "worker 1: $w"
like "$w" "is_worker=True" "the client library recognises the worker (EINHORN_MASTER_PID is its parent)"
like "$w" "family=AF_INET " "EINHORN_FD_FAMILY_0 names the listener's family"
sock=$(sed -n 's/.* sock=//p' "$T/worker.1")
check "EINHORN_SOCK_PATH names a unix socket" test -S "$sock"
nap 0.5
check_not "generation 1 is not ready before the ack" gen_serving 1

touch "$T/go.1"
check "the JSON worker:ack makes generation 1 ready" wait_until 10 gen_serving 1
file_like "$T/baton.err" "worker [0-9]+ \(generation 1\) is ready" "the worker is named ready"

# the Ruby client's YAML line
kill -HUP "$BATON_PID"
wait_file "$T/worker.2" 20 || bail_out "generation 2 did not start"
touch "$T/go.2"
check "the YAML worker:ack of einhorn's Ruby client makes generation 2 ready" wait_until 10 gen_serving 2

# hostile clients: 100 idle connections of the workers' uid, more than
# baton serves at once; the oldest make room, so a worker's ack, sent as
# it connects, still gets through at once
python3 - "$sock" 100 "$(scaled 20)" >"$T/idle.out" 2>&1 <<'PY' &
import socket, sys, time
held = []
for _ in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(sys.argv[1])
        held.append(s)
    except OSError:
        pass
print(len(held), flush=True)
time.sleep(float(sys.argv[3]))
PY
track_pid $!
wait_until 10 test -s "$T/idle.out" || bail_out "the idle clients did not connect"
diag "idle clients connected: $(cat "$T/idle.out")"
# and 300 connections from uid 65534 sending junk
SYSPY=$(command -v /usr/bin/python3 || command -v python3)
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
	setpriv --reuid=65534 --regid=65534 --clear-groups "$SYSPY" -c "" 2>/dev/null; then
	chmod 711 "$T"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$SYSPY" - "$sock" 300 <<'PY' >/dev/null 2>&1
import socket, sys
for _ in range(int(sys.argv[2])):
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sys.argv[1])
        s.sendall(b'{"command":"worker:ack","pid":1}\n')
        s.close()
    except OSError:
        pass
PY
	foreign=1
fi
kill -HUP "$BATON_PID"
wait_file "$T/worker.3" 20 || bail_out "generation 3 did not start"
touch "$T/go.3"
check "with more idle clients than slots, the ack still gets through" wait_until 5 gen_serving 3
if [ -n "${foreign:-}" ]; then
	n=$(grep -c "ignoring einhorn connections from uid 65534" "$T/baton.err")
	cmp_ok "$n" -le 2 "300 connections from another uid: at most 2 warnings ($n)"
	cmp_ok "$n" -ge 1 "and the uid is named"
else
	skip "connections from another uid" "needs root and setpriv"
	skip "and the uid is named" "needs root and setpriv"
fi

kill -TERM "$BATON_PID"
wait_baton_exit 20
check_not "the socket file is removed at exit" test -e "$sock"
check_not "and its directory" test -e "$(dirname "$sock")"
done_testing
