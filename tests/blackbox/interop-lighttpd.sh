#!/bin/bash
# SPDX-License-Identifier: ISC
# lighttpd (Debian's lighttpd) with socket activation:
# server.systemd-socket-activation = "enable" and baton's
# --pass-fds-as=systemd (LISTEN_FDS): lighttpd takes the socket whose
# address matches server.bind and server.port instead of binding it. A CGI
# script of ours answers "gen=GENERATION pid=PID" (PID: lighttpd's, the
# script's parent), after ?SECONDS of sleep. INT is lighttpd's graceful stop:
# it closes its listener, finishes the requests in flight, then exits; TERM
# is its quick one, which cuts them (6 requests lost across 5 HUPs in the
# a trial). So baton is run with --signal-on-hup=INT
# --signal-on-term=INT. A HUP under bounded load loses no request, a 2 s
# request in flight at the HUP is finished by generation 1, a new pid
# answers; TERM stops everything.
. "$(dirname "$0")/lib-interop.sh"
baton_only_script "--pass-fds-as=systemd"
LIGHTTPD_BIN=$(command -v lighttpd || ls /usr/sbin/lighttpd 2>/dev/null)
[ -x "$LIGHTTPD_BIN" ] || skip_all "lighttpd is not installed (package lighttpd)"

P=$(free_port)
mkdir "$T/www"
cat >"$T/www/gen.sh" <<'EOF2'
[ -n "$QUERY_STRING" ] && sleep "$QUERY_STRING"
printf 'Content-Type: text/plain\r\n\r\ngen=%s pid=%s server=lighttpd\n' "$GEN" "$PPID"
EOF2
cat >"$T/lighttpd.conf" <<EOF2
server.document-root = "$T/www"
server.systemd-socket-activation = "enable"
server.bind = "127.0.0.1"
server.port = $P
server.errorlog = "/dev/stderr"
server.modules += ("mod_cgi", "mod_setenv")
index-file.names = ("gen.sh")
cgi.assign = (".sh" => "/bin/sh")
setenv.add-environment = ("GEN" => env.SERVER_STARTER_GENERATION)
EOF2
# server-starter too: the CGI script shows SERVER_STARTER_GENERATION
start_baton --port=127.0.0.1:$P --pass-fds-as=server-starter,systemd \
	--signal-on-hup=INT --signal-on-term=INT --status-file="$T/status" -- \
	"$LIGHTTPD_BIN" -D -f "$T/lighttpd.conf"
interop_up 127.0.0.1:$P lighttpd
interop_hup 127.0.0.1:$P "/?2"
interop_stop "$P" lighttpd
done_testing
