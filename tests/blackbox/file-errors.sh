#!/bin/bash
# SPDX-License-Identifier: ISC
# Exit 3: a file the supervisor needs cannot be set up (pid file, status
# file, log file, envdir). Checked at start-up, before any worker runs; the
# message names the path and the cause. (start_server: dies with errno as
# status, some only after the first worker started.)
. "$(dirname "$0")/lib.sh"
baton_only_script "file set-up errors"

RUN_TIMEOUT=8
P=$(free_port)
for opt in --pid-file --status-file --log-file --envdir; do
	rm -f "$T/r"
	run_baton --port=127.0.0.1:$P "$opt=$T/missing/x" -- "$WORKER" --report "$T/r"
	is "$RUN_STATUS" 3 "$opt in a missing directory: exit 3"
	like "$RUN_ERR" "^${MSG_PREFIX}.*$T/missing/x.*No such file or directory" "$opt: the message names the path and the cause"
	check_not "$opt: no worker was started" test -e "$T/r"
done
done_testing
