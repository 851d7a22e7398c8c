#!/usr/bin/env bash
# A queue of long commands (training runs, grid seeds) shared by N workers: each worker takes the first line of QUEUE
# under a lock, deletes it and runs it with bash from the repository root, until the queue is empty. Lines may be
# appended, deleted or reordered while the workers run (take the same lock: flock QUEUE.lock ...). Each finished line
# is appended to QUEUE.done as "<exit status><TAB><line>"; a line that fails does not stop the others.
# Usage: [WORKERS=2] [THREADS=N] tests/benchmarks/run_queue.sh QUEUE [LOG_DIR]
#   WORKERS: processes side by side (default 2); THREADS: torch threads each (default: cores / WORKERS, at least 1).
#   On 2 cores two one-thread jobs side by side train about 1.3x more steps an hour than one two-thread job (notebook 40).
#   LOG_DIR (default: QUEUE's folder) gets worker-<i>.log. Exit status 1 if any line failed.
set -uo pipefail
queue=$(realpath "$1"); logs=$(realpath "${2:-$(dirname "$queue")}")
[ -f "$queue" ] || { echo "run_queue: no queue file $queue" >&2; exit 2; }
cd "$(dirname "$0")/../.."
workers=${WORKERS:-2}; cores=$(nproc)
[[ "$workers" =~ ^[1-9][0-9]*$ ]] || { echo "run_queue: WORKERS must be a positive integer, got '$workers'" >&2; exit 2; }
threads=${THREADS:-$(( cores / workers > 0 ? cores / workers : 1 ))}
export OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads
mkdir -p "$logs"; touch "$queue.done"

take() {   # print the first line of the queue and delete it, under the lock; nothing when the queue is empty
  flock "$queue.lock" bash -c 'l=$(head -n 1 "$1"); [ -n "$l" ] && sed -i 1d "$1"; printf "%s" "$l"' _ "$queue"
}

worker() {
  local i=$1 line rc failed=0
  while line=$(take) && [ -n "$line" ]; do
    echo "[$(date +%T)] start: $line"
    bash -c "$line"; rc=$?
    echo "[$(date +%T)] end (exit $rc): $line"
    flock "$queue.lock" bash -c 'printf "%s\t%s\n" "$1" "$2" >> "$3"' _ "$rc" "$line" "$queue.done"
    [ "$rc" -eq 0 ] || failed=1
  done
  return $failed
}

rc=0
for i in $(seq 1 "$workers"); do worker "$i" > "$logs/worker-$i.log" 2>&1 & done
for i in $(seq 1 "$workers"); do wait -n || rc=1; done
exit $rc
