#!/bin/sh
# Benchmark: `dh-mlmodel scan` of a generated source tree of 50,000 small C files (comments,
# a URL, a short table each) against `find -type f -print0 | xargs -0 sha256sum` on the same
# tree. The issue's bar: the scan is no slower (ratio <= 1.00).
#
#   benches/tree.sh [WORKDIR] [FILES]   (about 250 MiB in WORKDIR, default $TMPDIR or /tmp)
#
# The tree is read once beforehand so both read from the page cache (warm cache); each figure
# is the median of three runs.
set -eu
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
tool=$PWD/target/release/dh-mlmodel
work=$(mktemp -d "${1:-${TMPDIR:-/tmp}}/dh-mlmodel-tree.XXXXXX")
files=${2:-50000}
trap 'rm -rf "$work"' EXIT INT TERM

echo "Writing $files C files under $work/tree ..."
awk -v files="$files" -v root="$work/tree" 'BEGIN {
    for (i = 0; i < files; i++) {
        dir = sprintf("%s/src/m%03d", root, int(i / 500))
        if (i % 500 == 0) system("mkdir -p " dir)
        f = sprintf("%s/f%05d.c", dir, i)
        printf "/* Module %d: see https://example.org/docs/m%d.html for details.\n", i, i > f
        printf " * Copyright the authors. */\n#include <stdio.h>\n\n" > f
        printf "static int table_%d[4] = {1, 2, 3, 4};\n\n", i > f
        printf "int fn_%d(int x)\n{\n    /* add the table */\n    return x + table_%d[x & 3];\n}\n", i, i > f
        close(f)
    }
}'
find "$work/tree" -type f -print0 | xargs -0 cat > /dev/null

# median_of COMMAND...: prints the median wall time of three runs, in seconds.
median_of() {
    for _ in 1 2 3; do
        start=$(date +%s.%N)
        "$@" > /dev/null
        end=$(date +%s.%N)
        echo "$start $end" | awk '{print $2 - $1}'
    done | sort -n | sed -n 2p
}

hash_tree() { find "$work/tree" -type f -print0 | xargs -0 sha256sum; }

scan=$(median_of "$tool" scan --json "$work/tree")
sum=$(median_of hash_tree)
awk -v files="$files" -v scan="$scan" -v sum="$sum" -v cores="$(nproc)" 'BEGIN {
    printf "%d small C files (%d cores), median of 3:\n", files, cores
    printf "  dh-mlmodel scan --json           %7.3f s\n", scan
    printf "  find | xargs sha256sum           %7.3f s\n", sum
    printf "  ratio scan / sha256sum: %.2f (the bar: <= 1.00)\n", scan / sum
}'
