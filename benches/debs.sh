#!/bin/sh
# Benchmark: `dh-mlmodel scan` on the extracted contents of 10 real Debian packages against
# `sha256sum` on the same files (what a maintainer would run to pin them anyway).
#
#   benches/debs.sh [CACHE]     (default: scripts/real-corpus's cache; about 300 MiB)
#
# The packages are fetched and extracted by scripts/real-corpus --fetch-only (pinned versions
# from docs/real-world/expected.toml) and hard-linked into one tree, read once beforehand so
# every run reads from the page cache. Each figure is the median of three runs; the scan
# hashes every file too (no --no-hash), as sha256sum does, on one thread per core and on one
# thread (sha256sum has one). Target: a ratio below 2.
set -eu
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
tool=$PWD/target/release/dh-mlmodel
cache=${1:-${REAL_CORPUS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dh-mlmodel-real-corpus}}
packages="tesseract-ocr-eng tesseract-ocr-osd libdlib-data opencv-data pocketsphinx-en-us
gnubg stockfish libonnx-testdata python3-torchvision espeak-ng-data"

only=""
for p in $packages; do only="$only --only $p"; done
# shellcheck disable=SC2086 # one word per option
trees=$(DH_MLMODEL=$tool scripts/real-corpus --cache "$cache" --fetch-only $only)
if [ "$(printf '%s\n' "$trees" | grep -c .)" -ne 10 ]; then
    echo "benches/debs.sh: the 10 packages could not all be fetched (is the archive reachable?)" >&2
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/dh-mlmodel-debs.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
printf '%s\n' "$trees" | while IFS="$(printf '\t')" read -r name tree; do
    cp -al "$tree" "$work/$name"
done
files=$(find "$work" -type f | wc -l)
bytes=$(find "$work" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
find "$work" -type f -print0 | xargs -0 cat >/dev/null

# median_of COMMAND...: the median wall time of three runs, in seconds.
median_of() {
    times=""
    for _ in 1 2 3; do
        start=$(date +%s.%N)
        "$@" >/dev/null 2>&1
        end=$(date +%s.%N)
        times="$times $(echo "$start $end" | awk '{print $2 - $1}')"
    done
    echo "$times" | tr ' ' '\n' | grep . | sort -g | sed -n 2p
}

hash_all() { find "$work" -type f -print0 | xargs -0 sha256sum; }

scan=$(median_of "$tool" scan --json "$work")
scan1=$(median_of "$tool" scan --json --jobs 1 "$work")
sum=$(median_of hash_all)
awk -v files="$files" -v bytes="$bytes" -v scan="$scan" -v scan1="$scan1" -v sum="$sum" 'BEGIN {
    mib = bytes / 1048576
    printf "10 Debian packages extracted: %d files, %.0f MiB (median of 3, warm cache)\n", files, mib
    printf "  dh-mlmodel scan     %7.3f s  %7.0f MiB/s\n", scan, mib / scan
    printf "  dh-mlmodel scan -j1 %7.3f s  %7.0f MiB/s\n", scan1, mib / scan1
    printf "  sha256sum           %7.3f s  %7.0f MiB/s\n", sum, mib / sum
    printf "  time ratio: scan takes %.2fx the time of sha256sum (target < 2); one thread: %.2fx\n", scan / sum, scan1 / sum
}'
