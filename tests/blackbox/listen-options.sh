#!/bin/bash
# SPDX-License-Identifier: ISC
# Listener options: inside the worker, getsockopt shows each option as it was
# configured, a listener's own --sockopts over the global flags over
# start_server's defaults; the log, --check and the JSON status say the same.
. "$(dirname "$0")/lib.sh"
baton_only_script "listener options are a baton extension"

# sockopt_line FILE KEY: the worker's "sockopt FD ..." line for listener KEY
sockopt_line() {
	local fd
	fd=$(awk -v k="$2" '$1 == "listener" && $2 == k { print $3; exit }' "$1")
	[ -n "$fd" ] && grep -E "^sockopt $fd( |\$)" "$1"
}

# opt LINE NAME: the value of NAME=VALUE in a line
opt() {
	printf '%s\n' "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2; exit }'
}

have_ipv6() { [ -e /proc/net/if_inet6 ] && grep -q ' lo$' /proc/net/if_inet6; }

P1=$(free_port)
P2=$(free_port)
P3=$(free_port)
P4=$(free_port)

# ---- global flags, one listener overriding them ------------------------------
start_baton --port=127.0.0.1:$P1 --sockopts=defer-accept=5,backlog=64,nodelay=off,rcvbuf=128k \
	--port=127.0.0.1:$P2 --port=127.0.0.1:u$P3 \
	--path="$T/a.sock" --sockopts=mode=0600 --path="$T/b.sock" \
	--defer-accept=10 --nodelay --keepalive --reuseport --backlog=100 --sndbuf=64k \
	--socket-mode=0660 --status-file="$T/status" -- "${WORKER_CMD[@]}"
wait_report 1 10 || bail_out "the worker did not start: $(tail -5 "$T/baton.err")"
R=$(report 1)

l1=$(sockopt_line "$R" 127.0.0.1:$P1)
l2=$(sockopt_line "$R" 127.0.0.1:$P2)
l3=$(sockopt_line "$R" 127.0.0.1:$P3)
la=$(sockopt_line "$R" "$T/a.sock")
lb=$(sockopt_line "$R" "$T/b.sock")
diag "worker sees:" "$l1" "$l2" "$l3" "$la" "$lb"

# the kernel rounds defer-accept up; whatever it says, it is at least the ask
d1=$(opt "$l1" defer_accept)
d2=$(opt "$l2" defer_accept)
cmp_ok "${d1:-0}" -ge 5 "own defer-accept=5: the worker's socket defers (${d1}s)"
cmp_ok "${d2:-0}" -ge 10 "global --defer-accept=10 on the other TCP listener (${d2}s)"
cmp_ok "${d2:-0}" -gt "${d1:-0}" "the listener's own value wins over the global one"
is "$(opt "$l1" backlog)" 64 "own backlog=64 over --backlog=100"
is "$(opt "$l2" backlog)" 100 "--backlog=100 on the other listener"
is "$(opt "$l1" nodelay)" 0 "own nodelay=off over --nodelay"
is "$(opt "$l2" nodelay)" 1 "--nodelay on the other listener"
is "$(opt "$l1" keepalive) $(opt "$l2" keepalive)" "1 1" "--keepalive on both TCP listeners"
is "$(opt "$l1" reuseport) $(opt "$l2" reuseport) $(opt "$l3" reuseport)" "1 1 1" \
	"--reuseport on TCP and UDP"
is "$(opt "$l1" reuseaddr) $(opt "$l3" reuseaddr)" "1 1" "SO_REUSEADDR as start_server"
cmp_ok "$(opt "$l1" rcvbuf)" -ge 131072 "own rcvbuf=128k (kernel reports $(opt "$l1" rcvbuf))"
cmp_ok "$(opt "$l2" sndbuf)" -ge 65536 "--sndbuf=64k on TCP (kernel reports $(opt "$l2" sndbuf))"
cmp_ok "$(opt "$l3" sndbuf)" -ge 65536 "--sndbuf=64k on UDP (kernel reports $(opt "$l3" sndbuf))"
is "$(opt "$l3" defer_accept)" "" "no TCP option on the UDP socket"
is "$(opt "$la" mode)" 0600 "own mode=0600 on a.sock"
is "$(opt "$lb" mode)" 0660 "--socket-mode=0660 on b.sock"

# the log tells the same effective value
file_like "$T/baton.err" "listening on 127\\.0\\.0\\.1:$P1: backlog 64, defer-accept 5 s( -> $d1 s effective)?" \
	"the log shows the effective defer-accept of 127.0.0.1:$P1"
file_like "$T/baton.err" "listening on 127\\.0\\.0\\.1:$P2: .*defer-accept 10 s( -> $d2 s effective)?" \
	"the log shows the effective defer-accept of 127.0.0.1:$P2"
