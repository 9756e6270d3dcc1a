#!/bin/bash
# SPDX-License-Identifier: ISC
# Helpers for the qstat-*.sh scripts (after lib.sh): the qprobe helper, a
# listener's inode as ss(8) shows it, a field of qprobe's JSON line.
# shellcheck disable=SC2034
QPROBE=${QPROBE:-$top_builddir/tests/qprobe}
command -v ss >/dev/null 2>&1 || skip_all "ss(8) not installed"
[ -x "$QPROBE" ] || bail_out "$QPROBE not built (make check builds it)"

tcp_inode() { # tcp_inode PORT: the inode of the TCP listener on 127.0.0.1:PORT
	ss -Hltne "sport = :$1" 2>/dev/null | grep -o 'ino:[0-9]*' | head -n 1 | cut -d: -f2
}

unix_inode() { # unix_inode PATH: the inode of the unix listener at PATH
	ss -Hlxn src "$1" 2>/dev/null | awk '{ print $6; exit }'
}

baton_has_socket() { # baton_has_socket INODE: one of baton's fds is it
	local f
	for f in "/proc/$BATON_PID/fd/"*; do
		[ "$(readlink "$f" 2>/dev/null)" = "socket:[$1]" ] && return 0
	done
	return 1
}

jfield() { # jfield JSON NAME: a number or null from qprobe's one line
	sed -n "s/.*\"$2\":\([0-9a-z]*\).*/\1/p" <<<"$1"
}
