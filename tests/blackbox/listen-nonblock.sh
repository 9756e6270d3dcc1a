#!/bin/bash
# SPDX-License-Identifier: ISC
# --nonblock and --sockopts=nonblock: O_NONBLOCK on the
# listener's open file description, seen from inside the worker on the fd
# it inherits, in every generation; --pass-fds-as=nginx implies it (nginx
# takes an inherited listener for non-blocking and otherwise sleeps in
# accept()); without either, the listener stays blocking, as start_server
# passes it (workers that accept() without polling first need that).
. "$(dirname "$0")/lib.sh"
baton_only_script "--nonblock"

# nb FILE FD: "nonblock=0" or "nonblock=1", as the worker saw FD
nb() { report_fd "$1" "$2" | grep -o 'nonblock=[01]'; }

# ---- default: blocking -------------------------------------------------------
P=$(free_port)
start_baton --port=127.0.0.1:$P -- "$WORKER" --report "$T/def.%g"
wait_file "$T/def.1" 10 || bail_out "no worker report: $(tail -n 5 "$T/baton.err")"
is "$(nb "$T/def.1" 3)" nonblock=0 "by default the worker's listener is blocking, as start_server passes it"
kill -TERM "$BATON_PID"
wait_baton_exit 10

# ---- --nonblock: TCP, UDP, unix; a listener's own nonblock=off wins ------------
P=$(free_port)
P2=$(free_port)
U=$(free_port)
start_baton --port=127.0.0.1:$P --port=127.0.0.1:$P2 --sockopts=nonblock=off \
	--port=127.0.0.1:u$U --path="$T/s.sock" --nonblock --status-file="$T/status" -- \
	"$WORKER" --report "$T/nb.%g"
wait_file "$T/nb.1" 10 || bail_out "no worker report: $(tail -n 5 "$T/baton.err")"
R=$T/nb.1
is "$(nb "$R" 3) $(nb "$R" 4) $(nb "$R" 5) $(nb "$R" 6)" \
	"nonblock=1 nonblock=0 nonblock=1 nonblock=1" \
	"--nonblock: the worker's TCP, UDP and unix listeners are non-blocking; --sockopts=nonblock=off keeps one blocking"
like "$(cat "$T/baton.err")" "127\\.0\\.0\\.1:${P}[^0-9].*nonblock on" "the log says nonblock on for the listener"
check "the worker answers on the non-blocking listener" http_ok 127.0.0.1:$P
wait_status "$T/status" 1 10
kill -HUP "$BATON_PID"
wait_file "$T/nb.2" 10 || diag "no report from generation 2"
is "$(nb "$T/nb.2" 3) $(nb "$T/nb.2" 4)" "nonblock=1 nonblock=0" "generation 2 inherits the same flags"
kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "baton stops"

# ---- --pass-fds-as=nginx implies it ----------------------------------------------
P=$(free_port)
start_baton --port=127.0.0.1:$P --path="$T/n.sock" --pass-fds-as=nginx -- \
	"$WORKER" --report "$T/ng.%g"
wait_file "$T/ng.1" 10 || bail_out "no worker report: $(tail -n 5 "$T/baton.err")"
is "$(nb "$T/ng.1" 3) $(nb "$T/ng.1" 4)" "nonblock=1 nonblock=1" \
	"--pass-fds-as=nginx: the listeners it passes are non-blocking"
kill -TERM "$BATON_PID"
wait_baton_exit 10
P=$(free_port)
start_baton --port=127.0.0.1:$P --sockopts=nonblock=off --pass-fds-as=nginx -- \
	"$WORKER" --report "$T/ngoff.%g"
wait_file "$T/ngoff.1" 10 || bail_out "no worker report: $(tail -n 5 "$T/baton.err")"
is "$(nb "$T/ngoff.1" 3)" nonblock=0 "--pass-fds-as=nginx with --sockopts=nonblock=off: blocking, as asked"
kill -TERM "$BATON_PID"
wait_baton_exit 10

# ---- --check shows it ------------------------------------------------------------
RUN_TIMEOUT=10 run_baton --check --port=127.0.0.1:"$(free_port)" --nonblock
is "$RUN_STATUS" 0 "--check --nonblock exits 0"
like "$RUN_OUT" "tcp .* nonblock=1" "--check shows nonblock=1"
done_testing
