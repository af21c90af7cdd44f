#!/bin/sh
# Benchmark: `dh-mlmodel scan` against sha256sum and `openssl dgst -sha256` on the same files,
# in one run, and the peak RSS of scanning a 2 GiB file.
#
#   benches/scan.sh [WORKDIR]     (needs about 5 GiB free in WORKDIR, default $TMPDIR or /tmp)
#
# Files are random (so scan reports and hashes them as blobs) and read once beforehand so every
# tool reads from the page cache: the figures compare hashing and scheduling, not the disk.
# Each timing is the best of three runs.
set -eu
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
tool=$PWD/target/release/dh-mlmodel
work=$(mktemp -d "${1:-${TMPDIR:-/tmp}}/dh-mlmodel-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

mkdir "$work/one" "$work/eight" "$work/big"
echo "Writing 1 GiB, 8 x 256 MiB and 2 GiB of random data under $work ..."
head -c 1G /dev/urandom > "$work/one/weights.bin"
for i in 1 2 3 4 5 6 7 8; do head -c 256M /dev/urandom > "$work/eight/shard-$i.bin"; done
head -c 2G /dev/urandom > "$work/big/weights.bin"
cat "$work"/one/* "$work"/eight/* > /dev/null

# best_of COMMAND...: prints the shortest wall time of three runs, in seconds.
best_of() {
    best=""
    for _ in 1 2 3; do
        start=$(date +%s.%N)
        "$@" > /dev/null
        end=$(date +%s.%N)
        best=$(echo "$start $end ${best:-inf}" | awk '{t = $2 - $1; if ($3 == "inf" || t < $3) print t; else print $3}')
    done
    echo "$best"
}

report() { # LABEL BYTES SCAN SHA256SUM OPENSSL
    awk -v label="$1" -v bytes="$2" -v scan="$3" -v sum="$4" -v ssl="$5" 'BEGIN {
        mib = bytes / 1048576
        printf "%s\n", label
        printf "  dh-mlmodel scan     %7.3f s  %7.0f MiB/s\n", scan, mib / scan
        printf "  sha256sum           %7.3f s  %7.0f MiB/s\n", sum, mib / sum
        printf "  openssl dgst        %7.3f s  %7.0f MiB/s\n", ssl, mib / ssl
        printf "  throughput ratio: %.2fx sha256sum, %.2fx openssl\n", sum / scan, ssl / scan
    }'
}

one_scan=$(best_of "$tool" scan --json "$work/one")
one_sum=$(best_of sha256sum "$work"/one/*)
one_ssl=$(best_of openssl dgst -sha256 "$work"/one/*)
report "One 1 GiB file:" $((1 << 30)) "$one_scan" "$one_sum" "$one_ssl"

eight_scan=$(best_of "$tool" scan --json "$work/eight")
eight_sum=$(best_of sha256sum "$work"/eight/*)
eight_ssl=$(best_of openssl dgst -sha256 "$work"/eight/*)
report "Eight 256 MiB files ($(nproc) cores):" $((8 << 28)) "$eight_scan" "$eight_sum" "$eight_ssl"

rss=$(/usr/bin/time -f %M "$tool" scan --json "$work/big" 2>&1 >/dev/null | tail -n 1)
echo "Peak RSS scanning one 2 GiB file: $((rss / 1024)) MiB ($rss KiB)"
