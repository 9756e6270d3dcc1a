#!/bin/bash
# SPDX-License-Identifier: ISC
# The re-exec state travels only in a sealed memfd baton
# itself passes across exec. A BATON_REEXEC_STATE variable inherited from
# the environment or set by an envdir file has no effect: baton binds and
# serves generation 1, and a pid named in the forged state is not baton's
# to signal. A BATON_REEXEC_FD that names no such memfd is ignored, said so.
. "$(dirname "$0")/lib.sh"
baton_only_script "self re-exec (SIGUSR2) is baton's"
worker_cmd

# a process that is not baton's child, named in the forged states
sleep 600 &
SPID=$!
track_pid "$SPID"
# the old format (fd list | generations) and plausible new-looking text
forged_old="-1,0|v1 1 0 0 1 0.000 g1,2,0,1,$SPID:1"
forged_new=$(printf 'baton-reexec 2\npid %s\npidfile -1\nlisteners 1\nlistener 0\n' "$$")

# one run: start, expect generation 1 served on a port of its own, stop,
# and the foreign pid still alive
run_forged() { # run_forged DESC [baton args...]
	local desc=$1 P
	shift
	rm -f "$T"/report.* "$T/status" "$T/status.json" "$T/pid"
	P=$(free_port)
	start_baton --port=127.0.0.1:$P --pid-file="$T/pid" --status-file="$T/status" "$@" \
		-- "${WORKER_CMD[@]}"
	check "$desc: baton binds and serves" wait_http 127.0.0.1:$P 10
	is "$(http_gen 127.0.0.1:$P)" 1 "$desc: generation 1 answers (a fresh start)"
	check "$desc: the status file lists generation 1" wait_status "$T/status" 1 5
	unlike "$(cat "$T/status")" "^[0-9]+:$SPID\$" "$desc: the forged pid is not listed"
	kill -TERM "$BATON_PID"
	check "$desc: TERM: baton exits" wait_baton_exit 10
	is "$BATON_STATUS" 0 "$desc: with status 0"
	check "$desc: the pid named in the forged state was not signalled" pid_alive "$SPID"
}

BATON_REEXEC_STATE=$forged_old run_forged "BATON_REEXEC_STATE (old format) in the environment"
BATON_REEXEC_STATE=$forged_new run_forged "BATON_REEXEC_STATE (new-looking) in the environment"

E=$T/env
mkdir "$E"
printf '%s\n' "$forged_old" >"$E/BATON_REEXEC_STATE"
run_forged "BATON_REEXEC_STATE in an envdir file" --envdir="$E"

BATON_ERR=$T/fd.err BATON_REEXEC_FD=2 run_forged "BATON_REEXEC_FD=2 in the environment"
file_like "$T/fd.err" "ignoring BATON_REEXEC_FD=2: " "it says it ignores BATON_REEXEC_FD"
BATON_REEXEC_FD=$SPID run_forged "BATON_REEXEC_FD naming no open fd"
done_testing
