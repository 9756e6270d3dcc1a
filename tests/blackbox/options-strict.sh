#!/bin/bash
# SPDX-License-Identifier: ISC
# Strict command line: baton's extensions only by their full name (a
# forgotten "--" fails as under start_server), values that would break a
# worker or SERVER_STARTER_PORT refused at start-up, and --help listing
# every option.
. "$(dirname "$0")/lib.sh"

RUN_TIMEOUT=5
P=$(free_port)

# refused EXPECTED-ERE ARG...: exit 1, the message, nothing listening
refused() {
	local want=$1
	shift
	run_baton "$@"
	if [ "$RUN_STATUS" = 1 ] && printf '%s\n' "$RUN_ERR" | grep -Eq -- "$want"; then
		pass "refused with exit 1: $*"
	else
		fail "refused with exit 1: $*" "status $RUN_STATUS" "$RUN_ERR"
	fi
}

# A forgotten "--": "-c" is the server's option, not a prefix of --check.
# start_server says exactly this.
refused "^(${MSG_PREFIX})?Unknown option: c\$" --port=127.0.0.1:$P "$WORKER" -c conf
check_not "the forgotten -- left nothing listening" port_listening "$P"
refused "^(${MSG_PREFIX})?Unknown option: ch\$" --port=127.0.0.1:$P --ch -- "$WORKER"
refused "^(${MSG_PREFIX})?Unknown option: num\$" --port=127.0.0.1:$P --num=2 -- "$WORKER"
refused "^(${MSG_PREFIX})?Option p is ambiguous \\(path, pid-file, port\\)" --p=127.0.0.1:$P -- "$WORKER"

# durations: start_server takes integers only, baton plain decimals
for v in 0x10 " 1" 1e3 inf nan ""; do
	for opt in --interval --kill-old-delay --auto-restart-interval; do
		refused "invalid|number expected|requires an argument" "$opt=$v" --port=127.0.0.1:$P -- "$WORKER"
	done
done
if baton_only "durations named with their cause"; then
	for opt in --interval --kill-old-delay --auto-restart-interval --stop-timeout --ready-timeout --restart-timeout; do
		refused "^${MSG_PREFIX}invalid $opt value \"0x10\": not a number of seconds\$" "$opt=0x10" --port=127.0.0.1:$P -- "$WORKER"
	done
	for opt in --interval --kill-old-delay --auto-restart-interval; do
		refused "^${MSG_PREFIX}invalid $opt value \"-1\": not a number of seconds\$" "$opt=-1" --port=127.0.0.1:$P -- "$WORKER"
	done
	refused "^${MSG_PREFIX}invalid --restart-retries value \"-1\": not a non-negative integer\$" --restart-retries=-1 --port=127.0.0.1:$P -- "$WORKER"
fi

if baton_only "signals that cannot stop a worker"; then
	for s in STOP CONT CHLD TSTP TTIN TTOU URG WINCH; do
		refused "^${MSG_PREFIX}invalid --signal-on-hup value \"$s\": SIG$s cannot stop a worker\$" \
			--signal-on-hup=$s --port=127.0.0.1:$P -- "$WORKER"
		refused "^${MSG_PREFIX}invalid --signal-on-term value \"$s\": SIG$s cannot stop a worker\$" \
			--signal-on-term=$s --port=127.0.0.1:$P -- "$WORKER"
	done
	refused "^${MSG_PREFIX}invalid --signal-on-term value \"0\"" --signal-on-term=0 --port=127.0.0.1:$P -- "$WORKER"
fi

if baton_only "paths that would break SERVER_STARTER_PORT"; then
	for c in ';' '='; do
		refused "^${MSG_PREFIX}invalid --path value \"$T/a${c}b\": a path cannot contain ';' or '='" \
			--path="$T/a${c}b" -- "$WORKER"
		check_not "no socket file for a path with '$c'" test -e "$T/a${c}b"
	done
fi

if baton_only "--log-file='|' without a command"; then
	refused "^${MSG_PREFIX}invalid --log-file value \"\\|\": a pipe needs a command after '\\|'\$" \
		--log-file='|' --port=127.0.0.1:$P -- "$WORKER"
fi

if baton_only "--pid-file and --status-file are one file"; then
	refused "^${MSG_PREFIX}--pid-file and --status-file are the same file \\($T/f\\): they need one each\$" \
		--pid-file="$T/f" --status-file="$T/f" --port=127.0.0.1:$P -- "$WORKER"
	: >"$T/g"
	ln "$T/g" "$T/h"
	refused "^${MSG_PREFIX}--pid-file and --status-file are the same file" \
		--pid-file="$T/h" --status-file="$T/g" --port=127.0.0.1:$P -- "$WORKER"
	check_not "nothing listening after a refused start-up" port_listening "$P"
fi

# Leading zeros in a port: accepted, and the key keeps them, as
# start_server does ("08080=4").
P2=$(free_port)
start_baton --port="127.0.0.1:00$P" --port="000$P2" -- "${WORKER_CMD[@]}"
if wait_report 1 10; then
	b=3
	is_perl && b=4
	is "$(report_val "$(report 1)" port)" "127.0.0.1:00$P=$b;000$P2=$((b + 1))" \
		"SERVER_STARTER_PORT keeps the leading zeros of the port"
	check "HOST:PORT with leading zeros answers" wait_http 127.0.0.1:$P 10
	check "PORT with leading zeros answers" wait_http 127.0.0.1:$P2 10
else
	fail "a port with leading zeros starts a worker" "$(cat "$T/baton.err")"
fi
kill -TERM "$BATON_PID"
wait_baton_exit 10

# Getopt::Long ignores case in option names; start_server users may rely on it
run_baton --VERSION
is "$RUN_STATUS" 0 "--VERSION is --version"
like "$RUN_OUT" '^(baton )?[0-9]+\.[0-9]+' "and prints the version"

# --help lists every option
run_baton --help
is "$RUN_STATUS" 0 "--help exits 0"
missing=
for o in port path dir interval signal-on-hup signal-on-term pid-file \
	status-file envdir log-file daemonize enable-auto-restart \
	auto-restart-interval kill-old-delay backlog restart stop help version; do
	printf '%s\n' "$RUN_OUT" | grep -q -- "--$o\\b" || missing="$missing --$o"
done
is "$missing" "" "--help lists every start_server option"
if baton_only "--help lists the extensions"; then
	missing=
	for o in defer-accept fastopen reuseport dual-stack freebind nodelay \
		keepalive rcvbuf sndbuf socket-mode socket-owner socket-group \
		sockopts check stop-timeout ready ready-timeout restart-retries \
		restart-timeout num-workers max-old-generations die-with-supervisor \
		user supplementary-groups worker-caps no-new-privs; do
		printf '%s\n' "$RUN_OUT" | grep -q -- "--$o\\b" || missing="$missing --$o"
	done
	is "$missing" "" "--help lists every extension"
fi

# a flag given a value: named as such (0.2.0 echoed the argument back)
if baton_only "a flag given a value"; then
	for o in no-new-privs daemonize check reuseport die-with-supervisor; do
		refused "^${MSG_PREFIX}option --$o takes no value\$" "--$o=yes" --port=127.0.0.1:$P -- "$WORKER"
	done
	refused "^${MSG_PREFIX}option --daemonize takes no value\$" --daemon=1 --port=127.0.0.1:$P -- "$WORKER"
	check_not "nothing was left listening" port_listening "$P"
fi
done_testing
