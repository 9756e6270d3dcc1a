#!/bin/sh
# SPDX-License-Identifier: ISC
# fleet-rollout.sh: restart baton on each host in turn, and stop at the
# first host whose restart lost a connection (or failed), before the
# next host gets the deploy.
#
#   examples/fleet-rollout.sh [-n MAX_LOST] HOST...
#
# On each host, over ssh, "baton --restart --max-lost=N" waits until the
# restart's receipt is final, prints it, and exits 0 when it lost at
# most N connections (dropped + abandoned + cut, as the kernel counted
# them at baton's listeners), 6 when it lost more, 4 when the new
# generation failed and was rolled back. Set PIDFILE and STATUSFILE to
# the files the hosts' baton uses, SSH to another ssh command.
set -u

max_lost=0
if [ "${1:-}" = -n ]; then
	max_lost=$2
	shift 2
fi
[ $# -gt 0 ] || {
	echo "usage: $0 [-n MAX_LOST] HOST..." >&2
	exit 1
}
: "${PIDFILE:=/run/app/baton.pid}"
: "${STATUSFILE:=/run/app/baton.status}"
: "${SSH:=ssh -o BatchMode=yes}"

for host in "$@"; do
	echo "== $host"
	$SSH "$host" baton --restart --max-lost="$max_lost" \
		--pid-file="$PIDFILE" --status-file="$STATUSFILE"
	rc=$?
	case $rc in
	0) continue ;;
	6) echo "$host: the restart lost more than $max_lost connections; stopping the rollout" >&2 ;;
	4) echo "$host: the restart failed (rolled back); stopping the rollout" >&2 ;;
	*) echo "$host: exit $rc; stopping the rollout" >&2 ;;
	esac
	exit "$rc"
done
echo "all $# hosts restarted within --max-lost=$max_lost"
