"""Benchmark: DAVIS J&F scoring (`stt_nb.metrics.evaluate_davis`) on the toy DAVIS benchmark at 480p.

Predictions are the ground truth copied (optionally shifted by `--shift` pixels, so that F has real work to do).
Three ways of scoring the same folder are timed in one run:

* `reference`: a plain single-process loop that transcribes the official recipe literally — one binary mask per
  object, full-frame `seg2bmap`, disk dilation of both boundary maps (scipy's `binary_dilation`; the official code
  uses cv2's, which is faster but not installed here) — run on the first `--ref-seqs` sequences only, because it
  is slow; it must give bit-identical per-frame J and F;
* `ours, 1 worker`: `evaluate_davis(..., n_workers=1)` (in this process);
* `ours, N workers`: `evaluate_davis(..., n_workers=N)` (process pool; N = all CPUs by default).

Times are per evaluated object-frame where the workloads differ, and ratios are measured in one run.

    python tests/benchmarks/bench_metrics.py [--sequences 6] [--frames 30] [--shift 0] [--ref-seqs 2] [--workers N]
"""
import argparse, os, shutil, tempfile, time
from pathlib import Path

import numpy as np
from PIL import Image


def reference_sequence(ann_dir: Path, pred_dir: Path, bound_th: float = 0.008):
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


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--sequences', type=int, default=6); p.add_argument('--frames', type=int, default=30)
    p.add_argument('--shift', type=int, default=0, help='shift the copied ground truth by this many pixels (default 0)')
    p.add_argument('--ref-seqs', type=int, default=2, help='sequences scored by the slow reference loop (default 2)')
    p.add_argument('--workers', type=int, default=None, help='pool size of the multi-process run (default: all CPUs)')
    p.add_argument('--repeats', type=int, default=3)
    a = p.parse_args(argv)
    from stt_nb.embedded import toy_davis
    from stt_nb.metrics import evaluate_davis, davis_sequence_list, _default_workers
    root = toy_davis(height=480, n_sequences=a.sequences, n_frames=a.frames)
    seqs = davis_sequence_list(root)
    tmp = Path(tempfile.mkdtemp(prefix='bench_metrics_'))
    try:
        res = tmp / 'res'
        for s in seqs:
            (res / s).mkdir(parents=True)
            for f in sorted((root / 'Annotations' / '480p' / s).glob('*.png')):
                im = Image.open(f)
                if a.shift:
                    m = np.roll(np.array(im), a.shift, axis=1); m[:, :a.shift] = 0
                    out = Image.fromarray(m); out.putpalette(im.getpalette()); out.save(res / s / f.name)
                else: shutil.copy(f, res / s / f.name)
        n_workers = a.workers or _default_workers(len(seqs))
        evaluate_davis(root, res, n_workers=1, write_csv=False)            # warm the page cache and imports
        def timed(fn):
            ts = []
            for _ in range(a.repeats):
                t0 = time.perf_counter(); out = fn(); ts.append(time.perf_counter() - t0)
            return sorted(ts)[len(ts) // 2], out
        t1, r1 = timed(lambda: evaluate_davis(root, res, n_workers=1, write_csv=False))
        tn, rn = timed(lambda: evaluate_davis(root, res, n_workers=n_workers, write_csv=False))
        assert rn.global_table.values.tolist() == r1.global_table.values.tolist()
        ref_seqs = seqs[:a.ref_seqs]
        t0 = time.perf_counter()
        ref = {s: reference_sequence(root / 'Annotations' / '480p' / s, res / s) for s in ref_seqs}
        t_ref = time.perf_counter() - t0
        for s in ref_seqs:                                                  # bit-identical per-frame values
            assert np.array_equal(ref[s][0], r1.per_frame[s][0]) and np.array_equal(ref[s][1], r1.per_frame[s][1]), s
        of_all = sum(J.size for J, _ in r1.per_frame.values())
        of_ref = sum(ref[s][0].size for s in ref_seqs)
        frames = sum(J.shape[1] for J, _ in r1.per_frame.values())
        per = lambda t, n: 1000 * t / n
        print(f"toy DAVIS 480p: {len(seqs)} sequences x {a.frames} frames, {frames} evaluated frames, {of_all} object-frames; "
              f"predictions = GT{' shifted by %d px' % a.shift if a.shift else ' copied'}; {os.cpu_count()} CPUs")
        print(f"{'implementation':<34}{'total s':>9}{'ms / object-frame':>19}")
        print(f"{'reference loop (%d seqs, 1 process)' % len(ref_seqs):<34}{t_ref:>9.2f}{per(t_ref, of_ref):>19.2f}")
        print(f"{'ours, 1 worker':<34}{t1:>9.2f}{per(t1, of_all):>19.2f}")
        print(f"{'ours, %d workers' % n_workers:<34}{tn:>9.2f}{per(tn, of_all):>19.2f}")
        print(f"speed-up of {n_workers} workers over 1 worker: {t1 / tn:.2f}x; over the reference loop (per object-frame): "
              f"{per(t_ref, of_ref) / per(tn, of_all):.1f}x; 1 worker over the reference loop: {per(t_ref, of_ref) / per(t1, of_all):.1f}x")
        print(f"identical per-frame J and F to the reference on {len(ref_seqs)} sequences: yes; scores: "
              + ', '.join(f'{k} {v:.3f}' for k, v in r1.scores().items()))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__': main()
