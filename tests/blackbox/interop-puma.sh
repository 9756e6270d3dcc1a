#!/bin/bash
# SPDX-License-Identifier: ISC
# Puma (Debian's puma) in cluster mode: Puma adopts the fd named by
# PUMA_INHERIT_0=3:URL for the -b URL that matches it exactly, and stops
# gracefully on TERM (baton's default signal: the workers finish what they
# serve). A HUP under bounded load loses no request, a 2 s request in flight
# at the HUP is finished by generation 1, a new pid answers; TERM stops
# everything.
. "$(dirname "$0")/lib-interop.sh"
baton_only_script "baton passes fd 3 (start_server's first fd is 4)"
command -v puma >/dev/null || skip_all "puma is not installed (package puma)"

mkdir "$T/app"
cat >"$T/app/config.ru" <<'RU'
run lambda { |env|
  path = env["PATH_INFO"].to_s
  sleep(path[7..-1].to_i / 1000.0) if path.start_with?("/sleep/")
  body = "gen=#{ENV.fetch("SERVER_STARTER_GENERATION", "?")} pid=#{Process.pid} server=puma\n"
  [200, { "content-type" => "text/plain", "content-length" => body.bytesize.to_s }, [body]]
}
RU
P=$(free_port)
start_baton --port=127.0.0.1:$P --status-file="$T/status" -- \
	env PUMA_INHERIT_0=3:tcp://127.0.0.1:$P puma -w 2 -b tcp://127.0.0.1:$P \
	--dir "$T/app" "$T/app/config.ru"
interop_up 127.0.0.1:$P Puma
interop_hup 127.0.0.1:$P /sleep/2000
interop_stop "$P" Puma
done_testing
