#!/bin/bash
# SPDX-License-Identifier: ISC
# --log-file follows symbolic links as start_server does (the
# drop-in idioms --log-file=/dev/stderr and /dev/stdout, which 0.2.0
# refused with "Too many levels of symbolic links"), except where the
# kernel's fs.protected_symlinks rule would refuse, whether or not the
# host has that sysctl on: a link in a sticky world-writable directory
# whose owner is neither baton's user nor the directory's owner. A baton
# run as root must not append, through a link a local user planted in
# /tmp, to a file of the link's choosing: at start-up and on SIGUSR1.
. "$(dirname "$0")/lib.sh"
baton_only_script "the symlink rule is baton's"

P=$(free_port)

# ---- /dev/stderr, /dev/stdout: the log lines arrive ------------------------
start_baton --log-file=/dev/stderr --port=127.0.0.1:"$P" -- "${WORKER_CMD[@]}"
check "--log-file=/dev/stderr: baton's lines arrive on its stderr" \
	wait_file_contains "$T/baton.err" "baton: generation 1 is serving" 10
check "... the worker's too" wait_file_contains "$T/baton.err" "worker: pid [0-9]+ gen 1 serving" 10
like "$(cat "$T/baton.err")" "^[0-9-]+T[0-9:.]+ baton: supervisor \(pid $BATON_PID\) starting now" \
	"... with timestamps, as any log file"
kill -USR1 "$BATON_PID"
check "... SIGUSR1 reopens it" wait_file_contains "$T/baton.err" \
	"received SIGUSR1: reopened log file /dev/stderr" 10
kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "... TERM: exit 0"

# a fatal error is said once there, not once as a log line and again as
# the line teed to the terminal (which is the same file)
run_baton --log-file=/dev/stderr --port=127.0.0.1:"$P" -- "$T/no-such-program"
is "$RUN_STATUS" 5 "--log-file=/dev/stderr, a program that cannot be run: exit 5"
is "$(grep -c "cannot exec $T/no-such-program" "$T/run.err")" 1 "... said once on stderr"

start_baton --log-file=/dev/stdout --port=127.0.0.1:"$P" -- "${WORKER_CMD[@]}"
check "--log-file=/dev/stdout: baton's lines arrive on its stdout" \
	wait_file_contains "$T/baton.out" "baton: generation 1 is serving" 10
kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "... TERM: exit 0"

# stderr a pipe, as under docker or "| logger"
mkfifo "$T/fifo"
cat "$T/fifo" >"$T/pipe.log" &
track_pid $!
BATON_ERR=$T/fifo start_baton --log-file=/dev/stderr --port=127.0.0.1:"$P" -- "${WORKER_CMD[@]}"
check "--log-file=/dev/stderr, a pipe: the lines arrive" \
	wait_file_contains "$T/pipe.log" "baton: generation 1 is serving" 10
kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "... TERM: exit 0"

# ---- an ordinary link, in a directory only its owner writes: followed -----
echo "first line" >"$T/real.log"
ln -s "$T/real.log" "$T/link.log"
start_baton --log-file="$T/link.log" --port=127.0.0.1:"$P" -- "${WORKER_CMD[@]}"
check "a link in a private directory is followed" \
	wait_file_contains "$T/real.log" "baton: generation 1 is serving" 10
check "... appending" file_contains "$T/real.log" "^first line$"
check "... the link stays a link" test -L "$T/link.log"
kill -TERM "$BATON_PID"
wait_baton_exit 10

# ---- links in a sticky world-writable directory ----------------------------
if [ "$(id -u)" != 0 ]; then
	skip "a link planted by another user" "needs root (to be that other user)"
	done_testing
	exit 0
fi
# the attack: /tmp-like, the link planted by nobody. nobody must reach
# $T to plant it (mktemp made it 0700).
chmod 755 "$T"
mkdir -m 1777 "$T/x"
echo "precious" >"$T/target"
chmod 600 "$T/target"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
as_nobody ln -s "$T/target" "$T/x/planted.log" || bail_out "cannot plant a link as nobody"
is "$(stat -c %U "$T/x/planted.log")" nobody "the planted link is nobody's"

rm -f "$T"/report.*
run_baton --log-file="$T/x/planted.log" --pid-file="$T/pid" --port=127.0.0.1:"$P" \
	-- "${WORKER_CMD[@]}"
is "$RUN_STATUS" 3 "a planted link: exit 3"
like "$RUN_ERR" "^${MSG_PREFIX}cannot open log file $T/x/planted.log: symbolic link $T/x/planted.log is owned by uid [0-9]+, neither baton's \(uid 0\) nor its sticky world-writable directory's \(uid 0\); not followed$" \
	"the message names the path and why"
is "$(cat "$T/target")" "precious" "the link's target is untouched"
check_not "no worker was started" test -e "$(report 1)"
check_not "no pid file is left" test -e "$T/pid"

# a planted link to a directory, on the way to the log file
as_nobody ln -s "$T" "$T/x/dir" || bail_out "cannot plant a link as nobody"
run_baton --log-file="$T/x/dir/target" --port=127.0.0.1:"$P" -- "${WORKER_CMD[@]}"
is "$RUN_STATUS" 3 "a planted link to a directory on the way: exit 3"
like "$RUN_ERR" "cannot open log file $T/x/dir/target: symbolic link $T/x/dir is owned by uid" \
	"... the message names the link"
is "$(cat "$T/target")" "precious" "... the target is untouched"

# baton's own link in the same directory: followed
ln -s "$T/mine.log" "$T/x/mine.log"
start_baton --log-file="$T/x/mine.log" --port=127.0.0.1:"$P" -- "${WORKER_CMD[@]}"
check "baton's user's own link there is followed" \
	wait_file_contains "$T/mine.log" "baton: generation 1 is serving" 10

# rotation: the path becomes a planted link between start and SIGUSR1
mv "$T/x/mine.log" "$T/x/mine.log.1"
as_nobody ln -s "$T/target" "$T/x/mine.log"
kill -USR1 "$BATON_PID"
check "SIGUSR1 onto a planted link: refused, said in the log still open" \
	wait_file_contains "$T/mine.log" \
	"received SIGUSR1: cannot reopen log file $T/x/mine.log: symbolic link $T/x/mine.log is owned by uid" 10
is "$(cat "$T/target")" "precious" "... the link's target is untouched"
check "... baton keeps running" pid_alive "$BATON_PID"
kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "TERM: exit 0"

# the directory's owner's link: followed (nobody's directory, baton's link
# target a file nobody may not write is not the point: the owner is trusted)
mkdir -m 1777 "$T/y"
chown nobody "$T/y"
as_nobody ln -s "$T/owner.log" "$T/y/owner.log"
touch "$T/owner.log"
start_baton --log-file="$T/y/owner.log" --port=127.0.0.1:"$P" -- "${WORKER_CMD[@]}"
check "the directory owner's link is followed" \
	wait_file_contains "$T/owner.log" "baton: generation 1 is serving" 10
kill -TERM "$BATON_PID"
wait_baton_exit 10
done_testing
