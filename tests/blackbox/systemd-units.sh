#!/bin/bash
# SPDX-License-Identifier: ISC
# examples/systemd's units work on the systemd Debian 12 has (252): every
# service is Type=notify, not notify-reload (253 and later only: 252
# ignores the line and runs the unit as Type=simple, and "systemctl
# reload" is "not applicable"), each one running baton has an ExecReload=
# that restarts it, and every program a unit runs is one "make install"
# puts there (default prefix) or a system one. A reading of the files,
# with no systemd needed; examples/systemd/check.sh runs them under a real
# systemd in a container.
. "$(dirname "$0")/lib.sh"

DIR=$top_srcdir/examples/systemd
[ -f "$top_builddir/Makefile" ] || skip_all "no Makefile in $top_builddir: run configure first"

# Where "make install" puts each program with the default prefix: make's
# own expansion of bindir and pkglibexecdir, over the program lists.
# (Not a sub-make of "make check": its jobserver is not ours.)
installed=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	make -s --no-print-directory -C "$top_builddir" -f Makefile -f - \
	prefix=/usr/local exec_prefix=/usr/local baton-print-installed 2>"$T/make.err" <<'EOF'
baton-print-installed:
	@for p in $(bin_PROGRAMS); do echo "$(bindir)/$${p##*/}"; done
	@for p in $(pkglibexec_PROGRAMS); do echo "$(pkglibexecdir)/$${p##*/}"; done
EOF
)
like "$installed" '^/usr/local/bin/baton$' "make install puts baton in /usr/local/bin"
[ -s "$T/make.err" ] && diag "make: $(cat "$T/make.err")"
diag "make install (prefix /usr/local) installs:" "$installed"

# unit_key FILE KEY: the values of KEY in the unit, one a line, comments
# dropped and continuation lines joined, as systemd reads them
unit_key() {
	awk -v key="$2" '
		/^[ \t]*[#;]/ && cont == "" { next }
		{
			line = cont $0
			if (line ~ /\\$/) { cont = substr(line, 1, length(line) - 1) " "; next }
			cont = ""
			if (index(line, key "=") == 1) print substr(line, length(key) + 2)
		}' "$1"
}

# system programs a unit may run besides what make install puts there
SYSTEM_PROGRAMS="/bin/kill /usr/bin/kill"
installed_or_system() {
	grep -qxF -- "$1" <<<"$installed" || [[ " $SYSTEM_PROGRAMS " == *" $1 "* ]]
}

for unit in "$DIR"/*.service; do
	u=${unit##*/}
	type=$(unit_key "$unit" Type | tail -1)
	is "$type" notify "$u: Type=notify (systemd 252 runs Type=notify-reload as Type=simple)"
	start=$(unit_key "$unit" ExecStart)
	reload=$(unit_key "$unit" ExecReload | grep -v '^$' | tail -1)
	# the programs it runs: ExecStart's first word, the program after
	# baton's "--", ExecReload's first word
	progs=$(
		read -r -a w <<<"$start"
		echo "${w[0]#[-@:+!]}"
		for ((i = 1; i < ${#w[@]}; i++)); do
			[ "${w[i]}" = -- ] && echo "${w[i + 1]}" && break
		done
		[ -n "$reload" ] && read -r -a r <<<"$reload" && echo "${r[0]#[-@:+!]}"
	)
	for p in $progs; do
		check "$u runs $p: installed by make install, or a system program" installed_or_system "$p"
	done
	if [[ $start == /usr/local/bin/baton* ]]; then
		like "$reload" '(kill -HUP \$MAINPID|/baton --restart)' \
			"$u: ExecReload= restarts baton (kill -HUP \$MAINPID or baton --restart)"
	fi
done
done_testing
