#!/bin/bash
# SPDX-License-Identifier: ISC
# baton never blocks on the reader of its log (STYLE.md rule 3): with
# stderr a pipe whose reader has stopped (a paused "docker logs", a stuck
# "| logger"), and with --log-file a FIFO or a "| command" that stopped
# reading, baton still restarts a dead worker, restarts on HUP and stops
# on TERM; it drops the lines it cannot write and, once the reader is
# back, says how many: "N log lines dropped while stderr was blocked".
. "$(dirname "$0")/lib.sh"
baton_only_script "baton's log writes never block"

# the workers' own output is not baton's to drop: they write elsewhere, so
# that only baton meets the full pipe
cat >"$T/app" <<APP
#!/bin/sh
exec "$WORKER" --report "$T/report.%g" >/dev/null 2>&1
APP
chmod +x "$T/app"

# fill_pipe PATH: write to the pipe without blocking until it takes no more
fill_pipe() {
	python3 - "$1" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_NONBLOCK)
for chunk in (b"x" * 4095 + b"\n", b"\n"):
    while True:
        try:
            os.write(fd, chunk)
        except BlockingIOError:
            break
PY
}

# fifo_reader FIFO OUT: a reader that copies FIFO to OUT (READER its pid)
fifo_reader() {
	cat "$1" >>"$2" &
	READER=$!
	track_pid "$READER"
}

# log_command_reader: READER, baton's log command (the only child that is
# cat)
log_command_reader() {
	local c
	READER=
	for c in $(children "$BATON_PID"); do
		[ "$(cat /proc/"$c"/comm 2>/dev/null)" = cat ] && READER=$c
	done
	[ -n "$READER" ]
}

# stall: stop the reader and fill the pipe, through baton's own fd 2
# (whatever pipe it is); with STALL set, that function instead
stall() {
	if [ -n "${STALL:-}" ]; then
		"$STALL"
		return
	fi
	kill -STOP "$READER"
	fill_pipe /proc/"$BATON_PID"/fd/2
}

# stalled_run NAME OUT WHAT BATON-ARG...: baton with its log's reader
# stopped and the pipe full: a killed worker is replaced, HUP restarts;
# the reader resumes and "... dropped while WHAT was blocked" appears in
# OUT; stopped again, TERM stops baton. BATON_ERR and READER (or
# FIND_READER, a function that sets it) say where stderr goes and who
# reads it.
stalled_run() {
	local name=$1 out=$2 what=$3 p pid
	shift 3
	p=$(free_port)
	${START:-start_baton} --port=127.0.0.1:$p "$@" -- "$T/app"
	check "$name: serves" wait_gen 127.0.0.1:$p 1 10
	[ -n "${FIND_READER:-}" ] && wait_until 5 "$FIND_READER"
	stall
	pid=$(http_pid 127.0.0.1:$p)
	kill -KILL "$pid"
	check "$name, reader stopped: a killed worker is replaced" wait_gen 127.0.0.1:$p 2 10
	kill -HUP "$BATON_PID"
	check "$name, reader stopped: HUP restarts" wait_gen 127.0.0.1:$p 3 10
	kill -CONT "$READER"
	check "$name, reader back: the dropped lines are counted" \
		wait_file_contains "$out" "^(.* )?baton: warning: [0-9]+ log lines? dropped while $what was blocked\$" 10
	# stopped again: TERM still stops baton
	stall
	kill -TERM "$BATON_PID"
	check "$name, reader stopped: TERM stops baton" wait_baton_exit 10
	# (its status is for its parent to see: this shell, unless START)
	[ -z "${START:-}" ] && is "$BATON_STATUS" 0 "$name: exit 0"
	kill -CONT "$READER"
}

# 1. no --log-file, stderr a pipe (a FIFO here, so that the test can stop
# its reader)
mkfifo "$T/err.fifo"
fifo_reader "$T/err.fifo" "$T/err.out"
BATON_ERR=$T/err.fifo stalled_run "stderr a pipe" "$T/err.out" stderr

# 2. --log-file naming a FIFO
mkfifo "$T/log.fifo"
fifo_reader "$T/log.fifo" "$T/log.out"
stalled_run "--log-file a FIFO" "$T/log.out" "log file $T/log.fifo" \
	--log-file="$T/log.fifo"

# 3. --log-file="| command" whose command stops reading
FIND_READER=log_command_reader stalled_run "--log-file=|cmd" "$T/cmd.out" \
	"the log command" --log-file="| exec cat >>$T/cmd.out"

# 4. stderr a socket (systemd's StandardError=journal is a stream socket):
# a reader that holds both ends, fills its end on SIGUSR1 and stops itself
cat >"$T/sockreader.py" <<'PY'
import os, signal, socket, subprocess, sys
out, pidfile, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=b.fileno())
with open(pidfile + ".tmp", "w") as f:
    f.write("%d\n" % p.pid)
os.rename(pidfile + ".tmp", pidfile)
def fill(signum, frame):
    # MSG_DONTWAIT, not setblocking(False): that would make the shared
    # description (baton's stderr too) non-blocking
    try:
        while True:
            b.send(b"x" * 4095 + b"\n", socket.MSG_DONTWAIT)
    except BlockingIOError:
        pass
    os.kill(os.getpid(), signal.SIGSTOP)
signal.signal(signal.SIGUSR1, fill)
with open(out, "ab") as f:
    while True:
        data = a.recv(65536)
        if not data:
            break
        f.write(data)
        f.flush()
PY
sock_start() {
	rm -f "$T/sock.pid"
	python3 "$T/sockreader.py" "$T/sock.out" "$T/sock.pid" "$WORKER" --launch -- "$BATON" "$@" &
	READER=$!
	track_pid "$READER"
	wait_file "$T/sock.pid" 10 || bail_out "the socket reader did not start baton"
	BATON_PID=$(cat "$T/sock.pid")
	track_pid "$BATON_PID"
}
_stopped() { [ "$(awk '{ print $3 }' /proc/"$1"/stat 2>/dev/null)" = T ]; }
sock_stall() {
	kill -USR1 "$READER"
	wait_until 10 _stopped "$READER"
}
START=sock_start STALL=sock_stall stalled_run "stderr a socket" "$T/sock.out" stderr
done_testing
