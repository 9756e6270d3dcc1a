#!/bin/bash
# SPDX-License-Identifier: ISC
# Before its first worker is forked, baton does only what that worker
# needs or what may refuse the start: with no privilege option it does
# not probe its capabilities one by one (0.2.0 made 41 ambient and 41
# bounding-set prctl calls there), and the kernel limits read for the
# log's notes on the sockets (/proc/sys/net) come after the fork. Read
# from a system-call trace (strace); the notes are still logged.
. "$(dirname "$0")/lib.sh"
baton_only_script "baton's start-up order"
command -v strace >/dev/null || skip_all "no strace"
strace -f -qq -o /dev/null true 2>/dev/null || skip_all "strace cannot trace here"
# an ambient capability is in both sets: then baton must ask about it
amb=$(awk '/^CapPrm:/ {p = $2} /^CapInh:/ {i = $2} END {print p, i}' /proc/self/status)
[ "$(printf '%d' $((0x${amb% *} & 0x${amb#* })))" = 0 ] ||
	skip_all "this shell has permitted and inheritable capabilities in common"
worker_cmd

P=$(free_port)
# --backlog above any somaxconn: the kernel lowers it, and the note on
# it needs /proc/sys/net/core/somaxconn
start_baton_traced() {
	"$WORKER" --launch -- strace -f -qq -o "$T/trace" \
		-e trace=prctl,openat,clone,clone3,fork,vfork,execve \
		"$BATON" "$@" >>"$T/baton.out" 2>>"$T/baton.err" </dev/null &
	BATON_PID=$!
	_track "$BATON_PID"
}
start_baton_traced --port=127.0.0.1:$P --backlog=2147483647 -- "${WORKER_CMD[@]}"
check "baton serves under strace" wait_http 127.0.0.1:$P 20 || bail_out "no answer"
wait_file_contains "$T/baton.err" "clamped to [0-9]+ by net\\.core\\.somaxconn" 10
file_like "$T/baton.err" "backlog 2147483647 on 127\\.0\\.0\\.1:$P is clamped to [0-9]+ by net\\.core\\.somaxconn" \
	"the note on the lowered backlog is still logged"

# baton's own lines (the trace's first pid) up to its first fork
sup=$(awk 'NR == 1 {print $1}' "$T/trace")
awk -v p="$sup" '$1 == p' "$T/trace" >"$T/sup.trace"
before=$(awk '/(clone|clone3|fork|vfork)\(/ {exit} {print}' "$T/sup.trace")
after=$(awk 'f {print} /(clone|clone3|fork|vfork)\(/ {f = 1}' "$T/sup.trace")
cmp_ok "$(grep -cE '(clone|clone3|fork|vfork)\(' "$T/sup.trace")" -ge 1 \
	"the trace shows baton's first fork"
is "$(grep -c 'PR_CAP_AMBIENT' <<<"$before")" 0 \
	"no ambient-capability probe before the first fork"
# (libcap's constructor finds the kernel's last capability with a few)
cmp_ok "$(grep -c 'PR_CAPBSET_READ' <<<"$before")" -le 8 \
	"no bounding-set probe per capability before the first fork"
is "$(grep -c '"/proc/sys/net/' <<<"$before")" 0 \
	"no kernel limit read before the first fork"
cmp_ok "$(grep -c '"/proc/sys/net/' <<<"$after")" -ge 1 \
	"they are read after it"

kill -TERM "$sup" 2>/dev/null
check "TERM: baton exits" wait_baton_exit 10
done_testing
