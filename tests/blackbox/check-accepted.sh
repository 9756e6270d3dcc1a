#!/bin/bash
# SPDX-License-Identifier: ISC
# --check tells what a socket accepted from each TCP listener really gets:
# baton connects to the listener over loopback (through 127.0.0.1 or ::1
# for a wildcard address), accepts the connection itself and reads the
# options back from the accepted socket. A listener with --defer-accept
# gets a byte so that accept returns; nothing hangs.
. "$(dirname "$0")/lib.sh"
baton_only_script "--check is a baton extension"
plan 9

P=$(free_port)
Q=$(free_port)
R=$(free_port)
run_baton --check --port=127.0.0.1:$P --port=$Q --nodelay --keepalive \
	--sockopts=defer-accept=5 -- "$WORKER"
is "$RUN_STATUS" 0 "--check exits 0"
like "$RUN_OUT" "(^|$'\n')127\\.0\\.0\\.1:$P: accepted sockets get: nodelay=1 cork=0 keepalive=1 keepidle=[0-9]+ " \
	"a line for the listener on 127.0.0.1, with the inherited options"
like "$RUN_OUT" "(^|$'\n')$Q: accepted sockets get: nodelay=1 cork=0 keepalive=1 " \
	"a wildcard listener with --defer-accept is probed through the loopback"
like "$RUN_OUT" "$Q: accepted sockets get: .* defer-accept=0 fastopen=0 quickack=[01] user-timeout=[0-9]+ notsent-lowat=[0-9]+" \
	"defer-accept is not carried over; quickack, user-timeout and notsent-lowat are shown"
unlike "$RUN_ERR" "cannot see what sockets" "every probe succeeded"

run_baton --check --port=127.0.0.1:$R -- "$WORKER"
like "$RUN_OUT" "127\\.0\\.0\\.1:$R: accepted sockets get: nodelay=0 cork=0 keepalive=0 " \
	"without options, the kernel's defaults"

if [ -e /proc/net/if_inet6 ] && run_baton --check "--port=[::1]:$R" -- "$WORKER" &&
	[ "$RUN_STATUS" = 0 ]; then
	like "$RUN_OUT" "\\[::1\\]:$R: accepted sockets get: .* v6only=1 " \
		"an IPv6 listener shows v6only"
else
	skip "IPv6 listener shows v6only" "no IPv6 loopback here"
fi

# a unix or UDP listener gets no line
run_baton --check --path="$T/s" "--port=127.0.0.1:u$R" -- "$WORKER"
is "$RUN_STATUS" 0 "--check with unix and UDP listeners exits 0"
unlike "$RUN_OUT" "accepted sockets get" "no accepted-socket line for unix or UDP listeners"
done_testing
