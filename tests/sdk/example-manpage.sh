#!/bin/bash
# SPDX-License-Identifier: ISC
# example-manpage.sh: the complete example in libbaton(3) compiles cleanly as
# printed, and runs under the supervisor as the page says: it answers with
# its generation, before and after a HUP.
. "$(dirname "$0")/sdk-lib.sh"

page=$top_srcdir/worker-sdk/libbaton.3
# the first .EX ... .EE block of the EXAMPLE section, troff escapes undone
sed -n '/^\.SH EXAMPLE/,/^\.SH /p' "$page" | sed -n '/^\.EX/,/^\.EE/p' |
	sed -e '/^\.EX/d' -e '/^\.EE/,$d' -e 's/\\e/\\/g' -e 's/\\-/-/g' >"$T/hello.c"
cmp_ok "$(wc -l <"$T/hello.c")" -gt 30 "the example was extracted ($(wc -l <"$T/hello.c") lines)"
lib=$top_builddir/worker-sdk/.libs/libbaton.a
san=
# a tree configured with --enable-sanitizers built the library with them
nm "$lib" 2>/dev/null | grep -q __asan_ && san="-fsanitize=address,undefined"
# shellcheck disable=SC2086
if ${CC:-cc} -std=gnu99 -Wall -Wextra -Werror $san -I"$top_srcdir/worker-sdk" "$T/hello.c" \
	"$lib" -o "$T/hello" 2>"$T/cc.err"; then
	pass "it compiles with -Wall -Wextra -Werror"
else
	fail "it compiles with -Wall -Wextra -Werror" "$(cat "$T/cc.err")"
	done_testing
fi

hello() { timeout "$(scaled 3)" bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && cat <&3" 2>/dev/null; }
hello_is() { [ "$(hello "$1")" = "hello from generation $2" ]; }
P=$(free_port)
start_baton --port=127.0.0.1:$P --status-file="$T/status" -- "$T/hello"
wait_until 10 hello_is $P 1
is "$(hello $P)" "hello from generation 1" "it answers with its generation"
file_like "$T/baton.err" "hello: 127\.0\.0\.1:$P is 127\.0\.0\.1:$P" "it names its listener"
wait_status "$T/status" 1 15
kill -HUP "$BATON_PID"
wait_status "$T/status" 2 15
wait_until 10 hello_is $P 2
is "$(hello $P)" "hello from generation 2" "after a HUP, generation 2 answers"
stop_supervisor
done_testing
