#!/bin/sh
# Queues a census as a Slurm array of N shards and its merge, which runs once every shard
# has succeeded (docs/census.md).
#
#   contrib/census/slurm-submit.sh OUT N [census options]
set -eu

if [ $# -lt 2 ]; then
    echo "usage: $0 OUT N [census options]" >&2
    exit 2
fi
OUT=$1
shards=$2
shift 2
export OUT
here=$(dirname "$0")
dh_mlmodel=${DH_MLMODEL:-dh-mlmodel}
mkdir -p "$OUT"
job=$(sbatch --parsable --chdir "$OUT" --array "1-$shards" "$here/census.sbatch" "$@")
job=${job%%;*}
merge=$(sbatch --parsable --chdir "$OUT" --dependency "afterok:$job" --job-name mlmodel-census-merge \
    --output "$OUT/merge-%j.log" \
    --wrap "$dh_mlmodel census merge --out '$OUT' $(seq -f "'$OUT/shard-%g'" 1 "$shards" | tr '\n' ' ')")
echo "census: shards queued as job $job, the merge as job $merge"
