#!/bin/sh
# Benchmark: `dh-mlmodel repack` against what a maintainer does without it, on a generated
# upstream (400 C files and 128 MiB of float32 weights in a .tar.xz), in one run:
#
#   theirs: mk-origtargz with the same Files-Excluded (the weights leave the orig tarball),
#           plus `xz -6 -T2` of the weights component's tar;
#   ours:   dh-mlmodel repack of the same upstream with --component (the weights, pinned in
#           debian/mlmodel.toml, taken from a directory).
#
# Both sides compress the same bytes: the component tar xz compresses is the one repack wrote
# (decompressed), and the main tarballs hold the same members (checked). It prints the wall
# times and their ratio (target >= 2.5), repack's time against `xz -6 -T2` of its own two
# output tars (the cost of compression alone; target <= 1.15), the peak RSS of repack against
# that of `xz -6 -T2` (the encoder's memory; target: at most 64 MiB more) and the sizes
# (target: within 2 % of xz -6).
#
#   benches/repack.sh [WORKDIR]     (needs about 1 GiB free, default $TMPDIR or /tmp)
set -eu
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
tool=$PWD/target/release/dh-mlmodel
work=$(mktemp -d "${1:-${TMPDIR:-/tmp}}/dh-mlmodel-repack-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
# Debian's own tools: python3-numpy, mk-origtargz, xz.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH

echo "Generating the upstream under $work ..."
up=$work/upstream/pkg-1.0
mkdir -p "$up/models" "$work/download" "$work/tree/debian/source"
python3 - "$up" "$work/download/net.bin" <<'PY'
import os, sys
import numpy as np
top, weights = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(2026)
# 128 MiB of float32 weights, as a trained layer's: small values around zero.
(rng.standard_normal(32 * 1024 * 1024).astype("<f4") * 0.05).tofile(weights)
for i in range(400):
    d = os.path.join(top, "src", f"module{i // 40:02d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"file{i:03d}.c"), "w") as f:
        f.write(f"/* module {i}: generated source */\n#include <stdio.h>\n\n")
        for j in range(60):
            f.write(f"int f{i}_{j}(int x) {{ return x * {rng.integers(1, 1000)} + {j}; }}\n")
PY
cp "$work/download/net.bin" "$up/models/net.bin"
(cd "$work/upstream" && tar --sort=name --owner=1000 --group=1000 -cf - pkg-1.0 | xz -6 -T2 > "$work/pkg-1.0.tar.xz")
weights_sha=$(sha256sum "$work/download/net.bin" | cut -d' ' -f1)
weights_size=$(stat -c %s "$work/download/net.bin")
cd "$work/tree"
cat > debian/changelog <<'CH'
pkg (1.0+ds-1) unstable; urgency=medium

  * Initial release.

 -- A Maintainer <a@example.org>  Mon, 02 Mar 2026 10:00:00 +0000
CH
echo "3.0 (quilt)" > debian/source/format
cat > debian/copyright <<'CP'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: pkg
Files-Excluded: models

Files: *
Copyright: 2026 Upstream
License: MIT
CP
cat > debian/mlmodel.toml <<TOML
[[model]]
name = "net"
files = ["models/net.bin"]
format = "unknown"
license = "Apache-2.0"

[model.pins]
"models/net.bin" = { sha256 = "$weights_sha", size = $weights_size }

[model.download]
url = "https://models.example.org/net.bin"
sha256 = "$weights_sha"
size = $weights_size

[model.training]
program = ["train.py"]
command = "python3 train.py --data {data} --out {out}"
outputs = ["net.bin"]

[[model.training.data]]
name = "corpus"
license = "CC-BY-4.0"
url = "https://example.org/corpus.tar.xz"
public = true
TOML
mkdir "$work/ours" "$work/theirs"
cat "$work/pkg-1.0.tar.xz" "$work/download/net.bin" > /dev/null

# timed COMMAND...: runs it once, prints its wall time and CPU seconds (user + system, its
# children included), the figure that matters on a machine shared with other jobs.
timed() {
    /usr/bin/time -f "%e %U %S" -o "$work/time" "$@" > /dev/null 2>&1
    awk '{printf "%.2f %.2f", $1, $2 + $3}' "$work/time"
}

load_before=$(cut -d' ' -f1 /proc/loadavg)
echo "Running dh-mlmodel repack ..."
ours=$( { /usr/bin/time -f "%e %M %U %S" "$tool" repack "$work/pkg-1.0.tar.xz" --output-dir "$work/ours" \
    --jobs 2 --component net --from "$work/download" > /dev/null; } 2>&1 | tail -n 1)
set -- $ours
ours_time=$1 ours_rss=$2 ours_cpu=$(echo "$3 $4" | awk '{printf "%.2f", $1 + $2}')

echo "Running mk-origtargz and xz -6 -T2 ..."
xz -dc "$work/ours/pkg_1.0+ds.orig-net.tar.xz" > "$work/net.tar"
xz -dc "$work/ours/pkg_1.0+ds.orig.tar.xz" > "$work/main.tar"
mk=$(timed mk-origtargz --package pkg --version 1.0 --repack-suffix +ds --copy \
    --compression xz --copyright-file debian/copyright --directory "$work/theirs" "$work/pkg-1.0.tar.xz")
set -- $mk
mk_time=$1 mk_cpu=$2
xz_component=$( { /usr/bin/time -f "%e %M %U %S" xz -6 -T2 -c "$work/net.tar" > "$work/theirs/pkg_1.0+ds.orig-net.tar.xz"; } 2>&1 | tail -n 1)
set -- $xz_component
xz_component_time=$1 xz_rss=$2 xz_component_cpu=$(echo "$3 $4" | awk '{printf "%.2f", $1 + $2}')
set -- $(timed sh -c "xz -6 -T2 -c '$work/main.tar' > '$work/main-T2.tar.xz'")
xz_main_time=$1 xz_main_cpu=$2
load_after=$(cut -d' ' -f1 /proc/loadavg)

# The same members and contents on both sides.
members() { tar -tJf "$1" | sed 's,/$,,' | sort; }
if [ "$(members "$work/ours/pkg_1.0+ds.orig.tar.xz")" != "$(members "$work/theirs/pkg_1.0+ds.orig.tar.xz")" ]; then
    echo "the main tarballs differ in members" >&2
    exit 1
fi

size() { stat -c %s "$1"; }
ours_main=$(size "$work/ours/pkg_1.0+ds.orig.tar.xz")
ours_net=$(size "$work/ours/pkg_1.0+ds.orig-net.tar.xz")
theirs_main=$(size "$work/theirs/pkg_1.0+ds.orig.tar.xz")
theirs_net=$(size "$work/theirs/pkg_1.0+ds.orig-net.tar.xz")
awk -v ours="$ours_time" -v mk="$mk_time" -v xzc="$xz_component_time" -v xzm="$xz_main_time" \
    -v oc="$ours_cpu" -v mc="$mk_cpu" -v xcc="$xz_component_cpu" -v xmc="$xz_main_cpu" \
    -v l1="$load_before" -v l2="$load_after" \
    -v rss="$ours_rss" -v xrss="$xz_rss" -v om="$ours_main" -v on="$ours_net" \
    -v tm="$theirs_main" -v tn="$theirs_net" -v cores="$(nproc)" 'BEGIN {
    printf "Upstream: 400 C files and 128 MiB of float32 weights (.tar.xz); %d cores; load average %s before, %s after\n", cores, l1, l2
    printf "                                                   wall      CPU\n"
    printf "  dh-mlmodel repack --jobs 2 (main + component)   %8.2f s %8.2f s\n", ours, oc
    printf "  mk-origtargz                                     %8.2f s %8.2f s\n", mk, mc
    printf "  xz -6 -T2 of the component tar                   %8.2f s %8.2f s\n", xzc, xcc
    printf "  xz -6 -T2 of the main tar repack wrote           %8.2f s %8.2f s\n", xzm, xmc
    printf "  speed-up over mk-origtargz + xz -6 -T2: %.2fx wall, %.2fx CPU (target >= 2.5)\n", (mk + xzc) / ours, (mc + xcc) / oc
    printf "  repack against xz -6 -T2 of its own output tars (%.2f s): %.2fx wall, %.2fx CPU (target <= 1.15)\n", xzc + xzm, ours / (xzc + xzm), oc / (xcc + xmc)
    printf "  peak RSS: repack %d MiB, xz -6 -T2 %d MiB: %+d MiB over the encoder (target <= 64)\n", rss / 1024, xrss / 1024, (rss - xrss) / 1024
    printf "  size: main %d bytes (mk-origtargz, xz -6: %d, %+.2f %%)\n", om, tm, (om - tm) * 100 / tm
    printf "        component %d bytes (xz -6 -T2: %d, %+.2f %%)\n", on, tn, (on - tn) * 100 / tn
}'
