#!/bin/bash
# SPDX-License-Identifier: ISC
# --defer-accept and SYN cookies: a connection completed through a cookie
# has no request socket for TCP_DEFER_ACCEPT to hold, so idle clients go
# straight to the accept queue and fill it. baton says so in the log
# (0.2.0 said nothing). Run in a network namespace of its own, with
# net.ipv4.tcp_syncookies=2 (a cookie for every SYN) to force them.
if [ -z "${QSTAT_COOKIES_NETNS:-}" ] && [ "$(id -u)" = 0 ] &&
	command -v unshare >/dev/null && unshare -n true 2>/dev/null; then
	QSTAT_COOKIES_NETNS=1 exec unshare -n bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
baton_only_script "the SYN-cookie diagnosis is a baton extension"
. "$top_srcdir/tests/blackbox/lib-qstat.sh"
[ -n "${QSTAT_COOKIES_NETNS:-}" ] || skip_all "needs root and unshare -n"
command -v ip >/dev/null || skip_all "ip(8) not found"
ip link set lo up || bail_out "cannot bring lo up in the test's namespace"
echo 2 >/proc/sys/net/ipv4/tcp_syncookies ||
	skip_all "cannot set net.ipv4.tcp_syncookies in a namespace"
echo 16 >/proc/sys/net/ipv4/tcp_max_syn_backlog || true

cookies_recv() { awk '/^TcpExt:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "SyncookiesRecv") c = i; h = 1 } else print $c }' /proc/net/netstat; }

P=$(free_port)
start_baton --port=127.0.0.1:$P --backlog=4 --sockopts=defer-accept=30 -- sleep 600
wait_until 10 port_listening "$P" || bail_out "supervisor did not come up"
ino=$(tcp_inode "$P")
r0=$(cookies_recv)
# 10 clients that connect and send nothing: with cookies they complete
# the handshake at once, and defer-accept cannot keep them out
"$QPROBE" --kind tcp --inode "$ino" --connect 127.0.0.1:$P --count 10 --hold 30 >/dev/null &
QP=$!
track_pid "$QP"
check "the idle clients fill the queue (cookies skip defer-accept)" \
	wait_until 10 eval '[ "$(ss -Hltn "sport = :$P" | awk "{ print \$2; exit }")" = 5 ]'
diag "SyncookiesRecv in the namespace: $r0 -> $(cookies_recv)"
check "baton says why the defer-accept listener is full" wait_file_contains "$T/baton.err" \
	"${WARN_PREFIX}127\.0\.0\.1:$P filled its queue \(5/4\) while [0-9]+ connections completed through SYN cookies, which skip --defer-accept: an idle-connection flood\? raise --backlog and net\.ipv4\.tcp_max_syn_backlog" 10
is "$(grep -c 'completed through SYN cookies' "$T/baton.err")" 1 "once while the queue stays full"
kill "$QP" 2>/dev/null
done_testing
