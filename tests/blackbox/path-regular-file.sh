#!/bin/bash
# SPDX-License-Identifier: ISC
# Bug fix: a regular file at --path is refused, not deleted (start_server
# unlinks whatever is there).
. "$(dirname "$0")/lib.sh"
baton_only_script "a regular file at --path is deleted by start_server"

F=$T/precious.txt
printf 'do not delete me\n' >"$F"
before=$(stat -c '%i %s %Y' "$F")
RUN_TIMEOUT=8
run_baton --path="$F" -- "$WORKER" --report "$T/r"
is "$RUN_STATUS" 2 "exit 2"
like "$RUN_ERR" "^${MSG_PREFIX}cannot use $F for --path: exists and is not a socket" \
	"message: cannot use F for --path: exists and is not a socket"
is "$(cat "$F" 2>/dev/null)" "do not delete me" "the file is kept, content intact"
is "$(stat -c '%i %s %Y' "$F" 2>/dev/null)" "$before" "same inode, size and mtime"
check_not "no worker was started" test -e "$T/r"

# a directory is not a socket either
mkdir "$T/dir"
run_baton --path="$T/dir" -- "$WORKER" --report "$T/r"
is "$RUN_STATUS" 2 "a directory at --path: exit 2"
check "the directory is kept" test -d "$T/dir"
done_testing
