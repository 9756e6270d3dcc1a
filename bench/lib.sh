# SPDX-License-Identifier: ISC
# bench/lib.sh: what the bench scripts share (sourced, bash): finding the
# baton under test, a work directory, and stopping what they started.
#
#   . "$(dirname "$0")/lib.sh"
#   bench_baton NAME     # BATON from the environment, else ./baton, else
#                        # the one beside bench/; NAME for the error
#   bench_workdir NAME   # W: a fresh directory, removed at exit, after
#                        # every pid in PIDS got TERM, then KILL 1 s later
#   bench_number PROG OPTION VALUE LO HI   # exit 1 unless LO <= VALUE <= HI
#   now_ms, free_port    # milliseconds of wall time; a free loopback port

BENCH_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PIDS=()

bench_baton() {
	local b
	if [ -z "${BATON:-}" ]; then
		for b in ./baton "$BENCH_TOP/baton"; do
			[ -x "$b" ] && BATON=$b && break
		done
	fi
	[ -x "${BATON:-}" ] || {
		echo "$1: no baton binary (set BATON=)" >&2
		exit 1
	}
}

_bench_cleanup() {
	local p
	if [ ${#PIDS[@]} -gt 0 ]; then
		for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
		sleep 1
		for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	fi
	[ -n "${W:-}" ] && rm -rf "$W"
}

bench_workdir() {
	W=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || exit 1
	trap _bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

bench_number() {
	case $3 in
	'' | *[!0-9]*) echo "$1: $2 needs a number" >&2; exit 1 ;;
	esac
	[ "$3" -ge "$4" ] && [ "$3" -le "$5" ] || {
		echo "$1: $2: $4..$5" >&2
		exit 1
	}
}

now_ms() { date +%s%3N; }

# free_port: a port the kernel says is free, TCP and UDP, v4 and v6: a
# random one of 20000-32767 (below the ephemeral range, where outgoing
# connections take ports) that a dual-stack bind of each type accepts
free_port() {
	python3 -c '
import random, socket, sys
for _ in range(200):
    p = random.randint(20000, 32767)
    try:
        for t in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            s = socket.socket(socket.AF_INET6, t)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.bind(("::", p))
            s.close()
    except OSError:
        continue
    print(p)
    sys.exit(0)
sys.exit(1)'
}
