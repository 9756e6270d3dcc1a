#!/bin/bash
# SPDX-License-Identifier: ISC
# Unix listeners: mode, owner and group (checked with stat and from inside
# the worker), start_server's default mode, and what baton does with a path
# that already exists: a stale socket is replaced, a live one or anything
# that is not a socket is refused and left alone.
. "$(dirname "$0")/lib.sh"
baton_only_script "socket mode/owner and the path checks are baton's"

statof() { stat -c '%A %U %G' "$1" 2>/dev/null; }
unix_ok() { http_get_unix "$1" >/dev/null; }

# a user and a group to hand sockets to: another one as root, else our own
if [ "$(id -u)" = 0 ] && getent passwd nobody >/dev/null; then
	OWNER=nobody
	GROUP=$(id -gn nobody)
else
	OWNER=$(id -un)
	GROUP=$(id -gn)
fi

# ---- mode, owner, group ----------------------------------------------------
start_baton --path="$T/a.sock" --sockopts=mode=0660,owner=$OWNER,group=$GROUP \
	--path="$T/b.sock" --path="$T/c.sock" --sockopts=mode=0600 \
	--socket-mode=0640 --socket-group=$GROUP -- "${WORKER_CMD[@]}"
wait_report 1 10 || bail_out "the worker did not start: $(tail -5 "$T/baton.err")"
is "$(statof "$T/a.sock")" "srw-rw---- $OWNER $GROUP" "own mode=0660,owner,group on a.sock"
is "$(statof "$T/b.sock")" "srw-r----- $(id -un) $GROUP" "--socket-mode=0640 --socket-group on b.sock"
is "$(statof "$T/c.sock")" "srw------- $(id -un) $GROUP" "own mode=0600 over --socket-mode on c.sock"
R=$(report 1)
is "$(grep -E '^sockopt 3 ' "$R")" "sockopt 3 mode=0660 uid=$(id -u $OWNER) gid=$(getent group $GROUP | cut -d: -f3)" \
	"the worker's fd 3 is that socket file"
check "the worker answers on a.sock" unix_ok "$T/a.sock"
kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "baton stops cleanly"
check_not "the socket files are removed at exit" test -e "$T/a.sock"

# ---- start_server's default: srwxrwxrwx whatever the umask --------------------
(umask 077 && BATON_ERR=$T/baton2.err start_baton --path="$T/d.sock" -- "${WORKER_CMD[@]}" &&
	echo "$BATON_PID" >"$T/pid2")
wait_file "$T/d.sock" 10
is "$(statof "$T/d.sock" | cut -d' ' -f1)" "srwxrwxrwx" "default mode 0777 under umask 077, as start_server"
kill -TERM "$(cat "$T/pid2")"
wait_pid_gone "$(cat "$T/pid2")" 10

# ---- stale, live, not a socket --------------------------------------------------
(umask 022 && "$WORKER" --stale-socket "$T/stale.sock")
check "a stale socket file is there" test -S "$T/stale.sock"
is "$(statof "$T/stale.sock" | cut -d' ' -f1)" "srwxr-xr-x" "... made under umask 022"
BATON_ERR=$T/baton3.err start_baton --path="$T/stale.sock" --sockopts=mode=0600 -- "${WORKER_CMD[@]}"
check "a stale socket (nobody accepts) is replaced" wait_until 10 unix_ok "$T/stale.sock"
is "$(statof "$T/stale.sock" | cut -d' ' -f1)" "srw-------" "... by a new one with the mode asked for"
live_pid=$BATON_PID

run_baton --path="$T/stale.sock" -- "${WORKER_CMD[@]}"
is "$RUN_STATUS" 2 "a live socket is refused with exit 2"
like "$RUN_ERR" "${MSG_PREFIX}cannot use $T/stale\\.sock for --path: already in use" "... saying it is in use"
check "the live socket keeps serving" unix_ok "$T/stale.sock"
run_baton --check --path="$T/stale.sock"
is "$RUN_STATUS" 2 "--check refuses it too"
kill -TERM "$live_pid"
wait_pid_gone "$live_pid" 10

echo precious >"$T/file"
run_baton --path="$T/file" -- "${WORKER_CMD[@]}"
is "$RUN_STATUS" 2 "a regular file is refused with exit 2"
like "$RUN_ERR" "${MSG_PREFIX}cannot use $T/file for --path: exists and is not a socket" "... saying why"
is "$(cat "$T/file")" precious "... and kept as it was"
mkdir "$T/dir"
run_baton --check --path="$T/dir"
is "$RUN_STATUS" 2 "a directory is refused with exit 2"
like "$RUN_ERR" "exists and is not a socket" "... saying why"
check "... and kept" test -d "$T/dir"

# ---- an owner we may not give -------------------------------------------------
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	chmod 711 "$T"
	mkdir -m 1777 "$T/open"
	run_baton_as_nobody() {
		timeout -k 2 "$(scaled 10)" setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
			"$BATON" "$@" >"$T/run.out" 2>"$T/run.err" </dev/null
		RUN_STATUS=$?
		RUN_ERR=$(cat "$T/run.err")
	}
	run_baton_as_nobody --check --path="$T/open/x.sock" --socket-owner=root
	is "$RUN_STATUS" 2 "an owner change that is not permitted is exit 2"
	like "$RUN_ERR" "${MSG_PREFIX}cannot change the owner of $T/open/x\\.sock to root: Operation not permitted" \
		"... naming the path, the owner and the cause"
	check_not "... and the socket file is removed" test -e "$T/open/x.sock"
else
	skip "an owner change that is not permitted is exit 2" "needs root to drop to nobody"
	skip "... naming the path, the owner and the cause" "needs root"
	skip "... and the socket file is removed" "needs root"
fi
done_testing
