#!/bin/bash
# SPDX-License-Identifier: ISC
# baton as PID 1 (a container's init). In a new pid namespace,
# baton is process 1: it serves and restarts as anywhere else, reaps the
# orphans the namespace hands it, and a TERM from outside (which the kernel
# only delivers to a namespace's init when it has a handler) stops it and
# its workers with exit 0.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/blackbox/lib-restart.sh"
baton_only_script "baton as PID 1 is tested for baton only"
command -v unshare >/dev/null || { echo "1..0 # SKIP unshare not installed"; exit 0; }
unshare --pid --fork --mount-proc true 2>/dev/null ||
	{ echo "1..0 # SKIP cannot create a pid namespace here"; exit 0; }

cat >"$T/app" <<APP
#!/bin/sh
# double fork: the grandchild is orphaned at once, to be reaped by init
( sleep 1 & echo \$! >"$T/orphan.\$SERVER_STARTER_GENERATION" )
exec "$WORKER" --report "$T/report.%g"
APP
chmod +x "$T/app"
P=$(free_port)
"$WORKER" --launch -- unshare --pid --fork --mount-proc "$BATON" \
	--port=127.0.0.1:$P --status-file="$T/status" -- "$T/app" \
	>"$T/baton.out" 2>"$T/baton.err" </dev/null &
UNSHARE_PID=$!
_track "$UNSHARE_PID"
wait_status "$T/status" 1 10 || bail_out "baton did not come up as PID 1"
status_pid=$(cat "$T/status.json" | sed 's/^{"pid":\([0-9]*\).*/\1/')
is "$status_pid" 1 "baton reports pid 1 in its JSON status (it is the namespace's init)"
# baton's pid as seen from here: unshare's only child
B=$(pgrep -P "$UNSHARE_PID" | head -n 1)
_track "$B"
check "baton is running (pid $B outside the namespace)" pid_alive "$B"
is "$(http_gen 127.0.0.1:$P)" 1 "generation 1 answers"

kill -HUP "$B"
check "HUP: generation 2 serves alone" wait_status "$T/status" 2 10
is "$(http_gen 127.0.0.1:$P)" 2 "generation 2 answers"

nap 1.5 # the orphans (sleep 1) have exited
is "$(zombies_of "$B")" "" "no <defunct> child: the orphans were reaped by baton"

kill -TERM "$B"
check "TERM from outside: baton (PID 1) exits" wait_until 10 pid_gone "$UNSHARE_PID"
wait "$UNSHARE_PID" 2>/dev/null
is "$?" 0 "with exit 0"
like "$(cat "$T/baton.err")" "all workers are gone; exiting" "after stopping its workers"
check "the port is closed" wait_until 2 eval '! port_listening '"$P"
done_testing
