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

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
