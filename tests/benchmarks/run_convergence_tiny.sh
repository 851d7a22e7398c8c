#!/usr/bin/env bash
# The convergence record of the tiny recipe (issue 20): the paradigm group with every run's steps doubled (step 1:
# loop.epochs 320 -> 640, i.e. 640 steps; step 2 and joint: loop.epochs 15 -> 30, i.e. 240 steps), on the four
# benchmarks, seeds 0 and 1 by default. Notebook 40 compares it with grid_tiny_v3: a recipe has converged when doubling
# its steps moves every benchmark score by less than one seed std. Resumable, like run_grid_tiny.sh. The two floors
# (random, random_other_init) are left out: they do not train, so doubling changes nothing in them; the five trained
# variants of the paradigm group are named.
# Usage: tests/benchmarks/run_convergence_tiny.sh [OUT] [SEEDS]
set -uo pipefail
cd "$(dirname "$0")/../.."
exec tests/benchmarks/run_grid_tiny.sh "${1:-tests/benchmarks/results/grid_tiny_v3_2x}" "" "${2:-0 1}" \
  --variants spatial temporal joint st_plain stt --spatial-override loop.epochs=640 --temporal-override loop.epochs=30
