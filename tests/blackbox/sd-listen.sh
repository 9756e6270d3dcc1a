#!/bin/bash
# SPDX-License-Identifier: ISC
# baton under a .socket unit: LISTEN_FDS from its own
# manager, emulated by systemd-socket-activate, which binds, waits for the
# first connection, then execs baton with the same pid.
. "$(dirname "$0")/lib.sh"
baton_only_script "LISTEN_FDS in"
command -v systemd-socket-activate >/dev/null ||
	skip_all "systemd-socket-activate is not installed (package systemd)"
worker_cmd

# start_activated ARGS...: systemd-socket-activate ARGS, in the background
# like start_baton (BATON_PID is also baton's pid once it execs)
start_activated() {
	"$WORKER" --launch -- systemd-socket-activate "$@" >>"$T/baton.out" 2>>"$T/baton.err" </dev/null &
	BATON_PID=$!
	track_pid "$BATON_PID"
}
sock_inode() { # sock_inode PID FD
	readlink "/proc/$1/fd/$2" 2>/dev/null | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p'
}
listeners_on() { # how many TCP sockets listen on port $1 (see port_listening)
	ss -Htln "sport = :$1" 2>/dev/null | wc -l
}

# ---- a --port matched by a passed fd: adopted, not bound -----------------
P=$(free_port)
start_activated -l 127.0.0.1:$P --fdname=web -- "$BATON" --port=127.0.0.1:$P \
	--status-file="$T/status" -- "${WORKER_CMD[@]}"
wait_until 10 port_listening $P || bail_out "systemd-socket-activate did not listen"
# the first connection makes systemd-socket-activate exec baton; it waits
body=$(HTTP_TIMEOUT=20 http_get 127.0.0.1:$P)
like "$body" "gen=1 " "the first connection is answered by generation 1 under the adopted socket"
wait_report 1 10 || bail_out "no worker report"
R=$(report 1)
check_not "no \"Address already in use\"" grep -q "already in use" "$T/baton.err"
like "$(cat "$T/baton.err")" "adopting 127.0.0.1:$P \(fd 3, name \"web\"\) from systemd" \
	"baton says it adopts the socket"
is "$(report_env "$R" SERVER_STARTER_PORT)" "127.0.0.1:$P=3" "the worker gets SERVER_STARTER_PORT"
is "$(grep -c '^env LISTEN_' "$R")" 0 "the worker sees no LISTEN_* variable"
ino=$(sock_inode "$BATON_PID" 3)
isnt "$ino" "" "baton holds the socket systemd passed on fd 3"
is "$(sock_inode "$(report_val "$R" pid)" 3)" "$ino" "the worker's fd 3 is that very socket"
is "$(listeners_on $P)" 1 "no second socket listens on the port"
like "$(cat "$T/status.json")" '"origin":"systemd","fdname":"web"' \
	"STATUS.json: origin systemd and the fd name"
kill -HUP "$BATON_PID"
check "a HUP works: generation 2 answers" wait_gen 127.0.0.1:$P 2 15
is "$(sock_inode "$(report_val "$(report 2)" pid)" 3)" "$ino" "generation 2 gets the same socket"
kill -TERM "$BATON_PID"
wait_baton_exit 15
is "$BATON_STATUS" 0 "baton stops with status 0"

# ---- a passed fd that matches no listener --------------------------------
P=$(free_port)
Q=$(free_port)
start_activated -l 127.0.0.1:$P -l 127.0.0.1:$Q --fdname=a:b -- "$BATON" \
	--port=127.0.0.1:$P -- "${WORKER_CMD[@]}"
wait_until 10 port_listening $Q || bail_out "systemd-socket-activate did not listen"
HTTP_TIMEOUT=5 http_get 127.0.0.1:$P >/dev/null
wait_baton_exit 15
is "$BATON_STATUS" 2 "an fd no --port matches: exit status 2"
like "$(cat "$T/baton.err")" "cannot adopt 127.0.0.1:$Q \(fd 4, name \"b\"\) passed by systemd: no --port or --path matches it" \
	"the message names its address and name"

# ---- no --port or --path: every passed fd is adopted ---------------------
P=$(free_port)
: >"$T/baton.err"
rm -f "$T"/report.*
start_activated -l 127.0.0.1:$P -- "$BATON" -- "${WORKER_CMD[@]}"
wait_until 10 port_listening $P || bail_out "systemd-socket-activate did not listen"
body=$(HTTP_TIMEOUT=20 http_get 127.0.0.1:$P)
like "$body" "gen=1 " "no --port: the passed socket is served"
wait_report 1 10
is "$(report_env "$(report 1)" SERVER_STARTER_PORT)" "127.0.0.1:$P=3" "keyed by its address"
kill -TERM "$BATON_PID"
wait_baton_exit 15

# ---- a unix socket: adopted, never unlinked -----------------------------
S=$T/act.sock
P=$(free_port)
rm -f "$T"/report.*
start_activated -l "$S" -- "$BATON" --path="$S" -- "${WORKER_CMD[@]}"
wait_file "$S" 10 || bail_out "systemd-socket-activate did not create $S"
body=$(HTTP_TIMEOUT=20 http_get_unix "$S")
like "$body" "gen=1 " "a unix socket passed by systemd is served"
wait_report 1 10
is "$(report_env "$(report 1)" SERVER_STARTER_PORT)" "$S=3" "as the --path it matches"
kill -TERM "$BATON_PID"
wait_baton_exit 15
check "the socket file is still there after baton stops (it is systemd's)" test -S "$S"

# ---- LISTEN_PID not baton's: the variables are ignored ------------------
P=$(free_port)
rm -f "$T"/report.*
LISTEN_PID=1 LISTEN_FDS=1 LISTEN_FDNAMES=x start_baton --port=127.0.0.1:$P -- "${WORKER_CMD[@]}"
check "LISTEN_PID of another process: baton binds the port itself" wait_http 127.0.0.1:$P 10
wait_report 1 10
is "$(grep -c '^env LISTEN_' "$(report 1)")" 0 "and the worker sees no LISTEN_* variable"
kill -TERM "$BATON_PID"
wait_baton_exit 15

# ---- options are compared, not changed; --check exits 2 on a difference --
P=$(free_port)
: >"$T/baton.err"
start_activated -l 127.0.0.1:$P -- "$BATON" --check --port=127.0.0.1:$P --sockopts=nodelay
wait_until 10 port_listening $P || bail_out "systemd-socket-activate did not listen"
HTTP_TIMEOUT=3 http_get 127.0.0.1:$P >/dev/null
wait_baton_exit 15
is "$BATON_STATUS" 2 "--check: an adopted socket without an option asked for: exit status 2"
like "$(cat "$T/baton.err")" "listener 127.0.0.1:$P from systemd has nodelay off, not on as asked" \
	"the warning names the listener and the difference"
done_testing
