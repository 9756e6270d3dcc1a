#!/bin/bash
# SPDX-License-Identifier: ISC
# Bad credentials: refused at start-up with exit 1 and a message
# naming the cause, before anything is bound (an unknown user or group, a
# capability that does not exist or that baton does not hold, --user in an
# unprivileged baton); a --dir the worker user cannot enter fails the start
# with a message naming the directory.
. "$(dirname "$0")/lib.sh"
baton_only_script "--user is an extension"
[ "$(id -u)" = 0 ] || skip_all "needs root"
id nobody >/dev/null 2>&1 || skip_all "no user nobody"
command -v setpriv >/dev/null || skip_all "no setpriv (util-linux)"
chmod 1777 "$T"
RUN_TIMEOUT=8

# The port is held by another baton: a refusal that came after binding
# would be "cannot bind" with exit 2.
P=$(free_port)
start_baton --port=127.0.0.1:$P -- "$WORKER"
check "a first baton holds the port" wait_http 127.0.0.1:$P 10

run_baton --port=127.0.0.1:$P --user=no-such-user-$$ -- "$WORKER" --report "$T/r1"
is "$RUN_STATUS" 1 "unknown user: exit 1"
like "$RUN_ERR" "^${MSG_PREFIX}cannot use --user=no-such-user-$$: no such user$" "the message names the user"
unlike "$RUN_ERR" "cannot bind" "refused before binding the port"
check_not "no worker ran" test -e "$T/r1"

run_baton --port=127.0.0.1:$P --user=nobody:no-such-group-$$ -- "$WORKER"
is "$RUN_STATUS" 1 "unknown group: exit 1"
like "$RUN_ERR" "cannot use --user=nobody:no-such-group-$$: no such group" "the message names the group"

run_baton --port=127.0.0.1:$P --user=nobody --supplementary-groups=no-such-group-$$ -- "$WORKER"
is "$RUN_STATUS" 1 "unknown supplementary group: exit 1"
like "$RUN_ERR" "cannot use --supplementary-groups=no-such-group-$$: no such group" "the message names the option"

run_baton --port=127.0.0.1:$P --user=nobody --worker-caps=net_bind_servic -- "$WORKER"
is "$RUN_STATUS" 1 "unknown capability: exit 1"
like "$RUN_ERR" "cannot use --worker-caps=net_bind_servic: no such capability \"net_bind_servic\"" "the message names it"

# an unprivileged baton
run_as_nobody() {
	timeout -k 2 "$RUN_TIMEOUT" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$WORKER" --launch -- "$BATON" "$@" >"$T/run.out" 2>"$T/run.err" </dev/null
	RUN_STATUS=$?
	RUN_ERR=$(cat "$T/run.err")
}
P2=$(free_port)
run_as_nobody --port=127.0.0.1:$P2 --user=root -- "$WORKER"
is "$RUN_STATUS" 1 "an unprivileged baton with --user=root: exit 1"
like "$RUN_ERR" "cannot use --user=root: baton lacks CAP_SETUID" "the message names the missing capability"
run_as_nobody --port=127.0.0.1:$P2 --worker-caps=net_bind_service -- "$WORKER"
is "$RUN_STATUS" 1 "an unprivileged baton with a capability it does not hold: exit 1"
like "$RUN_ERR" "cannot use --worker-caps=net_bind_service: baton does not hold cap_net_bind_service" \
	"the message names the capability"
kill -TERM "$BATON_PID"
wait_baton_exit 10

# --dir the worker user cannot enter: root can, so the start-up check passes
mkdir -m 700 "$T/private"
P=$(free_port)
run_baton --port=127.0.0.1:$P --user=nobody --dir="$T/private" -- "$WORKER" --report "$T/r2"
isnt "$RUN_STATUS" 0 "a --dir nobody cannot enter: the start fails (status $RUN_STATUS)"
like "$RUN_ERR" "cannot chdir to $T/private: Permission denied" "the message names the directory"
check_not "no worker ran" test -e "$T/r2"

