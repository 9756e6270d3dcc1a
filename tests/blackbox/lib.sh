#!/bin/bash
# SPDX-License-Identifier: ISC
# Shared helpers for the black-box tests: TAP output, ports, processes, waits.
#
# A test script sources this file, then drives "$BATON" as a user would.
#
#   make check                      # everything, against ./baton
#   make blackbox [-j4]             # only the black-box scripts
#   make blackbox BATON=/usr/bin/start_server   # against Perl's start_server
#   bash tests/blackbox/hup.sh      # one script (needs tests/worker built)
#   prove -j4 -e bash tests/blackbox/hup.sh ...  # several, TAP summary
#
# Scripts testing baton's bug fixes and extensions SKIP under start_server.
#
# Environment:
#   BATON          the supervisor under test (default $top_builddir/baton)
#   BATON_FLAVOUR  "perl" or "baton"; guessed from $BATON when unset (a
#                  script is Perl's start_server)
#   top_srcdir, top_builddir   set by "make check"; default: this tree
#   WORKER, LOADGEN            the test programs (default tests/worker, tests/loadgen)
#   BATON_TEST_KEEP=1          keep the per-test temporary directory
#   BATON_TEST_TIME_SCALE=F    one factor for every duration of the suite on
#                  a slow or loaded machine (as libuv's UV_TEST_TIMEOUT_MULTIPLIER);
#                  default 1, decimals allowed (2.5). It multiplies every
#                  timeout of the wait_* helpers and run_baton, every pause a
#                  script takes to let time pass (nap), the supervisor's own
#                  durations a script passes on its command line (scaled:
#                  --interval, --stop-timeout, ...) and the slack of every
#                  "soon after" bound (scaled_ms), so that the relations a test
#                  asserts hold at any speed; no assertion is loosened, only
#                  stretched in time. E.g. make check BATON_TEST_TIME_SCALE=3
#
# Every process a test starts inherits BATON_TEST_TAG; at exit the cleanup
# trap finds them all through /proc/PID/environ (daemons and grandchildren
# included) and kills them by pid, so no test leaves a process behind.

# shellcheck disable=SC2034 # variables set here are for the scripts
export LC_ALL=C

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${BATON:=$top_builddir/baton}"
WORKER=${WORKER:-$top_builddir/tests/worker}
LOADGEN=${LOADGEN:-$top_builddir/tests/loadgen}
TEST_NAME=$(basename "$0" .sh)

# ---- TAP ------------------------------------------------------------------

_tap_n=0
_tap_failed=0
_tap_plan=

plan() {
	_tap_plan=$1
	echo "1..$1"
}

diag() { # each argument on its own line(s), as TAP comments
	local arg line
	for arg in "$@"; do
		while IFS= read -r line; do
			printf '# %s\n' "$line"
		done <<<"$arg"
	done
}

pass() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $1"
}

