#!/bin/sh
# SPDX-License-Identifier: ISC
# blackbox-listed.sh: every script of tests/blackbox/ (but the lib*.sh the
# others source) is one of Makefile.am's test lists, so that "make check" and
# "make blackbox" run it; a script left out of them would never run.
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
if [ -z "${ALL_BLACKBOX_TESTS:-}" ]; then
	echo "1..0 # SKIP run through make check (ALL_BLACKBOX_TESTS unset)"
	exit 0
fi
echo "1..1"
missing=
for f in "$top_srcdir"/tests/blackbox/*.sh; do
	name=tests/blackbox/$(basename "$f")
	case $name in tests/blackbox/lib*.sh) continue ;; esac
	case " $ALL_BLACKBOX_TESTS " in
	*" $name "*) ;;
	*) missing="$missing $name" ;;
	esac
done
if [ -z "$missing" ]; then
	echo "ok 1 - every tests/blackbox/*.sh is in ALL_BLACKBOX_TESTS"
else
	echo "not ok 1 - in no test list of Makefile.am:$missing"
fi
