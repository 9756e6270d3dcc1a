#!/bin/bash
# SPDX-License-Identifier: ISC
# Unicorn (Debian's unicorn) with UNICORN_FD=3: Unicorn adopts the fd for the
# -l address that matches it. Unicorn's TERM (and INT) is its quick shutdown,
# which cuts requests in flight; QUIT is the graceful one, hence
# --signal-on-hup=QUIT --signal-on-term=QUIT. A HUP under bounded load loses
# no request, a 2 s request in flight at the HUP is finished by generation 1,
# a new pid answers; TERM (QUIT to Unicorn) stops everything.
. "$(dirname "$0")/lib-interop.sh"
baton_only_script "baton passes fd 3 (start_server's first fd is 4)"
command -v unicorn >/dev/null || skip_all "unicorn is not installed (package unicorn)"

mkdir "$T/app"
cat >"$T/app/config.ru" <<'RU'
run lambda { |env|
  path = env["PATH_INFO"].to_s
  sleep(path[7..-1].to_i / 1000.0) if path.start_with?("/sleep/")
  body = "gen=#{ENV.fetch("SERVER_STARTER_GENERATION", "?")} pid=#{Process.pid} server=unicorn\n"
  [200, { "content-type" => "text/plain", "content-length" => body.bytesize.to_s }, [body]]
}
RU
P=$(free_port)
cat >"$T/app/unicorn.conf" <<RB
worker_processes 2
timeout 30
RB
start_baton --port=127.0.0.1:$P --signal-on-hup=QUIT --signal-on-term=QUIT \
	--status-file="$T/status" -- \
	env UNICORN_FD=3 unicorn -l 127.0.0.1:$P -c "$T/app/unicorn.conf" "$T/app/config.ru"
interop_up 127.0.0.1:$P Unicorn
interop_hup 127.0.0.1:$P /sleep/2000
interop_stop "$P" Unicorn
done_testing
