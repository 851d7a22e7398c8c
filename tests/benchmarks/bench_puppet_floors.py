"""Local-feature floors of the tiny scale's toy JHMDB v2 and toy VIP v2 (issue 20, item 5), beside the random floor.

Item 5 asks that raw Lab pixels and the stem alone (conv1 + BN + ReLU pooled to the feature grid; untrained, and taken
from networks trained by the temporal-only recipe) score no better than random-init R18 + one seed std. The DAVIS
benchmark's floors are `bench_toy_floors.py`; this script scores the same features on the two puppet benchmarks, with
the scale's own evaluation options, so the numbers compare with the grid's rows. One job at a time (2 cores):

    python tests/benchmarks/bench_puppet_floors.py --task jhmdb [--seeds 0 1 2] [--trained-stem RUN/backbone.pt ...] \
        [--out tests/benchmarks/results/toy_puppet_floors_jhmdb.md]

Prints one line per feature and writes a markdown table (benchmark identity, code fingerprint, machine) and its JSON.

`--generator toy_vip_v3` scores another generator's benchmark with the scale's parameters for the task (a candidate
benchmark, before any scale uses it); `--models-from RECORD` also scores every trained backbone of a grid record (its
`results.csv` rows of the task), so that the floors can be read beside what the trained variants reach there:

    python tests/benchmarks/bench_puppet_floors.py --task vip --generator toy_vip_v3 \
        --trained-stem RUN/backbone.pt ... --models-from tests/benchmarks/results/grid_tiny_v4 \
        --out tests/benchmarks/results/toy_puppet_floors_vip_v3.md
"""
from __future__ import annotations
import argparse, csv, dataclasses, json, os, platform, tempfile, time
from pathlib import Path
import numpy as np, torch

from stt_nb.ablations import ablation_root
from stt_nb.backbone import feature_size, seeded_backbone
from stt_nb.core import atomic_write
from stt_nb.correspondence import lab_pixel_features
from stt_nb.evaluate import backbone_features, run_eval, task_input_size
from stt_nb.runs import PRIMARY_METRIC, code_fingerprint
from stt_nb.scales import TOY_GENERATORS, benchmark_identity, get_scale, toy_spec, toy_benchmark
from bench_toy_floors import stem_runs          # the stem-only floors, as the DAVIS script builds them

