#!/bin/bash
# SPDX-License-Identifier: ISC
# Socket activation: what baton cannot serve is refused at start-up
# with exit 2 and a message naming the fd, never adopted: a netlink or vsock
# socket (ListenNetlink=; 0.2.0 died of SIGSEGV), a connection (a unit with
# Accept=yes; 0.2.0 adopted it as a listener and ran workers on it), a LISTEN_FDNAMES
# that names more or fewer fds than LISTEN_FDS passes (sd_listen_fds_with_names
# refuses it).
. "$(dirname "$0")/lib.sh"
baton_only_script "LISTEN_FDS in"
command -v python3 >/dev/null || skip_all "no python3"
RUN_TIMEOUT=10

# A launcher as a service manager is one: it puts a socket on fd 3, sets
# LISTEN_PID to its own pid and LISTEN_FDS, then execs baton (same pid).
cat >"$T/launch.py" <<'PY'
import os, socket, sys
kind, names, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
if kind == "netlink":
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    s.bind((0, 0))
elif kind == "vsock":
    s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
elif kind == "connection":
    l = socket.socket()
    l.bind(("127.0.0.1", int(os.environ.get("BIND_PORT", "0"))))
    l.listen(1)
    c = socket.create_connection(l.getsockname())
    s, _ = l.accept()
    open(os.environ["PEER_PORT_FILE"], "w").write("%d\n" % l.getsockname()[1])
elif kind == "bound":
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
elif kind == "listener":
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    open(os.environ["PEER_PORT_FILE"], "w").write("%d\n" % s.getsockname()[1])
os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)  # dup2 onto itself keeps it close-on-exec
os.environ["LISTEN_FDS"] = "1"
os.environ["LISTEN_PID"] = str(os.getpid())
if names != "-":
    os.environ["LISTEN_FDNAMES"] = names
os.execv(argv[0], argv)
PY
export PEER_PORT_FILE=$T/port

# run_activated KIND NAMES ARG...: baton ARG... with a KIND socket on fd 3
# (NAMES: LISTEN_FDNAMES, or - for none); sets RUN_STATUS and RUN_ERR
run_activated() {
	local kind=$1 names=$2
	shift 2
	timeout -k 2 "$(scaled "$RUN_TIMEOUT")" "$WORKER" --launch -- \
		python3 "$T/launch.py" "$kind" "$names" "$BATON" "$@" \
		>"$T/run.out" 2>"$T/run.err" </dev/null
	RUN_STATUS=$?
	RUN_ERR=$(cat "$T/run.err")
}

# ---- a netlink socket (ListenNetlink=) ------------------------------------
P=$(free_port)
run_activated netlink nl --port=127.0.0.1:$P -- "$WORKER" --report "$T/r1"
is "$RUN_STATUS" 2 "a netlink socket on fd 3, with --port: exit 2 (not a crash)"
like "$RUN_ERR" "^${MSG_PREFIX}cannot adopt fd 3 \(name \"nl\"\) passed by systemd: it is a netlink raw socket; baton takes TCP, UDP and unix stream sockets$" \
	"the message names the fd, its name and what it is"
check_not "no worker ran" test -e "$T/r1"
run_activated netlink - -- "$WORKER" --report "$T/r2"
is "$RUN_STATUS" 2 "a netlink socket without --port or --path: exit 2 (0.2.0: SIGSEGV)"
like "$RUN_ERR" "cannot adopt fd 3 \(name \"unknown\"\) passed by systemd: it is a netlink raw socket" \
	"the message says so"
check_not "no worker ran" test -e "$T/r2"

# ---- a vsock socket --------------------------------------------------------
if python3 -c 'import socket; socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)' 2>/dev/null; then
	run_activated vsock - -- "$WORKER" --report "$T/r3"
	is "$RUN_STATUS" 2 "a vsock socket: exit 2"
	like "$RUN_ERR" "cannot adopt fd 3 \(name \"unknown\"\) passed by systemd: it is a vsock stream socket" \
		"the message names vsock"
