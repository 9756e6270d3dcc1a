#!/bin/bash
# SPDX-License-Identifier: ISC
# The socket-option names a user reads are sockopt.c's table: the --sockopts
# keys in --help, in the "known:" list of the refusal and in baton.1 are the
# same set, and baton.1's list of what --check shows on an accepted socket
# is what --check prints for an IPv6 listener.
. "$(dirname "$0")/lib.sh"
baton_only_script "--sockopts and --check are baton extensions"

MAN=$top_srcdir/supervisor/baton.1
[ -r "$MAN" ] || bail_out "no $MAN"

# words: "a, b, c" (or lines of them) as one sorted word per line
words() { tr ',' '\n' | tr -d ' ' | grep -v '^$' | sort; }

# the .Cm words between two lines of baton.1 that match FROM and TO
man_words() {
	sed -n "/$1/,/$2/p" "$MAN" | grep '^\.Cm ' | sed 's/^\.Cm //' |
		tr ',' '\n' | sed 's/^ *//; s/ .*//; s/\\-/-/g' | grep -v '^$' | sort
}

# compare WHAT A B: the same set, or a failure showing both
compare() {
	if [ -n "$2" ] && [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "want:" "$2" "got:" "$3"
	fi
}

P=$(free_port)

run_baton --port=127.0.0.1:$P --sockopts=bogus -- "${WORKER_CMD[@]}"
known=$(printf '%s\n' "$RUN_ERR" | sed -n 's/.*unknown option "bogus" (known: \(.*\))$/\1/p' | words)
[ -n "$known" ] || fail "the refusal lists the known keys" "$RUN_ERR"

run_baton --help
help=$(printf '%s\n' "$RUN_OUT" | sed -n '/^  --sockopts=/,/^  --/p' |
	sed -n '/keys:/,$p' | grep -v '^  --' | sed 's/.*keys://' | words)
compare "--help lists the --sockopts keys the refusal knows" "$known" "$help"

man=$(man_words '^\.It Fl \\-sockopts' '^A switch takes')
compare "baton.1 lists the --sockopts keys the refusal knows" "$known" "$man"

# every flag of the "Listener options" part of --help is in baton.1
flags=$(printf '%s\n' "$RUN_OUT" | sed -n '/^Listener options/,/^  --sockopts=/p' |
	sed -n 's/^  --\([a-z-]*\).*/\1/p')
missing=
for f in $flags; do
	# ".It Fl \-nodelay , Fl \-keepalive": one entry may hold two
	grep -q "^\.It\( .*\)\? Fl \\\\-${f//-/\\\\-}\\b" "$MAN" || missing="$missing $f"
done
if [ -n "$flags" ] && [ -z "$missing" ]; then
	pass "baton.1 has an entry for each listener flag of --help"
else
	fail "baton.1 has an entry for each listener flag of --help" "missing:$missing" "flags: $flags"
fi

# --check on [::1]: every row of the accepted-socket table applies
P6=$(free_port)
run_baton --check --port="[::1]:$P6"
if [ "$RUN_STATUS" != 0 ]; then
	skip "--check shows what baton.1 names on an accepted socket" "no IPv6 loopback: $RUN_ERR"
else
	got=$(printf '%s\n' "$RUN_OUT" | sed -n 's/.*accepted sockets get: //p' |
		tr ' ' '\n' | sed 's/=.*//' | sort)
	want=$(man_words 'accepted sockets get: nodelay' 'The probe is non-blocking')
	compare "--check shows on an accepted socket what baton.1 names" "$want" "$got"
fi

done_testing
