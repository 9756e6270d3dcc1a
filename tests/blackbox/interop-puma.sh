#!/bin/bash
# SPDX-License-Identifier: ISC
# Puma (Debian's puma) in cluster mode: Puma adopts the fd named by
# PUMA_INHERIT_0=3:URL for the -b URL that matches it exactly, and stops
# gracefully on TERM (baton's default signal: the workers finish what they
# serve). A HUP under bounded load refuses and times out nothing, a 2 s
# request in flight at the HUP is finished by generation 1, a new pid
# answers; TERM stops everything.
#
# Puma's stop closes the connections a worker has accepted but not read a
# request from yet: its own reload, without baton, loses 4 of 4 such
# connections (own_reload_lost in lib-interop.sh), and under load a client
# in flight at the stop is reset now and then (1 of 2,774 with make -j4
# check beside other work on 2 cores). So the HUP under load asserts
# baton's share strictly and at most that many resets, as for uvicorn.
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
OP=$(free_port)
own_reload_lost "$OP" TERM env PUMA_INHERIT_0=3:tcp://127.0.0.1:$OP puma -w 2 \
	-b tcp://127.0.0.1:$OP --dir "$T/app" "$T/app/config.ru"
INTEROP_OWN_LOST=$OWN_LOST
P=$(free_port)
start_baton --port=127.0.0.1:$P --status-file="$T/status" -- \
	env PUMA_INHERIT_0=3:tcp://127.0.0.1:$P puma -w 2 -b tcp://127.0.0.1:$P \
	--dir "$T/app" "$T/app/config.ru"
interop_up 127.0.0.1:$P Puma
interop_hup 127.0.0.1:$P /sleep/2000
interop_stop "$P" Puma
done_testing
