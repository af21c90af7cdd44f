#!/bin/sh
# A census in N shards, each one a GNU parallel job, then merged (docs/census.md).
#
#   contrib/census/parallel.sh OUT N [census options: --suite, --component, --arch, --limit,
#                                    --mirror, --jobs, --keep]
#
# Shard K writes OUT/shard-K; the merged results.jsonl, summary.json and report.html go to
# OUT. PARALLEL_JOBS shards run at once (default: all N); GNU parallel's --sshlogin spreads
# them over machines the same way. A shard that fails stops the others (--halt): run the
# script again and the shards resume from their results.jsonl. DH_MLMODEL names the program
# (default: dh-mlmodel on PATH).
set -eu

if [ $# -lt 2 ]; then
    echo "usage: $0 OUT N [census options]" >&2
    exit 2
fi
out=$1
shards=$2
shift 2
dh_mlmodel=${DH_MLMODEL:-dh-mlmodel}
mkdir -p "$out"

# -q quotes the command's words, so census options with spaces survive the shell parallel
# runs each job in; {} is the shard number.
seq 1 "$shards" | parallel -q --will-cite --halt now,fail=1 --jobs "${PARALLEL_JOBS:-$shards}" \
    --joblog "$out/parallel.log" \
    "$dh_mlmodel" census --shard "{}/$shards" --out "$out/shard-{}" "$@"

set --
k=1
while [ "$k" -le "$shards" ]; do
    set -- "$@" "$out/shard-$k"
    k=$((k + 1))
done
"$dh_mlmodel" census merge --out "$out" "$@"
