"""Benchmark: DAVIS J&F scoring (`stt_eval metrics`, `stt_nb.metrics.evaluate_davis`) at a small and a DAVIS-val size.

Two synthetic DAVIS-2017 folders at 480p (seeded `stt_nb.toys.toy_davis`, 1–3 objects per sequence; predictions
are the ground truth shifted `--shift` pixels to the right, so that J and F have real work to do):

* `small`: 4 sequences × 40 frames (152 evaluated frames);
* `val`: 30 sequences × 67 frames = 2,010 frames, 1,950 evaluated, ~60 objects (DAVIS-2017 val: 30 sequences,
  1,999 frames, 61 objects).

For each size, in one run (take it under `flock /tmp/stt_cpu.lock` on a shared machine), the median of `--repeats`
wall times of:

* `CLI`: the whole `stt_eval metrics --no-progress` command in a fresh interpreter (start-up, imports, scoring, CSVs,
  printing), which is what a user runs; its CPU time (user + sys of the child) is printed too;
* `function`: `evaluate_davis(root, results)` with its defaults (serial or process pool chosen by the amount of
  work), in this process;
* `function, serial` / `function, pool`: the same with `n_workers=1` (in this process, PNGs decoded by a read-ahead
  thread) and `n_workers=<CPUs>` (forked process pool), to show that the automatic choice picks the faster one;
* `plain loop`: a plain single-process loop over the same per-frame code (read both PNGs, `davis_frame_scores`,
  then `davis_tables`), no thread and no pool: the baseline.

All paths must give identical per-frame J and F. A literal transcription of the official recipe (full-frame boundary
maps, disk dilation with SciPy; the official evaluator uses cv2, not installed here) re-scores the first
`--ref-seqs` sequences to check bit-identity; it is not timed, because it is not the official code and its speed
says nothing about the official evaluator's. The official evaluator's times quoted in the table (issue 13: ≈ 6 s
for the small set and ≈ 73 s for DAVIS val on a quiet 2-core machine) were measured elsewhere, not by this script.

    python tests/benchmarks/bench_metrics.py [--sizes small val] [--root DIR] [--shift 6] [--repeats 3] [--out FILE.md]
"""
import argparse, datetime, os, platform, resource, shutil, subprocess, sys, tempfile, time
from pathlib import Path

import numpy as np
from PIL import Image

SIZES = {'small': (4, 40), 'val': (30, 67)}            # sequences, frames per sequence (480p)
OFFICIAL_S = {'small': 6.0, 'val': 73.0}               # the official evaluator, as quoted in issue 13 (not measured here)


def literal_sequence(ann_dir: Path, pred_dir: Path, bound_th: float = 0.008):
    "Literal, single-process transcription of the official semi-supervised scoring of one sequence: J, F [K, n]."
    from scipy import ndimage
    from skimage.morphology import disk
    from stt_nb.metrics import seg2bmap
    gts = sorted(ann_dir.glob('*.png'))
    gt_all = np.stack([np.array(Image.open(p)) for p in gts]).astype(np.float64)
    gt_all[gt_all == 255] = 0
    K = int(gt_all[0].max())
    gt = gt_all[1:-1]
    pr = np.stack([np.array(Image.open(pred_dir / p.name)) for p in gts[1:-1]]).astype(np.float64)
    J, F = np.zeros((K, len(gt))), np.zeros((K, len(gt)))
    for k in range(1, K + 1):
        for t in range(len(gt)):
            a, s = gt[t] == k, pr[t] == k
            inter, union = np.sum(a & s), np.sum(a | s)
            J[k - 1, t] = 1 if union == 0 else inter / union
            d = np.ceil(bound_th * np.linalg.norm(a.shape))
            fb, gb = seg2bmap(s), seg2bmap(a)
            fp = disk(int(d)).astype(bool)
            fd, gd = ndimage.binary_dilation(fb, fp), ndimage.binary_dilation(gb, fp)
            nf, ng = fb.sum(), gb.sum()
            if nf == 0 and ng > 0: p, r = 1, 0
            elif nf > 0 and ng == 0: p, r = 0, 1
            elif nf == 0 and ng == 0: p, r = 1, 1
            else: p, r = np.sum(fb & gd) / float(nf), np.sum(gb & fd) / float(ng)
            F[k - 1, t] = 0 if p + r == 0 else 2 * p * r / (p + r)
    return J, F


