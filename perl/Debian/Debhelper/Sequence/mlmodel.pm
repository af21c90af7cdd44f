#!/usr/bin/perl
# debhelper sequence add-on for dh-mlmodel: runs dh_mlmodel once the files are installed and
# before dh_installdeb merges maintainer-script snippets, so the snippets it writes are used.
# Enable it with "Build-Depends: dh-sequence-mlmodel".
use warnings;
use strict;
use Debian::Debhelper::Dh_Lib;

insert_after('dh_install', 'dh_mlmodel');

1;
