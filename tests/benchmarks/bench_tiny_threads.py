"""Benchmark: seconds per training step of the `tiny` recipes on CPU, by torch threads and data-loader workers.

Issue 20, item 7: before the tiny recipe trains longer, find what a step costs and what makes it cheaper. Each setting
runs in a fresh process (`stt_nb.training.profile_steps`: `warmup` steps, then `steps` timed ones, no checkpoints) on
the recipe's own config (`configs/<task>/tiny_cpu.yaml` with the `tiny` scale's overrides, so step 2 from scratch is
`temporal`, full STT is `stt` with a random stand-in teacher of the same depth) and prints the per-step data / forward
+ backward / optimiser / total times and, per task, each setting's speed relative to the config's own (2 threads on 2
cores, its `loop.num_workers`). Run it on a quiet machine: a second torch process on 2 cores slows both 5-12x.

    python tests/benchmarks/bench_tiny_threads.py [--tasks spatial temporal stt joint] [--steps 8] [--warmup 2]
                                                  [--settings 2:1 1:1 1:0 2:0]
"""
import argparse, json, os, subprocess, sys

CHILD = r"""
import json, sys, torch
threads, workers, task, steps, warmup = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads)
from stt_nb.ablations import plan_variant
from stt_nb.training import profile_steps
import dataclasses
plan = plan_variant(task, 'tiny', 0)
cfg = plan.config
if task in ('st_plain', 'stt'):                    # no step-1 checkpoint needed to time a step: a random teacher
    cfg = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, teacher='random', init='random'))
cfg = dataclasses.replace(cfg, loop=dataclasses.replace(cfg.loop, num_workers=workers))
out = profile_steps(cfg, plan.kind, steps=steps, warmup=warmup)
print('RESULT ' + json.dumps(out))
"""

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--tasks', nargs='+', default=['spatial', 'temporal', 'stt', 'joint'])
    ap.add_argument('--settings', nargs='+', default=['2:1', '1:1', '1:0', '2:0'], help='threads:workers')
    ap.add_argument('--steps', type=int, default=8); ap.add_argument('--warmup', type=int, default=2)
    a = ap.parse_args(argv)
    rows = []
    for task in a.tasks:
        base = None
        for s in a.settings:
            th, wk = s.split(':')
            env = {**os.environ, 'OMP_NUM_THREADS': th, 'MKL_NUM_THREADS': th}
            p = subprocess.run([sys.executable, '-c', CHILD, th, wk, task, str(a.steps), str(a.warmup)], env=env,
                               capture_output=True, text=True)
            line = [l for l in p.stdout.splitlines() if l.startswith('RESULT ')]
            if p.returncode or not line: sys.exit(f'{task} {s}: failed\n{p.stderr[-3000:]}')
            r = json.loads(line[0][7:]); base = base or r['step']
            rows.append((task, s, r)); 
            print(f"{task:9s} threads:workers {s}  step {r['step']:.3f} s  data {r['data']:.3f}  fwd+bwd "
                  f"{r['fwd_bwd']:.3f}  optim {r['optim']:.3f}  speed vs first setting x{base / r['step']:.2f}",
                  flush=True)
    return rows

if __name__ == '__main__': main()
