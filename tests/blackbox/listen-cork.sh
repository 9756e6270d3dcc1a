#!/bin/bash
# SPDX-License-Identifier: ISC
# --cork (TCP_CORK on the listener, globally or with --sockopts=cork): the
# kernel carries it to every accepted socket, as --check's test connection
# shows. --sockopts=quickack is refused with the reason (the kernel does not
# carry TCP_QUICKACK to accepted sockets) and the worker-side call to use.
. "$(dirname "$0")/lib.sh"
baton_only_script "--cork is a baton extension"
plan 12

P=$(free_port)
Q=$(free_port)
run_baton --check --port=127.0.0.1:$P --cork -- "$WORKER"
is "$RUN_STATUS" 0 "--check --cork exits 0"
like "$RUN_OUT" "127\\.0\\.0\\.1:$P +tcp +3 +[0-9]+ +reuseaddr=1 .*nodelay=0 cork=1 " \
	"the listener has TCP_CORK"
like "$RUN_OUT" "127\\.0\\.0\\.1:$P: accepted sockets get: nodelay=0 cork=1 " \
	"a socket accepted from it is corked too"

run_baton --check --port=127.0.0.1:$P --sockopts=cork --port=127.0.0.1:$Q -- "$WORKER"
like "$RUN_OUT" "127\\.0\\.0\\.1:$P: accepted sockets get: nodelay=0 cork=1 " \
	"--sockopts=cork corks that listener's connections"
like "$RUN_OUT" "127\\.0\\.0\\.1:$Q: accepted sockets get: nodelay=0 cork=0 " \
	"and not the other listener's"

run_baton --check --port=127.0.0.1:$P --sockopts=quickack -- "$WORKER"
is "$RUN_STATUS" 1 "--sockopts=quickack is a command-line error"
like "$RUN_ERR" "quickack is not a listener option: the kernel does not carry TCP_QUICKACK to accepted sockets .*baton_quickack\\(3\\)" \
	"the refusal says why and points to the worker side"

run_baton --check --port=127.0.0.1:$P --quickack -- "$WORKER"
is "$RUN_STATUS" 1 "--quickack is a command-line error"
like "$RUN_ERR" "Unknown option: quickack \\(accepted sockets do not inherit TCP_QUICKACK; a worker sets it on its connection with baton_quickack\\(3\\)\\)" \
	"... that says where quick-ack belongs"

# a worker behind a corked listener still answers: its close flushes
serve_baton --port=127.0.0.1:$P --cork -- "$WORKER"
like "$(http_get 127.0.0.1:$P)" "gen=1" "a worker answers on a corked listener"
file_like "$T/baton.err" "listening on 127\\.0\\.0\\.1:$P: cork on" \
	"the log names the option"
run_baton --help
like "$RUN_OUT" "--cork +TCP_CORK" "--help lists --cork"
done_testing
