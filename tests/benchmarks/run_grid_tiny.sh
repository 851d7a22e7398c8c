#!/usr/bin/env bash
# The tiny grid record, seed by seed and benchmark by benchmark (resumable: a rerun reuses every finished run and
# result). Usage: tests/benchmarks/run_grid_tiny.sh OUT "GROUPS..." "SEEDS..." [extra stt_ablate args]
# (GROUPS "": only the variants named by --variants in the extra args)
# e.g.  tests/benchmarks/run_grid_tiny.sh tests/benchmarks/results/grid_tiny_v3 "paradigm" "0 1 2"
set -uo pipefail
cd "$(dirname "$0")/../.."
out=$1; groups=$2; seeds=$3; shift 3
for seed in $seeds; do
  for task in davis jhmdb vip correspondence; do
    t0=$(date +%s)
    .venv/bin/stt_ablate --scale tiny ${groups:+--groups $groups} --seeds "$seed" --task "$task" --out "$out" --no-progress "$@" \
      || { echo "grid: seed $seed task $task FAILED"; exit 1; }
    echo "grid: seed $seed task $task done in $(( $(date +%s) - t0 )) s"
  done
done