fail() {
	_tap_n=$((_tap_n + 1))
	_tap_failed=$((_tap_failed + 1))
	echo "not ok $_tap_n - $1"
	shift
	[ $# -gt 0 ] && diag "$@"
	return 0
}

skip() { # skip DESC REASON
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $1 # SKIP ${2:-}"
}

# check DESC CMD [ARG...]: passes when CMD exits 0
check() {
	local desc=$1
	shift
	if "$@"; then pass "$desc"; else fail "$desc" "command failed: $*"; fi
}

# check_not DESC CMD [ARG...]: passes when CMD exits non-zero
check_not() {
	local desc=$1
	shift
	if "$@"; then fail "$desc" "command succeeded: $*"; else pass "$desc"; fi
}

# _short TEXT: at most 15 lines of it, for diagnostics
_short() {
	printf '%s\n' "$1" | awk 'NR <= 15 { print } NR == 16 { print "[...]" }'
}

is() { # is GOT WANT DESC
	if [ "$1" = "$2" ]; then
		pass "$3"
	else
		fail "$3" "got:  '$(_short "$1")'" "want: '$2'"
	fi
}

isnt() { # isnt GOT UNWANTED DESC
	if [ "$1" != "$2" ]; then
		pass "$3"
	else
		fail "$3" "got '$1', which it must not be"
	fi
}

like() { # like GOT ERE DESC
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		pass "$3"
	else
		fail "$3" "got:  '$(_short "$1")'" "want: /$2/"
	fi
}

unlike() { # unlike GOT ERE DESC
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		fail "$3" "got:  '$(_short "$1")'" "must not match: /$2/"
	else
		pass "$3"
	fi
}

# file_like FILE ERE DESC / file_unlike FILE ERE DESC
file_like() {
	if [ -f "$1" ] && grep -Eq -- "$2" "$1"; then
		pass "$3"
	else
		fail "$3" "$1 does not match /$2/; its last lines:" "$(tail -n 8 "$1" 2>&1)"
	fi
}

file_unlike() {
	if [ -f "$1" ] && grep -Eq -- "$2" "$1"; then
		fail "$3" "$1 matches /$2/:" "$(grep -E -- "$2" "$1" | head -n 5)"
	else
		pass "$3"
	fi
}

cmp_ok() { # cmp_ok A OP B DESC   (integers; OP: -lt -le -eq -ne -ge -gt)
	if test "$1" "$2" "$3" 2>/dev/null; then
		pass "$4"
	else
		fail "$4" "got: $1 $2 $3 is false"
	fi
}

skip_all() {
	echo "1..0 # SKIP $*"
	_tap_done=1
	exit 0
}

# bail_out REASON: a failed test saying why the script cannot go on, then
# the end (not TAP's "Bail out!", which would stop a whole prove run)
bail_out() {
	fail "cannot go on: $*"
	[ -z "$_tap_plan" ] && echo "1..$_tap_n"
	_tap_done=1
	exit 1
}

done_testing() {
	[ -z "$_tap_plan" ] && echo "1..$_tap_n"
	if [ -n "$_tap_plan" ] && [ "$_tap_plan" != "$_tap_n" ]; then
		diag "planned $_tap_plan tests but ran $_tap_n"
		_tap_failed=$((_tap_failed + 1))
	fi
	diag "$TEST_NAME: $_tap_n tests, $_tap_failed failed ($(flavour))"
	_tap_done=1
	[ "$_tap_failed" -eq 0 ] && exit 0
	exit 1
}

# ---- which supervisor -------------------------------------------------------

flavour() {
	if [ -z "${BATON_FLAVOUR:-}" ]; then
		if [ "$(head -c 2 "$(readlink -f "$BATON")" 2>/dev/null)" = "#!" ]; then
			BATON_FLAVOUR=perl
		else
			BATON_FLAVOUR=baton
		fi
	fi
	echo "$BATON_FLAVOUR"
}

is_perl() { [ "$(flavour)" = perl ]; }

PERL_REASON="start_server 0.35 differs here (bug fixed or extension in baton)"

# baton_only DESC: emits a SKIP and returns 1 under Perl's start_server.
#   if baton_only "regular file kept"; then ...assertions...; fi
baton_only() {
	if is_perl; then
		skip "$1" "$PERL_REASON"
		return 1
	fi
	return 0
}

# A whole script that tests a baton fix or extension.
baton_only_script() {
	is_perl && skip_all "$PERL_REASON: ${1:-}"
	return 0
}

# The message prefix: "baton: " or "start_server: " under that name.
MSG_PREFIX='(baton|start_server): '
# The prefix of baton's own warnings (baton.1, DIAGNOSTICS, Levels): a word marks them
# apart from the info lines.
WARN_PREFIX="${MSG_PREFIX}warning: "

# ---- time and waiting ---------------------------------------------------

# The scale in thousandths, checked once: a typo must not silently mean 1.
_time_scale_milli() {
	local f=${BATON_TEST_TIME_SCALE:-1} i d
	[[ $f =~ ^([0-9]+)(\.([0-9]*))?$ ]] || return 1
	i=${BASH_REMATCH[1]}
	d=${BASH_REMATCH[3]}000
	echo $((10#$i * 1000 + 10#${d:0:3}))
}

# _to_ms SECONDS (decimals allowed): milliseconds
_to_ms() {
	local s=$1 frac=000
	case $s in *.*) frac=${s#*.}000 ;; esac
	s=${s%.*}
	echo $((10#${s:-0} * 1000 + 10#${frac:0:3}))
}

# scaled_ms MS: MS times the time scale (an integer number of ms)
scaled_ms() { echo $(($1 * _TIME_SCALE / 1000)); }

# scaled SECONDS: SECONDS times the time scale, in seconds, for a sleep, a
# timeout or a duration on the supervisor's command line (--interval=, ...).
# An integer stays an integer at scale 1, so start_server's options are
# given what they always were.
scaled() {
	local ms
	ms=$(scaled_ms "$(_to_ms "$1")")
	if [ $((ms % 1000)) = 0 ]; then
		echo $((ms / 1000))
	else
		ms=$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))
		while [ "${ms%0}" != "$ms" ]; do ms=${ms%0}; done
		echo "$ms" # 2.5, as baton's messages print it (%g)
	fi
}

# nap SECONDS: let (scaled) time pass, for a test that waits on purpose
nap() { sleep "$(scaled "$1")"; }

# sleep_until_ms T: sleep until now_ms reaches T (an absolute time)
sleep_until_ms() {
	local left=$(($1 - $(now_ms)))
	[ "$left" -gt 0 ] && sleep "$((left / 1000)).$(printf %03d $((left % 1000)))"
	return 0
}

now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((t / 1000))
}

# wait_until TIMEOUT_SECONDS CMD [ARG...]: poll CMD every 0.05 s for up to
# TIMEOUT_SECONDS times the time scale. Every wait_* helper goes through it.
wait_until() {
	local deadline
	deadline=$(($(now_ms) + $(scaled_ms "$(_to_ms "$1")")))
	shift
	while :; do
		"$@" && return 0
		[ "$(now_ms)" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

# pid_alive PID: exists and is not a zombie
pid_alive() {
	local st
	[ -n "$1" ] || return 1
	read -r st 2>/dev/null </proc/"$1"/stat || return 1
	st=${st##*) }
	st=${st%% *}
	[ "$st" != Z ] && [ "$st" != X ]
}

pid_gone() { ! pid_alive "$1"; }

wait_pid_gone() { # wait_pid_gone PID TIMEOUT
	wait_until "${2:-10}" pid_gone "$1"
}

file_contains() { [ -f "$1" ] && grep -Eq -- "$2" "$1"; }

wait_file_contains() { # FILE ERE TIMEOUT
	wait_until "${3:-10}" file_contains "$1" "$2"
}

wait_file() { # FILE TIMEOUT
	wait_until "${2:-10}" test -e "$1"
}

# ---- ports and HTTP -------------------------------------------------------

# free_port: prints a port on which nothing (TCP or UDP, v4 or v6) is bound,
# never the same one twice while this test runs, nor to another test running
# at the same time (make -j, or two build trees' suites at once). Ports come
# from 20000-32767, below Linux's default ephemeral range, so outgoing
# connections don't take them. The kernel says which are free: "worker
# --free-port" binds a candidate TCP and UDP on :: (reading the whole host's
# /proc/net/tcp* for each candidate took 0.65 s a port on a busy host). A
# port is reserved by a file named after it in $_PORT_DIR holding the test's
# pid, made under a lock (flock) between that look and the reservation; the
# cleanup removes the test's files, and a file whose test is gone (killed) is
# taken back. "free_port LO HI" reserves one in another range the same way.
_PORT_DIR=${TMPDIR:-/tmp}/baton-test-ports.$(id -u)

_reserve_port() { # LO HI, in a subshell holding the lock
	local p i owner
	for i in $(seq 1 100); do
		p=$("$WORKER" --free-port "$1" "$2") || continue
		if [ -e "$_PORT_DIR/$p" ]; then
			owner=$(cat "$_PORT_DIR/$p" 2>/dev/null)
			[ -n "$owner" ] && kill -0 "$owner" 2>/dev/null && continue
		fi
		echo "$$" >"$_PORT_DIR/$p" || return 1
		echo "$p"
		return 0
	done
	return 1
}

free_port() { # [LO HI]: another range (root's ports below 1024)
	local p
	mkdir -p "$_PORT_DIR" 2>/dev/null
	p=$(
		exec 9>>"$_PORT_DIR/.lock" || exit 1
		flock -w "$(scaled 30)" 9 || exit 1
		_reserve_port "${1:-20000}" "${2:-32767}"
	) || bail_out "no free port found (reservations in $_PORT_DIR)"
	echo "$p" >>"$T/.ports"
	echo "$p"
}

_release_ports() {
	local p
	[ -f "$T/.ports" ] || return 0
	while IFS= read -r p; do
		[ "$(cat "$_PORT_DIR/$p" 2>/dev/null)" = "$$" ] && rm -f "$_PORT_DIR/$p"
	done <"$T/.ports"
}

# port_listening PORT: some TCP socket listens on it. Asked over sock_diag
# (ss), which walks the listening sockets only: reading /proc/net/tcp* walks
# every socket of the host (0.8 s with 32,000 of them under load) and can
# skip entries while others come and go.
port_listening() {
	[ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ]
}

# http_get HOST:PORT [CURL-ARG...]: prints the body, fails unless 2xx
http_get() {
	local hp=$1
	shift
	curl -gsSf --noproxy '*' --max-time "$(scaled "${HTTP_TIMEOUT:-3}")" "$@" "http://$hp/" 2>>"$T/curl.err"
}

http_get_unix() { # http_get_unix PATH
	curl -sSf --max-time "$(scaled "${HTTP_TIMEOUT:-3}")" --unix-socket "$1" http://localhost/ 2>>"$T/curl.err"
}

http_ok() { http_get "$1" >/dev/null; }

http_ok_unix() { http_get_unix "$1" >/dev/null; }

wait_http() { # wait_http HOST:PORT TIMEOUT
	wait_until "${2:-10}" http_ok "$1"
}

# the generation that answers on HOST:PORT (empty if nobody does)
http_gen() {
	local body
	body=$(http_get "$1") || return 1
	body=${body#*gen=}
	echo "${body%% *}"
}

http_pid() {
	local body
	body=$(http_get "$1") || return 1
	body=${body#*pid=}
	echo "${body%%[!0-9]*}"
}

_gen_is() { [ "$(http_gen "$1")" = "$2" ]; }

unix_gen() { # the generation answering on a unix socket path
	local body
	body=$(http_get_unix "$1") || return 1
	body=${body#*gen=}
	echo "${body%% *}"
}

_unix_gen_is() { [ "$(unix_gen "$1")" = "$2" ]; }

wait_unix_gen() { # wait_unix_gen PATH GEN TIMEOUT
	wait_until "${3:-10}" _unix_gen_is "$1" "$2"
}

wait_gen() { # wait_gen HOST:PORT GEN TIMEOUT: until generation GEN answers
	wait_until "${3:-10}" _gen_is "$1" "$2"
}

# ---- worker reports -------------------------------------------------------

# The test worker, writing report.GEN and appending to signals.log.
worker_cmd() {
	WORKER_CMD=("$WORKER" --report "$T/report.%g" --on-signal-log "$T/signals.log")
}

report() { echo "$T/report.$1"; }

wait_report() { # wait_report GEN TIMEOUT
	wait_file "$T/report.$1" "${2:-10}"
}

# report_val FILE KEY: the rest of the first line "KEY ..."
report_val() {
	awk -v k="$2" '$1 == k { sub("^[^ ]+ ?", ""); print; exit }' "$1" 2>/dev/null
}

# report_env FILE NAME: the value of NAME in the worker's environment
report_env() {
	awk -v k="env $2=" 'index($0, k) == 1 { print substr($0, length(k) + 1); f = 1; exit }
		END { exit !f }' "$1" 2>/dev/null
}

report_has_env() { # report_has_env FILE NAME
	grep -q "^env $2=" "$1" 2>/dev/null
}

# report_fd FILE N: the "fd N ..." line
report_fd() {
	grep -E "^fd $2 " "$1" 2>/dev/null
}

# signals_of PID [LOG]: the signals a worker logged ("TERM 1234 1 MS" lines
# in $T/signals.log), space separated, in order
signals_of() {
	awk -v p="$1" '$2 == p { print $1 }' "${2:-$T/signals.log}" 2>/dev/null | tr '\n' ' ' | sed 's/ $//'
}

# signal_ms SIG PID [LOG]: when the worker got SIG (ms since the epoch, by
# the worker's clock: immune to a test script that is slow to look)
signal_ms() {
	awk -v s="$1" -v p="$2" '$1 == s && $2 == p { print $4; exit }' "${3:-$T/signals.log}" 2>/dev/null
}

# report_ms REPORT-FILE: when that worker started (same clock)
report_ms() { report_val "$1" start_ms; }

# ms_between FROM TO: TO - FROM, or a huge number if either is missing
ms_between() {
	if [ -n "$1" ] && [ -n "$2" ]; then echo $(($2 - $1)); else echo 999999; fi
}

# wait_signal SIG PID TIMEOUT [LOG]: until the worker logged SIG
wait_signal() {
	wait_file_contains "${4:-$T/signals.log}" "^$1 $2 " "${3:-10}"
}

# ---- status file ------------------------------------------------------------

status_gens() { # the generations listed in a status file, in file order
	cut -d: -f1 "$1" 2>/dev/null | tr '\n' ' ' | sed 's/ $//'
}

status_pid_of() { # status_pid_of FILE GEN
	awk -F: -v g="$2" '$1 == g { print $2; exit }' "$1" 2>/dev/null
}

_status_is() { [ "$(status_gens "$1")" = "$2" ]; }

wait_status() { # wait_status FILE "GEN GEN" TIMEOUT
	wait_until "${3:-10}" _status_is "$1" "$2"
}

# ---- processes ------------------------------------------------------------

_track() { echo "$1" >>"$T/.pids"; }

track_pid() { [ -n "$1" ] && _track "$1"; }

# start_baton ARG...: the supervisor in the background, from a clean state
# (default signal dispositions, empty mask, no inherited fd but stdio).
# Sets BATON_PID; stdout goes to $T/baton.out, stderr to $T/baton.err (or
# $BATON_ERR / $BATON_OUT when set). LAUNCH_OPTS adds --launch options.
start_baton() {
	local out=${BATON_OUT:-$T/baton.out} err=${BATON_ERR:-$T/baton.err}
	# shellcheck disable=SC2086
	"$WORKER" --launch ${LAUNCH_OPTS:-} -- "$BATON" "$@" >>"$out" 2>>"$err" </dev/null &
	BATON_PID=$!
	_track "$BATON_PID"
}

# serve_baton [--until=WHAT] ARG...: start_baton ARG..., then wait up to
# SERVE_TIMEOUT (default 10) seconds until it serves; when it does not, bail
# out with the supervisor's last words. WHAT, by default the first --port
# (an HTTP answer) or else the first --path (an answer on the socket) in ARG:
#   http:HOST:PORT    an HTTP answer there
#   unix:PATH         an HTTP answer on that socket
#   status:GENS       the --status-file of ARG lists GENS ("1", "1 1", ...)
#   report:GEN        the worker wrote report GEN ($T/report.GEN)
#   file:PATH         PATH exists
#   log:ERE           the --log-file of ARG has a line matching ERE
serve_baton() {
	local until= a status= log= what
	case ${1:-} in --until=*) until=${1#--until=}; shift ;; esac
	for a in "$@"; do
		[ "$a" = -- ] && break
		case $a in
		--status-file=*) status=${a#*=} ;;
		--log-file=*) log=${a#*=} ;;
		--port=*) [ -z "$until" ] && until=http:$(_http_target "${a#*=}") ;;
		--path=*) [ -z "$until" ] && until=unix:${a#*=} ;;
		esac
	done
	start_baton "$@"
	case $until in
	http:*) wait_http "${until#http:}" "${SERVE_TIMEOUT:-10}" ;;
	unix:*) wait_until "${SERVE_TIMEOUT:-10}" http_ok_unix "${until#unix:}" ;;
	status:*) wait_status "$status" "${until#status:}" "${SERVE_TIMEOUT:-10}" ;;
	report:*) wait_report "${until#report:}" "${SERVE_TIMEOUT:-10}" ;;
	file:*) wait_file "${until#file:}" "${SERVE_TIMEOUT:-10}" ;;
	log:*) wait_file_contains "$log" "${until#log:}" "${SERVE_TIMEOUT:-10}" ;;
	*) bail_out "serve_baton: nothing to wait for in: $*" ;;
	esac && return 0
	what=${until%%:*}
	diag "the supervisor (pid $BATON_PID) did not serve ($until) within $(scaled "${SERVE_TIMEOUT:-10}") s"
	# $T/baton.err is shown by the cleanup; another one is shown here
	[ "${BATON_ERR:-$T/baton.err}" = "$T/baton.err" ] ||
		diag "its stderr:" "$(tail -n 20 "$BATON_ERR" 2>/dev/null)"
	[ "$what" = log ] || [ -z "$log" ] || diag "its log file:" "$(tail -n 20 "$log" 2>/dev/null)"
	[ "$what" = status ] && diag "status file: $(cat "$status" 2>&1)"
	bail_out "supervisor did not come up: $BATON $*"
}

