# app.psgi: a Plack application for Starman under baton or start_server.
#
#   baton --port=127.0.0.1:8080 --signal-on-hup=QUIT --signal-on-term=QUIT \
#       -- starman --workers 2 examples/perl/app.psgi
#
# Starman reads SERVER_STARTER_PORT itself (Net::Server::SS::PreFork) and
# stops gracefully on QUIT, as its documentation recommends: each process
# finishes its request and exits. The app answers
# "gen=GENERATION pid=PID server=starman"; GET /sleep/MS waits first.
use strict;
use warnings;

my $generation = $ENV{SERVER_STARTER_GENERATION} // 0;

my $app = sub {
    my $env = shift;
    if ($env->{PATH_INFO} =~ m{^/sleep/(\d+)$} && $1 <= 10000) {
        select(undef, undef, undef, $1 / 1000);
    }
    return [
        200,
        [ 'Content-Type' => 'text/plain' ],
        ["gen=$generation pid=$$ server=starman\n"],
    ];
};

$app;
