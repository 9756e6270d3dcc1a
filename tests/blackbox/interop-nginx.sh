#!/bin/bash
# SPDX-License-Identifier: ISC
# nginx (Debian's nginx-light or nginx package) with --pass-fds-as=nginx:
# nginx takes NGINX="3;" as on its own binary upgrade and listens on the
# socket baton passed; a HUP under bounded load loses no request.
#
# nginx takes an inherited listener for non-blocking (its binary
# upgrade passes them so); on a blocking one, a worker that loses the race
# for a connection sleeps in accept() until the next one arrives, its
# keep-alive connections and its stop command (sent on nginx's channel, not
# as a signal) with it: p99 of 0.6 to 1.6 s under keep-alive load across
# HUPs, and a TERM that did not return for 41 s. --pass-fds-as=nginx now
# makes the listener non-blocking; two rounds of keep-alive load (wrk)
# across two HUPs each, and then TERM must return within 2 s (scaled). The
# documented line's "pid nginx.$SERVER_STARTER_GENERATION.pid" gives each
# generation its own pid file (the dialect used to drop the variable:
# "nginx..pid", one file for all).
. "$(dirname "$0")/lib-interop.sh"
baton_only_script "--pass-fds-as=nginx"
NGINX_BIN=$(command -v nginx || ls /usr/sbin/nginx 2>/dev/null)
[ -x "$NGINX_BIN" ] || skip_all "nginx is not installed (package nginx-light)"

mkdir "$T/ng" "$T/ng/tmp" "$T/ng/logs"
# conf PORT: the listen address must be the one passed (nginx matches them
# by address); no pid line: the command line gives one per generation.
# Four workers: the more there are, the more often one loses a race for a
# connection.
conf() {
	cat >"$T/ng/nginx.conf" <<EOF2
daemon off;
master_process on;
worker_processes 4;
error_log stderr notice;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path $T/ng/tmp;
  proxy_temp_path $T/ng/tmp;
  fastcgi_temp_path $T/ng/tmp;
  uwsgi_temp_path $T/ng/tmp;
  scgi_temp_path $T/ng/tmp;
  server { listen 127.0.0.1:$1; location / { return 200 "gen=\$pid\n"; } }
}
EOF2
}

# the documented line: sh -c '... -g "pid .../nginx.$SERVER_STARTER_GENERATION.pid;"'
NGINX_CMD=(sh -c 'exec "$0" -p "$1" -c "$1/nginx.conf" -g "pid $1/nginx.$SERVER_STARTER_GENERATION.pid;"'
	"$NGINX_BIN" "$T/ng")

P=$(free_port)
conf "$P"
# QUIT is nginx's graceful stop (TERM is its fast one)
start_baton --port=127.0.0.1:$P --pass-fds-as=nginx --signal-on-hup=QUIT \
	--signal-on-term=QUIT --status-file="$T/status" -- "${NGINX_CMD[@]}"
wait_http 127.0.0.1:$P 20 || bail_out "nginx did not answer"
wait_status "$T/status" 1 10
like "$(cat "$T/baton.err")" 'using inherited sockets from "3;"' "nginx uses the socket baton passed"
check_not "no fd-check warning" grep -q "holds\|itself" "$T/baton.err"
check "generation 1 writes nginx.1.pid" wait_file "$T/ng/nginx.1.pid" 10
pid1=$(cat "$T/ng/nginx.1.pid" 2>/dev/null)
is "$pid1" "$(status_pid_of "$T/status" 1)" "nginx.1.pid holds generation 1's pid"
hup_plain "$P"
check "generation 2 writes nginx.2.pid" wait_file "$T/ng/nginx.2.pid" 10
pid2=$(cat "$T/ng/nginx.2.pid" 2>/dev/null)
is "$pid2" "$(status_pid_of "$T/status" 2)" "nginx.2.pid holds generation 2's pid"
check_not "no pid file without the generation (nginx..pid)" test -e "$T/ng/nginx..pid"
kill -TERM "$BATON_PID"
wait_baton_exit 30
is "$BATON_STATUS" 0 "baton and nginx stop"

# ---- keep-alive load across HUPs, then TERM: two rounds ----------------------
if ! command -v wrk >/dev/null; then
	skip "keep-alive load across HUPs, then TERM within 2 s" "wrk is not installed"
	done_testing
	exit 0
fi
for round in 1 2; do
	P=$(free_port)
	conf "$P"
	rm -f "$T/status" "$T/ng"/nginx.*.pid
	start_baton --port=127.0.0.1:$P --pass-fds-as=nginx --signal-on-hup=QUIT \
		--signal-on-term=QUIT --status-file="$T/status" -- "${NGINX_CMD[@]}"
	wait_http 127.0.0.1:$P 20 || bail_out "nginx did not answer (round $round)"
	wait_status "$T/status" 1 10
	# bounded: wrk stops after its duration; 16 keep-alive connections
	wrk -t1 -c16 -d"$(scaled 4)s" --timeout "$(scaled 2)s" "http://127.0.0.1:$P/" \
		>"$T/wrk.$round" 2>&1 &
	wp=$!
	track_pid "$wp"
	nap 1
	kill -HUP "$BATON_PID"
	wait_status "$T/status" "1 2" 10 || wait_status "$T/status" 2 10
	nap 1
	kill -HUP "$BATON_PID"
	check "round $round: after two HUPs under keep-alive load, every old generation is gone" \
		wait_status "$T/status" 3 20
	wait_until 30 pid_gone "$wp"
	diag "round $round: $(grep -E 'requests in|Socket errors|Non-2xx' "$T/wrk.$round" | tr -s ' ' | tr '\n' ';')"
	like "$(cat "$T/wrk.$round")" "[1-9][0-9]* requests in" "round $round: wrk's keep-alive requests were served"
	kill -TERM "$BATON_PID"
	if wait_baton_exit 2; then
		is "$BATON_STATUS" 0 "round $round: TERM after keep-alive load: baton and nginx stop within 2 s"
	else
		fail "round $round: TERM after keep-alive load: baton and nginx stop within 2 s" \
			"still running after $(scaled 2) s: $(tail -n 3 "$T/baton.err")"
		kill -KILL "$BATON_PID" 2>/dev/null
		wait_baton_exit 10
	fi
	check_not "round $round: nothing listens on port $P any more" port_listening "$P"
done
done_testing
