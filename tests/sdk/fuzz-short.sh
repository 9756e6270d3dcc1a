#!/bin/sh
# SPDX-License-Identifier: ISC
# fuzz-short.sh: a few seconds of the libFuzzer target over the seed corpus
# (the long run is "make fuzz"). Skipped without clang's fuzzer runtime.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
secs=${FUZZ_SHORT_SECONDS:-5}
sdk=$top_srcdir/worker-sdk
tmp=$(mktemp -d "${TMPDIR:-/tmp}/baton-fuzz.XXXXXX") || exit 1
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

echo "1..3"
if clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-D_GNU_SOURCE -I"$sdk" "$sdk/fuzz/fuzz-env.c" "$sdk/error.c" "$sdk/parse.c" \
	"$sdk/verify.c" "$sdk/listeners.c" -o "$tmp/fuzz-env" 2>"$tmp/cc.err"; then
	echo "ok 1 - fuzz target builds"
else
	echo "not ok 1 - fuzz target builds"
	sed 's/^/# /' "$tmp/cc.err"
	exit 1
fi

# every seed alone first: a seed that crashes is a regression
if "$tmp/fuzz-env" -runs=0 "$sdk/fuzz/corpus" >"$tmp/seeds.log" 2>&1; then
	echo "ok 2 - the seed corpus runs clean ($(ls "$sdk/fuzz/corpus" | wc -l) seeds)"
else
	echo "not ok 2 - the seed corpus runs clean"
	tail -n 30 "$tmp/seeds.log" | sed 's/^/# /'
fi

mkdir "$tmp/corpus" && cp "$sdk/fuzz/corpus/"* "$tmp/corpus/"
if "$tmp/fuzz-env" -max_total_time="$secs" -dict="$sdk/fuzz/fuzz.dict" \
	-artifact_prefix="$tmp/" "$tmp/corpus" >"$tmp/fuzz.log" 2>&1; then
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$tmp/fuzz.log")
	echo "ok 3 - ${secs}s of fuzzing found nothing ($runs executions)"
else
	echo "not ok 3 - ${secs}s of fuzzing found nothing"
	grep -A 20 -E 'ERROR|SUMMARY|deadly' "$tmp/fuzz.log" | head -n 40 | sed 's/^/# /'
	for a in "$tmp"/crash-* "$tmp"/leak-* "$tmp"/timeout-*; do
		[ -f "$a" ] && echo "# input: $(od -An -c "$a" | head -n 4 | tr -s ' ')"
	done
	exit 1
fi
