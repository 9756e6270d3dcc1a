#!/bin/bash
# SPDX-License-Identifier: ISC
# Helpers for the metrics-*.sh scripts (after lib.sh): fetch a path of
# baton's metrics listener (status code and body), read a JSON field with
# python3, count baton's open fds.
# shellcheck disable=SC2034
command -v python3 >/dev/null 2>&1 || skip_all "python3 not installed"

mget() { # mget HOST:PORT PATH: prints "CODE" then the body
	curl -gs --noproxy '*' --max-time "${HTTP_TIMEOUT:-3}" \
		-w '\n%{http_code}\n' "http://$1$2" 2>>"$T/curl.err" | tail -n 1
}

mbody() { # mbody HOST:PORT PATH: the body, whatever the status
	curl -gs --noproxy '*' --max-time "${HTTP_TIMEOUT:-3}" "http://$1$2" 2>>"$T/curl.err"
}

mcode_is() { [ "$(mget "$1" "$2")" = "$3" ]; } # mcode_is HOST:PORT PATH CODE

# jq_py JSON EXPR: EXPR evaluated on the parsed JSON as "j" (python3)
jq_py() {
	python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

fd_count() { # fd_count PID
	ls "/proc/$1/fd" 2>/dev/null | wc -l
}
