#!/bin/bash
# SPDX-License-Identifier: ISC
# Command line: --help, --version, option errors and their exit codes, and
# the Getopt::Long spellings start_server users rely on.
. "$(dirname "$0")/lib.sh"

RUN_TIMEOUT=5

run_baton --help
is "$RUN_STATUS" 0 "--help exits 0"
like "$RUN_OUT" '--port' "--help prints the usage, with --port, on stdout"

run_baton --version
is "$RUN_STATUS" 0 "--version exits 0"
like "$RUN_OUT" '[0-9]+\.[0-9]+' "--version prints a version number"
if baton_only "--version names the program"; then
	like "$RUN_OUT" '^baton [0-9]+\.[0-9]+\.[0-9]+$' "--version prints \"baton X.Y.Z\""
fi

run_baton --no-such-option --port=1 -- true
is "$RUN_STATUS" 1 "an unknown option exits 1"
like "$RUN_ERR" '[Uu]nknown option' "an unknown option is named as such"
if baton_only "unknown option message"; then
	like "$RUN_ERR" "^${MSG_PREFIX}Unknown option: no-such-option" \
		"the message quotes the option"
fi

P=$(free_port)
run_baton --port=127.0.0.1:$P
like "$RUN_ERR" 'server program not specified' "no program: 'server program not specified'"
if baton_only "no program exit code"; then
	is "$RUN_STATUS" 1 "no program exits 1"
fi
check_not "no program: nothing was left listening" port_listening "$P"

run_baton --daemonize --port=127.0.0.1:$P -- "$WORKER"
like "$RUN_ERR" 'log-file' "--daemonize without --log-file names --log-file"
if baton_only "--daemonize without --log-file exit code"; then
	is "$RUN_STATUS" 1 "--daemonize without --log-file exits 1"
	like "$RUN_ERR" "^${MSG_PREFIX}--daemonize requires --log-file" "message"
fi

for opt in --interval --backlog --kill-old-delay --auto-restart-interval; do
	run_baton "$opt=abc" --port=127.0.0.1:$P -- "$WORKER"
	is "$RUN_STATUS" 1 "$opt=abc exits 1"
done

if baton_only "--restart/--stop without their files"; then
	run_baton --restart
	is "$RUN_STATUS" 1 "--restart without --pid-file/--status-file exits 1"
	like "$RUN_ERR" 'pid-file' "and says which option is missing"
	run_baton --stop
	is "$RUN_STATUS" 1 "--stop without --pid-file exits 1"
	like "$RUN_ERR" 'pid-file' "and says which option is missing"
fi

# Getopt::Long spellings: single dash, unique abbreviation (--pid for
# --pid-file), "--opt value" as well as "--opt=value".
start_baton -port 127.0.0.1:$P --pid "$T/pid" --status=$T/status -- "${WORKER_CMD[@]}"
check "single dash, abbreviations and '--opt value' are understood" wait_http 127.0.0.1:$P 10
check "--pid is --pid-file" wait_file "$T/pid" 5
is "$(cat "$T/pid" 2>/dev/null)" "$BATON_PID" "the pid file holds the supervisor's pid"
check "--status is --status-file" wait_file "$T/status" 5
kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "TERM: exit 0"

# Options are permuted: an option after the program is still the
# supervisor's unless "--" ends the options.
P2=$(free_port)
start_baton "$WORKER" --port=127.0.0.1:$P2 --status-file="$T/status2"
check "options after the program (no --) are still the supervisor's" wait_http 127.0.0.1:$P2 10
kill -TERM "$BATON_PID"
wait_baton_exit 10
is "$BATON_STATUS" 0 "TERM: exit 0"
done_testing
