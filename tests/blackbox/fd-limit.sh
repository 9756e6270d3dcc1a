#!/bin/bash
# SPDX-License-Identifier: ISC
# Listeners near the fd limit. N listeners work
# whenever N + 16 <= RLIMIT_NOFILE, and pins at limit-1 and limit-2 reach
# the worker; beyond that the start-up check refuses with the listener and
# the limit named. (baton used to need about twice as many fds as
# listeners in the worker's side of fork: 520 listeners failed at 1024.)
. "$(dirname "$0")/lib.sh"
baton_only_script "the fd-limit arithmetic is baton's"

ulimit -n 1024 2>/dev/null || skip_all "cannot set ulimit -n 1024"
mkdir "$T/s"
paths=()
for i in $(seq 1 1000); do paths+=("--path=$T/s/$i"); done

# ---- 1000 listeners at ulimit -n 1024: all in place, served --------------
start_baton "${paths[@]}" -- "$WORKER" --report "$T/r1"
wait_file "$T/r1" 30 || bail_out "no worker with 1000 listeners: $(tail -3 "$T/baton.err")"
check "the worker answers on the first socket" wait_until 10 http_ok_unix "$T/s/1"
check "and on the last one" http_ok_unix "$T/s/1000"
check "and on one in the middle" http_ok_unix "$T/s/517"
like "$(report_fd "$T/r1" 1002)" "listening=1" "fd 1002 is the 1000th listener, listening"
is "$(grep -cE '^fd [0-9]+ .*listening=1' "$T/r1")" 1000 "1000 listening fds in the worker"
kill -TERM "$BATON_PID"
wait_baton_exit 20
is "$BATON_STATUS" 0 "stopped"

# ---- pins at limit-1 and limit-2 -----------------------------------------
A=$(free_port) B=$(free_port)
start_baton --port=127.0.0.1:$A=1023 --port=127.0.0.1:$B=1022 -- "$WORKER" --report "$T/r2"
wait_file "$T/r2" 10 || bail_out "no worker with pins at 1023 and 1022: $(tail -3 "$T/baton.err")"
like "$(report_fd "$T/r2" 1023)" "addr=127.0.0.1:$A listening=1" "fd 1023 is A"
like "$(report_fd "$T/r2" 1022)" "addr=127.0.0.1:$B listening=1" "fd 1022 is B"
check "A answers" wait_http 127.0.0.1:$A 10
check "B answers" http_ok 127.0.0.1:$B
kill -TERM "$BATON_PID"
wait_baton_exit 10

# ---- refused up front, with the cause ------------------------------------
RUN_TIMEOUT=20
for i in $(seq 1001 1009); do paths+=("--path=$T/s/$i"); done
run_baton "${paths[@]}" -- "$WORKER" --report "$T/r3"
is "$RUN_STATUS" 1 "1009 listeners at 1024: usage error, exit 1"
like "$RUN_ERR" "cannot pass 1009 listeners: the fd limit is 1024 \\(ulimit -n\\); raise it to at least 1025" \
	"the message gives the count, the limit and what to raise it to"
check_not "no worker was started" test -e "$T/r3"
check_not "no socket file was created" test -e "$T/s/1009"

run_baton --port=127.0.0.1:$A=1024 -- "$WORKER" --report "$T/r4"
is "$RUN_STATUS" 1 "a pin at the limit: exit 1"
like "$RUN_ERR" "cannot pin 127.0.0.1:$A to fd 1024: the fd limit is 1024 \\(ulimit -n\\)" \
	"the message names the listener, the fd and the limit"
done_testing
