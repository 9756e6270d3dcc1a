#!/bin/bash
# SPDX-License-Identifier: ISC
# Issue 10, bad credentials: refused at start-up with exit 1 and a message
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
done_testing
