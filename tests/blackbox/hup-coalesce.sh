#!/bin/bash
# SPDX-License-Identifier: ISC
# Repeated HUPs during a restart coalesce into one follow-up restart once the
# current one settles (start_server restarts once per HUP).
. "$(dirname "$0")/lib.sh"
baton_only_script "start_server restarts once per HUP"

P=$(free_port)
# generation 2's --interval is the window for the HUPs below: 4 s, scaled,
# leaves a slow script ample time to send them all before it closes
serve_baton --until=status:1 --port=127.0.0.1:$P --interval="$(scaled 4)" --status-file="$T/status" -- "${WORKER_CMD[@]}"
kill -HUP "$BATON_PID"
wait_report 2 5 || bail_out "no generation 2"
# generation 2 is starting (within its interval): three more HUPs
kill -HUP "$BATON_PID"
nap 0.2
kill -HUP "$BATON_PID"
nap 0.2
kill -HUP "$BATON_PID"
check "one follow-up restart: generation 3" wait_status "$T/status" 3 20
nap 3
is "$(status_gens "$T/status")" 3 "and no more: generation 3 is the last"
check_not "no generation 4 was started" test -e "$(report 4)"
check "generation 3 answers" wait_gen 127.0.0.1:$P 3 5
done_testing