# a step that fails in the child reaches baton through the errno pipe, with
# its own message: in a user namespace that denies setgroups
if unshare --user --map-root-user true 2>/dev/null; then
	P=$(free_port)
	RUN_TIMEOUT=8
	timeout -k 2 "$RUN_TIMEOUT" unshare --user --map-root-user "$BATON" --port=127.0.0.1:$P \
		--user=nobody:0 --supplementary-groups=none -- "$WORKER" --report "$T/r3" \
		>"$T/run.out" 2>"$T/run.err" </dev/null
	is "$?" 5 "a credential step failing in the worker: exit 5 at start-up"
	like "$(cat "$T/run.err")" "${MSG_PREFIX}cannot setgroups\\(0 groups\\) for generation 1: Operation not permitted" \
		"the message names the step, the generation and the cause"
	check_not "no worker ran" test -e "$T/r3"
else
	skip "a credential step failing in the worker" "no user namespaces here"
fi

# A user in more groups than setgroups(2) takes (NGROUPS_MAX, 65536): the
# message gives the count and the limit (0.2.0: "cannot use
# --supplementary-groups=auto: Argument list too long", an option never
# given). /etc/group with 65,537 more groups for nobody is bind-mounted in
# a mount namespace of baton's own, never on the host's.
if unshare -m true 2>/dev/null && command -v nsenter >/dev/null; then
	LIMIT=$(getconf NGROUPS_MAX)
	N=$((LIMIT + 2)) # 65,537 more groups and nogroup, the primary one
	cp /etc/group "$T/group.big"
	awk -v n=$((LIMIT + 1)) 'BEGIN { for (i = 0; i < n; i++) printf "batonbig%d:x:%d:nobody\n", i, 3000000 + i }' \
		>>"$T/group.big"
	P=$(free_port)
	timeout -k 2 "$(scaled "$RUN_TIMEOUT")" "$WORKER" --launch -- unshare -m --propagation private \
		sh -c 'mount --bind "$0" /etc/group && exec "$@"' "$T/group.big" \
		"$BATON" --port=127.0.0.1:$P --user=nobody -- "$WORKER" --report "$T/r4" \
		>"$T/run.out" 2>"$T/run.err" </dev/null
	RUN_STATUS=$?
	RUN_ERR=$(cat "$T/run.err")
	is "$RUN_STATUS" 1 "a user in $N groups: exit 1"
	like "$RUN_ERR" "^${MSG_PREFIX}cannot use --user=nobody: user nobody is in $N groups; the limit is $LIMIT$" \
		"the message gives the count and the limit"
	unlike "$RUN_ERR" "supplementary-groups|Argument list too long" "and names no option never given"
	check_not "no worker ran" test -e "$T/r4"

	# the groups grow past the limit while baton runs: the next generation
	# fails with the same cause
	P=$(free_port)
	"$WORKER" --launch -- unshare -m --propagation private "$BATON" --port=127.0.0.1:$P \
		--user=nobody -- "$WORKER" >"$T/grow.out" 2>"$T/grow.err" </dev/null &
	GROW=$!
	track_pid "$GROW"
	check "baton with a mount namespace of its own serves" wait_http 127.0.0.1:$P 10
	nsenter -t "$GROW" -m mount --bind "$T/group.big" /etc/group
	kill -HUP "$GROW"
	check "a restart after the groups grew says why generation 2 fails" \
		wait_file_contains "$T/grow.err" "cannot resolve --user=nobody \\(user nobody is in $N groups; the limit is $LIMIT\\) for generation 2" 10
	check "generation 1 still serves" http_ok 127.0.0.1:$P
	kill -TERM "$GROW"
	wait_baton_exit 15 "$GROW"
else
	skip "a user in more than NGROUPS_MAX groups" "no mount namespaces (unshare -m) here"
fi
done_testing
