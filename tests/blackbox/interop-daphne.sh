#!/bin/bash
# SPDX-License-Identifier: ISC
# Daphne (Debian's daphne) with "--fd 3": Daphne serves on the socket baton
# passed.
#
# Daphne has no graceful stop: on TERM (or INT) Twisted closes every
# connection still open and Daphne logs "Killed N pending application
# instances"; its old generation cuts whatever it is serving when baton
# signals it. Under continuous load across a plain HUP that was seen as one
# reset request in three runs, and a 2 s request in flight at the HUP was cut
# when it was still running at the signal. So this script asserts what holds:
# with --kill-old-delay the old generation is signalled only after the delay,
# and a request in flight at the HUP (a 2 s one) is finished by generation 1
# within it; the clients run across the HUP until generation 2 answers (both
# generations accept from the one socket then) and stop before generation 1
# is signalled: no request fails, a new pid answers, generation 1 exits
# after the delay. Requests still arriving at the old generation when the
# delay ends would be cut, by Daphne; that is not asserted. TERM stops all.
. "$(dirname "$0")/lib-interop.sh"
baton_only_script "baton passes fd 3 (start_server's first fd is 4)"
command -v daphne >/dev/null || skip_all "daphne is not installed (package daphne)"

write_asgi_app daphne
P=$(free_port)
# the old generation is signalled $(scaled 15) s after the new one is up
# (alive --interval): the new Daphne must answer before that, and its
# start-up took 5 s with two suites beside stress-ng on 2 cores
start_baton --port=127.0.0.1:$P --kill-old-delay="$(scaled 15)" --status-file="$T/status" -- \
	daphne --fd 3 app:application
interop_up 127.0.0.1:$P daphne
INTEROP_LOAD_UNTIL=gen2 interop_hup 127.0.0.1:$P /sleep/2000
interop_stop "$P" daphne
done_testing
