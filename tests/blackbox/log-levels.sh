#!/bin/bash
# SPDX-License-Identifier: ISC
# log-levels.sh: each log line's level is told apart as baton.1 says
# (DIAGNOSTICS, Levels), without changing the lines scripts match. Info
# lines, and the warnings start_server also prints, keep their words
# ("starting now", "failed to start"); baton's own warnings read
# "baton: warning: ..."; --verbose (-v) adds "baton: debug: ..." lines (state
# changes, notify messages), and there are none without it; invoked as
# start_server, -v stays start_server's abbreviation of --version. With stderr on the systemd
# journal (JOURNAL_STREAM names it), each line starts with its priority,
# <6> <4> <7>, for journalctl -p.
. "$(dirname "$0")/lib.sh"
baton_only_script "baton's log levels and --verbose"
worker_cmd
WARN_RE='^baton: warning: ignoring KILL_OLD_DELAY="abc": not a number of seconds; using 0$'

# run_hup ERR ARG...: baton with a bad KILL_OLD_DELAY (a warning of its
# own) serves generation 1, restarts on HUP, stops on TERM; stderr to ERR
run_hup() {
	local err=$1
	shift
	BATON_ERR=$err KILL_OLD_DELAY=abc serve_baton --until=report:1 --ready=notify "$@" \
		-- "${WORKER_CMD[@]}" --notify-ready
	pid1=$(report_val "$(report 1)" pid)
	kill -HUP "$BATON_PID"
	wait_report 2 10 || bail_out "no generation 2: $(tail -n 5 "$err")"
	pid2=$(report_val "$(report 2)" pid)
	check "generation 1 is gone" wait_file_contains "$err" "generation 1 is gone" 10
	kill -TERM "$BATON_PID"
	wait_baton_exit 10
	is "$BATON_STATUS" 0 "TERM: exit 0"
}

# ---- without --verbose ------------------------------------------------------
P=$(free_port)
run_hup "$T/quiet.err" --port=127.0.0.1:$P
file_like "$T/quiet.err" "^baton: supervisor \\(pid $BATON_PID\\) starting now\$" \
	"info: the start line is as before"
file_like "$T/quiet.err" "^baton: starting new worker $pid1 \\(generation 1\\)\$" \
	"info: \"starting new worker\" as before"
file_like "$T/quiet.err" "$WARN_RE" "a warning of baton's own carries \"warning: \""
check_not "without --verbose: no debug line" grep -q "debug:" "$T/quiet.err"
check_not "an info line carries no level word" \
	grep -Eq "^baton: (info|notice):" "$T/quiet.err"

# ---- --verbose --------------------------------------------------------------
rm -f "$T"/report.*
P=$(free_port)
run_hup "$T/verbose.err" -v --port=127.0.0.1:$P
L=$T/verbose.err
file_like "$L" "^baton: debug: notify message from pid $pid1 accepted for worker $pid1 \\(generation 1\\): READY=1\$" \
	"--verbose: the accepted notify message, escaped on one line"
file_like "$L" '^baton: debug: generation 1: starting -> ready on "all ready"$' \
	"--verbose: generation 1's state changes"
file_like "$L" '^baton: debug: generation 1: serving -> retiring on "successor serving"$' \
	"--verbose: ... the HUP's too"
file_like "$L" '^baton: debug: generation 1: retiring -> gone on "worker exit"$' \
	"--verbose: ... up to gone"
file_like "$L" "^baton: starting new worker $pid2 \\(generation 2\\)\$" \
	"--verbose: the info lines are unchanged"
file_like "$L" "$WARN_RE" "--verbose: the warning is unchanged"

# ---- a warning in start_server's place --------------------------------------
rm -f "$T"/report.*
P=$(free_port)
BATON_ERR=$T/fail.err start_baton --port=127.0.0.1:$P --interval=1 -- "${WORKER_CMD[@]}" --exit-immediately 3
check "a worker that fails to start is reported" \
	wait_file_contains "$T/fail.err" "failed to start" 10
file_like "$T/fail.err" "^baton: new worker [0-9]+ \\(generation 1\\) failed to start: exited with status 3\$" \
	"start_server's \"failed to start\" line keeps its shape, with no marker"
kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "TERM: exit 0"

# ---- the command line -------------------------------------------------------
run_baton -v --version
is "$RUN_STATUS" 0 "-v --version: exit 0"
mkdir -p "$T/bin"
ln -sf "$BATON" "$T/bin/start_server"
RUN_OUT=$("$T/bin/start_server" -v 2>&1)
is "$?" 0 "start_server -v: exit 0"
like "$RUN_OUT" '^[0-9]+\.[0-9]+\.[0-9]+$' "invoked as start_server, -v is --version, as start_server's abbreviation"
run_baton --help
like "$RUN_OUT" "--verbose " "--help lists --verbose"

# ---- the journal --------------------------------------------------------------
# stderr a socket that JOURNAL_STREAM names, as systemd sets it up; the
# reader stops at "all workers are gone" or at the deadline
P=$(free_port)
rm -f "$T"/report.*
timeout -k 2 "$(scaled 30)" python3 - "$T/journal.out" "$(scaled 10)" "$WORKER" --launch -- \
	"$BATON" --verbose --port=127.0.0.1:$P --ready=notify -- "${WORKER_CMD[@]}" --notify-ready <<'EOF' &
import os, signal, socket, subprocess, sys, time
out, limit, argv = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
a, b = socket.socketpair()
st = os.fstat(b.fileno())
env = dict(os.environ, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino),
           KILL_OLD_DELAY="abc")
p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=b, env=env)
b.close()
got, stopped, end = b"", False, time.monotonic() + limit
a.settimeout(0.2)
while time.monotonic() < end and b"all workers are gone" not in got:
    try:
        data = a.recv(65536)
        if not data:
            break
        got += data
    except socket.timeout:
        pass
    if not stopped and b"generation 1 is serving" in got:
        p.send_signal(signal.SIGTERM)
        stopped = True
if p.poll() is None:
    p.kill()
p.wait()
open(out, "wb").write(got)
EOF
track_pid $!
check "the journal reader is done" wait_until 30 pid_gone $!
J=$T/journal.out
file_like "$J" "^<6>baton: supervisor \\(pid [0-9]+\\) starting now\$" "journal: info is <6>, the text as before"
file_like "$J" "^<4>${WARN_RE#^}" "journal: a warning is <4>"
file_like "$J" '^<7>baton: debug: generation 1: starting -> ready on "all ready"$' "journal: debug is <7>"
file_like "$J" '^worker: pid [0-9]+ gen 1 serving' "journal: the worker's lines are its own"
check_not "journal: no line of baton's without its priority" grep -q "^baton: " "$J"
done_testing
