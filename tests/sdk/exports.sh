#!/bin/sh
# SPDX-License-Identifier: ISC
# exports.sh: libbaton exports the public baton_* names and nothing else, and
# the installed header and pkg-config file build a program against it.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
lib=$top_builddir/worker-sdk/.libs/libbaton.so
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)) failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	for l in "$@"; do echo "# $l"; done
}

echo "1..5"
if [ ! -f "$lib" ]; then
	echo "Bail out! $lib not built"
	exit 1
fi
syms=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ { print $3 }' | sort)
bad=$(printf '%s\n' "$syms" | grep -v '^baton_[a-z]' | grep -v '^_\(init\|fini\|edata\|end\|_bss_start\)$')
if [ -z "$bad" ]; then ok "only baton_* names are exported"; else not_ok "only baton_* names are exported" $bad; fi

# every prototype in the header is exported, and every export is declared
decl=$(grep -o 'baton_[a-z_]*(' "$top_srcdir/worker-sdk/baton.h" | tr -d '(' | sort -u)
exp=$(printf '%s\n' "$syms" | grep '^baton_' | sort -u)
if [ "$decl" = "$exp" ]; then ok "exports match baton.h"; else
	not_ok "exports match baton.h" "declared: $(echo $decl)" "exported: $(echo $exp)"
fi

# a versioned soname, from -version-info
soname=$(objdump -p "$lib" 2>/dev/null | awk '$1 == "SONAME" { print $2 }')
case $soname in libbaton.so.[0-9]*) ok "soname $soname" ;; *) not_ok "versioned soname" "got '$soname'" ;; esac

# every public prototype has a /** */ comment right before it
undoc=$(awk '
	/\/\*\*/ { doc = 1 }
	/^BATON_API/ { if (!doc) print FNR": "$0; doc = 0 }
	/^(typedef|#define)/ { if ($0 !~ /BATON_API|BATON_PRINTF|BATON_H/) doc = 0 }
' "$top_srcdir/worker-sdk/baton.h")
if [ -z "$undoc" ]; then ok "every prototype is documented"; else not_ok "every prototype is documented" "$undoc"; fi

# the header compiles on its own, as C and with -Wall -Werror
tmp=${TMPDIR:-/tmp}/baton-exports.$$
mkdir -p "$tmp" && trap 'rm -rf "$tmp"' EXIT
printf '#include "baton.h"\nint main(void) { return baton_version() == 0; }\n' >"$tmp/t.c"
san=
# a tree configured with --enable-sanitizers built the library with them
nm -D "$lib" | grep -q __asan_ && san="-fsanitize=address,undefined"
# shellcheck disable=SC2086
if ${CC:-cc} -std=c99 -Wall -Wextra -Werror $san -I"$top_srcdir/worker-sdk" "$tmp/t.c" \
	-L"$top_builddir/worker-sdk/.libs" -lbaton -o "$tmp/t" 2>"$tmp/err" &&
	LD_LIBRARY_PATH=$top_builddir/worker-sdk/.libs "$tmp/t"; then
	ok "baton.h compiles alone (C99) and links"
else
	not_ok "baton.h compiles alone (C99) and links" "$(cat "$tmp/err")"
fi
[ "$failed" -eq 0 ]
