#!/usr/bin/perl
# debhelper sequence add-on for dh-mlmodel. Enable it with "Build-Depends: dh-sequence-mlmodel".
#
# dh_mlmodel_train trains the models built in the archive right after dh_auto_build: training
# is compilation (Debian Policy 4.9, the build target), so it never runs under fakeroot.
# dh_mlmodel runs once the files are installed and before dh_installdeb merges
# maintainer-script snippets, so the snippets it writes are used.
use warnings;
use strict;
use Debian::Debhelper::Dh_Lib;

insert_after('dh_auto_build', 'dh_mlmodel_train');
insert_after('dh_install', 'dh_mlmodel');

1;
