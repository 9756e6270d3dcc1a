#!/bin/bash
# SPDX-License-Identifier: ISC
# The pid and status files cannot be abused. A
# symlink planted at the pid file path, or on the way to the status or
# .prom file, is refused (a root baton wrote through it; "planted"
# as fs.protected_symlinks means it, other links are followed); a device (--pid-file=/dev/null) is refused, not deleted at
# exit; the status file's temporaries have unpredictable names created
# with O_EXCL; a second baton pointed at a live one's status file does not
# touch it; --stop reads no more than a small regular file.
. "$(dirname "$0")/lib.sh"
baton_only_script "the file checks are baton's"

P=$(free_port)
RUN_TIMEOUT=8
echo precious >"$T/target"
chmod 600 "$T/target"

# ---- a symlink at the pid file path ----------------------------------------
# The rule: links are followed, as start_server does, except
# where fs.protected_symlinks would refuse, whatever the sysctl says: a
# link in a sticky world-writable directory owned by neither baton's user
# nor the directory's owner.
if [ "$(id -u)" = 0 ]; then
	# the attack: a shared sticky directory, the link planted by nobody
	# (who must reach $T to plant it)
	chmod 755 "$T"
	mkdir -m 1777 "$T/x"
	as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
	as_nobody ln -s "$T/target" "$T/x/app.pid" || bail_out "cannot plant a link as nobody"
	run_baton --port=127.0.0.1:$P --pid-file="$T/x/app.pid" -- "$WORKER" --report "$T/r1"
	is "$RUN_STATUS" 3 "planted symlinked pid file: exit 3"
	like "$RUN_ERR" "cannot use pid file $T/x/app.pid: symbolic link $T/x/app.pid is owned by uid [0-9]+, neither baton's \(uid 0\) nor its sticky world-writable directory's \(uid 0\); not followed" \
		"the message names the pid file and the cause"
	is "$(cat "$T/target")" precious "the link's target is untouched"
	check "the link is left in place" test -L "$T/x/app.pid"
	check_not "no worker was started" test -e "$T/r1"

	# on the way to the status file and the .prom file: a planted link
	# to a directory (rename would put the file where the link points)
	as_nobody ln -s "$T" "$T/x/d"
	run_baton --port=127.0.0.1:$P --status-file="$T/x/d/st0" -- "$WORKER" --report "$T/r1"
	is "$RUN_STATUS" 3 "a planted link on the way to the status file: exit 3"
	like "$RUN_ERR" "cannot write status file $T/x/d/st0: symbolic link $T/x/d is owned by uid" \
		"... the message names the link"
	check_not "... nothing written through it" test -e "$T/st0"
	run_baton --port=127.0.0.1:$P --metrics-file="$T/x/d/m.prom" -- "$WORKER" --report "$T/r1"
	like "$RUN_ERR" "cannot write metrics file $T/x/d/m.prom: symbolic link $T/x/d is owned by uid" \
		"... and to the .prom file: refused, named"
	check_not "... nothing written through it" test -e "$T/m.prom"
	check_not "no worker was started" test -e "$T/r1"

	# baton's own link there: followed
	ln -s "$T/own.pid" "$T/x/own.pid"
	start_baton --port=127.0.0.1:$P --pid-file="$T/x/own.pid" -- "${WORKER_CMD[@]}"
	check "baton's user's own link is followed" wait_until 10 test -s "$T/own.pid"
	is "$(cat "$T/own.pid" 2>/dev/null)" "$BATON_PID" "... the pid is written through it"
	kill -TERM "$BATON_PID"
	wait_baton_exit 10
	is "$BATON_STATUS" 0 "... TERM: exit 0"
	rm -f "$T"/report.*
else
	skip "a link planted by another user" "needs root (to be that other user)"
fi

# ---- devices: refused, never deleted -----------------------------------------
# as root, on a private copy of /dev/null first: an old baton would delete
# the device at exit, and that must not be the machine's /dev/null
if [ "$(id -u)" = 0 ] && mknod "$T/null" c 1 3 2>/dev/null; then
	DEVS=("$T/null")
