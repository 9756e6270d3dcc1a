#!/bin/bash
# SPDX-License-Identifier: ISC
# Shared steps of the interop-SERVER.sh scripts: a real server,
# unchanged, under baton, serving a tiny application of ours that answers
# "gen=GENERATION pid=PID" on / and, after a pause, on /sleep/MS.
#
#   interop_up HOST:PORT NAME    wait until it serves (bail out if not) and
#                                the status file ($T/status) lists generation 1
#   interop_hup HOST:PORT [SLOW] a HUP under bounded load (tests/loadgen, 4
#                                clients): no request failed (refused, reset,
#                                timed out), generation 2 answers from a new
#                                pid, every pid that answered for generation 1
#                                is gone; with SLOW (a request target such as
#                                /sleep/2000) that request, in flight at the
#                                HUP, is finished by generation 1;
#                                INTEROP_LOAD_UNTIL=gen2: the clients stop
#                                once generation 2 answers, before generation
#                                1 is signalled (for a server that cuts
#                                requests in flight when it stops, with
#                                baton's --kill-old-delay)
#   interop_stop PORT NAME       TERM: baton exits 0, nothing listens on PORT,
#                                no process is left behind
#   hup_plain PORT               a HUP under bounded load for an application
#                                that answers anything (no gen=/pid=): no
#                                request failed, generation 2 takes over
#   own_reload_lost PORT SIG CMD...  the server's own reload, without baton:
#                                sets OWN_LOST, how many of 4 connections the
#                                server had accepted but not yet read a request
#                                from it loses when it stops (see there)
#   baton_reload_lost HOST:PORT GEN  the same against baton's HUP: sets
#                                BATON_LOST
#
# A server whose stop closes connections it accepted but has not served yet
# (uvicorn, hypercorn: asyncio servers close the connections whose request
# they have not read when they shut down) loses a request now and then when
# the old generation stops under load: about 3 in 840 under heavy load, with
# or without a supervisor. Such a script sets INTEROP_OWN_LOST from
# own_reload_lost first; interop_hup then asserts baton's share strictly
# (nothing refused, nothing timed out, no bad answer: the listening socket
# stayed open and every queued connection was served) and that the resets
# are no more than the server's own reload loses.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# How long a client of the HUP under load waits for its answer. These
# servers are ready by --interval (start_server's rule: alive 1 s), and a
# Python, Perl or Ruby server can take longer than that to start on a
# loaded machine: the old generation is retired first and the requests of
# the gap wait in the listen queue until the new one accepts (5 s and more
# with make -j8 check beside stress-ng on 2 cores). A wait is not a failure
# (baton keeps the socket open and the queue is served); a refusal, a reset
# or a bad answer is. So the bound is the one the test itself needs, long
# enough for any start-up the other waits allow (wait_gen 30).
LOAD_TIMEOUT_MS=$(scaled_ms 30000)

