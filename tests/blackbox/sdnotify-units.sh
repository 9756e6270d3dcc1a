#!/bin/bash
# SPDX-License-Identifier: ISC
# The systemd units in examples/systemd pass "systemd-analyze verify" (which
# needs no systemd as PID 1), with their /usr/local paths pointed at this
# build: no error, and no warning about them (Type=notify-reload, which
# systemd before 253 does not know, would be one: see systemd-units.sh).
. "$(dirname "$0")/lib.sh"

command -v systemd-analyze >/dev/null || skip_all "systemd-analyze not installed"
ver=$(systemd-analyze --version | awk 'NR == 1 { print $2 }')
HTTP_WORKER=$top_builddir/examples/c/http-worker
[ -x "$HTTP_WORKER" ] || skip_all "$HTTP_WORKER not built"
mkdir "$T/units"
for f in "$top_srcdir"/examples/systemd/*.service "$top_srcdir"/examples/systemd/*.socket; do
	sed -e "s|/usr/local/bin/baton|$BATON|g" \
		-e "s|/usr/local/libexec/baton/http-worker|$HTTP_WORKER|g" \
		"$f" >"$T/units/${f##*/}"
done
cd "$T/units" || bail_out "cannot cd $T/units"
for set in "baton.service" "baton-app.socket baton-app.service" \
	"http-worker.socket http-worker.service"; do
	# shellcheck disable=SC2086 # a list of units on purpose
	out=$(systemd-analyze verify $set 2>&1)
	rc=$?
	is "$rc" 0 "systemd-analyze verify $set (systemd $ver)"
	# only what concerns these units: verify also loads the machine's
	# own units they are ordered against, whatever state those are in
	names=$(sed 's/ /|/g; s/\./\\./g' <<<"$set")
	out=$(grep -E "(^|/)($names)[: ]" <<<"$out")
	is "$out" "" "and it says nothing about $set"
done
done_testing