def plain_loop(root: Path, res: Path):
    "The baseline: one process, no read-ahead thread, the same per-frame functions; per-frame J, F and the tables."
    from stt_nb.metrics import davis_frame_scores, davis_sequence_list, davis_tables, read_label_png
    per_frame = {}
    for seq in davis_sequence_list(root):
        gts = sorted((root / 'Annotations' / '480p' / seq).glob('*.png'))
        first = read_label_png(gts[0])
        K = int(np.where(first == 255, 0, first).max())
        J, F = np.empty((K, len(gts) - 2)), np.empty((K, len(gts) - 2))
        for t, g in enumerate(gts[1:-1]):
            J[:, t], F[:, t] = davis_frame_scores(read_label_png(g), read_label_png(res / seq / g.name), K)
        per_frame[seq] = (J, F)
    davis_tables(per_frame)
    return per_frame


def make_set(root: Path, name: str, shift: int) -> tuple[Path, Path]:
    "The toy DAVIS folder of size `name` (reused if already there) and its shifted predictions."
    from stt_nb.toys import toy_davis
    n_seq, n_frames = SIZES[name]
    droot = toy_davis(root / name, height=480, n_sequences=n_seq, n_frames=n_frames)
    res = root / f'{name}_pred_shift{shift}'
    if not (res / '.done').exists():
        shutil.rmtree(res, ignore_errors=True)
        for s in sorted((droot / 'Annotations' / '480p').iterdir()):
            (res / s.name).mkdir(parents=True)
            for f in sorted(s.glob('*.png')):
                im = Image.open(f)
                m = np.roll(np.array(im), shift, axis=1); m[:, :shift] = 0
                out = Image.fromarray(m); out.putpalette(im.getpalette()); out.save(res / s.name / f.name)
        (res / '.done').touch()
    return droot, res


