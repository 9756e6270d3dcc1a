#!/bin/sh
# SPDX-License-Identifier: ISC
# End-to-end check of examples/systemd: build this tree in a Debian 12
# image, "make install" it and copy the units in as they are, boot
# Debian's own systemd (252) as PID 1 in a container, and drive every unit
# with systemctl as a user would: socket activation, five reloads under
# load, the status line, a timed stop that leaves nothing behind. TAP
# output. Not part of `make check`: it needs a container engine and a way
# to the Debian archive; without an engine it exits 77 (skip).
# tests/blackbox/systemd-units.sh (in `make check`) checks the units'
# text.
#
#   sh examples/systemd/check.sh
#   BUILD_FLAGS=--network=host sh examples/systemd/check.sh
#       (where the build containers' bridge has no way out)
#   RUN_FLAGS='...' sh examples/systemd/check.sh
#       (the flags systemd runs with, if those chosen below do not do)
#
# The base image is debian:12 (BASE=...); where the engine has none and
# cannot pull one, it is made with debootstrap --variant=minbase from
# MIRROR (default http://deb.debian.org/debian), if debootstrap is there.
# shellcheck disable=SC2016 # single quotes: expanded by sh -c or eval
set -u
cd "$(dirname "$0")/../.." || exit 1
ENGINE=${ENGINE:-docker}
IMAGE=${IMAGE:-baton-systemd:check}
BASE=${BASE:-debian:12}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
BUILD_FLAGS=${BUILD_FLAGS:-}
RELOADS=5
LOAD_SECONDS=60 # the load's upper bound; it is stopped after the reloads

if ! command -v "$ENGINE" >/dev/null 2>&1 || ! "$ENGINE" info >/dev/null 2>&1; then
	echo "1..0 # SKIP no container engine: '$ENGINE info' fails (set ENGINE=podman?)"
	exit 77
fi
command -v awk >/dev/null 2>&1 || { echo "1..0 # SKIP awk is missing"; exit 77; }

