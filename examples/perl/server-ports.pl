#!/usr/bin/perl
# SPDX-License-Identifier: ISC
# server-ports.pl: a worker that takes its listener the way Perl programs
# have always done under start_server: Server::Starter::server_ports().
#
#   baton --port=127.0.0.1:8080 -- perl examples/perl/server-ports.pl
#
# It answers every request on the first listener (by key order) with
# "gen=GENERATION pid=PID server=perl-server-ports listener=KEY"; on TERM it
# stops accepting, finishes the request it serves and exits.
use strict;
use warnings;
use IO::Socket::INET;
use Server::Starter qw(server_ports);

my $ports = server_ports();    # { key => fd }, from SERVER_STARTER_PORT
my ($key) = sort keys %$ports or die "server-ports.pl: no listener\n";
my $fd = $ports->{$key};
my $listener = IO::Socket::INET->new(Proto => 'tcp')
    or die "server-ports.pl: socket: $!\n";
$listener->fdopen($fd, 'r') or die "server-ports.pl: fdopen($fd): $!\n";

my $generation = $ENV{SERVER_STARTER_GENERATION} // 0;
my $stop = 0;
# Perl installs its handlers without SA_RESTART: a TERM that arrives while
# accept() blocks makes it return, and the loop ends.
$SIG{$_} = sub { $stop = 1 } for qw(TERM INT QUIT);
$SIG{PIPE} = 'IGNORE';
print STDERR "server-ports.pl[$$]: generation $generation on $key (fd $fd)\n";

while (!$stop) {
    my $conn = $listener->accept or next;
    $conn->autoflush(1);
    my $request = '';
    local $SIG{ALRM} = sub { die "timeout\n" };
    eval {
        alarm 5;
        while (my $line = <$conn>) {
            $request .= $line;
            last if $line =~ /^\r?\n$/;
        }
        alarm 0;
    };
    alarm 0;
    if ($request =~ m{^GET /sleep/(\d+) } && $1 <= 10000) {
        select(undef, undef, undef, $1 / 1000);
    }
    my $body = "gen=$generation pid=$$ server=perl-server-ports listener=$key\n";
    print $conn "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n",
        "Content-Length: ", length($body), "\r\nConnection: close\r\n\r\n", $body;
    close $conn;
}
close $listener;    # never shutdown(): the socket is shared
print STDERR "server-ports.pl[$$]: generation $generation stopped\n";
exit 0;
