#!/bin/bash
# SPDX-License-Identifier: ISC
# --envdir: one variable per file (first line), dot files skipped, re-read
# before every spawn; a removed file unsets the variable (baton fix:
# start_server restores the start-up value).
. "$(dirname "$0")/lib.sh"

E=$T/env
mkdir "$E"
printf 'v1\nsecond line\n' >"$E/FOO"
printf '\n' >"$E/EMPTYLINE"
echo hidden >"$E/.HIDDEN"
P=$(free_port)
serve_baton --until=report:1 --port=127.0.0.1:$P --envdir="$E" -- "${WORKER_CMD[@]}"
is "$(report_env "$(report 1)" FOO)" v1 "generation 1 sees FOO from the first line of its file"
check "a file holding only a newline gives an empty variable" report_has_env "$(report 1)" EMPTYLINE
is "$(report_env "$(report 1)" EMPTYLINE)" "" "(empty)"
check_not "dot files are skipped" report_has_env "$(report 1)" .HIDDEN

echo v2 >"$E/FOO"
echo new >"$E/BAR"
kill -HUP "$BATON_PID"
wait_report 2 10 || bail_out "no generation 2"
is "$(report_env "$(report 2)" FOO)" v2 "after a change and a HUP, generation 2 sees the new value"
is "$(report_env "$(report 2)" BAR)" new "and a variable from a new file"
wait_gen 127.0.0.1:$P 2 5

rm "$E/FOO"
kill -HUP "$BATON_PID"
wait_report 3 10 || bail_out "no generation 3"
is "$(report_env "$(report 3)" BAR)" new "generation 3 still sees BAR"
if baton_only "a removed file unsets its variable"; then
	check_not "FOO is unset in generation 3 once its file is removed" report_has_env "$(report 3)" FOO
fi
done_testing
