#!/bin/bash
# SPDX-License-Identifier: ISC
# One escaper for the Prometheus text: a --path holding
# a byte that is not UTF-8, a CR, a newline, a double quote and a
# backslash, and two --reuseport listeners on one address, give an
# exposition that "promtool check metrics" accepts, with no two series
# alike, in /metrics, in the .prom file and from --stats --format=prom;
# the two reuseport listeners are told apart by an fd label. The log
# shows the path as valid UTF-8 too, each odd byte as \xNN.
. "$(dirname "$0")/lib.sh"
baton_only_script "metrics are a baton extension"
. "$top_srcdir/tests/blackbox/lib-metrics.sh"
command -v promtool >/dev/null 2>&1 || skip_all "promtool not installed (Debian package prometheus)"

# promtool_ok FILE: promtool accepts it (its complaint as a diagnostic)
promtool_ok() {
	local out
	out=$(promtool check metrics <"$1" 2>&1) && return 0
	diag "promtool: $out"
	return 1
}
# the series lines (name and labels) that appear twice
dup_series() { grep -av '^#' "$1" | sed 's/ [^ ]*$//' | sort | uniq -d; }

P=$(free_port)
M=$(free_port)
# ';' and '=' are the only bytes a path may not hold (SERVER_STARTER_PORT)
S=$T/$(printf 'a\xff"b\\c\rd\ne.sock')
start_baton --reuseport --port=127.0.0.1:$P --port=127.0.0.1:$P --path="$S" \
	--status-file="$T/st" --metrics-file="$T/baton.prom" --metrics-interval=0.2 \
	--metrics-listen=127.0.0.1:$M -- "${WORKER_CMD[@]}"
wait_until 10 mcode_is 127.0.0.1:$M /readyz 200 || bail_out "generation 1 never served"

mbody 127.0.0.1:$M /metrics >"$T/get.prom"
check "GET /metrics: promtool check metrics passes" promtool_ok "$T/get.prom"
is "$(dup_series "$T/get.prom")" "" "GET /metrics: no two series alike"
check "GET /metrics: valid UTF-8" python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$T/get.prom"
is "$(grep -ac $'\r' "$T/get.prom")" 0 "GET /metrics: no raw CR"
want="baton_listener_accept_queue_length{listener=\"$T/a\xef\xbf\xbd\\\\\"b\\\\\\\\c\xef\xbf\xbdd\\\\ne.sock\",proto=\"unix\"} 0"
want=$(printf '%b' "$want")
check "the path's label: \\\\ \\\" \\n escaped, the byte and the CR shown as U+FFFD" \
	grep -aqF -- "$want" "$T/get.prom"
fds=$(grep -a "^baton_listener_backlog{listener=\"127.0.0.1:$P\",proto=\"tcp\"" "$T/get.prom" |
	sed -n 's/.*,fd="\([0-9]*\)"}.*/\1/p' | tr '\n' ' ')
is "$fds" "3 4 " "the two reuseport listeners: fd=\"3\" and fd=\"4\", as in SERVER_STARTER_PORT"
like "$(report_env "$(report 1)" SERVER_STARTER_PORT)" "127\.0\.0\.1:$P=3;127\.0\.0\.1:$P=4;" \
	"... which gives them fds 3 and 4"

wait_file "$T/baton.prom" 10
cp "$T/baton.prom" "$T/file.prom"
check "the .prom file: promtool check metrics passes" promtool_ok "$T/file.prom"
is "$(dup_series "$T/file.prom")" "" "the .prom file: no two series alike"

# baton's own lines (the worker writes its own to the same stderr) about
# a path it cannot bind
"$BATON" --path="$T/none/$(printf 'a\xff\rb.sock')" -- "${WORKER_CMD[@]}" 2>&1 >/dev/null |
	grep -a '^baton:' >"$T/log.err"
check "the log: valid UTF-8" python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$T/log.err"
check "the log: the byte shown as \\xff, the CR as \\r" grep -aqF 'a\xff\rb.sock' "$T/log.err"

# --check's table: one row per listener, the path as the log shows it
mkdir -p "$T/chk"
"$BATON" --check --path="$T/chk/$(printf 'a\xff\rb\nc.sock')" >"$T/check.txt" 2>"$T/check.err"
is "$?" 0 "--check exits 0"
check "--check: the path as the log shows it (\\xff, \\r, \\n), one row" \
	grep -aqF 'a\xff\rb\nc.sock  unix' "$T/check.txt"
check "--check: valid UTF-8" python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$T/check.txt"

"$BATON" --stats --status-file="$T/st" --format=prom >"$T/stats.prom" 2>"$T/stats.err"
is "$?" 0 "--stats --format=prom exits 0"
check "--stats --format=prom: promtool check metrics passes" promtool_ok "$T/stats.prom"
"$BATON" --stats --status-file="$T/st" >"$T/stats.txt" 2>>"$T/stats.err"
is "$(wc -l <"$T/stats.txt")" 3 "--stats: one line per listener"
want=$(printf 'a\xef\xbf\xbd"b\\c\\rd\\ne.sock  queue')
check "--stats: the path as the log shows it (\\r, \\n; U+FFFD from STATUS.json)" \
	grep -aqF -- "$want" "$T/stats.txt"
is "$(dup_series "$T/stats.prom")" "" "--stats --format=prom: no two series alike"
is "$(grep -Ec "^127\.0\.0\.1:$P \(fd [34]\) +queue" "$T/stats.txt")" 2 "--stats: the two reuseport listeners told apart by their fd"
done_testing
