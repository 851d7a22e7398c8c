"""Benchmark: peak memory of label propagation at the paper's settings (R18/R50 × stride 8/4, DAVIS 480×854 and the
widest DAVIS sequence, 480×1152), against the raw size of the context features.

Each setting runs in a fresh subprocess. Features are random (seeded), K = 4 label channels, the STT DAVIS protocol
(first frame + 20 previous frames, square window ±12 at stride 8, ±35 at stride 4). Feature maps: stride 8 → 60×107
and 60×144; stride 4 → 120×214 and 120×288; 256 channels (R18 layer3) or 1024 (R50 layer3).

Two modes, both measured in one run:

- **steady** (every setting): the state of a long video once its context is full: the ring holding 21 frames, the
  bias tables, one target frame and its prediction buffer, and the real work units of the frame's first, a middle
  and the last tile row (border and interior units), run by 2 worker threads as `propagate` runs them on 2 cores.
  This is where the peak of a video of any length is reached (the output soft labels, T·K·h·w floats on the host,
  come on top: 7.6 MiB for 100 frames at 120×214, 4 channels). A whole frame at stride 4 with R50 takes minutes on
  2 cores, so the steady mode runs only those rows; it reports their time, not a per-frame time.
- **full** (`--full-frames N`, default 100, for R18 stride 8 at 480×854 unless `--full` names others): `propagate` on
  a streamed N-frame video, end to end: checks that the steady mode's peak is the peak of a real run.

Peak = peak RSS of the child (ru_maxrss) minus its RSS after imports and the allocator's warm-up (CPU), or
`torch.cuda.max_memory_allocated` (CUDA). The target (issue 13): peak ≤ raw context features + 1 GiB.

    python tests/benchmarks/bench_propagation_memory.py [--device cpu|cuda] [--full-frames 100] [--out FILE]
"""
import argparse, json, os, resource, subprocess, sys, tempfile, time
from datetime import datetime, timezone
from pathlib import Path

SETTINGS = [(depth, stride, width) for depth in (18, 50) for stride in (8, 4) for width in (854, 1152)]
CHANNELS = {18: 256, 50: 1024}
K, S = 4, 21
GiB = 2 ** 30

def feature_size(stride: int, width: int) -> tuple[int, int]:
    return 480 // stride, -(-width // stride)

def _rss() -> int:
    "Current RSS in bytes (Linux /proc; falls back to the peak)."
    try:
        with open('/proc/self/statm') as f: return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
    except OSError: return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

def _peak_rss() -> int: return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

