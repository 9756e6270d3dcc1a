#!/bin/bash
# SPDX-License-Identifier: ISC
# The --metrics-file contract (node_exporter's textfile collector): the
# file is replaced atomically, so a reader looping 2,000 times over it
# while baton rewrites it every 10 ms never sees a part of one; no
# timestamps; it is gone after a clean stop; a name not ending in .prom is
# a usage error and a file that cannot be written a file error.
. "$(dirname "$0")/lib.sh"
baton_only_script "--metrics-file is a baton extension"
. "$top_srcdir/tests/blackbox/lib-metrics.sh"

run_baton --port=127.0.0.1:$(free_port) --metrics-file="$T/m.txt" -- sleep 1
is "$RUN_STATUS" 1 "a name not ending in .prom: exit 1"
like "$RUN_ERR" "invalid --metrics-file value \"$T/m.txt\": the name must end in \.prom" \
	"... with the reason"
run_baton --port=127.0.0.1:$(free_port) --metrics-file="$T/none/m.prom" -- sleep 1
is "$RUN_STATUS" 3 "a metrics file that cannot be written: exit 3"
like "$RUN_ERR" "cannot write metrics file $T/none/m\.prom: No such file or directory" \
	"... naming the file and the cause"

P=$(free_port)
F=$T/baton.prom
start_baton --port=127.0.0.1:$P --metrics-file="$F" --metrics-interval=0.01 -- sleep 600
wait_file "$F" 10 || bail_out "no metrics file"
out=$(python3 - "$F" <<'PY'
import sys
bad = 0
for i in range(2000):
    with open(sys.argv[1], "rb") as f:
        d = f.read()
    if not (d.startswith(b"# HELP baton_") and
            d.endswith(b'baton_restarts_total{result="rolled_back"} 0\n')):
        bad += 1
print(bad)
PY
)
is "$out" 0 "2,000 reads during rewrites: never a partial file"
unlike "$(grep -v '^#' "$F" | awk 'NF != 2')" "." "every sample is NAME VALUE: no timestamps"

kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "clean stop"
check_not "the metrics file is gone after a clean stop" test -e "$F"
left=$(find "$T" -maxdepth 1 -name '.baton.prom.*' | wc -l)
is "$left" 0 "no temporary file left beside it"
done_testing
