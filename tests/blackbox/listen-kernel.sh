#!/bin/bash
# SPDX-License-Identifier: ISC
# What the kernel does with the listener options, told truthfully: a backlog
# above net.core.somaxconn is clamped (and baton says so, with the sysctl to
# raise), tcp_max_syn_backlog and syncookies are reported for a large
# backlog, Fast Open needs net.ipv4.tcp_fastopen, IP_FREEBIND binds an
# address that is not there, --dual-stack makes [::] take IPv4.
#
# Each case runs in a network namespace of its own (unshare -n) where these
# sysctls are private, so fixed values can be set without touching the host;
# only lo exists there.
. "$(dirname "$0")/lib.sh"
baton_only_script "listener options are a baton extension"

unshare -n sh -c 'ip link set lo up && echo 16 >/proc/sys/net/core/somaxconn' 2>/dev/null ||
	skip_all "cannot make a network namespace with its own sysctls (needs root)"

# the namespace's set-up, then exec; $0 carries "path=value ..." sysctls
NS_SETUP='ip link set lo up || exit 97
for kv in $0; do echo "${kv#*=}" >"/proc/sys/${kv%%=*}" || exit 97; done
exec "$@"'

# run_ns "SYSCTLS" BATON-ARG...: baton in the foreground in a new namespace;
# sets RUN_STATUS, RUN_OUT, RUN_ERR as run_baton does
run_ns() {
	local sysctls=$1
	shift
	timeout -k 2 "$(scaled 10)" unshare -n sh -c "$NS_SETUP" "$sysctls" \
		"$WORKER" --launch -- "$BATON" "$@" >"$T/run.out" 2>"$T/run.err" </dev/null
	RUN_STATUS=$?
	RUN_OUT=$(cat "$T/run.out")
	RUN_ERR=$(cat "$T/run.err")
}

# start_ns "SYSCTLS" LOG BATON-ARG...: in the background; sets BATON_PID
start_ns() {
	local sysctls=$1 log=$2
	shift 2
	unshare -n sh -c "$NS_SETUP" "$sysctls" \
		"$WORKER" --launch -- "$BATON" "$@" >>"$log" 2>&1 </dev/null &
	BATON_PID=$!
	track_pid "$BATON_PID"
}

stop_ns() {
	kill -TERM "$BATON_PID" 2>/dev/null
	wait_baton_exit 10
}

P=$(free_port)
Q=$(free_port)
SOMAX16="net/core/somaxconn=16"

# ---- backlog above somaxconn -------------------------------------------------
run_ns "$SOMAX16" --check --port=127.0.0.1:$P --backlog=128
is "$RUN_STATUS" 0 "--check exits 0 when the backlog is clamped"
like "$RUN_ERR" "${WARN_PREFIX}backlog 128 on 127\\.0\\.0\\.1:$P is clamped to 16 by net\\.core\\.somaxconn; raise it with: sysctl -w net\\.core\\.somaxconn=128" \
	"a backlog above somaxconn is reported with the effective value and the sysctl"
like "$RUN_OUT" "127\\.0\\.0\\.1:$P +tcp +3 +16\\(asked=128\\) " "--check shows the clamped backlog"
like "$RUN_OUT" "net\\.core\\.somaxconn +16 " "--check shows somaxconn"

start_ns "$SOMAX16" "$T/ns1.log" --port=127.0.0.1:$P --sockopts=backlog=64 --port=127.0.0.1:$Q \
	--path="$T/s.sock" --sockopts=backlog=32 -- "${WORKER_CMD[@]}"
if wait_report 1 10; then
	R=$(report 1)
	like "$(grep -E '^sockopt 3 ' "$R")" " backlog=16( |\$)" "inside the worker the listener's backlog is 16"
	file_like "$T/ns1.log" "${WARN_PREFIX}backlog 64 on 127\\.0\\.0\\.1:$P is clamped to 16" \
		"baton warns at start for the listener asking 64"
	file_like "$T/ns1.log" "${WARN_PREFIX}backlog 32 on $T/s\\.sock is clamped to 16" \
		"... and for the unix one asking 32"
	file_unlike "$T/ns1.log" "on 127\\.0\\.0\\.1:$Q is clamped" \
		"no warning for the listener with the default backlog (start_server's SOMAXCONN)"
else
	fail "the worker in the namespace did not start" "$(tail -5 "$T/ns1.log")"
fi
stop_ns
is "$BATON_STATUS" 0 "baton in the namespace stops cleanly"

run_ns "$SOMAX16" --check --port=127.0.0.1:$P --backlog=16
unlike "$RUN_ERR" "clamped" "no warning when the backlog fits"

# ---- a large backlog: the SYN queue and syncookies ---------------------------------
SYN="net/core/somaxconn=1024 net/ipv4/tcp_max_syn_backlog=64"
run_ns "$SYN net/ipv4/tcp_syncookies=0" --check --port=127.0.0.1:$P --backlog=512
is "$RUN_STATUS" 0 "--check exits 0 with a large backlog"
like "$RUN_ERR" "backlog 512 on 127\\.0\\.0\\.1:$P is above net\\.ipv4\\.tcp_max_syn_backlog \\(64\\) and syncookies are off .*sysctl -w net\\.ipv4\\.tcp_max_syn_backlog=512" \
	"with syncookies off, tcp_max_syn_backlog is reported with the sysctl"