def timed(fn, repeats: int):
    "Median wall time of `repeats` calls and the last result."
    ts, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter(); out = fn(); ts.append(time.perf_counter() - t0)
    return sorted(ts)[len(ts) // 2], out


def run_cli(droot: Path, res: Path, repeats: int) -> tuple[float, float]:
    "Median wall and CPU (user + sys) seconds of the `stt_eval metrics` command, as a fresh process."
    exe = shutil.which('stt_eval', path=str(Path(sys.executable).parent)) or 'stt_eval'
    cmd = [exe, 'metrics', '--davis-root', str(droot), '--results', str(res), '--no-progress']
    walls, cpus = [], []
    for _ in range(repeats):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True)
        walls.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        assert r.returncode == 0, r.stderr
        cpus.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return sorted(walls)[len(walls) // 2], sorted(cpus)[len(cpus) // 2]


def bench(name: str, root: Path, shift: int, repeats: int, ref_seqs: int) -> dict:
    import stt_nb.metrics as M
    from stt_nb.metrics import evaluate_davis, _default_workers
    droot, res = make_set(root, name, shift)
    plain_loop(droot, res)                                              # warm the page cache
    t_plain, ref = timed(lambda: plain_loop(droot, res), repeats)
    t_fn, r_fn = timed(lambda: evaluate_davis(droot, res), repeats)
    n_cpu = _default_workers(10 ** 6)
    t_ser, r_ser = timed(lambda: evaluate_davis(droot, res, n_workers=1, write_csv=False), repeats)
    t_pool, r_pool = timed(lambda: evaluate_davis(droot, res, n_workers=n_cpu, write_csv=False), repeats)
    t_cli, cpu_cli = run_cli(droot, res, repeats)
    for r in (r_fn, r_ser, r_pool):                                     # every path: identical per-frame values
        for s, (J, F) in ref.items():
            assert np.array_equal(J, r.per_frame[s][0]) and np.array_equal(F, r.per_frame[s][1]), (name, s)
    for s in list(ref)[:ref_seqs]:                                      # and identical to the literal recipe
        J, F = literal_sequence(droot / 'Annotations' / '480p' / s, res / s)
        assert np.array_equal(J, ref[s][0]) and np.array_equal(F, ref[s][1]), (name, s, 'literal')
    frames = sum(J.shape[1] for J, _ in ref.values())
    pixels = sum(J.shape[1] for J, _ in ref.values()) * 480 * 854
    return dict(name=name, seqs=len(ref), frames=frames, objects=sum(len(J) for J, _ in ref.values()),
                pool=pixels >= getattr(M, 'POOL_MIN_PIXELS', 0), cpus=n_cpu, cli=t_cli, cli_cpu=cpu_cli, fn=t_fn, serial=t_ser,
                pool_t=t_pool, plain=t_plain, jf=r_fn.scores()['J&F-Mean'], official=OFFICIAL_S[name])


def table(rows: list[dict]) -> str:
    lines = ['| set | sequences / evaluated frames / objects | `stt_eval metrics` wall (CPU) s | `evaluate_davis` s '
             '(chooses) | serial s | pool s | plain loop s | plain / CLI | plain / function | official (quoted) / CLI |',
             '|---|---|---|---|---|---|---|---|---|---|']
    for r in rows:
        lines.append(f"| {r['name']} | {r['seqs']} / {r['frames']} / {r['objects']} | {r['cli']:.2f} ({r['cli_cpu']:.2f}) | "
                     f"{r['fn']:.2f} ({'pool' if r['pool'] else 'serial'}) | {r['serial']:.2f} | {r['pool_t']:.2f} "
                     f"({r['cpus']} workers) | {r['plain']:.2f} | {r['plain'] / r['cli']:.1f}x | {r['plain'] / r['fn']:.1f}x | "
                     f"≈ {r['official'] / r['cli']:.0f}x |")
    return '\n'.join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--sizes', nargs='+', choices=list(SIZES), default=list(SIZES))
    p.add_argument('--root', default=None, help='folder for the generated sets (kept and reused; default: a temporary one)')
    p.add_argument('--shift', type=int, default=6, help='predictions = ground truth shifted by this many pixels (default 6)')
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--ref-seqs', type=int, default=1, help='sequences re-scored by the literal recipe (default 1)')
    p.add_argument('--out', default=None, help='also write the table, with date, machine and commit, to this markdown file')
    p.add_argument('--label', default='', help='a note for the header (e.g. which stt_nb is on PYTHONPATH)')
    a = p.parse_args(argv)
    root = Path(a.root) if a.root else Path(tempfile.mkdtemp(prefix='bench_metrics_'))
    try:
        load0 = os.getloadavg()
        rows = [bench(n, root, a.shift, a.repeats, a.ref_seqs) for n in a.sizes]
        load1 = os.getloadavg()
    finally:
        if not a.root: shutil.rmtree(root, ignore_errors=True)
    try: commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True,
                                 cwd=Path(__file__).parent).stdout.strip() or 'unknown'
    except OSError: commit = 'unknown'
    cpu = next((l.split(':', 1)[1].strip() for l in Path('/proc/cpuinfo').read_text().splitlines()
                if l.startswith('model name')), platform.processor()) if Path('/proc/cpuinfo').exists() else platform.processor()
    head = (f"DAVIS J&F scoring, 480p toy DAVIS, predictions = ground truth shifted {a.shift} px; median of {a.repeats} runs.\n"
            f"Date {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; machine: {os.cpu_count()} CPUs ({cpu}), "
            f"Python {platform.python_version()}, NumPy {np.__version__}; commit {commit}; "
            f"load average {load0[0]:.2f} before, {load1[0]:.2f} after." + (f" {a.label}" if a.label else ''))
    text = head + '\n\n' + table(rows) + '\n\nJ&F-Mean: ' + ', '.join(f"{r['name']} {r['jf']:.4f}" for r in rows) + \
        f"; identical per-frame J and F on every path, and to the literal recipe on {a.ref_seqs} sequence(s) per set.\n"
    print(text)
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(text)


if __name__ == '__main__': main()
