#!/bin/bash
# SPDX-License-Identifier: ISC
# --defer-accept where the server speaks first (SMTP, POP3, MySQL, ...):
# the kernel hands a connection over only once the client has sent data,
# and the client waits for the greeting, so each connection hangs for the
# whole defer period. baton warns at start-up and in --check; a greeting
# worker shows the trap: its greeting arrives at once without
# --defer-accept, and only after the period with it, unless the client
# writes first.
#
# The well-known ports are bound on 127.0.0.1 in a network namespace of the
# test's own (unshare -n, as root), so nothing on the host collides.
if [ -z "${_BATON_IN_NETNS:-}" ] && unshare -n true 2>/dev/null; then
	_BATON_IN_NETNS=1 exec unshare -n bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
baton_only_script "the server-speaks-first warning is a baton extension"
[ -n "${_BATON_IN_NETNS:-}" ] ||
	skip_all "cannot make a network namespace (needs root and unshare)"
ip link set lo up || skip_all "cannot bring lo up in the namespace"
plan 12

# the defer period asked for: long enough for a silent window of 1 s (all
# scaled) to be far inside it
D=$(scaled 3)
D=${D%.*}
start_baton --port=127.0.0.1:25 --port=127.0.0.1:110 --sockopts=defer-accept=$D \
	-- "$WORKER" --greet
# connect PORT: fd CONN to 127.0.0.1:PORT
connect() { exec {CONN}<>"/dev/tcp/127.0.0.1/$1"; }
disconnect() { exec {CONN}>&-; }
# greeting SECONDS: the first line the server sends, within SECONDS (scaled)
greeting() {
	local line=
	IFS= read -r -t "$(scaled "$1")" -u "$CONN" line
	printf '%s' "${line%$'\r'}"
}
_greets() { connect 25 2>/dev/null && [ -n "$(greeting 1)" ] && disconnect; }
wait_until 10 _greets || bail_out "the greeting worker does not answer on port 25"

file_like "$T/baton.err" "--defer-accept on 127\\.0\\.0\\.1:110: the server speaks first on this port \\(POP3\\); each connection waits up to [0-9]+ s for the client's first byte" \
	"start-up warns about --defer-accept on a server-speaks-first port"
file_unlike "$T/baton.err" "--defer-accept on 127\\.0\\.0\\.1:25" \
	"no warning for the listener without --defer-accept"
period=$(grep -o "127\\.0\\.0\\.1:110: .*waits up to [0-9]* s" "$T/baton.err" | grep -o '[0-9]* s$')
period=${period% s}
diag "defer period: $D s asked, ${period:-?} s effective"

# ---- without --defer-accept: the greeting comes at once -----------------
connect 25 || bail_out "cannot connect to port 25"
t0=$(now_ms)
g=$(greeting 5)
t1=$(now_ms)
disconnect
like "$g" "^220 gen=1 pid=[0-9]+ ready$" "without --defer-accept, the greeting arrives with the client silent"
diag "greeting on port 25 after $((t1 - t0)) ms"

# ---- with --defer-accept: only after the period --------------------------
connect 110 || bail_out "cannot connect to port 110"
t0=$(now_ms)
g=$(greeting 1)
is "$g" "" "with --defer-accept, a silent client has no greeting after 1 s"
g=$(greeting $((D + 10)))
t1=$(now_ms)
disconnect
like "$g" "^220 gen=1 pid=[0-9]+ ready$" "the greeting comes once the defer period is over"
diag "greeting on port 110 after $((t1 - t0)) ms (defer period ${period:-?} s)"
cmp_ok "$((t1 - t0))" -ge "$(((${period:-$D} - 1) * 1000))" \
	"it took at least the defer period, less the kernel's first retransmission step"

# ---- with --defer-accept and a client that writes first ------------------
connect 110 || bail_out "cannot connect to port 110"
printf '\n\n' >&"$CONN"
g=$(greeting 5)
disconnect
like "$g" "^220 gen=1 pid=[0-9]+ ready$" "a client that writes first is greeted at once"

# ---- --check says it too -------------------------------------------------
kill -TERM "$BATON_PID"
wait_baton_exit 10
run_baton --check --port=127.0.0.1:3306 --defer-accept --port=127.0.0.1:587 --sockopts=defer-accept=0 \
	--port=127.0.0.1:465 -- "$WORKER"
is "$RUN_STATUS" 0 "--check exits 0 (it is a warning)"
like "$RUN_ERR" "--defer-accept on 127\\.0\\.0\\.1:3306: the server speaks first on this port \\(MySQL\\); each connection waits up to 31 s for the client's first byte" \
	"--check warns for MySQL with a bare --defer-accept (30 s asked, 31 s effective)"
unlike "$RUN_ERR" "127\\.0\\.0\\.1:587: the server speaks first" "defer-accept=0 is off: no warning"
unlike "$RUN_ERR" "127\\.0\\.0\\.1:465: the server speaks first" \
	"no warning for implicit TLS (465): the client's ClientHello comes first"
run_baton --check --port=127.0.0.1:8025 --defer-accept -- "$WORKER"
unlike "$RUN_ERR" "speaks first" "no warning on a port that is not a well-known server-speaks-first one"
done_testing