like "$RUN_OUT" "net\\.ipv4\\.tcp_syncookies +0 +off" "--check shows syncookies off"
run_ns "$SYN net/ipv4/tcp_syncookies=1" --check --port=127.0.0.1:$P --backlog=512
like "$RUN_ERR" "backlog 512 on 127\\.0\\.0\\.1:$P is above net\\.ipv4\\.tcp_max_syn_backlog \\(64\\); syncookies are on \\(net\\.ipv4\\.tcp_syncookies=1\\)" \
	"with syncookies on, that is said too"
run_ns "$SYN" --check --port=127.0.0.1:$P
unlike "$RUN_ERR" "tcp_max_syn_backlog" "nothing said when no backlog was asked for"

# ---- TCP Fast Open needs the sysctl ----------------------------------------------
run_ns "net/ipv4/tcp_fastopen=1" --check --port=127.0.0.1:$P --fastopen=8
like "$RUN_ERR" "TCP Fast Open is set on 127\\.0\\.0\\.1:$P but the kernel's server side is off \\(net\\.ipv4\\.tcp_fastopen=1\\); turn it on with: sysctl -w net\\.ipv4\\.tcp_fastopen=3" \
	"--fastopen with the server side off is reported with the sysctl"
run_ns "net/ipv4/tcp_fastopen=3" --check --port=127.0.0.1:$P --fastopen=8
unlike "$RUN_ERR" "Fast Open" "no warning with net.ipv4.tcp_fastopen=3"
like "$RUN_OUT" " fastopen=8 " "--check shows the Fast Open queue"
run_ns "net/ipv4/tcp_fastopen=3 $SOMAX16" --check --port=127.0.0.1:$P --fastopen=64
like "$RUN_ERR" "fastopen queue 64 on 127\\.0\\.0\\.1:$P is clamped to 16 by net\\.core\\.somaxconn" \
	"a Fast Open queue above somaxconn is reported"

# ---- IP_FREEBIND: an address this namespace does not have ---------------------------
run_ns "" --check --port=192.0.2.1:$P
is "$RUN_STATUS" 2 "binding an address that is not configured fails with exit 2"
like "$RUN_ERR" "${MSG_PREFIX}cannot bind 192\\.0\\.2\\.1:$P: Cannot assign requested address" "... naming it"
run_ns "" --check --port=192.0.2.1:$P --freebind
is "$RUN_STATUS" 0 "with --freebind it binds"
like "$RUN_OUT" "192\\.0\\.2\\.1:$P .* freebind=1" "... and --check shows freebind=1"
run_ns "" --check --port=127.0.0.1:$Q --port=192.0.2.1:$P --sockopts=freebind
is "$RUN_STATUS" 0 "per listener too"
like "$RUN_OUT" "127\\.0\\.0\\.1:$Q .* freebind=0" "... and only on that listener"

# ---- [::] for IPv6 alone (start_server) or dual stack ---------------------------------
if unshare -n sh -c 'ip link set lo up && test -e /proc/net/if_inet6'; then
	for mode in v6only dual; do
		extra=
		[ $mode = dual ] && extra=--dual-stack
		# a report left by an earlier part would end the wait below before
		# this baton has bound anything
		rm -f "$T"/report.*
		start_ns "" "$T/ns-$mode.log" --port="[::]:$P" $extra -- "${WORKER_CMD[@]}"
		wait_file "$T/report.1" 10 || fail "the $mode worker did not start" "$(tail -5 "$T/ns-$mode.log")"
		ans=$(timeout "$(scaled 5)" nsenter -t "$BATON_PID" -n curl -sS --noproxy '*' --max-time "$(scaled 3)" "http://127.0.0.1:$P/" 2>&1)
		if [ $mode = dual ]; then
			like "$ans" "gen=1" "--dual-stack: [::]:$P answers on 127.0.0.1"
			like "$(grep -E '^sockopt 3 ' "$T/report.1")" " v6only=0" "... and the worker's socket has IPV6_V6ONLY off"
		else
			unlike "$ans" "gen=1" "by default [::]:$P does not answer on 127.0.0.1 (IPV6_V6ONLY, as start_server)"
			like "$(timeout "$(scaled 5)" nsenter -t "$BATON_PID" -n curl -gsS --noproxy '*' --max-time "$(scaled 3)" "http://[::1]:$P/" 2>&1)" \
				"gen=1" "... but on ::1"
		fi
		stop_ns
		rm -f "$T"/report.*
	done
else
	skip "--dual-stack: [::] answers on 127.0.0.1" "no IPv6"
	skip "... and the worker's socket has IPV6_V6ONLY off" "no IPv6"
	skip "by default [::] does not answer on 127.0.0.1" "no IPv6"
	skip "... but on ::1" "no IPv6"
fi
done_testing
