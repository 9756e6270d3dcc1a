#!/bin/bash
# SPDX-License-Identifier: ISC
# Before SIGUSR2 execs the binary again, baton runs it once
# ("--reexec-preflight=VERSION", which must answer "baton-reexec VERSION
# ok"). A truncated copy, a file without the exec bit, a program that does
# not answer, or one that hangs: baton keeps running the same image, the
# same generation keeps serving, and the pid file, the status files and the
# unix socket stay where they were; the log says why. A good binary put
# back is then taken as usual.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/blackbox/lib-restart.sh"
baton_only_script "self re-exec (SIGUSR2) is baton's"
worker_cmd

mkdir "$T/bin"
B=$T/bin/baton
cp "$BATON" "$B"
L=$T/baton.log
P=$(free_port)
BATON=$B start_baton --port=127.0.0.1:$P --path="$T/s.sock" --log-file="$L" \
	--pid-file="$T/pid" --status-file="$T/status" -- "${WORKER_CMD[@]}"
wait_status "$T/status" 1 10 || bail_out "supervisor (copy) did not come up"
wait_http 127.0.0.1:$P 10 || bail_out "generation 1 does not answer"
pid1=$(http_pid 127.0.0.1:$P)
ino0=$(exe_inode "$BATON_PID")
good=$T/good
cp "$B" "$good"

# replace BIN by a new file (the running one cannot be written: ETXTBSY)
replace() { # replace SOURCE-COMMAND...
	"$@" >"$B.new" && chmod +x "$B.new" && mv -f "$B.new" "$B"
}

# one bad binary: USR2, then everything as it was
try_bad() { # try_bad DESC ERE-OF-THE-REASON TIMEOUT
	local n
	n=$(log_count "$L" "cannot re-exec $B: ")
	kill -USR2 "$BATON_PID"
	check "$1: 'cannot re-exec $B: ...; carrying on as before' is logged" \
		wait_until "$3" eval '[ "$(log_count "$L" "cannot re-exec $B: .*; carrying on as before")" -gt "$n" ]'
	grep "cannot re-exec $B: " "$L" | tail -n 1 | while IFS= read -r line; do diag "log: $line"; done
	file_like "$L" "cannot re-exec $B: $2" "$1: the log says why"
	check "$1: baton keeps running" pid_alive "$BATON_PID"
	is "$(exe_inode "$BATON_PID")" "$ino0" "$1: the same image"
	is "$(http_pid 127.0.0.1:$P)" "$pid1" "$1: the same worker answers"
	is "$(http_gen 127.0.0.1:$P)" 1 "$1: generation 1 still serves"
	is "$(unix_gen "$T/s.sock")" 1 "$1: the unix socket answers too"
	is "$(cat "$T/pid" 2>/dev/null)" "$BATON_PID" "$1: the pid file is still there"
	is "$(status_gens "$T/status")" 1 "$1: the status file is still there"
	is "$(json_states "$T/status.json")" "1:serving" "$1: and the JSON status"
	is "$(log_count "$L" "re-executed: generation")" 0 "$1: nothing was re-executed"
}

replace head -c 4096 "$good"
try_bad "a truncated copy" "" 8

cp "$good" "$B.new" && chmod -x "$B.new" && mv -f "$B.new" "$B"
try_bad "a file without the exec bit" "Permission denied" 8

replace printf '#!/bin/sh\necho usage: nothing >&2; exit 1\n'
try_bad "a program that does not answer the version" \
	"it does not accept re-exec state version" 8

replace printf '#!/bin/sh\nexec sleep 60\n'
try_bad "a program that hangs" "no answer to its pre-flight run" 20

replace cat "$good"
kill -USR2 "$BATON_PID"
check "a good binary put back: USR2 re-executes" \
	wait_file_contains "$L" 're-executed: generation 1 keeps serving' 8
is "$(http_pid 127.0.0.1:$P)" "$pid1" "the same worker answers"
is "$(proc_ppid "$pid1")" "$BATON_PID" "still baton's child"

# the new image passes the pre-flight run but cannot adopt the state (here:
# a command line with one listener fewer): it exits without removing the
# pid file, the status files or the unix socket, and the workers serve on
cat >"$B.new" <<SH
#!/bin/sh
case "\$1" in --reexec-preflight=*) exec "$good" "\$@" ;; esac
exec "$good" --port=127.0.0.1:$P --log-file="$L" --pid-file="$T/pid" \
	--status-file="$T/status" -- ${WORKER_CMD[*]}
SH
chmod +x "$B.new" && mv -f "$B.new" "$B"
kill -USR2 "$BATON_PID"
check "a new image that cannot adopt the state exits" wait_baton_exit 10
is "$BATON_STATUS" 70 "with status 70 (internal error)"
file_like "$L" "re-exec state has 2 listeners, the command line 1" "the log says why"
check "the pid file is left in place" test -e "$T/pid"
check "the status file is left in place" test -e "$T/status"
check "the JSON status is left in place" test -e "$T/status.json"
check "the unix socket file is left in place" test -S "$T/s.sock"
is "$(http_pid 127.0.0.1:$P)" "$pid1" "the worker still answers on the port"
is "$(unix_gen "$T/s.sock")" 1 "and on the unix socket"
done_testing
