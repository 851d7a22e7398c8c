#!/usr/bin/env bash
# The tiny grid record, seed by seed and benchmark by benchmark (resumable: a rerun reuses every finished run and
# result). Usage: [JOBS=N] tests/benchmarks/run_grid_tiny.sh OUT "GROUPS..." "SEEDS..." [extra stt_ablate args]
# (GROUPS "": only the variants named by --variants in the extra args; SCALE=name: another scale, default tiny,
# e.g. SCALE=tiny_v3 for the records of 0.2)
# e.g.  JOBS=2 tests/benchmarks/run_grid_tiny.sh tests/benchmarks/results/grid_tiny_v4 "paradigm" "0 1 2"
# JOBS=N runs N seeds at once, each process with cores / N torch threads (default 1 job with every core). On 2 cores
# two one-thread seeds finish in far less time than the same two seeds one after the other with two threads each
# (the tiny runs' convolutions are too small for two threads to pay off); results.csv is written under a file lock,
# so the seeds share OUT safely.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=$1; groups=$2; seeds=$3; shift 3
jobs=${JOBS:-1}
scale=${SCALE:-tiny}
cores=$(nproc)
threads=$(( cores / jobs > 0 ? cores / jobs : 1 ))

one_seed() {
  local seed=$1 task t0; shift
  for task in davis jhmdb vip correspondence; do
    t0=$(date +%s)
    .venv/bin/stt_ablate --scale "$scale" ${groups:+--groups $groups} --seeds "$seed" --task "$task" --out "$out" --no-progress "$@" \
      || { echo "grid: seed $seed task $task FAILED"; return 1; }
    echo "grid: seed $seed task $task done in $(( $(date +%s) - t0 )) s"
  done
}

# each stt_ablate call reports only the rows it ran; at the end the record's reports are rewritten from all its rows
record_reports() {
  local task
  for task in davis jhmdb vip correspondence; do
    .venv/bin/stt_ablate --scale "$scale" --report ${groups:+--groups $groups} --task "$task" --out "$out" > /dev/null \
      || { echo "grid: report of $task FAILED"; return 1; }
  done
  echo "grid: reports of the whole record written in $out"
}

if [ "$jobs" -le 1 ]; then
  for seed in $seeds; do one_seed "$seed" "$@" || exit 1; done
  record_reports; exit $?
fi
export OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads
rc=0; running=0
for seed in $seeds; do
  one_seed "$seed" "$@" > >(sed -u "s/^/[seed $seed] /") 2>&1 &
  running=$(( running + 1 ))
  if [ "$running" -ge "$jobs" ]; then wait -n || rc=1; running=$(( running - 1 )); fi
done
while [ "$running" -gt 0 ]; do wait -n || rc=1; running=$(( running - 1 )); done
if [ "$rc" -eq 0 ]; then record_reports || rc=1; fi
exit $rc
