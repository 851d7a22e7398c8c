#!/usr/bin/env bash
# The convergence check of the tiny recipe (issue 20): the paradigm group with every run's steps doubled (step 1:
# loop.epochs 640 -> 1280, i.e. 1280 steps; step 2 and joint: loop.epochs 30 -> 60, i.e. 480 steps), on the four
# benchmarks, seeds 0 and 1 by default, into grid_tiny_v4_2x. Notebook 40 compares it with the tiny record
# (grid_tiny_v4): a recipe has converged when doubling its steps moves every benchmark score by less than one seed std.
# Resumable, like run_grid_tiny.sh; JOBS=2 runs the two seeds side by side, one thread each. The two floors (random,
# random_other_init) are left out: they do not train, so doubling changes nothing in them; the five trained variants
# of the paradigm group are named.
# The previous check, tiny_v3 doubled (640 and 240 steps, which is today's tiny recipe), is seeds 0 and 1 of the record
# grid_tiny_v4; they were made (with tiny_v3, then named tiny) by  tests/benchmarks/run_grid_tiny.sh OUT "" "0 1" --variants spatial
# temporal joint st_plain stt --spatial-override loop.epochs=640 --temporal-override loop.epochs=30
# Usage: [JOBS=2] tests/benchmarks/run_convergence_tiny.sh [OUT] [SEEDS]
set -uo pipefail
cd "$(dirname "$0")/../.."
exec tests/benchmarks/run_grid_tiny.sh "${1:-tests/benchmarks/results/grid_tiny_v4_2x}" "" "${2:-0 1}" \
  --variants spatial temporal joint st_plain stt --spatial-override loop.epochs=1280 --temporal-override loop.epochs=60
