#!/bin/bash
# SPDX-License-Identifier: ISC
# Two abstract unix sockets passed by systemd are both
# shown as "@"; the scraper must still see two series, not one series
# twice (0.2.0 rendered the same labels for both: a scraper keeps one
# or rejects the scrape). They get an fd label, as two --reuseport
# sockets do (metrics-escape.sh), in /metrics and --stats --format=prom;
# --stats text shows their fd.
. "$(dirname "$0")/lib.sh"
baton_only_script "metrics are a baton extension"
. "$top_srcdir/tests/blackbox/lib-metrics.sh"
command -v python3 >/dev/null || skip_all "no python3"
command -v promtool >/dev/null 2>&1 || skip_all "promtool not installed (Debian package prometheus)"

# A launcher as a service manager is one: two listening abstract sockets
# on fds 3 and 4, LISTEN_PID its own pid, then exec baton (same pid).
cat >"$T/launch.py" <<'PY'
import os, socket, sys
# both bound first and kept: a socket object dropped closes its fd, which
# may be 3 or 4 itself
socks = [socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) for _ in (0, 1)]
for s, tag in zip(socks, "ab"):
    s.bind("\0" + os.environ["ABS_NAME"] + tag)
    s.listen(8)
fds = [os.dup(s.fileno()) for s in socks]
for fd, want in zip(fds, (3, 4)):
    os.dup2(fd, want)
    os.set_inheritable(want, True)  # dup2 onto itself keeps it close-on-exec
os.environ["LISTEN_FDS"] = "2"
os.environ["LISTEN_PID"] = str(os.getpid())
os.execv(sys.argv[1], sys.argv[1:])
PY
export ABS_NAME=baton-test-abstract-$$-
printf '#!/bin/sh\nexec python3 "%s" "%s" "$@"\n' "$T/launch.py" "$BATON" >"$T/launch.sh"
chmod +x "$T/launch.sh"

M=$(free_port)
BATON=$T/launch.sh start_baton --status-file="$T/st" --metrics-listen=127.0.0.1:$M \
	-- "${WORKER_CMD[@]}"
wait_until 10 mcode_is 127.0.0.1:$M /readyz 200 || bail_out "generation 1 never served"
file_like "$T/baton.err" "adopting @ \(fd 3," "the first abstract socket adopted, shown as @"
file_like "$T/baton.err" "adopting @ \(fd 4," "the second too"

# promtool_ok FILE: promtool accepts it (its complaint as a diagnostic)
promtool_ok() {
	local out
	out=$(promtool check metrics <"$1" 2>&1) && return 0
	diag "promtool: $out"
	return 1
}
dup_series() { grep -av '^#' "$1" | sed 's/ [^ ]*$//' | sort | uniq -d; }

mbody 127.0.0.1:$M /metrics >"$T/get.prom"
is "$(dup_series "$T/get.prom")" "" "GET /metrics: no two series alike"
check "GET /metrics: promtool check metrics passes" promtool_ok "$T/get.prom"
is "$(grep -c '^baton_listener_accept_queue_length{listener="@",proto="unix",fd="[34]"}' "$T/get.prom")" 2 \
	"the two sockets told apart by fd=\"3\" and fd=\"4\""
"$BATON" --stats --status-file="$T/st" --format=prom >"$T/stats.prom" 2>"$T/stats.err"
is "$?" 0 "--stats --format=prom exits 0"
is "$(dup_series "$T/stats.prom")" "" "--stats --format=prom: no two series alike"
check "--stats --format=prom: promtool check metrics passes" promtool_ok "$T/stats.prom"
"$BATON" --stats --status-file="$T/st" >"$T/stats.txt" 2>>"$T/stats.err"
is "$(grep -Ec '^@ \(fd [34]\) +queue' "$T/stats.txt")" 2 "--stats: the two told apart by their fd, as in /metrics"
done_testing
