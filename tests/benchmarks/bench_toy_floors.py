"""Floors and ceiling of a toy DAVIS benchmark (v2 or v3): GT copy, exact-geometry oracle, random-init R18 under both
init schemes (seeds 0-2), and the local-feature floors (Lab pixels pooled to the grid; the stem alone, untrained, and
with --trained-stem, taken from trained backbones such as the temporal-only runs of the grid).

Issue 20, item 5: GT copy 1.0, oracle >= 0.90, random floor <= 0.50, and the local-feature floors no better than the
random floor + one seed std. Run one job at a time (2 cores):

    python tests/benchmarks/bench_toy_floors.py --version 3 [--seeds 0 1 2] [--out tests/benchmarks/results/toy_v3_floors.md]
    python tests/benchmarks/bench_toy_floors.py --stems-only --trained-stem RUN/backbone.pt ... --out ...trained_stem.md

Prints one line per feature and writes a markdown table (with the benchmark's parameters, code fingerprint, machine).
"""
import argparse, json, os, platform, tempfile, time
from pathlib import Path
import numpy as np, torch

from stt_nb.backbone import feature_size, load_backbone_weights, seeded_backbone
from stt_nb.core import atomic_write
from stt_nb.correspondence import lab_pixel_features, stem_features
from stt_nb.data import DavisReader, save_indexed_png
from stt_nb.evaluate import backbone_features, run_eval, task_input_size
from stt_nb.metrics import evaluate_davis
from stt_nb import toys

def stem_runs(seeds, trained, grid_of) -> dict:
    """{row name: features_fn} of the stem-only floors: the untrained stem of each seed (torchvision's init), and the
    stem (conv1 + BN + ReLU) of each trained backbone in `trained`; `grid_of(sample)` is the feature grid."""
    stem = lambda m: lambda s: stem_features(s.frames, m, grid_of(s))
    runs = {f'stem only, untrained (torchvision init, seed {k})': stem(seeded_backbone('test_s8', 18, 'torchvision', k))
            for k in seeds}
    for w in trained:
        m = seeded_backbone('test_s8', 18, 'torchvision', 0)
        load_backbone_weights(m, w)
        runs[f'stem only, trained ({Path(w).parent.name})'] = stem(m.eval())
    return runs

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--version', type=int, default=3, choices=(2, 3))
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--n-sequences', type=int, default=8)
    ap.add_argument('--n-frames', type=int, default=None)
    ap.add_argument('--out', default=None)
    ap.add_argument('--trained-stem', nargs='+', default=[], metavar='WEIGHTS',
                    help='backbone weights (e.g. a temporal-only run\'s backbone.pt) whose stem alone is scored')
    ap.add_argument('--stems-only', action='store_true', help='score only GT copy and the stems (no oracle, pixels, R18s)')
    a = ap.parse_args()
    gen = toys.toy_davis_v3 if a.version == 3 else toys.toy_davis_v2
    kw = dict(n_sequences=a.n_sequences) | ({'n_frames': a.n_frames} if a.n_frames else {})
    t0 = time.perf_counter(); root = gen(**kw); t_gen = time.perf_counter() - t0
    size = 240
    work = Path(tempfile.mkdtemp(prefix='floors_'))
    grid_of = lambda s: feature_size(task_input_size('davis', *s.size, size), 'test_s8')[0]
    gt = work / 'gt'
    for s in DavisReader(root):
        for n, m in zip(s.frame_names, s.masks): save_indexed_png(gt / s.name / f'{n}.png', m)
    rows = [('GT copy', evaluate_davis(root, gt, n_workers=1).scores()['J&F-Mean'], 0.0)]
    def bb_fn(model):
        return lambda s: backbone_features(model, s.frames, task_input_size('davis', *s.size, size), 'cpu', 8, 'lab')
    runs = {'exact-geometry oracle': lambda s: torch.from_numpy(toys.toy_oracle_features(s.masks, grid_of(s))),
            'Lab pixels pooled to the grid': lambda s: lab_pixel_features(s.frames, grid=grid_of(s))}
    if a.stems_only: runs = {}
    runs |= stem_runs(a.seeds, a.trained_stem, grid_of)
    for scheme in ('torchvision', 'release'):
        for k in ([] if a.stems_only else a.seeds):
            runs[f'random R18, {scheme} init (seed {k})'] = bb_fn(seeded_backbone('test_s8', 18, scheme, k).eval())
    for name, fn in runs.items():
        t = time.perf_counter()
        tab = run_eval('davis', 'random', root, work / name.replace(' ', '_').replace(',', ''), features_fn=fn,
                       progress=False, n_workers=1, input_size=size)
        rows.append((name, float(tab['J&F-Mean'][0]), time.perf_counter() - t))
        print(f'{name:<48} J&F {rows[-1][1]:.3f}  ({rows[-1][2]:.0f} s)', flush=True)
    res = dict(rows=[dict(feature=n, jf=v, seconds=round(t, 1)) for n, v, t in rows])
    by = {n: v for n, v, _ in rows}
    def stat(prefix):
        x = np.array([v for n, v in by.items() if n.startswith(prefix)])
        return x.mean(), (x.std(ddof=1) if len(x) > 1 else float('nan'))
    rt, st = stat('random R18, torchvision'); rr, sr = stat('random R18, release'); sm, ss = stat('stem only, untrained')
    from stt_nb.ablations import code_fingerprint
    lines = [f'# Toy DAVIS v{a.version} floors and ceiling', '',
             f'Benchmark: `toy_davis_v{a.version}({kw})` (generated in {t_gen:.1f} s), evaluated at its native {size} px '
             f'with the STT protocol; code `{code_fingerprint()}`; {platform.processor() or platform.machine()}, '
             f'{os.cpu_count()} cores, torch {torch.__version__}; {time.strftime("%Y-%m-%d")}.', '',
             '| feature | J&F | seconds |', '|---|---|---|']
    lines += [f'| {n} | {v:.3f} | {t:.0f} |' for n, v, t in rows]
    tm, ts = stat('stem only, trained')
    lines += ['', f'- stem only (untrained): mean {sm:.3f}, seed std {ss:.3f}']
    if a.trained_stem: lines += [f'- stem only (trained): mean {tm:.3f}, std {ts:.3f} over {len(a.trained_stem)} runs']
    if not a.stems_only:
        lines += [f'- random R18, torchvision init: mean {rt:.3f}, seed std {st:.3f}',
                  f'- random R18, release init: mean {rr:.3f}, seed std {sr:.3f}',
                  f'- targets: oracle >= 0.90: {by["exact-geometry oracle"]:.3f}; random (torchvision) <= 0.50: {rt:.3f}; '
                  f'Lab pixels <= random + 1 std = {rt + st:.3f}: {by["Lab pixels pooled to the grid"]:.3f}; '
                  f'stem <= random + 1 std: {sm:.3f}']
    text = '\n'.join(lines) + '\n'
    print(text)
    if a.out:
        with atomic_write(a.out, 'w') as f: f.write(text)
        with atomic_write(Path(a.out).with_suffix('.json'), 'w') as f: f.write(json.dumps(res, indent=1) + '\n')

if __name__ == '__main__': main()
