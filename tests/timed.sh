#!/bin/bash
# SPDX-License-Identifier: ISC
# timed.sh SCRIPT: runs a black-box script under bash (make check's
# SH_LOG_COMPILER) and ends its log with a TAP comment giving its wall time
# and the CPU time of what it waited for, "# time: 12.3 s wall, 1.4 s CPU",
# which tests/run-all.sh lists for the slowest tests.
t0=$(date +%s%N)
bash "$@"
rc=$?
t1=$(date +%s%N)
# the children's user and system time, in clock ticks: fields 16 and 17 of
# this shell's /proc stat (read here, not in a subshell, which has its own)
read -r -a st </proc/$$/stat
ticks=$((st[15] + st[16]))
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
cpu=$((ticks / hz)).$(((ticks * 10 / hz) % 10))
echo "# time: $(((t1 - t0) / 1000000000)).$((((t1 - t0) / 100000000) % 10)) s wall, $cpu s CPU"
exit "$rc"
