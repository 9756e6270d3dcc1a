#!/bin/sh
# SPDX-License-Identifier: ISC
# The whole test suite from a fresh Debian 12 machine: install what it
# needs, build, run `make check`, print the logs and a final count.
set -u
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null 2>&1 || apt-get update
	apt-get install -y -qq --no-install-recommends $(sed 's/#.*//' "$top/tests/packages.txt") >/tmp/baton-apt.log 2>&1 ||
		{ tail -20 /tmp/baton-apt.log; echo "apt-get install failed"; exit 1; }
fi

if [ ! -f Makefile ]; then
	autoreconf -fi >/dev/null && ./configure -q ${BATON_CONFIGURE_FLAGS:-} || { echo "configure failed"; exit 1; }
fi
make -j"$(nproc)" >/dev/null || { make; echo "build failed"; exit 1; }
# BATON_TEST_TIME_SCALE (default 1) stretches every duration of the black-box
# tests on a slow machine; it is never guessed from the load, only passed on.
echo "BATON_TEST_TIME_SCALE=${BATON_TEST_TIME_SCALE:-1}"
# make's output in a file of this run's own: two copies may run at once
out=$(mktemp "${TMPDIR:-/tmp}/baton-check.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT
# Twice as many tests as cores at once: the black-box scripts mostly wait on
# baton's timers and their workers' sleeps (clock-step.sh: 4 s of CPU in 31
# s), so one per core leaves the cores idle most of the time. Every wait of
# the scripts is a wait_until with a deadline (lib.sh), not a race with
# the load. BATON_TEST_JOBS sets the number.
make -j"${BATON_TEST_JOBS:-$(($(nproc) * 2))}" check >"$out" 2>&1
status=$?

# Every test log, so the Check summary lines and TAP lines show.
for log in $(find tests worker-sdk examples -name '*.log' ! -name test-suite.log 2>/dev/null | sort); do
	echo "==== $log"
	cat "$log"
done
# The slowest tests, from the "# time:" line tests/timed.sh ends each
# script's log with (wall and CPU seconds).
grep -H '^# time: ' $(find tests worker-sdk examples -name '*.log' ! -name test-suite.log 2>/dev/null) 2>/dev/null |
	sed 's/^\(.*\)\.log:# time: \([0-9.]*\) s wall, \([0-9.]*\) s CPU$/\2 \3 \1/' |
	sort -rn | head -n 20 | awk '{ printf "slowest: %6.1f s wall %6.1f s CPU  %s\n", $1, $2, $3 }'
grep -E '^(# |PASS|FAIL|ERROR|SKIP|XFAIL|XPASS)' "$out" || true

# Count: Check programs by their "Checks:" lines (tests/run-tests prints one
# per runner: the no-fork cases, then the others), TAP scripts test by test.
passed=0 failed=0 skipped=0
for trs in $(find tests worker-sdk examples -name '*.trs' 2>/dev/null); do
	log=${trs%.trs}.log
	line=$(grep -E '^[0-9]+%: Checks: [0-9]+' "$log" 2>/dev/null |
		sed 's/.*Checks: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\).*/\1 \2 \3/' |
		awk '{ n += $1; f += $2; e += $3 } END { if (NR) print n, f, e }')
	if [ -n "$line" ]; then
		set -- $line
		n=$1 f=$2 e=$3
		passed=$((passed + n - f - e))
		failed=$((failed + f + e))
		grep -q ':test-result: \(FAIL\|ERROR\)' "$trs" && [ $((f + e)) = 0 ] && failed=$((failed + 1))
		continue
	fi
	p=$(grep -c ':test-result: \(PASS\|XFAIL\)' "$trs")
	f=$(grep -c ':test-result: \(FAIL\|ERROR\|XPASS\)' "$trs")
	s=$(grep -c ':test-result: SKIP' "$trs")
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
done
[ "$status" != 0 ] && [ "$failed" = 0 ] && failed=1
echo "time scale: BATON_TEST_TIME_SCALE=${BATON_TEST_TIME_SCALE:-1}"
# the last line alone, as CI reads it
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