else
	DEVS=()
fi
for dev in "${DEVS[@]}" /dev/null; do
	if [ "$dev" = /dev/null ] && [ "$_tap_failed" != 0 ]; then
		skip "--pid-file=/dev/null" "an earlier device check failed"
		continue
	fi
	run_baton --port=127.0.0.1:$P --pid-file="$dev" -- "$WORKER" --report "$T/r2"
	is "$RUN_STATUS" 3 "--pid-file=$dev: exit 3"
	like "$RUN_ERR" "cannot use pid file $dev: not a regular file" \
		"--pid-file=$dev: the message says why"
	check "$dev is still a character device" test -c "$dev"
	run_baton --port=127.0.0.1:$P --status-file="$dev" -- "$WORKER" --report "$T/r2"
	is "$RUN_STATUS" 3 "--status-file=$dev: exit 3"
	like "$RUN_ERR" "cannot write status file $dev: " \
		"--status-file=$dev: the message names the file"
	check "$dev is still a character device" test -c "$dev"
	check_not "no worker was started" test -e "$T/r2"
done

# ---- the old predictable temporaries: status.PID, status.PID.json ------------
# baton's pid is the wrapper's (exec keeps it): plant links at the names
# the old code wrote through
cat >"$T/wrap" <<WRAP
#!/bin/sh
ln -s "$T/target" "$T/st.\$\$"
ln -s "$T/target" "$T/st.json.\$\$"
exec "$BATON" "\$@"
WRAP
chmod +x "$T/wrap"
BATON=$T/wrap start_baton --port=127.0.0.1:$P --status-file="$T/st" -- "${WORKER_CMD[@]}"
wait_status "$T/st" 1 10 || bail_out "no status file: $(tail -3 "$T/baton.err")"
is "$(cat "$T/target")" precious "the planted links' target is untouched"
is "$(status_pid_of "$T/st" 1)" "$(report_val "$(report 1)" pid)" "the status file is right"
check "it is a regular file" test -f "$T/st"
check "st.json too" wait_until 5 test -f "$T/st.json"
check "the planted links are left alone" test -L "$T/st.$BATON_PID"
is "$(stat -c %a "$T/st")" 644 "the status file is mode 644"

# ---- a second baton with the same status file and a bad program -------------
FIRST_PID=$BATON_PID
before=$(cat "$T/st")
P2=$(free_port)
run_baton --port=127.0.0.1:$P2 --status-file="$T/st" -- /nonexistent/program
isnt "$RUN_STATUS" 0 "the second baton fails (exit $RUN_STATUS)"
check "the first baton's status file is still there" test -f "$T/st"
is "$(cat "$T/st")" "$before" "and unchanged"
check "its JSON too" test -f "$T/st.json"
check "the first baton still serves" http_ok 127.0.0.1:$P
kill -TERM "$FIRST_PID"
wait_baton_exit 10 "$FIRST_PID"
is "$BATON_STATUS" 0 "the first baton stops cleanly"
check_not "and removes its status file" test -e "$T/st"
check_not "and its JSON" test -e "$T/st.json"
is "$(cat "$T/target")" precious "the target is still untouched"

# ---- --stop with the pid file a symlink to /dev/zero -------------------------
ln -s /dev/zero "$T/z.pid"
t0=$(now_ms)
mem=$(timeout -k 2 20 /usr/bin/time -f %M "$BATON" --stop --pid-file="$T/z.pid" 2>&1 >/dev/null)
st=$?
ms=$(($(now_ms) - t0))
is "$st" 4 "--stop on /dev/zero: exit 4"
like "$mem" "cannot read pid file $T/z.pid: not a regular file" "the message says why"
kb=$(printf '%s\n' "$mem" | tail -1)
cmp_ok "${kb:-999999}" -lt 65536 "small memory (${kb} kB maximum resident)"
cmp_ok "$ms" -lt 5000 "quickly (${ms} ms)"
done_testing
