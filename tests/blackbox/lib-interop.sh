#!/bin/bash
# SPDX-License-Identifier: ISC
# Shared steps of the interop-SERVER.sh scripts (issue 11): a real server,
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
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

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
	"$LOADGEN" "${hp%:*}" "${hp##*:}" --seconds "$(scaled 60)" --max-requests 200000 \
		--concurrency 4 --pause-ms 2 --timeout-ms "$(scaled_ms 5000)" \
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
		wait_until 30 pid_gone "$lg"
		wait "$lg"
		st=$?
		check_not "the clients were done before generation 1 was signalled" \
			grep -q "sending SIG[A-Z]* to worker [0-9]* (generation 1)" "$T/baton.err"
		check "HUP: generation 1 is gone (the status file lists 2 alone)" wait_status "$T/status" 2 30
	else
		check "HUP: generation 1 is gone (the status file lists 2 alone)" wait_status "$T/status" 2 30
		nap 0.5
		touch "$T/load.stop"
		wait_until 30 pid_gone "$lg"
		wait "$lg"
		st=$?
	fi
	out=$(cat "$T/load.out")
	diag "load: $out"
	[ -s "$T/load.err" ] && diag "$(sort "$T/load.err" | uniq -c | head -n 10)"
	is "$st" 0 "HUP under load: no request failed"
	like "$out" " failed=0 refused=0 reset=0 timeout=0 other=0 " "none refused, reset or timed out"
	if [ "${INTEROP_LOAD_UNTIL:-}" = gen2 ]; then
		# both generations accept until generation 1 is signalled
		like "$out" "min_gen=1 max_gen=2 " "clients were served by generation 1 and 2"
	else
		like "$out" "min_gen=1 .*last_gen=2\$" "clients were served by generation 1, then 2"
	fi
	cmp_ok "$(load_requests "$out")" -gt 50 "the clients made requests across the HUP"
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
	printf '%s\n' "$1" | tr ' ' '\n' | awk -F= '$1 == "requests" { print $2 }'
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
		--pause-ms 2 --timeout-ms "$(scaled_ms 5000)" --stop-file "$T/stop" \
		>"$T/load.out" 2>"$T/load.err" &
	lg=$!
	nap 0.5
	kill -HUP "$BATON_PID"
	check "generation 2 takes over" wait_status "$T/status" 2 20
	nap 1
	touch "$T/stop"
	wait_until 15 pid_gone $lg
	wait $lg
	s=$?
	diag "$(cat "$T/load.out")"
	is "$s" 0 "no failed request across the HUP"
	like "$(cat "$T/load.out")" " failed=0 refused=0 reset=0 timeout=0 " "none refused, reset or timed out"
}