# _http_target SPEC: the HOST:PORT to fetch for a --port spec (the fd pin
# dropped; a bare port is fetched on 127.0.0.1)
_http_target() {
	local spec=${1%%=*}
	case $spec in
	*:*) echo "$spec" ;;
	*) echo "127.0.0.1:$spec" ;;
	esac
}

# wait_baton_exit TIMEOUT [PID]: wait for a background supervisor to exit;
# sets BATON_STATUS. Fails (status 255) if it is still running.
wait_baton_exit() {
	local pid=${2:-$BATON_PID}
	BATON_STATUS=255
	wait_until "${1:-10}" pid_gone "$pid" || return 1
	wait "$pid" 2>/dev/null
	BATON_STATUS=$?
	return 0
}

# run_baton ARG...: in the foreground, killed after $RUN_TIMEOUT seconds
# (default 10). Sets RUN_STATUS, RUN_OUT, RUN_ERR (the texts) and RUN_MS.
run_baton() {
	local t0
	t0=$(now_ms)
	# shellcheck disable=SC2086 # LAUNCH_OPTS: words on purpose
	timeout -k 2 "$(scaled "${RUN_TIMEOUT:-10}")" "$WORKER" --launch ${LAUNCH_OPTS:-} -- \
		"$BATON" "$@" >"$T/run.out" 2>"$T/run.err" </dev/null
	RUN_STATUS=$?
	RUN_MS=$(($(now_ms) - t0))
	RUN_OUT=$(cat "$T/run.out")
	RUN_ERR=$(cat "$T/run.err")
}