# systemd as PID 1 needs a writable /run and a cgroup tree of its own:
# on a cgroup v2 host, the host's namespace and tree, writable; on a v1
# (or hybrid) host, docker's read-only view of the host's tree suffices.
# container=docker tells systemd it is in a container (no getty, no udev).
if [ -z "${RUN_FLAGS-}" ]; then
	RUN_FLAGS="--tmpfs /run --tmpfs /run/lock"
	if [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then
		RUN_FLAGS="$RUN_FLAGS --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw"
	else
		RUN_FLAGS="$RUN_FLAGS -v /sys/fs/cgroup:/sys/fs/cgroup:ro"
	fi
fi

n=0 failed=0 cid='' tmp=$(mktemp -d)
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() { # check DESCRIPTION COMMAND...
	d=$1
	shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
diag() { sed 's/^/# /'; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
cleanup() {
	[ -n "$cid" ] && "$ENGINE" rm -f "$cid" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
# wait_for SECONDS COMMAND...: poll every 0.2 s, bounded
wait_for() {
	_w=0 _wmax=$(($1 * 5))
	shift
	while [ $_w -lt $_wmax ]; do
		"$@" && return 0
		sleep 0.2
		_w=$((_w + 1))
	done
	return 1
}
# inside COMMAND...: run it inside the container, as root
inside() { "$ENGINE" exec "$cid" "$@"; }
prop() { inside systemctl show -p "$2" --value "$1"; } # prop UNIT PROPERTY
status_is() { [ "$(prop "$1" StatusText)" = "$2" ]; }
# get PATH: the body from the unit's port, or nothing (curl's own bound)
get() { inside curl -s --max-time "${2:-5}" "http://127.0.0.1:8080$1"; }
answers_gen() { get / | grep -q "^gen=$1 "; }
# what is left of a unit: processes whose cgroup is the unit's
leftovers() {
	inside sh -c 'grep -l "/$1\$" /proc/[0-9]*/cgroup 2>/dev/null |
		sed "s|/proc/||; s|/cgroup||" | tr "\n" " "' sh "$1"
}
port_closed() {
	[ -z "$(inside ss -Htln 'sport = :8080')" ] &&
		! inside curl -s -o /dev/null --max-time 3 http://127.0.0.1:8080/
}

# 1. the base image, then this tree built and installed in it
if ! "$ENGINE" image inspect "$BASE" >/dev/null 2>&1 &&
	! "$ENGINE" pull -q "$BASE" >/dev/null 2>&1; then
	if ! command -v debootstrap >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
		echo "1..0 # SKIP no $BASE image, and no debootstrap (as root) to make one"
		exit 77
	fi
	t0=$(now)
	if debootstrap --variant=minbase bookworm "$tmp/rootfs" "$MIRROR" >"$tmp/debootstrap.log" 2>&1 &&
		tar -C "$tmp/rootfs" -c . | "$ENGINE" import - "$BASE" >/dev/null; then
		ok "$BASE made with debootstrap ($(since "$t0") s)"
	else
		not_ok "$BASE made with debootstrap"
		tail -20 "$tmp/debootstrap.log" | diag
		echo "1..$n"
		exit 1
	fi
	rm -rf "$tmp/rootfs"
fi

# The image: the README's build, "make install" (no ldconfig: a unit must
# work right after it), the units copied in unchanged, tests/loadgen for
# the load, and systemd as PID 1. .dockerignore at the top keeps a tree
# built here out of the context.
cat >"$tmp/Dockerfile" <<EOF
FROM $BASE
RUN apt-get update -qq && \\
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \\
        build-essential autoconf automake libtool pkg-config libev-dev \\
        libcap-dev systemd systemd-sysv curl procps iproute2 >/dev/null
WORKDIR /src
COPY . .
RUN autoreconf -fi >/dev/null && ./configure -q && make -j"\$(nproc)" >/dev/null && \\
    make install >/dev/null && make tests/loadgen >/dev/null && \\
    cp examples/systemd/*.service examples/systemd/*.socket /etc/systemd/system/
STOPSIGNAL SIGRTMIN+3
CMD ["/lib/systemd/systemd"]
EOF
t0=$(now)
# shellcheck disable=SC2086 # BUILD_FLAGS is a list of flags
if "$ENGINE" build $BUILD_FLAGS -f - -t "$IMAGE" . <"$tmp/Dockerfile" >"$tmp/build.log" 2>&1; then
	ok "image builds: make install, units copied in ($(since "$t0") s)"
else
	not_ok "image builds"
	tail -30 "$tmp/build.log" | diag
	echo "1..$n"
	exit 1
fi

# 2. boot
t0=$(now)
# shellcheck disable=SC2086 # RUN_FLAGS is a list of flags
# (a container created but not started still prints its id: cleanup
# removes it)
if ! cid=$("$ENGINE" run -d -e container=docker $RUN_FLAGS "$IMAGE" 2>"$tmp/run.err"); then
	not_ok "the container starts (flags: $RUN_FLAGS)"
	diag <"$tmp/run.err"
	echo "1..$n"
	exit 1
fi
# "starting" while it boots; before its bus is up, nothing; the wait
# ends early when the container has exited
running() { [ "$("$ENGINE" inspect -f '{{.State.Running}}' "$cid")" = true ]; }
up() {
	running || return 0
	state=$(inside systemctl is-system-running 2>/dev/null)
	[ "$state" = running ] || [ "$state" = degraded ]
}
wait_for 60 up
running && echo "# $(inside systemctl --version | head -1) is PID 1 ($(inside cat /proc/1/comm)), $state after $(since "$t0") s (flags: $RUN_FLAGS)"
booted() { running && [ "$(inside cat /proc/1/comm)" = systemd ] && { [ "$state" = running ] || [ "$state" = degraded ]; }; }
if ! booted; then
	not_ok "systemd boots as PID 1 (state: ${state:-no answer})"
	running || echo "container exited: $("$ENGINE" inspect -f '{{.State.ExitCode}} {{.State.Error}}' "$cid")" | diag
	"$ENGINE" logs "$cid" 2>&1 | tail -20 | diag
	echo "1..$n"
	exit 1
fi
ok "systemd boots as PID 1"
[ "$state" = degraded ] && inside systemctl --failed --no-pager --plain | diag
check "make install put the worker where the units run it" \
	inside test -x /usr/local/libexec/baton/http-worker
for u in baton-app.service baton.service; do
	check "$u: Type=notify with an ExecReload= on systemd 252" \
		test "$(prop $u Type)" = notify -a -n "$(prop $u ExecReload | grep -F /kill)"
done
inside journalctl -b --no-pager -o cat >"$tmp/journal"
check "systemd had nothing to say about the units" \
	test -z "$(grep -E 'baton|http-worker' "$tmp/journal" | grep -iE 'fail|ignor|unknown|warn')"

# 3. the socket-activated pair: systemd binds, the first connection
# starts baton, baton adopts the socket
check "systemctl start baton-app.socket" inside systemctl start baton-app.socket
check "... listens, baton not started yet" \
	test -n "$(inside ss -Htln 'sport = :8080')" -a "$(prop baton-app.service ActiveState)" = inactive
t0=$(now)
body=$(get / 30)
echo "# first connection answered after $(since "$t0") s: $body"
check "a connection activates baton-app.service and is answered by generation 1" \
	test -n "$(echo "$body" | grep '^gen=1 ')"
main=$(prop baton-app.service MainPID)
check "baton is the main process ($main), active" \
	test "$(inside cat "/proc/$main/comm")" = baton -a "$(prop baton-app.service ActiveState)" = active
inside journalctl -u baton-app.service --no-pager -o cat >"$tmp/app.log"
check "baton adopted the socket from systemd" grep -q 'adopting 127.0.0.1:8080 (fd 3' "$tmp/app.log"
check "systemctl status shows baton's STATUS= (generation 1 serving)" \
	wait_for 10 sh -c "$ENGINE exec $cid systemctl status --no-pager baton-app.service | grep -q 'Status: \"generation 1 serving\"'"

# 4. five reloads under load: loadgen keeps 8 requests in flight on
# fresh connections; each reload must end with the next generation
# serving, and no request may fail
inside sh -c "rm -f /run/load.stop; /src/tests/loadgen 127.0.0.1 8080 --seconds $LOAD_SECONDS \
	--max-requests 10000000 --concurrency 8 --timeout-ms 5000 \
	--stop-file /run/load.stop >/run/load.out 2>&1 &"
sleep 1
r=1
while [ $r -le $RELOADS ]; do
	t0=$(now)
	inside systemctl reload baton-app.service
	rc=$?
	took=$(since "$t0")
	want="generation $((r + 1)) serving"
	wait_for 30 status_is baton-app.service "$want"
	echo "# reload $r: systemctl reload exit $rc after $took s; \"$want\" after $(since "$t0") s"
	check "systemctl reload $r exits 0, then generation $((r + 1)) serves" \
		test "$rc" = 0 -a "$(prop baton-app.service StatusText)" = "$want"
	sleep 1
	r=$((r + 1))
done
inside touch /run/load.stop
wait_for 10 inside grep -q requests= /run/load.out
load=$(inside cat /run/load.out)
echo "# load across $RELOADS reloads: $load"
requests=$(echo "$load" | sed -n 's/.*requests=\([0-9]*\).*/\1/p')
lfailed=$(echo "$load" | sed -n 's/.* failed=\([0-9]*\).*/\1/p')
check "no failed request across $RELOADS reloads ($lfailed of $requests)" \
	test "${lfailed:-x}" = 0 -a "${requests:-0}" -gt 100
gens=$(echo "$load" | sed -n 's/.*min_gen=\([0-9]*\) max_gen=\([0-9]*\).*/\1 \2/p')
check "the load was served by generation 1 to $((RELOADS + 1)) ($gens)" \
	test "$gens" = "1 $((RELOADS + 1))"
check "generation $((RELOADS + 1)) answers" answers_gen $((RELOADS + 1))
check "the reloads were baton's hot restarts: the main pid is still $main" \
	test "$(prop baton-app.service MainPID)" = "$main"
inside systemctl status --no-pager baton-app.service >"$tmp/status"
diag <"$tmp/status"
check "systemctl status shows \"generation $((RELOADS + 1)) serving\"" \
	grep -q "Status: \"generation $((RELOADS + 1)) serving\"" "$tmp/status"

# 5. stop: a request in flight finishes, everything goes, the port closes
before=$(leftovers baton-app.service)
( get /sleep/2000 10 >"$tmp/inflight" ) &
slow=$!
sleep 0.5
t0=$(now)
inside systemctl stop baton-app.socket baton-app.service
rc=$?
took=$(since "$t0")
wait $slow
echo "# systemctl stop: exit $rc after $took s (processes before: $before)"
check "systemctl stop exits 0 (in $took s), the unit inactive" \
	test "$rc" = 0 -a "$(prop baton-app.service ActiveState)" = inactive
check "a request in flight at the stop is answered" grep -q '^gen=' "$tmp/inflight"
left=$(leftovers baton-app.service)
check "no process left in baton-app.service's cgroup${left:+: $left}" test -z "$left"
check "no baton or http-worker process left" \
	test -z "$(inside pgrep -x baton)$(inside pgrep -f libexec/baton/http-worker)"
check "the port is closed" port_closed
check "the unit ended cleanly (Result=success)" test "$(prop baton-app.service Result)" = success
inside journalctl -b --no-pager -o cat -u baton-app.service -u baton-app.socket >"$tmp/app.log"
# (not "Failed to get cgroup ID ...": the container's read-only cgroup
# tree, nothing to do with the units)
complaints=$(grep -E 'reception only permitted|not applicable|[Tt]imed out|Failed with result|Failed to parse|[Uu]nknown|[Ww]atchdog' "$tmp/app.log")
check "systemd complained of nothing about baton-app${complaints:+: $complaints}" test -z "$complaints"

# 6. baton.service: baton binds the port itself, --fdstore keeps the
# listener across a restart of baton
check "systemctl start baton.service (returns once generation 1 serves)" \
	inside systemctl start baton.service
check "... generation 1 answers at once" answers_gen 1
t0=$(now)
inside systemctl reload baton.service
rc=$?
wait_for 30 status_is baton.service "generation 2 serving"
echo "# baton.service reload: exit $rc; generation 2 serving after $(since "$t0") s"
check "systemctl reload exits 0: generation 2 serves" eval '[ "$rc" = 0 ] && answers_gen 2'

# What baton.service's comments say of a restart that fails (a worker
# that exits at once stands in for a bad deploy): with the shipped
# ExecReload=kill, the reload succeeds and the status line tells; with
# the commented ExecReload=baton --restart, the reload fails. baton keeps
# retrying meanwhile, and the old generation keeps serving.
W=/usr/local/libexec/baton/http-worker
break_worker() {
	inside sh -c "mv $W $W.good && printf '#!/bin/sh\nexit 1\n' >$W && chmod 755 $W"
}
fix_worker() { inside mv "$W.good" "$W"; }
failed_status() { prop baton.service StatusText | grep -q '^restart failed: .*; generation 2 keeps serving$'; }
serving() { prop baton.service StatusText | grep -q '^generation [0-9]* serving$'; }
break_worker
inside systemctl reload baton.service
rc=$?
wait_for 30 failed_status
echo "# a restart that fails, ExecReload=kill: exit $rc; \"$(prop baton.service StatusText)\""
check "ExecReload=kill, the restart fails: reload exits 0, the status line says why" \
	eval '[ "$rc" = 0 ] && failed_status'
check "... and generation 2 still answers" answers_gen 2
fix_worker
check "the worker repaired, baton's retry brings a new generation" wait_for 30 serving
inside sh -c 'mkdir -p /etc/systemd/system/baton.service.d && sed -n "s/^#\(ExecReload=.*baton --restart.*\)/[Service]\nExecReload=\n\1/p" \
	/etc/systemd/system/baton.service >/etc/systemd/system/baton.service.d/restart.conf && systemctl daemon-reload'
check "a drop-in with baton.service's commented ExecReload=baton --restart" \
	test -n "$(prop baton.service ExecReload | grep -F 'baton --restart')"
gen=$(prop baton.service StatusText | awk '{ print $2 }')
inside systemctl reload baton.service
rc=$?
got=$(prop baton.service StatusText)
check "ExecReload=baton --restart: reload exits 0 once generation $((gen + 1)) serves ($got)" \
	test "$rc" = 0 -a "$got" = "generation $((gen + 1)) serving"
break_worker
inside systemctl reload baton.service >/dev/null 2>&1
rc=$?
got=$(prop baton.service StatusText)
echo "# a restart that fails, ExecReload=baton --restart: exit $rc; \"$got\""
check "ExecReload=baton --restart, the restart fails: reload fails, the status line says why" \
	eval '[ "$rc" != 0 ] && echo "$got" | grep -q "^restart failed: "'
fix_worker
inside sh -c 'rm -r /etc/systemd/system/baton.service.d && systemctl daemon-reload'
wait_for 30 serving
old=$(prop baton.service MainPID)
check "systemctl restart baton.service" inside systemctl restart baton.service
new=$(prop baton.service MainPID)
inside journalctl -u baton.service --no-pager -o cat >"$tmp/baton.log"
check "a new baton ($old -> $new) adopts the listener from the fd store" \
	test "$new" != "$old" -a -n "$(grep 'adopting 127.0.0.1:8080' "$tmp/baton.log")"
check "... and its generation 1 answers" answers_gen 1
t0=$(now)
inside systemctl stop baton.service
rc=$?
echo "# baton.service stop: exit $rc after $(since "$t0") s"
left=$(leftovers baton.service)
check "systemctl stop baton.service: nothing left${left:+: $left}, port closed" \
	eval '[ "$rc" = 0 ] && [ -z "$left" ] && port_closed'

# 7. http-worker.socket: the worker under systemd alone
check "systemctl start http-worker.socket" inside systemctl start http-worker.socket
body=$(get / 30)
echo "# http-worker.socket: $body"
check "a connection starts http-worker.service and is answered" test -n "$body"
check "systemctl stop http-worker.socket http-worker.service" \
	inside systemctl stop http-worker.socket http-worker.service
left=$(leftovers http-worker.service)
check "nothing left of http-worker.service${left:+: $left}, port closed" \
	eval '[ -z "$left" ] && port_closed'

echo "1..$n"
[ "$failed" = 0 ]
