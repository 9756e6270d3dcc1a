#!/bin/sh
# SPDX-License-Identifier: ISC
# fuzz-supervisor-short.sh: a few seconds of each supervisor fuzz target
# (options, --port/--path, --envdir, the metrics listener's HTTP parser,
# and the metrics listener as a server with idle and slow clients) over
# its seed corpus; the long run is "make fuzz-supervisor" (and "make
# fuzz-httpreq"). Skipped without clang's fuzzer runtime.
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
secs=${FUZZ_SHORT_SECONDS:-5}
sup=$top_srcdir/supervisor
tmp=$(mktemp -d "${TMPDIR:-/tmp}/baton-fuzz-sup.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

if ! command -v clang >/dev/null 2>&1; then
	echo "1..0 # SKIP clang not installed"
	exit 0
fi
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' >"$tmp/probe.c"
if ! clang -fsanitize=fuzzer,address "$tmp/probe.c" -o "$tmp/probe" >/dev/null 2>&1; then
	echo "1..0 # SKIP clang's libFuzzer runtime is missing (libclang-rt-dev)"
	exit 0
fi
if [ ! -f "$top_builddir/config.h" ]; then
	echo "1..0 # SKIP no config.h in $top_builddir: run configure first"
	exit 0
fi

targets="options listen envdir httpreq metricsd"
echo "1..11"

# Every module of the supervisor but main.c, compiled once, linked into
# each target (libbatond is exactly those modules).
# -O0: this is the short run, which the seeds and a few seconds of
# mutations are for; at -O1 the 33 modules took 4 to 5 times as long to
# compile (100 s of the suite's time on a loaded host). "make
# fuzz-supervisor" builds the long run's targets at -O1.
cflags="-g -O0 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
ok=1
for f in "$sup"/*.c; do
	[ "$(basename "$f")" = main.c ] && continue
	o=$tmp/$(basename "$f" .c).o
	# shellcheck disable=SC2086
	clang $cflags -I"$top_builddir" -I"$sup" -c "$f" -o "$o" \
		2>>"$tmp/cc.err" || ok=0
done
for t in $targets; do
	# shellcheck disable=SC2086
	[ $ok = 1 ] && clang $cflags -I"$top_builddir" -I"$sup" \
		"$sup/fuzz/fuzz-$t.c" "$tmp"/*.o -lev -lcap \
		-o "$tmp/fuzz-$t" 2>>"$tmp/cc.err" || ok=0
done
if [ $ok = 1 ]; then
	echo "ok 1 - the fuzz targets build ($targets)"
else
	echo "not ok 1 - the fuzz targets build ($targets)"
	grep -v warning "$tmp/cc.err" | head -n 30 | sed 's/^/# /'
	exit 1
fi

# A finding another change is due to fix: reported as TODO (an expected
# failure), so that the suite stays green until it lands, and turns into
# a plain "ok" by itself once it has.
pending() {
	if grep -aq 'envdir set the reserved variable' "$1"; then
		echo " # TODO an envdir can still set baton's reserved variables"
	elif grep -aq 'the message spans lines' "$1"; then
		echo " # TODO listen.c quotes a newline of the spec raw"
	fi
}

report() { # n, description, log, artifact dir
	todo=$(pending "$3")
	echo "not ok $1 - $2$todo"
	grep -aE 'baton fuzz:|ERROR:|SUMMARY|#[0-9]+ 0x.* in .*/supervisor/' "$3" |
		head -n 16 | sed 's/^/# /'
	for a in "$4"/crash-* "$4"/leak-* "$4"/timeout-*; do
		[ -f "$a" ] && echo "# input: $(od -An -c "$a" | head -n 4 | tr -s ' ')"
	done
	[ -n "$todo" ]
}

n=2
for t in $targets; do
	corpus=$sup/fuzz/corpus/$t
	# every seed alone first: a seed that crashes is a regression
	if "$tmp/fuzz-$t" -runs=0 "$corpus" >"$tmp/seeds-$t.log" 2>&1; then
		echo "ok $n - fuzz-$t: the seed corpus runs clean ($(ls "$corpus" | wc -l) seeds)"
	else
		report $n "fuzz-$t: the seed corpus runs clean" "$tmp/seeds-$t.log" "$tmp"
	fi
	n=$((n + 1))
	mkdir "$tmp/corpus-$t" "$tmp/art-$t" && cp "$corpus"/* "$tmp/corpus-$t/"
	if "$tmp/fuzz-$t" -max_total_time="$secs" -dict="$sup/fuzz/$t.dict" \
		-artifact_prefix="$tmp/art-$t/" "$tmp/corpus-$t" >"$tmp/fuzz-$t.log" 2>&1; then
		runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$tmp/fuzz-$t.log")
		echo "ok $n - fuzz-$t: ${secs}s of fuzzing found nothing ($runs executions)"
	else
		report $n "fuzz-$t: ${secs}s of fuzzing found nothing" "$tmp/fuzz-$t.log" "$tmp/art-$t" || exit 1
	fi
	n=$((n + 1))
done
