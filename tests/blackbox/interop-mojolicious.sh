#!/bin/bash
# SPDX-License-Identifier: ISC
# Mojolicious (Debian's libmojolicious-perl), its pre-forking server with
# -l 'http://127.0.0.1?fd=3': it listens on the socket baton passed.
# Mojolicious's TERM (and INT) stops at once, cutting requests in flight; QUIT
# is the graceful stop, hence --signal-on-hup=QUIT --signal-on-term=QUIT. A
# HUP under bounded load loses no request, a 2 s request in flight at the HUP
# is finished by generation 1, a new pid answers; TERM (QUIT to Mojolicious)
# stops everything.
. "$(dirname "$0")/lib-interop.sh"
baton_only_script "baton passes fd 3 (start_server's first fd is 4)"
perl -MMojolicious::Lite -e 1 2>/dev/null ||
	skip_all "Mojolicious is not installed (package libmojolicious-perl)"

mkdir "$T/app"
cat >"$T/app/app.pl" <<'PL'
use Mojolicious::Lite -signatures;
sub answer ($c) {
    $c->render(text => sprintf("gen=%s pid=%d server=mojolicious\n",
        $ENV{SERVER_STARTER_GENERATION} // "?", $$));
}
get '/' => \&answer;
get '/sleep/:ms' => sub ($c) {
    $c->inactivity_timeout(30);
    Mojo::IOLoop->timer($c->param('ms') / 1000 => sub { answer($c) });
};
app->log->level('warn');
app->start;
PL
P=$(free_port)
start_baton --port=127.0.0.1:$P --signal-on-hup=QUIT --signal-on-term=QUIT \
	--status-file="$T/status" -- \
	perl "$T/app/app.pl" prefork -w 2 -l "http://127.0.0.1?fd=3"
interop_up 127.0.0.1:$P Mojolicious
interop_hup 127.0.0.1:$P /sleep/2000
interop_stop "$P" Mojolicious
done_testing
