#!/bin/sh
# SPDX-License-Identifier: ISC
# End-to-end check of examples/container: build the image from the top of
# the repository as the Dockerfile says, run it, probe it the way the
# kubelet would, hot-restart it under load and time a stop. TAP output.
# Not part of `make check`: it needs a container engine and a way to the
# Debian archive; without an engine it exits 77 (skip).
#
#   sh examples/container/check.sh
#   BUILD_FLAGS=--network=host sh examples/container/check.sh
#       (where the build containers' bridge has no way out)
#   ENGINE=podman sh examples/container/check.sh
set -u
cd "$(dirname "$0")/../.." || exit 1
ENGINE=${ENGINE:-docker}
IMAGE=${IMAGE:-baton-example:check}
BUILD_FLAGS=${BUILD_FLAGS:-}
STOP_DELAY=10 # the ENTRYPOINT's --stop-delay=auto:10: its MAX, as the sampler
# below keeps opening connections (baton waits while they arrive)
GRACE=35      # baton.yaml's terminationGracePeriodSeconds

if ! command -v "$ENGINE" >/dev/null 2>&1 || ! "$ENGINE" info >/dev/null 2>&1; then
	echo "1..0 # SKIP no container engine: '$ENGINE info' fails (set ENGINE=podman?)"
	exit 77
fi
for tool in curl awk; do
	command -v $tool >/dev/null 2>&1 || { echo "1..0 # SKIP $tool is missing"; exit 77; }
done