check "the JSON status has the effective options" \
	wait_file_contains "$T/status.json" "\"key\":\"127\\.0\\.0\\.1:$P1\",[^}]*\"options\":\\{\"backlog\":64,\"defer_accept\":$d1," 5
file_like "$T/status.json" "\"requested\":\\{\"backlog\":64,\"defer_accept\":5,[^}]*\"nodelay\":false" \
	"the JSON status has what was asked for"
check "the server answers on the TCP listener" http_ok 127.0.0.1:$P2

kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "baton stops cleanly"

# ---- defaults: start_server's ----------------------------------------------------
rm -f "$T"/report.*
v6=
have_ipv6 && v6="--port=[::1]:$P4"
BATON_ERR=$T/baton2.err start_baton --port=127.0.0.1:$P1 $v6 --path="$T/c.sock" -- "${WORKER_CMD[@]}"
wait_report 1 10 || bail_out "the worker did not start: $(tail -5 "$T/baton.err")"
R=$(report 1)
l1=$(sockopt_line "$R" 127.0.0.1:$P1)
lc=$(sockopt_line "$R" "$T/c.sock")
is "$(opt "$l1" reuseaddr) $(opt "$l1" defer_accept) $(opt "$l1" fastopen) $(opt "$l1" reuseport) $(opt "$l1" nodelay) $(opt "$l1" keepalive) $(opt "$l1" freebind)" \
	"1 0 0 0 0 0 0" "by default only SO_REUSEADDR is set"
is "$(opt "$l1" backlog)" "$(($(cat /proc/sys/net/core/somaxconn) < 4096 ? $(cat /proc/sys/net/core/somaxconn) : 4096))" \
	"default backlog: SOMAXCONN, as the kernel clamps it"
is "$(opt "$lc" mode)" 0777 "a unix socket is srwxrwxrwx, as under start_server"
if [ -n "$v6" ]; then
	is "$(opt "$(sockopt_line "$R" "[::1]:$P4")" v6only)" 1 "IPV6_V6ONLY on IPv6, as start_server"
else
	skip "IPV6_V6ONLY on IPv6, as start_server" "no IPv6 on lo"
fi
file_unlike "$T/baton2.err" "listening on" "nothing extra is logged without options"
kill -TERM "$BATON_PID"
wait_baton_exit 10

# ---- --check: the same, as a table, without a worker -------------------------------
RUN_TIMEOUT=10 run_baton --check --port=127.0.0.1:$P1 --sockopts=defer-accept=5,backlog=64 \
	--port=127.0.0.1:u$P3 --path="$T/d.sock" --sockopts=mode=0640 --nodelay
is "$RUN_STATUS" 0 "--check exits 0"
like "$RUN_OUT" "^LISTENER +TYPE +FD +BACKLOG +OPTIONS" "--check prints a table header"
like "$RUN_OUT" "127\\.0\\.0\\.1:$P1 +tcp +3 +64 +reuseaddr=1 defer-accept=$d1(\\(asked=5\\))? .*nodelay=1" \
	"--check shows the effective TCP options"
like "$RUN_OUT" "127\\.0\\.0\\.1:$P3 +udp +4 +- +reuseaddr=1 reuseport=0" "--check shows the UDP listener"
like "$RUN_OUT" "$T/d\\.sock +unix +5 +[0-9]+ +mode=0640 owner=" "--check shows the unix socket's mode"
like "$RUN_OUT" "net\\.core\\.somaxconn +[0-9]+" "--check shows the kernel limits"
like "$RUN_OUT" "net\\.ipv4\\.tcp_max_syn_backlog +[0-9]+" "--check shows tcp_max_syn_backlog"
like "$RUN_OUT" "net\\.ipv4\\.tcp_syncookies +[0-9]+" "--check shows syncookies"
check_not "--check removes the socket file it made" test -e "$T/d.sock"
check_not "--check leaves the port free" port_listening "$P1"

# a buffer beyond net.core.wmem_max: capped by the kernel, and baton says so
wmax=$(cat /proc/sys/net/core/wmem_max)
if [ "$wmax" -lt 1073741824 ]; then
	ask=$((wmax + 65536))
	run_baton --check --port=127.0.0.1:$P1 --sndbuf=$ask
	is "$RUN_STATUS" 0 "--check with a capped --sndbuf still exits 0"
	like "$RUN_ERR" "sndbuf $ask on 127\\.0\\.0\\.1:$P1 is capped by net\\.core\\.wmem_max \\($wmax\\).*sysctl -w net\\.core\\.wmem_max=$ask" \
		"a --sndbuf above net.core.wmem_max is reported with the sysctl to raise"
else
	skip "--check with a capped --sndbuf" "wmem_max is huge"
	skip "--sndbuf above wmem_max reported" "wmem_max is huge"
fi
done_testing
