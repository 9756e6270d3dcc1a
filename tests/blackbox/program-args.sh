#!/bin/bash
# SPDX-License-Identifier: ISC
# The server program and its arguments: everything after "--" reaches the
# program verbatim (spaces, empty strings, option-like words, glob
# characters); a name without a slash is looked up in PATH.
. "$(dirname "$0")/lib.sh"

mkdir "$T/bin"
cat >"$T/bin/my-server" <<APP
#!/bin/sh
for a in "\$@"; do printf '[%s]\n' "\$a"; done >"$T/args.\$SERVER_STARTER_GENERATION"
exec "$WORKER" --report "$T/report.%g"
APP
chmod +x "$T/bin/my-server"
P=$(free_port)
PATH=$T/bin:$PATH start_baton --port=127.0.0.1:$P -- my-server "a b" "" --port=1 '*' -- 'x;y' "\$HOME"
check "a program name without a slash is found in PATH" wait_report 1 10
is "$(cat "$T/args.1" 2>/dev/null | tr '\n' ' ')" '[a b] [] [--port=1] [*] [--] [x;y] [$HOME] ' \
	"arguments after -- arrive verbatim"
check "it serves" wait_http 127.0.0.1:$P 5
kill -HUP "$BATON_PID"
check "generation 2 starts" wait_report 2 10
is "$(cat "$T/args.2" 2>/dev/null | tr '\n' ' ')" '[a b] [] [--port=1] [*] [--] [x;y] [$HOME] ' \
	"and so do generation 2's"
check_not "--port=1 after -- was not taken as an option" port_listening 1
done_testing