n=0 failed=0 cid='' cid2='' tmp=$(mktemp -d)
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() { # check DESCRIPTION COMMAND...
	d=$1
	shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
cleanup() {
	for c in $cid $cid2; do "$ENGINE" rm -f "$c" >/dev/null 2>&1; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
# status URL: the HTTP status code, or 000 when nothing answered
status() { curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$1"; }
# wait_for SECONDS COMMAND...: poll every 0.2 s, bounded
wait_for() {
	i=0 max=$(($1 * 5))
	shift
	while [ $i -lt $max ]; do
		"$@" && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}
is() { [ "$(status "$2")" = "$1" ]; }
health_is() { [ "$("$ENGINE" inspect -f '{{.State.Health.Status}}' "$cid")" = "$1" ]; }
published() { "$ENGINE" port "$1" "$2/tcp" | sed -n '1{s/^0\.0\.0\.0:/127.0.0.1:/;p;}'; }

# 1. build, exactly as the Dockerfile's header says
t0=$(now)
# shellcheck disable=SC2086 # BUILD_FLAGS is a list of flags
if "$ENGINE" build $BUILD_FLAGS -f examples/container/Dockerfile -t "$IMAGE" . >"$tmp/build.log" 2>&1; then
	ok "image builds ($(since "$t0") s)"
else
	not_ok "image builds"
	sed 's/^/# /' "$tmp/build.log" | tail -30
	echo "1..$n"
	exit 1
fi
size=$("$ENGINE" image inspect -f '{{.Size}}' "$IMAGE")
echo "# image size: $(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1e6 }') MB"

# 2. not ready before a generation serves: the same baton in front of a
# worker that never sends READY=1
cid2=$("$ENGINE" run -d -p 127.0.0.1::9100 --entrypoint /usr/local/bin/baton "$IMAGE" \
	--port=0.0.0.0:8080 --ready=notify --ready-timeout=60 \
	--metrics-listen=0.0.0.0:9100 -- sleep 300)
m2=$(published "$cid2" 9100)
check "/healthz 200 while the first generation starts" wait_for 30 is 200 "http://$m2/healthz"
body=$(curl -s --max-time 3 "http://$m2/readyz")
code=$(status "http://$m2/readyz")
echo "# before ready: /readyz $code $body"
check "/readyz 503 with its reason before ready" \
	test "$code" = 503 -a -n "$(echo "$body" | grep 'not ready: no generation serves yet')"
"$ENGINE" rm -f "$cid2" >/dev/null
cid2=''

# 3. the image as built
cid=$("$ENGINE" run -d -p 127.0.0.1::8080 -p 127.0.0.1::9100 "$IMAGE")
app=$(published "$cid" 8080)
m=$(published "$cid" 9100)
check "/readyz 200 once generation 1 serves" wait_for 60 is 200 "http://$m/readyz"
check "/healthz 200" is 200 "http://$m/healthz"
check "the worker answers on 8080" \
	test -n "$(curl -s --max-time 3 "http://$app/" | grep '^gen=1 ')"
curl -s --max-time 3 "http://$m/metrics" >"$tmp/metrics"
check "/metrics has the baton_listener_* families" \
	grep -q '^baton_listener_accept_queue_length{listener="0.0.0.0:8080"' "$tmp/metrics"
echo "# $(grep -c '^# TYPE baton_listener_' "$tmp/metrics") baton_listener_* families"
probe() { "$ENGINE" exec "$cid" baton --health --ready --status-file=/run/baton/status >"$tmp/probe" 2>&1; }
check "exec probe: baton --health --ready exits 0" probe
echo "# exec probe: $(cat "$tmp/probe")"
t0=$(now)
check "HEALTHCHECK reports healthy" wait_for 40 health_is healthy
echo "# healthy after $(since "$t0") s more"

# 4. HUP under load: 4 clients for 5 s, HUP after 1 s; every request
# must be answered
load() {
	end=$(($(date +%s) + 5))
	while [ "$(date +%s)" -lt "$end" ]; do
		if curl -sf -o /dev/null --max-time 5 "http://$app/"; then
			echo ok
		else
			echo fail
		fi
	done >"$tmp/load.$1"
}
for i in 1 2 3 4; do load $i & done
sleep 1
"$ENGINE" kill -s HUP "$cid" >/dev/null
wait
total=$(cat "$tmp"/load.* | wc -l)
fails=$(cat "$tmp"/load.* | grep -c fail)
echo "# HUP under load: $total requests, $fails failed"
check "no failed request across the HUP" test "$fails" = 0 -a "$total" -gt 20
check "generation 2 serves after the HUP" \
	wait_for 30 sh -c "curl -s --max-time 3 'http://$app/' | grep -q '^gen=2 '"
check "/readyz still 200 after the HUP" is 200 "http://$m/readyz"
check "baton --restart inside the container exits 0" \
	"$ENGINE" exec "$cid" baton --restart --pid-file=/run/baton/pid --status-file=/run/baton/status
check "generation 3 serves after it" \
	wait_for 30 sh -c "curl -s --max-time 3 'http://$app/' | grep -q '^gen=3 '"

# 5. docker stop: /readyz 503 at once, the app serves for --stop-delay,
# a request in flight when the workers get their signal finishes, exit 0
# well inside the grace period. A sampler logs "seconds readyz app".
sample() {
	while :; do
		r=$(status "http://$m/readyz")
		a=$(status "http://$app/")
		echo "$(since "$t0") $r $a"
		[ "$r$a" = 000000 ] && break
		sleep 0.2
	done >"$tmp/timeline"
}
t0=$(now)
sample &
sampler=$!
(
	sleep $((STOP_DELAY - 1))
	curl -s -o /dev/null -w '%{http_code}' --max-time 20 "http://$app/sleep/3000" >"$tmp/inflight"
) &
slow=$!
( "$ENGINE" stop -t 40 "$cid" >/dev/null; since "$t0" >"$tmp/stopped" ) &
stopper=$!
wait_for 5 is 503 "http://$m/readyz"
body=$(curl -s --max-time 3 "http://$m/readyz")
echo "# stopping: /readyz $body"
check "/readyz says why: not ready: stopping" \
	test -n "$(echo "$body" | grep 'not ready: stopping')"
wait $stopper
stopped=$(cat "$tmp/stopped")
wait $slow
wait $sampler
code=$("$ENGINE" inspect -f '{{.State.ExitCode}}' "$cid")
first503=$(awk '$2 == 503 { print $1; exit }' "$tmp/timeline")
last_app=$(awk '$3 == 200 { t = $1 } END { print t }' "$tmp/timeline")
echo "# stop timeline (s after docker stop): /readyz 503 at $first503," \
	"app last answered at $last_app, container gone at $stopped, exit code $code"
echo "# request sent at $((STOP_DELAY - 1)) s taking 3 s: $(cat "$tmp/inflight")"
check "/readyz turns 503 within 1 s of SIGTERM" awk -v t="$first503" 'BEGIN { exit !(t != "" && t < 1) }'
check "the app keeps answering for the stop delay" \
	awk -v t="$last_app" -v d="$STOP_DELAY" 'BEGIN { exit !(t != "" && t >= d - 1) }'
check "a request in flight at the end of the delay completes" test "$(cat "$tmp/inflight")" = 200
check "the container exits 0" test "$code" = 0
check "it exits inside the grace period ($GRACE s)" \
	awk -v t="$stopped" -v g="$GRACE" 'BEGIN { exit !(t < g - 5) }'
"$ENGINE" rm "$cid" >/dev/null
cid=''

# 6. a second SIGTERM (docker stop twice, a human in a hurry) skips the
# rest of the delay
cid=$("$ENGINE" run -d -p 127.0.0.1::9100 "$IMAGE")
m=$(published "$cid" 9100)
wait_for 60 is 200 "http://$m/readyz"
t0=$(now)
"$ENGINE" kill -s TERM "$cid" >/dev/null
sleep 1
"$ENGINE" kill -s TERM "$cid" >/dev/null
code=$("$ENGINE" wait "$cid")
gone=$(since "$t0")
echo "# TERM, TERM 1 s later: gone at $gone s, exit code $code"
check "a second SIGTERM stops at once, exit 0" \
	awk -v t="$gone" -v c="$code" -v d="$STOP_DELAY" 'BEGIN { exit !(c == 0 && t < d / 2) }'
"$ENGINE" rm "$cid" >/dev/null
cid=''

echo "1..$n"
[ "$failed" = 0 ]