else
	skip "a vsock socket" "this kernel has no AF_VSOCK"
	skip "a vsock socket: message" "this kernel has no AF_VSOCK"
fi

# ---- a connection (Accept=yes) ---------------------------------------------
run_activated connection - -- "$WORKER" --report "$T/r4"
is "$RUN_STATUS" 2 "a connected socket on fd 3: exit 2"
is "$RUN_ERR" "baton: fd 3 from systemd is a connection, not a listening socket (Accept=yes?)" \
	"the message names the fd and the likely cause"
check_not "no worker ran on the connection" test -e "$T/r4"
P=$(free_port)
BIND_PORT=$P run_activated connection - --port=127.0.0.1:$P -- "$WORKER" --report "$T/r5"
is "$RUN_STATUS" 2 "a connection whose address matches the --port: exit 2 too"
like "$RUN_ERR" "fd 3 from systemd is a connection, not a listening socket \(Accept=yes\?\)" "the same message"

# ---- a stream socket bound but never listen()ed ----------------------------
run_activated bound - -- "$WORKER" --report "$T/r6"
is "$RUN_STATUS" 2 "a bound TCP socket that does not listen: exit 2"
is "$RUN_ERR" "baton: fd 3 from systemd is an IPv4 stream socket that does not listen (no listen(2) was called on it)" \
	"the message says it does not listen"
check_not "no worker ran on it" test -e "$T/r6"

if command -v systemd-socket-activate >/dev/null; then
	P=$(free_port)
	"$WORKER" --launch -- systemd-socket-activate -l 127.0.0.1:$P --accept -- \
		"$BATON" --port=127.0.0.1:$P -- "$WORKER" --report "$T/r6" \
		>"$T/ssa.out" 2>"$T/ssa.err" </dev/null &
	SSA=$!
	track_pid "$SSA"
	wait_until 10 port_listening $P || bail_out "systemd-socket-activate did not listen"
	HTTP_TIMEOUT=5 http_get 127.0.0.1:$P >/dev/null
	check "systemd-socket-activate --accept: baton says it is a connection" \
		wait_file_contains "$T/ssa.err" "fd 3 from systemd is a connection, not a listening socket \\(Accept=yes\\?\\)" 10
	check "baton exits 2 there" wait_file_contains "$T/ssa.err" "died with code 2" 10
	check_not "no worker ran" test -e "$T/r6"
	kill -TERM "$SSA" 2>/dev/null
	wait "$SSA" 2>/dev/null
else
	skip "systemd-socket-activate --accept" "no systemd-socket-activate (package systemd)"
fi

# ---- LISTEN_FDNAMES with the wrong count -----------------------------------
run_activated listener a:b -- "$WORKER" --report "$T/r7"
is "$RUN_STATUS" 2 "LISTEN_FDNAMES with 2 names for 1 fd: exit 2"
like "$RUN_ERR" "^${MSG_PREFIX}cannot adopt the sockets passed by systemd: LISTEN_FDNAMES has 2 names for 1 fds \(LISTEN_FDS=1\)$" \
	"the message gives both counts"
check_not "no worker ran" test -e "$T/r7"
# the right count, or none at all, is served
start_baton_activated() { # NAMES: the launcher in the background
	"$WORKER" --launch -- python3 "$T/launch.py" listener "$1" "$BATON" \
		-- "$WORKER" >>"$T/baton.out" 2>>"$T/baton.err" </dev/null &
	BATON_PID=$!
	track_pid "$BATON_PID"
}
for names in web - ""; do
	rm -f "$T/port"
	start_baton_activated "$names"
	# non-empty: the launcher creates the file, then writes the port
	P=
	wait_until 10 test -s "$T/port" && P=$(cat "$T/port")
	check "LISTEN_FDNAMES=\"$names\" for 1 fd: the passed socket is served" wait_http 127.0.0.1:$P 10
	kill -TERM "$BATON_PID"
	wait_baton_exit 15
done
done_testing
