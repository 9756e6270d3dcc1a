#!/bin/bash
# SPDX-License-Identifier: ISC
# STATUS.json says what started each generation (generations[].trigger):
# "start" for generation 1, "hup" for one a SIGHUP started (baton
# --restart sends one), the receipt of a restart begins with it.
. "$(dirname "$0")/lib.sh"
baton_only_script "STATUS.json's generations[].trigger"
command -v python3 >/dev/null 2>&1 || skip_all "no python3 to read STATUS.json"

S=$T/status
P=$(free_port)

# The trigger of generation GEN in STATUS.json ("null" if none, "absent"
# without the key, "" while the generation is not there).
trigger_of() {
	python3 -c '
import json, sys
try:
    j = json.load(open(sys.argv[1]))
except Exception:
    sys.exit(0)
for g in j.get("generations", []):
    if g.get("generation") == int(sys.argv[2]):
        t = g.get("trigger", "absent")
        print("null" if t is None else t)
' "$S.json" "$1"
}
_trigger_is() { [ "$(trigger_of "$1")" = "$2" ]; }

start_baton --port=127.0.0.1:$P --status-file="$S" --interval=0 -- "${WORKER_CMD[@]}"
wait_status "$S" 1 10 || bail_out "generation 1 never served"
check "generation 1: trigger \"start\"" wait_until 5 _trigger_is 1 start
diag "generation 1: $(trigger_of 1)"
kill -HUP "$BATON_PID"
wait_status "$S" 2 10 || bail_out "generation 2 never served"
check "generation 2, after kill -HUP: trigger \"hup\"" wait_until 5 _trigger_is 2 hup
diag "generation 2: $(trigger_of 2)"

kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "TERM: exit 0"
done_testing