# the pids answering HOST:PORT over a few requests, one a line, sorted
_answering_pids() {
	local i body
	for i in 1 2 3 4 5 6 7 8; do
		body=$(http_get "$1") || continue
		body=${body#*pid=}
		echo "${body%%[!0-9]*}"
	done | sort -u
}

interop_up() {
	wait_http "$1" 30 || bail_out "$2 did not answer: $(tail -n 5 "$T/baton.err")"
	wait_status "$T/status" 1 15 || diag "status file: $(cat "$T/status" 2>&1)"
	like "$(http_get "$1")" "^gen=1 pid=[0-9]+" "$2 serves generation 1 on the socket baton passed"
	check_not "no fd-check warning (the server took baton's socket)" \
		grep -q "holds\|itself" "$T/baton.err"
}

interop_hup() {
	local hp=$1 slow=${2:-} old p lg st out slowpid='' newpid gone=yes
	old=$(_answering_pids "$hp")
	diag "generation 1 answers from: $(echo $old)"
	# --timeout-ms: see LOAD_TIMEOUT_MS
	"$LOADGEN" "${hp%:*}" "${hp##*:}" --seconds "$(scaled 60)" --max-requests 200000 \
		--concurrency 4 --pause-ms 2 --timeout-ms "$LOAD_TIMEOUT_MS" \
		--stop-file "$T/load.stop" >"$T/load.out" 2>"$T/load.err" &
	lg=$!
	track_pid "$lg"
	if [ -n "$slow" ]; then
		HTTP_TIMEOUT=15 http_get "$hp" --request-target "$slow" >"$T/slow.out" &
		slowpid=$!
	fi
	nap 0.7
	kill -HUP "$BATON_PID"
	check "HUP: generation 2 answers" wait_gen "$hp" 2 30
	if [ "${INTEROP_LOAD_UNTIL:-}" = gen2 ]; then
		# the clients stop once generation 2 answers, before generation
		# 1 is signalled (--kill-old-delay): see the script's header
		touch "$T/load.stop"
		wait_until 60 pid_gone "$lg"
		wait "$lg"
		st=$?
		check_not "the clients were done before generation 1 was signalled" \
			grep -q "sending SIG[A-Z]* to worker [0-9]* (generation 1)" "$T/baton.err"
		check "HUP: generation 1 is gone (the status file lists 2 alone)" wait_status "$T/status" 2 30
	else
		check "HUP: generation 1 is gone (the status file lists 2 alone)" wait_status "$T/status" 2 30
		nap 0.5
		touch "$T/load.stop"
		wait_until 60 pid_gone "$lg"
		wait "$lg"
		st=$?
	fi
	out=$(cat "$T/load.out")
	diag "load: $out"
	[ -s "$T/load.err" ] && diag "$(sort "$T/load.err" | uniq -c | head -n 10)"
	if [ -n "${INTEROP_OWN_LOST:-}" ]; then
		# the server's own shutdown race (see the header): resets only,
		# and no more than its own reload loses
		like "$out" " refused=0 reset=[0-9]+ timeout=0 other=0 " \
			"HUP under load: none refused or timed out, no bad answer"
		cmp_ok "$(load_field "$out" reset)" -le "$INTEROP_OWN_LOST" \
			"resets ($(load_field "$out" reset)) no more than the server's own reload loses ($INTEROP_OWN_LOST of 4)"
	else
		is "$st" 0 "HUP under load: no request failed"
		like "$out" " failed=0 refused=0 reset=0 timeout=0 other=0 " "none refused, reset or timed out"
	fi
	if [ "${INTEROP_LOAD_UNTIL:-}" = gen2 ]; then
		# both generations accept until generation 1 is signalled
		like "$out" "min_gen=1 max_gen=2 " "clients were served by generation 1 and 2"
	else
		like "$out" "min_gen=1 .*last_gen=2\$" "clients were served by generation 1, then 2"
	fi
	# a count, not a rate: on a loaded machine 4 clients made 50 requests
	# in all across the HUP (the generations above say they spanned it)
	cmp_ok "$(load_requests "$out")" -ge 8 "the clients made requests across the HUP"
	if [ -n "$slowpid" ]; then
		wait "$slowpid"
		like "$(cat "$T/slow.out")" "^gen=1 " "the request in flight at the HUP ($slow) was finished by generation 1"
	fi
	newpid=$(http_pid "$hp")
	like "$(http_get "$hp")" "^gen=2 pid=[0-9]+" "generation 2 serves"
	like "$newpid" "^[0-9]+\$" "a worker pid answers after the HUP"
	if printf '%s\n' $old | grep -qx "$newpid"; then
		fail "the pid answering after the HUP is a new one" "$newpid answered before the HUP too"
	else
		pass "the pid answering after the HUP is a new one ($newpid)"
	fi
	for p in $old; do
		wait_pid_gone "$p" 10 || { gone=no; diag "pid $p of generation 1 is still alive"; }
	done
	is "$gone" yes "every pid that answered for generation 1 has exited"
}

load_requests() { # the requests= figure of a loadgen line
	load_field "$1" requests
}

load_field() { # load_field LINE NAME: the NAME= figure of a loadgen line
	printf '%s\n' "$1" | tr ' ' '\n' | awk -F= -v n="$2" '$1 == n { print $2 }'
}

# ---- the server's own reload, without baton -----------------------------
#
# own-reload.py PORT STATUS STOPSIG INTERVAL -- CMD...: what baton does on a
# HUP, with nothing of baton: it binds 127.0.0.1:PORT (listen backlog
# SOMAXCONN, as baton), passes it as fd 3 (SERVER_STARTER_PORT, as baton),
# starts generation 1; on HUP starts the next generation and, INTERVAL s
# later, sends STOPSIG to the older ones; on TERM sends STOPSIG to all and
# exits when they have. STATUS lists "GEN:PID" of the live generations.
_write_own_reload() {
	cat >"$T/own-reload.py" <<'PY'
import os, signal, socket, subprocess, sys, time
port, status, stopsig, interval = int(sys.argv[1]), sys.argv[2], \
    getattr(signal, "SIG" + sys.argv[3]), float(sys.argv[4])
cmd = sys.argv[6:]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(socket.SOMAXCONN)
fd = s.detach()
if fd != 3:
    os.dup2(fd, 3)
    os.close(fd)
env = dict(os.environ, SERVER_STARTER_PORT="127.0.0.1:%d=3" % port)
gens = []
flags = {"hup": False, "term": False}
signal.signal(signal.SIGHUP, lambda *a: flags.update(hup=True))
signal.signal(signal.SIGTERM, lambda *a: flags.update(term=True))
def write():
    with open(status + ".tmp", "w") as f:
        f.write("".join("%d:%d\n" % (g, p.pid) for g, p in gens))
    os.rename(status + ".tmp", status)
def spawn(g):
    gens.append((g, subprocess.Popen(cmd, pass_fds=(3,),
        env=dict(env, SERVER_STARTER_GENERATION=str(g)))))
    write()
def reap():
    n = len(gens)
    gens[:] = [(g, p) for g, p in gens if p.poll() is None]
    if len(gens) != n:
        write()
spawn(1)
while gens:
    time.sleep(0.05)
    if flags["term"]:
        for g, p in gens:
            p.send_signal(stopsig)
        for g, p in gens:
            p.wait()
        reap()
        break
    if flags["hup"]:
        flags["hup"] = False
        old = list(gens)
        spawn(gens[-1][0] + 1)
        time.sleep(interval)
        for g, p in old:
            p.send_signal(stopsig)
            print("own-reload: sending SIG%s to generation %d" % (
                sys.argv[3], g), file=sys.stderr, flush=True)
    reap()
PY
}

# idle-clients.py PORT K READY GO OUT: K connections that send nothing
# (READY once they are open); once GO exists, one request on each; OUT gets
# "answered A lost L".
_write_idle_clients() {
	cat >"$T/idle-clients.py" <<'PY'
import os, socket, sys, time
port, k, ready, go, out = int(sys.argv[1]), int(sys.argv[2]), *sys.argv[3:6]
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(k)]
open(ready, "w").close()
end = time.monotonic() + 300
while not os.path.exists(go) and time.monotonic() < end:
    time.sleep(0.05)
answered = lost = 0
for c in socks:
    data = b""
    try:
        c.settimeout(30)
        c.sendall(b"GET / HTTP/1.0\r\n\r\n")
        while True:
            chunk = c.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    if data[:15] in (b"HTTP/1.0 200 OK", b"HTTP/1.1 200 OK"):
        answered += 1
    else:
        lost += 1
with open(out, "w") as f:
    f.write("answered %d lost %d\n" % (answered, lost))
PY
}

