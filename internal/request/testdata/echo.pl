#!/usr/bin/perl
# Prints what CGI.pm and CGI::Cookie parsed, as JSON with hex-encoded
# bytes (mamori's differential tests compare it with the request view).
use strict;
use warnings;
use CGI;
use CGI::Cookie;

sub hx { my $s = shift; $s = '' unless defined $s; utf8::encode($s) if utf8::is_utf8($s); return '"' . unpack('H*', $s) . '"'; }

my $q = CGI->new;
my @params;
for my $n ($q->multi_param) {
    for my $v ($q->multi_param($n)) {
        my $file = ref($v) ? 1 : 0;
        push @params, '[' . hx($n) . ',' . hx("$v") . ',' . $file . ']';
    }
}
my %c = CGI::Cookie->fetch;
my @cookies;
for my $k (sort keys %c) {
    push @cookies, '[' . hx($k) . ',[' . join(',', map { hx($_) } $c{$k}->value) . ']]';
}
print "Content-Type: application/json\r\n\r\n";
print '{"params":[' . join(',', @params) . '],"cookies":[' . join(',', @cookies) . ']}';
