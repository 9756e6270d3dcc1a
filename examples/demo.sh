#!/bin/sh
# SPDX-License-Identifier: ISC
# Build baton and serve the demo: baton in front of the C example worker on
# 127.0.0.1:8080. On a fresh Debian 12 machine as root it installs the build
# dependencies first. Ctrl-C stops it.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends build-essential \
		autoconf automake libtool pkg-config libev-dev libcap-dev \
		check curl >/dev/null
fi
if [ ! -f Makefile ]; then
	autoreconf -fi >/dev/null
	./configure -q
fi
make -j"$(nproc)" baton examples/c/http-worker >/dev/null
port=${PORT:-8080}
echo "demo: serving on http://127.0.0.1:$port/  (pid file /tmp/baton-demo.pid)"
echo "demo: try: curl 127.0.0.1:$port/ ; kill -HUP \$(cat /tmp/baton-demo.pid) ; curl 127.0.0.1:$port/"
exec ./baton --port=127.0.0.1:"$port" --pid-file=/tmp/baton-demo.pid \
	--status-file=/tmp/baton-demo.status --ready=notify \
	-- examples/c/http-worker
