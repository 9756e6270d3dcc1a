#!/bin/bash
# SPDX-License-Identifier: ISC
# A full file system: the status file still names the live workers and
# "baton --restart" still ends (0.2.0's kept naming a dead worker). baton's own status files are rewritten in place when there is no room
# for a temporary (their blocks are still theirs), and a write that still
# fails is tried again every second, with one warning, until it succeeds:
# once space is freed the files are right again without another event, and
# a waiting --restart ends. --restart says when the status file has not
# changed 5 s after its SIGHUP.
# A small tmpfs in a private mount namespace (unshare -m) is the full disk.
if [ -z "${BATON_TEST_IN_NS:-}" ]; then
	if [ "$(id -u)" = 0 ] && unshare -m --propagation private true 2>/dev/null; then
		BATON_TEST_IN_NS=1 exec unshare -m --propagation private bash "$0" "$@"
	fi
	BATON_TEST_IN_NS=none
fi
. "$(dirname "$0")/lib.sh"
baton_only_script "retried status writes are baton's"
[ "$BATON_TEST_IN_NS" = 1 ] || skip_all "needs root and unshare -m (a tmpfs to fill)"

mkdir "$T/fs"
mount -t tmpfs -o size=256k,mode=0755 tmpfs "$T/fs" || skip_all "cannot mount a tmpfs"
# (lazily: the clean-up removes $T, and a supervisor may still hold it)
trap 'umount -l "$T/fs" 2>/dev/null; _cleanup' EXIT

fill() { # fill FILE: take whatever room is left (bounded: the tmpfs is 256 kB)
	dd if=/dev/zero of="$1" bs=4k count=128 2>/dev/null
	true
}
worker_pid() { status_pid_of "$S" "$1"; }
top_gen() { status_gens "$S" | tr ' ' '\n' | tail -1; }
# the status file lists generation $1 alone, with a live worker not $2
listed_alone() {
	[ "$(status_gens "$S")" = "$1" ] && [ "$(worker_pid "$1")" != "${2:-}" ] &&
		pid_alive "$(worker_pid "$1")"
}

S=$T/fs/st
L=$T/log
P=$(free_port)
CTL=(--pid-file="$T/pid" --status-file="$S")
serve_baton --until=status:1 "${CTL[@]}" --log-file="$L" --port=127.0.0.1:"$P" \
	-- "${WORKER_CMD[@]}"
w1=$(worker_pid 1)
[ -n "$w1" ] || bail_out "no worker in the status file"

# ---- full: the status files are rewritten in place ------------------------
fill "$T/fs/fill1"
diag "$(df -k "$T/fs" | tail -1)"
kill -KILL "$w1"
# a dead worker is replaced by a new generation, 2
check "the disk full: the status file names the new worker, alive" \
	wait_until 10 listed_alone 2 "$w1"
w2=$(worker_pid 2)
file_like "$S.json" "\"pid\":$w2," "... STATUS.json too"

run_baton --restart --restart-timeout="$(scaled 15)" "${CTL[@]}"
is "$RUN_STATUS" 0 "the disk full: --restart sees the restart done"
check "... the status file lists generation 3 alone" wait_until 5 listed_alone 3

# ---- no room at all: tried again every second ------------------------------
# the status file is a copy now (another inode, which baton never rewrites
# in place: it may be another's), its room taken at once. First the
# figures that come after the restart (its receipt, generation 3's first
# connection count) must be written: a write of baton's own after the copy
# would make the file baton's again, rewritten in place.
settled() {
	python3 - "$S.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
g = s["generations"]
r = s.get("receipts") or []
ok = (len(g) == 1 and g[0]["generation"] == 3 and
      g[0].get("connections", 0) is not None and
      r and r[-1]["finished_at"] is not None)
sys.exit(0 if ok else 1)
PY
}
check "generation 3's receipt and connection count are written" wait_until 10 settled
rm -f "$T/fs/fill1"
cp "$S" "$S.copy" && mv "$S.copy" "$S" || bail_out "cannot copy the status file"
fill "$T/fs/fill2"
"$WORKER" --launch -- "$BATON" --restart --restart-timeout="$(scaled 60)" "${CTL[@]}" \
	>"$T/restart.out" 2>"$T/restart.err" </dev/null &
RESTART=$!
track_pid "$RESTART"
check "a write that fails is warned about" \
	wait_file_contains "$L" "cannot write status file $S; trying again every second: No space left on device" 10
check "--restart says the status file does not change" \
	wait_file_contains "$T/restart.err" "status file $S has not changed 5s after SIGHUP: can the supervisor \(pid $BATON_PID\) write it\? \(see its log\); still waiting" 15
check "... and keeps waiting" pid_alive "$RESTART"
nap 2
is "$(grep -c "cannot write status file" "$L")" 1 "baton warned once, not at every attempt"
rm -f "$T/fs/fill2"
check "space freed: the status file is right again, with no other event" \
	wait_until 10 listed_alone 4
check "... said in the log" wait_file_contains "$L" "status file $S written again \([0-9]+ attempts failed\)" 5
check "--restart sees it and ends" wait_until 10 pid_gone "$RESTART"
wait "$RESTART"
is "$?" 0 "... with exit 0"

kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "TERM: exit 0"
check_not "the status file is removed" test -e "$S"
done_testing
