#!/bin/bash
# SPDX-License-Identifier: ISC
# Drop-in retry: while baton retries a failed restart, "baton
# --restart" still exits 4 at the first failed attempt and says that baton
# keeps retrying (and when, if the JSON status says). The supervisor here
# is a stand-in that writes the JSON status a retrying baton writes, so the
# client is tested on its own.
. "$(dirname "$0")/lib.sh"
baton_only_script "the JSON status and its retry fields are baton's"

# fake_supervisor NAME RETRY_AT GENS: holds NAME.pid's lock like baton;
# after a HUP, says generation 2 failed and baton retries (next attempt at
# now + RETRY_AT seconds, or null), generations GENS (JSON objects)
cat >"$T/fake" <<'FAKE'
#!/bin/bash
name=$1 retry_in=$2 gens=$3
json() { # LAST_GEN GENS FAILURE RETRYING RETRY_AT
	printf '{"pid":%d,"restarts":%d,"restart_pending":false,"retrying":%s,"retry_at":%s,"stop_timeout":0,"interval":1,"ready_timeout":0,"kill_old_delay":0,"stopping":false,"last_generation":%d,"listeners":[],"generations":[%s],"last_failure":%s}\n' \
		$$ $(($1 - 1)) "$4" "$5" "$1" "$2" "$3" >"$name.status.json.tmp"
	mv "$name.status.json.tmp" "$name.status.json"
}
serving='{"generation":1,"state":"serving","started":1,"ready":2,"workers":[]}'
hup=
trap 'hup=1' HUP
json 1 "$serving" null false null
echo "1:$$" >"$name.status"
echo $$ >"$name.pid"
for _ in $(seq 300); do [ -n "$hup" ] && break; sleep 0.1; done
at=null
[ "$retry_in" != null ] && at=$(($(date +%s) + retry_in)).000
json 3 "$gens${gens:+,}$serving" \
	'{"generation":2,"time":5,"reason":"worker 99 (generation 2) failed to start: exited with status 3"}' true "$at"
sleep 30
FAKE
chmod +x "$T/fake"

run_fake() { # run_fake NAME RETRY_AT GENS: the stand-in, then --restart
	: >"$T/$1.pid"
	flock -x "$T/$1.pid" "$T/fake" "$T/$1" "$2" "$3" &
	_track $!
	wait_until 10 test -s "$T/$1.pid" || bail_out "the stand-in did not start"
	wait_until 5 test -s "$T/$1.status" || bail_out "the stand-in wrote no status"
	_track "$(cat "$T/$1.pid")"
	RUN_TIMEOUT=10
	run_baton --restart --pid-file="$T/$1.pid" --status-file="$T/$1.status"
	diag "--restart said: $RUN_ERR"
}

# a retry is scheduled in 20 s
run_fake a 20 ""
is "$RUN_STATUS" 4 "retry scheduled: --restart exits 4 at the first failed attempt"
cmp_ok "$RUN_MS" -lt 5000 "at once (${RUN_MS} ms)"
like "$RUN_ERR" "${MSG_PREFIX}restart failed: generation 2 worker 99 \\(generation 2\\) failed to start: exited with status 3; baton keeps retrying \\(next attempt in (1[6-9]|20)s\\)" \
	"it gives the cause, says baton keeps retrying, and when"

# the retry already runs (generation 3 starting), no time given
run_fake b null '{"generation":3,"state":"starting","started":3,"ready":null,"workers":[]}'
is "$RUN_STATUS" 4 "retry running: --restart exits 4 all the same, not waiting for it"
cmp_ok "$RUN_MS" -lt 5000 "at once (${RUN_MS} ms)"
like "$RUN_ERR" "exited with status 3; baton keeps retrying$" \
	"it says baton keeps retrying, without a time"
done_testing
