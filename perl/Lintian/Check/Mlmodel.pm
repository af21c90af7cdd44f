# Lintian::Check::Mlmodel -- the model-weight checks of dh-mlmodel, inside lintian.
#
# Lintian loads checks only from its own tree and from --include-dir, so dh-mlmodel installs
# this module, one tag file per tag of its policy/tags.toml and the profile mlmodel/main under
# /usr/share/dh-mlmodel/lintian. Use:
#
#   lintian --include-dir /usr/share/dh-mlmodel/lintian --profile mlmodel/main PACKAGE.changes
#
# The work is done by `dh-mlmodel check --json` on the file lintian was given (the .deb, .udeb
# or .dsc), so both report the same tags. The tag files and the profile are written from the
# same table by `dh-mlmodel generate lintian`, which also writes this file. Overrides, display levels and --fail-on stay
# lintian's: the tool is asked for every tag, with its own overrides off.

package Lintian::Check::Mlmodel;

use v5.20;
use warnings;
use utf8;

use IPC::Run3;
use JSON::MaybeXS;
use Unicode::UTF8 qw(encode_utf8);

use Moo;
use namespace::clean;

with 'Lintian::Check';

sub installable {
    my ($self) = @_;

    $self->report_from_tool;

    return;
}

sub source {
    my ($self) = @_;

    $self->report_from_tool;

    return;
}

sub report_from_tool {
    my ($self) = @_;

    # Found on PATH, which lintian keeps (it clears most of the environment): tests put the
    # build from the source tree first.
    my @command = (
        'dh-mlmodel', 'check', '--json', '--no-override',
        '--display-level', '>=classification',
        $self->processable->path
    );

    my ($stdout, $stderr);
    run3(\@command, \undef, \$stdout, \$stderr);
    my $status = $? >> 8;

    # 0: no tag reached --fail-on, 1: one did; anything else means the tool could not check
    # the file, which lintian reports without stopping the other checks.
    die encode_utf8("dh-mlmodel check failed on "
          . $self->processable->path
          . " (exit status $status): $stderr")
      if $? == -1 || $status > 2;

    # The --json schema is documented in dh-mlmodel's README ("check"); version 1.
    my $document = decode_json($stdout);
    die encode_utf8("dh-mlmodel check speaks JSON schema $document->{schema}; "
          . "this lintian check reads schema 1: install matching versions")
      unless ($document->{schema} // 0) == 1;

    for my $report (@{$document->{targets}}) {

        warn encode_utf8("dh-mlmodel: $report->{target}: $report->{error}\n")
          if defined $report->{error};

        for my $found (@{$report->{tags} // []}) {
            $self->hint($found->{tag}, $found->{context});
        }
    }

    return;
}

1;

# Local Variables:
# indent-tabs-mode: nil
# cperl-indent-level: 4
# End:
# vim: syntax=perl sw=4 sts=4 sr et
