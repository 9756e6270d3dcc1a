#!/bin/bash
# SPDX-License-Identifier: ISC
# A self re-exec (SIGUSR2) of a baton that adopted its sockets from its own
# manager (LISTEN_FDS, emulated by systemd-socket-activate): the new image
# keeps them as adopted, with their fd names (the status JSON still says
# origin "systemd"), never removes an adopted unix socket file, and, with no
# --port or --path at all, rebuilds the adopted listeners instead of exiting.
. "$(dirname "$0")/lib.sh"
baton_only_script "self re-exec (SIGUSR2) is baton's"
command -v systemd-socket-activate >/dev/null ||
	skip_all "systemd-socket-activate is not installed (package systemd)"
worker_cmd

# start_activated ARGS...: as in sd-listen.sh (BATON_PID is baton's pid
# once systemd-socket-activate execs it)
start_activated() {
	"$WORKER" --launch -- systemd-socket-activate "$@" >>"$T/baton.out" 2>>"$T/baton.err" </dev/null &
	BATON_PID=$!
	track_pid "$BATON_PID"
}
reexecs() { grep -c 're-executed: generation 1 keeps serving' "$T/baton.err"; }
_reexecs_are() { [ "$(reexecs)" = "$1" ]; }
wait_reexecs() { wait_until "$2" _reexecs_are "$1"; } # wait_reexecs N TIMEOUT
# reexec_and_check DESC N: SIGUSR2, then the N-th re-exec is logged and a
# fresh status JSON is written by the new image
reexec_and_check() {
	# SIGUSR2 is refused while a generation is starting
	wait_file_contains "$T/baton.err" "generation 1 is serving" 15 ||
		bail_out "generation 1 never became serving"
	rm -f "$T/status.json"
	kill -USR2 "$BATON_PID"
	check "$1: USR2 re-executes baton" wait_reexecs "$2" 10
	check "$1: the new image writes the status JSON" wait_file "$T/status.json" 10
	check "$1: same baton pid" pid_alive "$BATON_PID"
	check_not "$1: no exit 70 (\"re-exec state has\")" grep -q "re-exec state has" "$T/baton.err"
}
body_pid() { local b=${1#*pid=}; echo "${b%%[!0-9]*}"; }

# ---- a --port adopted from systemd-socket-activate -----------------------
P=$(free_port)
start_activated -l 127.0.0.1:$P --fdname=web -- "$BATON" --port=127.0.0.1:$P \
	--status-file="$T/status" -- "${WORKER_CMD[@]}"
wait_until 10 port_listening $P || bail_out "systemd-socket-activate did not listen"
body=$(HTTP_TIMEOUT=20 http_get 127.0.0.1:$P)
like "$body" "gen=1 " "TCP: generation 1 answers on the adopted socket"
wpid=$(body_pid "$body")
reexec_and_check "TCP" 1
is "$(http_pid 127.0.0.1:$P)" "$wpid" "TCP: the same worker answers after the re-exec"
like "$(cat "$T/status.json")" '"origin":"systemd","fdname":"web"' \
	"TCP: the status JSON still says origin systemd, fd name web"
kill -TERM "$BATON_PID"
wait_baton_exit 15
is "$BATON_STATUS" 0 "TCP: TERM: baton stops with status 0"

# ---- a unix socket: still adopted, its file never removed ----------------
S=$T/act.sock
: >"$T/baton.err"
rm -f "$T/status" "$T/status.json"
start_activated -l "$S" --fdname=app -- "$BATON" --path="$S" \
	--status-file="$T/status" -- "${WORKER_CMD[@]}"
wait_file "$S" 10 || bail_out "systemd-socket-activate did not create $S"
body=$(HTTP_TIMEOUT=20 http_get_unix "$S")
like "$body" "gen=1 " "unix: generation 1 answers on the adopted socket"
wpid=$(body_pid "$body")
reexec_and_check "unix" 1
is "$(body_pid "$(http_get_unix "$S")")" "$wpid" "unix: the same worker answers after the re-exec"
like "$(cat "$T/status.json")" '"origin":"systemd","fdname":"app"' \
	"unix: the status JSON still says origin systemd, fd name app"
kill -TERM "$BATON_PID"
wait_baton_exit 15
is "$BATON_STATUS" 0 "unix: TERM: baton stops with status 0"
check "unix: the socket file is still there after the re-exec and the stop (it is systemd's)" test -S "$S"

# ---- no --port or --path: the adopted listener is rebuilt ----------------
P=$(free_port)
: >"$T/baton.err"
rm -f "$T/status" "$T/status.json"
start_activated -l 127.0.0.1:$P --fdname=any -- "$BATON" --status-file="$T/status" \
	-- "${WORKER_CMD[@]}"
wait_until 10 port_listening $P || bail_out "systemd-socket-activate did not listen"
body=$(HTTP_TIMEOUT=20 http_get 127.0.0.1:$P)
like "$body" "gen=1 " "no --port: generation 1 answers"
wpid=$(body_pid "$body")
reexec_and_check "no --port" 1
is "$(http_pid 127.0.0.1:$P)" "$wpid" "no --port: the same worker keeps serving"
like "$(cat "$T/status.json")" "\"origin\":\"systemd\",\"fdname\":\"any\"" \
	"no --port: origin systemd and the fd name in the status JSON"
like "$(cat "$T/status.json")" "127\\.0\\.0\\.1:$P" "no --port: the listener keeps its key"
reexec_and_check "no --port, a second time" 2
is "$(http_pid 127.0.0.1:$P)" "$wpid" "no --port: still served after a second re-exec"
kill -HUP "$BATON_PID"
check "no --port: a HUP after the re-execs: generation 2 answers" wait_gen 127.0.0.1:$P 2 15
kill -TERM "$BATON_PID"
wait_baton_exit 15
is "$BATON_STATUS" 0 "no --port: TERM: baton stops with status 0"
done_testing
