#!/bin/bash
# SPDX-License-Identifier: ISC
# interop-h2o.sh: h2o, unchanged, under the supervisor. h2o reads
# SERVER_STARTER_PORT and gives each fd to the "listen:" entry with the same
# address (it refuses fds it cannot place). Serves, survives a HUP under load
# (the new generation reads a new configuration, as a deploy would), stops
# cleanly.
. "$(dirname "$0")/sdk-lib.sh"
need h2o h2o

P=$(free_port)
# h2o drops privileges when run as root; let "nobody" read the files
chmod 755 "$T"
for g in 1 2; do
	mkdir -p "$T/root$g"
	echo "gen=$g server=h2o" >"$T/root$g/index.txt"
	chmod -R a+rX "$T/root$g"
done
conf() {
	{
		[ "$(id -u)" = 0 ] && echo "user: nobody"
		cat <<EOC
listen:
  host: 127.0.0.1
  port: $P
num-threads: 2
hosts:
  default:
    paths:
      /:
        file.dir: $T/root$1
EOC
	} >"$T/h2o.conf"
}
conf 1
start_baton --port=127.0.0.1:$P --status-file="$T/status" -- h2o -c "$T/h2o.conf"
wait_http 127.0.0.1:$P 15 || bail_out "h2o did not come up: $(tail -n 5 "$T/baton.err")"
is "$(http_get 127.0.0.1:$P)" "gen=1 server=h2o" "h2o serves on the inherited listener"
unlike "$(cat "$T/baton.err")" "no configuration found for fd|failed to listen" \
	"h2o matched the inherited fd to its listen entry"
conf 2
hup_under_load 127.0.0.1 $P 1 2
wait_status "$T/status" 2 15
is "$(status_gens "$T/status")" 2 "the old h2o is gone after its graceful stop"
stop_supervisor
done_testing
