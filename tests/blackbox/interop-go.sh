#!/bin/bash
# SPDX-License-Identifier: ISC
# A Go net/http server (Debian's golang-go), examples/go/server.go: it takes
# fd 3 with os.NewFile and net.FileListener and stops gracefully on TERM
# (baton's default signal) with http.Server.Shutdown: it stops accepting,
# finishes the requests in flight, then exits. Built here from the example,
# standard library only, with the build cache in the test's directory and no
# network. A HUP under bounded load loses no request, a 2 s request in flight
# at the HUP is finished by generation 1, a new pid answers; TERM stops
# everything. (Without Shutdown, TERM kills the process and cuts
# what it serves: 11 requests lost across 5 HUPs in a trial.)
. "$(dirname "$0")/lib-interop.sh"
baton_only_script "baton passes fd 3 (start_server's first fd is 4)"
command -v go >/dev/null || skip_all "go is not installed (package golang-go)"

mkdir "$T/go"
# GOPROXY=off: the example uses the standard library alone, nothing is fetched
(cd "$top_srcdir/examples/go" &&
	GOCACHE=$T/go/cache GOPATH=$T/go/path GOPROXY=off GOFLAGS='' GOTOOLCHAIN=local \
		GO111MODULE=off go build -o "$T/go/server" server.go) >"$T/go/build.out" 2>&1 ||
	bail_out "go build examples/go/server.go failed: $(tail -n 5 "$T/go/build.out")"
P=$(free_port)
start_baton --port=127.0.0.1:$P --status-file="$T/status" -- "$T/go/server"
interop_up 127.0.0.1:$P "the Go server"
interop_hup 127.0.0.1:$P /sleep/2000
interop_stop "$P" "the Go server"
done_testing
