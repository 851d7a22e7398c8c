"""Benchmark: windowed affinity (`local_affinity`) vs dense affinity + window mask (`dense_local_affinity`).

For the two levels of STT's training pyramid (32×32×256 with R=6, 64×64×128 with R=12) it prints time and peak
memory of each implementation, forward only (no grad, as at test time) and forward+backward (as in training), and
their ratios measured in one run. Each measurement runs in a fresh process so that peak memory is not polluted:
on CPU peak memory is the growth of the process's peak resident set size during the call; on CUDA it is
`torch.cuda.max_memory_allocated`.

    python tests/benchmarks/bench_correlation.py [--device cpu|cuda] [--batch 2] [--repeats 5]
"""
import argparse, json, resource, subprocess, sys, time

CASES = [(32, 256, 6), (64, 128, 12)]   # (map side, channels, radius)

def _rss_kib():
    with open('/proc/self/statm') as f: return int(f.read().split()[1]) * resource.getpagesize() // 1024

def measure(impl: str, side: int, C: int, R: int, B: int, grad: bool, device: str, repeats: int) -> dict:
    import torch
    from stt_nb.correlation import local_affinity, dense_local_affinity
    torch.manual_seed(0)
    fn = local_affinity if impl == 'windowed' else dense_local_affinity
    ft = torch.randn(B, C, side, side, device=device, requires_grad=grad)
    fr = torch.randn(B, C, side, side, device=device, requires_grad=grad)
    def run():
        with torch.set_grad_enabled(grad):
            A = fn(ft, fr, R)
            if grad: A.square().sum().backward()
        if device == 'cuda': torch.cuda.synchronize()
    small = [torch.randn(1, C, 8, 8, device=device, requires_grad=grad) for _ in range(2)]
    with torch.set_grad_enabled(grad):                        # warm up kernels and thread pools on a tiny input
        A = fn(*small, 2)
        if grad: A.sum().backward()
    del A, small
    if device == 'cuda':
        torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats(); base = torch.cuda.memory_allocated()
        run(); peak_mib = (torch.cuda.max_memory_allocated() - base) / 2**20
    else:
        base = _rss_kib(); run()
        peak_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter(); run(); times.append(time.perf_counter() - t0)
    return dict(time_ms=1000 * sorted(times)[len(times) // 2], peak_mib=peak_mib)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--device', default='cpu'); p.add_argument('--batch', type=int, default=2)
    p.add_argument('--repeats', type=int, default=5); p.add_argument('--child', help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        print(json.dumps(measure(**json.loads(a.child)))); return
    rows = []
    for side, C, R in CASES:
        for grad in (False, True):
            res = {}
            for impl in ('windowed', 'dense'):
                spec = dict(impl=impl, side=side, C=C, R=R, B=a.batch, grad=grad, device=a.device, repeats=a.repeats)
                out = subprocess.run([sys.executable, __file__, '--child', json.dumps(spec)], capture_output=True,
                                     text=True, check=True)
                res[impl] = json.loads(out.stdout.strip().splitlines()[-1])
            w, d = res['windowed'], res['dense']
            rows.append((f'{side}x{side}x{C} R={R}', 'fwd+bwd' if grad else 'fwd', w, d))
    print(f"device={a.device} batch={a.batch} (median of {a.repeats} runs; peak memory of one call)")
    print(f"{'case':<18}{'mode':<9}{'windowed ms':>12}{'dense ms':>10}{'speed-up':>10}{'windowed MiB':>14}{'dense MiB':>11}{'mem ratio':>11}")
    for case, mode, w, d in rows:
        print(f"{case:<18}{mode:<9}{w['time_ms']:>12.1f}{d['time_ms']:>10.1f}{d['time_ms'] / w['time_ms']:>9.1f}x"
              f"{w['peak_mib']:>14.1f}{d['peak_mib']:>11.1f}{d['peak_mib'] / max(w['peak_mib'], 1e-3):>10.1f}x")

if __name__ == '__main__': main()