# children PID: the direct children of PID
children() {
	ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' '
}

# tagged_pids: every live process started by this test (but this shell)
tagged_pids() {
	local f pid
	env -u BATON_TEST_TAG grep -laF "BATON_TEST_TAG=$BATON_TEST_TAG" \
		/proc/[0-9]*/environ >"$T/.tagged" 2>/dev/null
	while IFS= read -r f; do
		pid=${f#/proc/}
		pid=${pid%/environ}
		[ "$pid" = "$$" ] || [ "$pid" = "$BASHPID" ] && continue
		pid_alive "$pid" && echo "$pid"
	done <"$T/.tagged"
}

_kill_list() { # SIG PID...
	local sig=$1
	shift
	[ $# -gt 0 ] && kill -s "$sig" "$@" 2>/dev/null
	return 0
}

_none_alive() {
	local p
	for p in "$@"; do pid_alive "$p" && return 1; done
	return 0
}

_cleanup() {
	local pids f early=
	set +e
	trap - EXIT INT TERM HUP
	trap '' PIPE # a reader that went away must not stop the cleanup
	if [ -z "${_tap_done:-}" ] && [ -n "${T:-}" ]; then
		diag "$TEST_NAME ended early (after $_tap_n tests)"
		_tap_failed=$((_tap_failed + 1))
		early=1
	fi
	if [ -n "${T:-}" ] && [ -d "$T" ]; then
		# supervisors first, so they do not restart the workers we kill
		pids=$(sort -u "$T/.pids" 2>/dev/null)
		# shellcheck disable=SC2086
		_kill_list TERM $pids
		# shellcheck disable=SC2086
		wait_until 3 _none_alive $pids
		pids=$(tagged_pids)
		# shellcheck disable=SC2086
		_kill_list TERM $pids
		# shellcheck disable=SC2086
		wait_until 2 _none_alive $pids
		pids=$(tagged_pids)
		# shellcheck disable=SC2086
		_kill_list KILL $pids
		pids=$(tagged_pids)
		[ -n "$pids" ] && diag "processes left behind: $pids"
		if [ "$_tap_failed" -gt 0 ]; then
			for f in "$T"/baton.err "$T"/run.err; do
				[ -s "$f" ] || continue
				diag "--- last lines of $f:"
				diag "$(tail -n 25 "$f")"
			done
		fi
		_release_ports # after the kills: the supervisors held them
		cd / || true
		if [ -n "${BATON_TEST_KEEP:-}" ]; then
			diag "kept $T"
		else
			rm -rf "$T"
		fi
	fi
	[ -n "$early" ] && exit 1
	return 0
}

# ---- set-up -----------------------------------------------------------------

_TIME_SCALE=$(_time_scale_milli)
if [ -z "$_TIME_SCALE" ] || [ "$_TIME_SCALE" -le 0 ]; then
	_TIME_SCALE=1000
	bail_out "BATON_TEST_TIME_SCALE='$BATON_TEST_TIME_SCALE' is not a positive number"
fi
[ -x "$WORKER" ] || bail_out "$WORKER not built (make check builds it)"
[ -x "$LOADGEN" ] || bail_out "$LOADGEN not built (make check builds it)"
[ -x "$BATON" ] || bail_out "supervisor under test $BATON not found (set BATON=)"

T=$(mktemp -d "${TMPDIR:-/tmp}/baton-$TEST_NAME.XXXXXX") || bail_out "mktemp failed"
BATON_TEST_TAG="$TEST_NAME.$$.$RANDOM$RANDOM"
export BATON_TEST_TAG
trap _cleanup EXIT
trap 'exit 130' INT TERM HUP
trap 'exec >/dev/null; exit 141' PIPE # e.g. "script | head": still clean up
cd "$T" || bail_out "cannot cd $T"
worker_cmd
diag "$TEST_NAME against $BATON ($(flavour)) in $T"
diag "time scale: BATON_TEST_TIME_SCALE=${BATON_TEST_TIME_SCALE:-1}"
