#!/bin/bash
# SPDX-License-Identifier: ISC
# nginx (Debian's nginx-light or nginx package) with --pass-fds-as=nginx:
# nginx takes NGINX="3;" as on its own binary upgrade and listens on the
# socket baton passed; a HUP under bounded load loses no request.
. "$(dirname "$0")/lib-interop.sh"
baton_only_script "--pass-fds-as=nginx"
NGINX_BIN=$(command -v nginx || ls /usr/sbin/nginx 2>/dev/null)
[ -x "$NGINX_BIN" ] || skip_all "nginx is not installed (package nginx-light)"

P=$(free_port)
mkdir "$T/ng" "$T/ng/tmp" "$T/ng/logs"
# the listen address must be the one passed: nginx matches them by address
cat >"$T/ng/nginx.conf" <<EOF2
daemon off;
master_process on;
worker_processes 2;
pid $T/ng/nginx.pid;
error_log stderr notice;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path $T/ng/tmp;
  proxy_temp_path $T/ng/tmp;
  fastcgi_temp_path $T/ng/tmp;
  uwsgi_temp_path $T/ng/tmp;
  scgi_temp_path $T/ng/tmp;
  server { listen 127.0.0.1:$P; location / { return 200 "gen=\$pid\n"; } }
}
EOF2
# QUIT is nginx's graceful stop (TERM is its fast one)
start_baton --port=127.0.0.1:$P --pass-fds-as=nginx --signal-on-hup=QUIT \
	--signal-on-term=QUIT --status-file="$T/status" -- \
	"$NGINX_BIN" -p "$T/ng" -c "$T/ng/nginx.conf"
wait_http 127.0.0.1:$P 20 || bail_out "nginx did not answer"
wait_status "$T/status" 1 10
like "$(cat "$T/baton.err")" 'using inherited sockets from "3;"' "nginx uses the socket baton passed"
check_not "no fd-check warning" grep -q "holds\|itself" "$T/baton.err"
hup_plain "$P"
kill -TERM "$BATON_PID"
wait_baton_exit 30
is "$BATON_STATUS" 0 "baton and nginx stop"
done_testing