def child(mode: str, depth: int, stride: int, width: int, device: str, frames: int) -> dict:
    import torch
    import torch.nn.functional as F
    from concurrent.futures import ThreadPoolExecutor
    from stt_nb.propagation import (stt_protocol, plan_propagation, propagate, _Ring, _Tiles, _tile_bias,
                                    _target_work)
    C, (h, w) = CHANNELS[depth], feature_size(stride, width)
    prot = stt_protocol('davis', stride)
    dev = torch.device(device)
    torch.randn(64, 64) @ torch.randn(64, 64)                           # warm the allocator and BLAS up
    base = _rss() if dev.type == 'cpu' else 0
    if dev.type == 'cuda': torch.cuda.reset_peak_memory_stats(dev)
    gen = torch.Generator().manual_seed(0)
    frame = lambda: torch.randn(C, h, w, generator=gen)
    labels = lambda: torch.softmax(torch.randn(K, h, w, generator=gen), 0)
    workers = 2 if dev.type == 'cpu' else 1
    plan = plan_propagation(C, K, h, w, prot, dev, S, workers=workers)
    t0 = time.perf_counter()
    if mode == 'full':
        propagate((frame() for _ in range(frames)), labels(), prot, device=dev, workers=workers)
        what = f'{frames} frames end to end'
    else:
        ring = _Ring(S, C, K, h, w, plan.tile[1], dev)
        for s in range(S): ring.put(s, frame().to(dev), labels().to(dev))
        bias = None
        if plan.path == 'tiled':
            tiles = _Tiles(h, w, prot.halo, *plan.tile)
            bias = (tiles, *_tile_bias(tiles, prot, dev))
        fn = frame().to(dev)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        with torch.inference_mode(), ThreadPoolExecutor(workers) as pool:
            work, units, finish = _target_work(ring, fn, 40, prot, plan, S, bias, dev)   # frame 40: context full
            rows = sorted({units[0][0], units[len(units) // 2][0], units[-1][0]})
            chosen = [u for u in units if u[0] in rows]
            t1 = time.perf_counter()
            list(pool.map(lambda u: work(*u), chosen))
            finish()
            if dev.type == 'cuda': torch.cuda.synchronize()
            t_units = time.perf_counter() - t1
        torch.set_num_threads(threads)
        what = f'steady state: {len(chosen)} of {len(units)} work units ({t_units:.1f} s)'
    dt = time.perf_counter() - t0
    peak = (_peak_rss() - base) if dev.type == 'cpu' else torch.cuda.max_memory_allocated(dev)
    raw = S * C * h * w * 4
    return dict(depth=depth, stride=stride, width=width, h=h, w=w, C=C, mode=mode, what=what, seconds=dt,
                path=plan.path, tile=list(plan.tile), group=plan.group, raw=raw, ring=plan.ring_bytes,
                planned=plan.total_bytes, peak=peak, ok=peak <= raw + GiB)

def run_child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, '--child', *args], capture_output=True, text=True)
    if out.returncode != 0: raise RuntimeError(f"child {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--full-frames', type=int, default=100)
    ap.add_argument('--full', nargs='*', default=['18:8:854'], help='depth:stride:width settings run end to end')
    ap.add_argument('--only', nargs='*', default=None, help='depth:stride:width settings of the steady mode')
    ap.add_argument('--out', default=None, help='markdown file for the table (written atomically)')
    ap.add_argument('--child', nargs=6, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        mode, depth, stride, width, device, frames = a.child
        print(json.dumps(child(mode, int(depth), int(stride), int(width), device, int(frames))))
        return
    settings = [tuple(map(int, s.split(':'))) for s in a.only] if a.only else SETTINGS
    rows = []
    for depth, stride, width in settings:
        rows.append(run_child(['steady', str(depth), str(stride), str(width), a.device, '0']))
        print(json.dumps(rows[-1]), flush=True)
    for s in a.full:
        depth, stride, width = map(int, s.split(':'))
        rows.append(run_child(['full', str(depth), str(stride), str(width), a.device, str(a.full_frames)]))
        print(json.dumps(rows[-1]), flush=True)
    commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True,
                            cwd=Path(__file__).parent).stdout.strip() or 'unknown'
    import platform, torch
    lines = [f"# Propagation memory ({a.device}), {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
             '', f"commit `{commit}`, torch {torch.__version__}, {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} CPUs; `python tests/benchmarks/bench_propagation_memory.py --device {a.device}`", '',
             '| backbone | stride | frame | features | mode | path, tile | raw context | planned | peak | peak − raw | ≤ raw + 1 GiB |',
             '|---|---:|---|---|---|---|---:|---:|---:|---:|---|']
    for r in rows:
        lines.append(f"| R{r['depth']} | {r['stride']} | 480×{r['width']} | {r['C']}×{r['h']}×{r['w']} | {r['what']} | "
                     f"{r['path']} {r['tile'][0]}×{r['tile'][1]}, {r['group']}/unit | {r['raw'] / GiB:.2f} GiB | "
                     f"{r['planned'] / GiB:.2f} GiB | {r['peak'] / GiB:.2f} GiB | {(r['peak'] - r['raw']) / GiB:+.2f} GiB | "
                     f"{'yes' if r['ok'] else '**no**'} |")
    text = '\n'.join(lines) + '\n'
    print(text)
    if a.out:
        out = Path(a.out)
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix='.tmp-')
        with os.fdopen(fd, 'w') as f: f.write(text)
        os.chmod(tmp, 0o644); os.replace(tmp, out)
    sys.exit(0 if all(r['ok'] for r in rows) else 1)

if __name__ == '__main__':
    main()