_accept_queue() { # the accept queue length of the TCP listener on PORT
	ss -Htln "sport = :$1" 2>/dev/null | awk '{ print $2; exit }'
}

_queue_empty() { [ "$(_accept_queue "$1")" = 0 ]; }

# _idle_lost PORT TAG STATUS GEN LOG ERE RESTART-CMD...: 4 connections that
# send nothing yet, taken by the running generation (the listener's accept
# queue is empty); RESTART-CMD starts generation GEN, which stops the old
# one (LOG matches ERE once it was signalled); once STATUS lists GEN alone
# (the old generation is gone), or 2 s (scaled) after the signal, a request
# on each. Sets IDLE_LOST: how many got no answer. (A server that waits for
# these requests before it exits answers them: the ones lost were closed by
# the old generation as it stopped.)
_idle_lost() {
	local port=$1 tag=$2 status=$3 gen=$4 log=$5 ere=$6 r
	shift 6
	rm -f "$T/$tag".idle-*
	_write_idle_clients
	python3 "$T/idle-clients.py" "$port" 4 "$T/$tag.idle-ready" "$T/$tag.idle-go" "$T/$tag.idle-out" &
	track_pid $!
	wait_file "$T/$tag.idle-ready" 20 || diag "$tag: the idle clients did not connect"
	wait_until 10 _queue_empty "$port" ||
		diag "$tag: accept queue still $(_accept_queue "$port")"
	"$@"
	wait_file_contains "$log" "$ere" 30 || diag "$tag: the old generation was not signalled"
	wait_status "$status" "$gen" 2
	touch "$T/$tag.idle-go"
	wait_file "$T/$tag.idle-out" 60
	r=$(cat "$T/$tag.idle-out" 2>/dev/null)
	diag "$tag: $r"
	r=${r#*lost }
	IDLE_LOST=${r:-4}
	wait_status "$status" "$gen" 30 || diag "$tag: status: $(cat "$status")"
}

# own_reload_lost PORT SIG CMD...: the server's own reload (own-reload.py,
# stop signal SIG, --interval 1 scaled, as baton's default) of CMD on
# 127.0.0.1:PORT; sets OWN_LOST (of 4 connections accepted, not yet served
# when generation 1 stopped, how many got no answer), then stops it all.
own_reload_lost() {
	local port=$1 sig=$2 pid
	shift 2
	rm -f "$T"/own.*
	_write_own_reload
	python3 "$T/own-reload.py" "$port" "$T/own.status" "$sig" "$(scaled 1)" -- "$@" \
		>>"$T/own.out" 2>>"$T/own.err" &
	pid=$!
	track_pid "$pid"
	wait_http "127.0.0.1:$port" 30 || diag "own reload: nothing answers: $(tail -n 5 "$T/own.err")"
	_idle_lost "$port" own "$T/own.status" 2 "$T/own.err" \
		"^own-reload: sending SIG$sig to generation 1" kill -HUP "$pid"
	OWN_LOST=$IDLE_LOST
	kill -TERM "$pid"
	wait_until 30 pid_gone "$pid"
	wait "$pid"
	pass "the server's own reload, without baton, loses $OWN_LOST of 4 connections it had accepted and not yet served"
}

# baton_reload_lost HOST:PORT GEN: the same against baton's HUP, which
# brings generation GEN; sets BATON_LOST
baton_reload_lost() {
	_idle_lost "${1##*:}" baton "$T/status" "$2" "$T/baton.err" \
		"sending SIG[A-Z]+ to worker [0-9]+ \(generation $(($2 - 1))\)" \
		kill -HUP "$BATON_PID"
	BATON_LOST=$IDLE_LOST
}

interop_stop() {
	local port=$1 name=$2 left
	kill -TERM "$BATON_PID"
	if wait_baton_exit 30; then
		is "$BATON_STATUS" 0 "TERM: baton and $name stop, baton exits 0"
	else
		fail "TERM: baton and $name stop, baton exits 0" "still running after $(scaled 30) s"
	fi
	check_not "nothing listens on port $port any more" port_listening "$port"
	wait_until 5 eval '[ -z "$(tagged_pids)" ]'
	left=$(tagged_pids)
	is "$left" "" "no process is left behind"
	[ -n "$left" ] && diag "$(ps -o pid,ppid,args -p "$(echo $left | tr ' ' ,)" 2>&1)"
	return 0
}

# write_asgi_app NAME: $T/app/app.py, an ASGI app "asgi" (also named
# "application", Daphne's default) answering "gen=N pid=PID server=NAME",
# after a pause on /sleep/MS; PYTHONPATH points at it
write_asgi_app() {
	mkdir -p "$T/app"
	cat >"$T/app/app.py" <<PY
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
    body = ("gen=%s pid=%d server=$1\\n" % (
        os.environ.get("SERVER_STARTER_GENERATION", "?"), os.getpid())).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
application = asgi
PY
	export PYTHONPATH=$T/app
}

hup_plain() {
	local lg s
	"$LOADGEN" 127.0.0.1 "$1" --seconds "$(scaled 30)" --max-requests 20000 --concurrency 4 \
		--pause-ms 2 --timeout-ms "$LOAD_TIMEOUT_MS" --stop-file "$T/stop" \
		>"$T/load.out" 2>"$T/load.err" &
	lg=$!
	nap 0.5
	kill -HUP "$BATON_PID"
	check "generation 2 takes over" wait_status "$T/status" 2 20
	nap 1
	touch "$T/stop"
	wait_until 60 pid_gone $lg
	wait $lg
	s=$?
	diag "$(cat "$T/load.out")"
	is "$s" 0 "no failed request across the HUP"
	like "$(cat "$T/load.out")" " failed=0 refused=0 reset=0 timeout=0 " "none refused, reset or timed out"
}
