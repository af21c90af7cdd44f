#!/bin/sh
# Benchmark: `dh-mlmodel check` against `lintian` and against the decompression floor
# `dpkg-deb --fsys-tarfile DEB | wc -c` on the same real Debian packages, in one run.
#
#   benches/check.sh [CACHE]    (default: scripts/real-corpus's cache; the packages missing
#                                there are fetched with `apt-get download`)
#
# The packages: libboost1.74-dev (9.5 MB, 15,500 files: thousands of small text files), and
# two data packages of models, pocketsphinx-en-us (24 MB) and libdlib-data (63 MB, xz). Each
# time is the median of three runs, warm cache (lintian: one run, it takes minutes). The peak
# RSS of check is GNU time's maximum resident set size. Targets (issue 13): check at most
# 1.15x the floor, 10x faster than lintian on the many-files package, at most 160 MiB.
set -eu
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
tool=$PWD/target/release/dh-mlmodel
cache=${1:-${REAL_CORPUS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dh-mlmodel-real-corpus}}/debs
mkdir -p "$cache"
packages="libboost1.74-dev pocketsphinx-en-us libdlib-data"

deb_of() {
    for candidate in "$cache/${1}_"*.deb; do
        [ -f "$candidate" ] && { echo "$candidate"; return 0; }
    done
    return 1
}
for p in $packages; do
    if ! deb_of "$p" >/dev/null; then
        (cd "$cache" && apt-get download "$p" >/dev/null 2>&1) || {
            echo "benches/check.sh: cannot fetch $p (is the archive reachable?)" >&2
            exit 1
        }
    fi
done

# median_of COMMAND...: the median wall time of three runs, in seconds.
median_of() {
    times=""
    for _ in 1 2 3; do
        start=$(date +%s.%N)
        "$@" >/dev/null 2>&1 || true
        end=$(date +%s.%N)
        times="$times $(echo "$start $end" | awk '{print $2 - $1}')"
    done
    echo "$times" | tr ' ' '\n' | grep . | sort -g | sed -n 2p
}
once() {
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || true
    end=$(date +%s.%N)
    echo "$start $end" | awk '{print $2 - $1}'
}
floor() { dpkg-deb --fsys-tarfile "$1" | wc -c; }
peak_kib() {
    /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -n 1
}
# cpu_of COMMAND...: user + system CPU seconds of one run (steadier than wall time on a busy
# machine; the project's shares two cores among five builds).
cpu_of() {
    /usr/bin/time -f '%U %S' "$@" 2>&1 >/dev/null | tail -n 1 | awk '{print $1 + $2}'
}

printf '%-20s %8s %6s %9s %9s %9s %7s %9s %8s %9s %9s\n' package MB files check floor lintian ratio 'vs lint' 'RSS MiB' 'check CPU' 'floor CPU'
for p in $packages; do
    deb=$(deb_of "$p")
    cat "$deb" >/dev/null
    size=$(stat -c %s "$deb")
    files=$(dpkg-deb --fsys-tarfile "$deb" | tar -t | wc -l)
    check=$(median_of "$tool" check "$deb")
    fl=$(median_of floor "$deb")
    lint=$(once lintian --no-cfg --fail-on none "$deb")
    rss=$(peak_kib "$tool" check "$deb")
    ccpu=$(cpu_of "$tool" check "$deb")
    # shellcheck disable=SC2016 # $1 is the inner shell's argument
    fcpu=$(cpu_of sh -c 'dpkg-deb --fsys-tarfile "$1" | wc -c' sh "$deb")
    awk -v p="$p" -v size="$size" -v files="$files" -v c="$check" -v f="$fl" -v l="$lint" -v rss="$rss" \
        -v ccpu="$ccpu" -v fcpu="$fcpu" 'BEGIN {
        printf "%-20s %8.1f %6d %8.2fs %8.2fs %8.2fs %6.2fx %8.1fx %8.0f %8.2fs %8.2fs\n", p, size / 1e6, files, c, f, l, c / f, l / c, rss / 1024, ccpu, fcpu
    }'
done