def resolve_weights(recorded: str) -> Path | None:
    """A record's `weights` path on this machine: the recorded (absolute) path if it exists, else the same run's file in
    this machine's ablation cache (`$STT_NB_CACHE/ablations/runs/<run>/<file>`); None if neither exists."""
    p = Path(recorded)
    for c in (p, ablation_root() / 'runs' / p.parent.name / p.name):
        if c.is_file(): return c
    return None

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--task', choices=('jhmdb', 'vip'), required=True)
    ap.add_argument('--scale', default='tiny')
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--trained-stem', nargs='+', default=[], metavar='WEIGHTS',
                    help="backbone weights (e.g. a temporal-only run's backbone.pt) whose stem alone is scored")
    ap.add_argument('--generator', default=None, help="another toy generator for the task (e.g. toy_vip_v3), with the "
                    "scale's parameters")
    ap.add_argument('--models-from', default=None, metavar='RECORD',
                    help="a grid record folder: also score each trained backbone of its rows of this task")
    ap.add_argument('--out', default=None)
    a = ap.parse_args()
    s = get_scale(a.scale)
    if a.generator:                        # the scale with this task's generator replaced: a candidate benchmark
        if a.generator not in TOY_GENERATORS: ap.error(f"--generator: unknown {a.generator!r}; valid: {list(TOY_GENERATORS)}")
        s = dataclasses.replace(s, toy_tasks=tuple((t, p, a.generator) if t == a.task else (t, p, *g) for t, p, *g in s.toy_tasks))
    models = {}                            # the record's trained backbones, scored as the grid scores them
    if a.models_from:
        rec = Path(a.models_from) / 'results.csv'
        if not rec.is_file(): ap.error(f'--models-from: no results.csv in {a.models_from}')
        missing = []
        for r in csv.DictReader(open(rec)):
            if r['task'] == a.task and r['weights'] != 'random':
                w = resolve_weights(r['weights'])
                if w is None: missing.append(f"{r['variant']} seed {r['seed']}: {r['weights']}"); continue
                models[f"model: {r['variant']} (seed {r['seed']}, {w.parent.name})"] = str(w)
        if missing:                        # before any scoring: a half-scored table would look like a result
            ap.error(f'--models-from {rec}: {len(missing)} trained backbone(s) are not on this machine, neither at the '
                     f'recorded path nor in this cache ({ablation_root() / "runs"}): ' + '; '.join(missing) +
                     '. Train them first with the command in the record\'s README.md (the runs are reused by key).')
    opts = {**dict(s.eval_options), **dict(dict(s.task_eval_options).get(a.task, ()))}
    root, metric = toy_benchmark(s, task=a.task), PRIMARY_METRIC[a.task]
    size = lambda smp: task_input_size(a.task, *smp.size, opts.get('input_size'))
    grid_of = lambda smp: feature_size(size(smp), 'test_s8')[0]
    work = Path(tempfile.mkdtemp(prefix='puppet_floors_'))
    runs = {'Lab pixels pooled to the grid': lambda smp: lab_pixel_features(smp.frames, grid=grid_of(smp))}
    runs |= stem_runs(a.seeds, a.trained_stem, grid_of)
    # the grid's floor (torchvision's init, the from-scratch students' one), batched as run_eval batches it (10 frames)
    for k in a.seeds:
        model = seeded_backbone('test_s8', 18, 'torchvision', k).eval()
        runs[f'random R18, torchvision init (seed {k})'] = \
            (lambda model: lambda smp: backbone_features(model, smp.frames, size(smp), 'cpu', colour='lab'))(model)
    rows = []
    for name, fn in list(runs.items()) + list(models.items()):
        t = time.perf_counter()
        ckpt, fn = (fn, None) if isinstance(fn, str) else ('random', fn)
        tab = run_eval(a.task, ckpt, root, work / name.replace(' ', '_').replace(',', '').replace(':', ''),
                       features_fn=fn, progress=False, n_workers=1, **opts)
        rows.append((name, float(tab[metric].iloc[0]), time.perf_counter() - t))
        print(f'{name:<48} {metric} {rows[-1][1]:.3f}  ({rows[-1][2]:.0f} s)', flush=True)
    by = dict((n, v) for n, v, _ in rows)
    def stat(prefix):
        x = np.array([v for n, v in by.items() if n.startswith(prefix)])
        return (x.mean(), x.std(ddof=1) if len(x) > 1 else float('nan')) if len(x) else (float('nan'), float('nan'))
    (rm, rs), (um, us), (tm, ts) = stat('random R18'), stat('stem only, untrained'), stat('stem only, trained')
    gen = toy_spec(s, a.task)[0]
    lines = [f'# Toy {a.task.upper()} local-feature floors ({a.scale} scale)', '',
             f'Benchmark: `{gen}` with the `{a.scale}` scale\'s parameters for {a.task} (`{benchmark_identity(s, task=a.task)}`), evaluation options '
             f'{opts or "the protocol defaults"}; code `{code_fingerprint()}`; {platform.processor() or platform.machine()}, '
             f'{os.cpu_count()} cores, torch {torch.__version__}; {time.strftime("%Y-%m-%d")}.', '',
             f'| feature | {metric} | seconds |', '|---|---|---|']
    lines += [f'| {n} | {v:.3f} | {t:.0f} |' for n, v, t in rows]
    lines += ['', f'- random R18 (torchvision init): mean {rm:.3f}, seed std {rs:.3f}; random + 1 std = {rm + rs:.3f}',
              f'- Lab pixels: {by["Lab pixels pooled to the grid"]:.3f}',
              f'- stem only, untrained: mean {um:.3f}, seed std {us:.3f}']
    if a.trained_stem: lines += [f'- stem only, trained: mean {tm:.3f}, std {ts:.3f} over {len(a.trained_stem)} runs']
    for v in dict.fromkeys(n.split(' (')[0] for n in models):
        m, sd = stat(v + ' (')
        lines += [f'- {v}: mean {m:.3f}, seed std {sd:.3f} over {sum(n.startswith(v + " (") for n in models)} runs']
    text = '\n'.join(lines) + '\n'
    print(text)
    if a.out:
        with atomic_write(a.out, 'w') as f: f.write(text)
        res = dict(task=a.task, scale=a.scale, generator=gen, benchmark=benchmark_identity(s, task=a.task), metric=metric,
                   models_from=a.models_from, rows=[dict(feature=n, score=v, seconds=round(t, 1)) for n, v, t in rows])
        with atomic_write(Path(a.out).with_suffix('.json'), 'w') as f: f.write(json.dumps(res, indent=1) + '\n')

if __name__ == '__main__': main()
