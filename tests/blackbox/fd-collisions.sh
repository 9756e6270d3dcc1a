#!/bin/bash
# SPDX-License-Identifier: ISC
# Bug fix: =FD pinning never closes or aliases another listener
# (start_server: "--port=A=4 --port=B" gives A=4;B=4 with A closed, and
# "--port=A --port=B=4" silently closes A). Two listeners pinned to the same
# fd is a usage error.
. "$(dirname "$0")/lib.sh"
baton_only_script "=FD collisions"

A=$(free_port) B=$(free_port)

# pinned to the number the next listener would get
serve_baton "--until=file:$T/r1" --port=127.0.0.1:$A=3 --port=127.0.0.1:$B -- "$WORKER" --report "$T/r1"
is "$(report_val "$T/r1" port)" "127.0.0.1:$A=3;127.0.0.1:$B=4" "A=3 B: the unpinned one skips 3"
like "$(report_fd "$T/r1" 3)" "addr=127.0.0.1:$A listening=1" "fd 3 is A"
like "$(report_fd "$T/r1" 4)" "addr=127.0.0.1:$B listening=1" "fd 4 is B"
check "A answers" wait_http 127.0.0.1:$A 5
check "B answers" http_ok 127.0.0.1:$B
kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "stopped"

# pinned onto the number an earlier listener would have had
serve_baton "--until=file:$T/r2" --port=127.0.0.1:$A --port=127.0.0.1:$B=3 -- "$WORKER" --report "$T/r2"
is "$(report_val "$T/r2" port)" "127.0.0.1:$A=4;127.0.0.1:$B=3" "A B=3: A moves to 4, option order kept"
like "$(report_fd "$T/r2" 4)" "addr=127.0.0.1:$A listening=1" "fd 4 is A"
like "$(report_fd "$T/r2" 3)" "addr=127.0.0.1:$B listening=1" "fd 3 is B"
check "A answers" wait_http 127.0.0.1:$A 5
check "B answers" http_ok 127.0.0.1:$B
is "$(report_val "$T/r2" fds)" "0 1 2 3 4" "no other fd in the worker"
kill -TERM "$BATON_PID"
wait_baton_exit 10

# two listeners pinned to one fd
RUN_TIMEOUT=5
run_baton --port=127.0.0.1:$A=5 --port=127.0.0.1:$B=5 -- "$WORKER" --report "$T/r3"
is "$RUN_STATUS" 1 "two listeners pinned to fd 5: usage error, exit 1"
like "$RUN_ERR" '5' "the message names the fd"
check_not "no worker was started" test -e "$T/r3"
done_testing
