"""Benchmark: memory-bounded label propagation (`propagate`) vs the dense reference (`dense_predict`), no backbone.

A DAVIS-sized sequence at stride 8 (60×107 features, 256-d, random, seeded), 3 soft label channels, the STT protocol
(square window ±12, top-10, first + 20 previous frames). It prints, measured in one run:

- time per target frame of `propagate` in the steady state (21 key frames), and over the whole run;
- the same frames computed by the dense reference (every key scored, dense window mask), given the same soft labels of
  the earlier frames; the labels must agree (max |Δ| of the soft labels, and the argmax);
- the "FLOPs floor": the time of one GEMM with exactly the windowed-affinity multiply-adds
  (h·w queries × 21·25² keys × 256 channels), i.e. the windowed matmul FLOPs alone at this machine's GEMM speed;
- peak RSS of each child process (fresh subprocess per measurement). The features are streamed into `propagate` one
  frame at a time (as `stt_nb.evaluate` does with the backbone), so memory does not grow with the video; the
  projection to 100 frames adds the output soft labels (77 KB a frame), and the figure for a caller who holds all
  features in one tensor adds 6.3 MiB a frame. `--frames 100` measures it directly.

    python tests/benchmarks/bench_propagation.py [--frames 24] [--dense-frames 2] [--device cpu|cuda] [--protocol stt|crw]
"""
import argparse, json, os, resource, subprocess, sys, tempfile, time

H, W, C, K = 60, 107, 256, 3

def _peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def _frame(n):
    "Feature map of frame n, [C, H, W]: random, reproducible frame by frame."
    import torch
    return torch.randn(C, H, W, generator=torch.Generator().manual_seed(1000 + n))

def _labels0():
    import torch
    labels0 = torch.rand(K, H, W, generator=torch.Generator().manual_seed(0))
    return labels0 / labels0.sum(0, keepdim=True)

def _protocol(name):
    from stt_nb.propagation import get_protocol
    return get_protocol(name, 'davis', 8)

def child_fast(T, device, protocol, tile, out):
    import torch
    from stt_nb.propagation import propagate
    stamps = []
    t0, c0 = time.perf_counter(), time.process_time()
    soft = propagate((_frame(n) for n in range(T)), _labels0(), _protocol(protocol), device=device, tile=tile,
                     callback=lambda n, s: stamps.append(time.perf_counter()))
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    torch.save(soft, out)
    per = [b - a for a, b in zip(stamps[:-1], stamps[1:])]       # per[n-1] = time of frame n
    steady = per[20:] if len(per) > 20 else per[-1:]
    return dict(total_s=total, cpu_s=cpu, per_frame_all=total / (T - 1), per_frame_steady=sum(steady) / len(steady),
                n_steady=len(steady), peak_rss_mib=_peak_rss_mib())

def child_dense(T, device, protocol, frames, bank):
    import torch
    from stt_nb.propagation import dense_predict, dense_protocol_window_mask
    from stt_nb.core import get_device
    feats = torch.stack([_frame(n) for n in range(T)])
    soft = torch.load(bank)
    prot = _protocol(protocol)
    win = dense_protocol_window_mask(H, W, prot, get_device(device))
    res = dict(max_abs=0.0, argmax_agree=1.0, times=[])
    for n in frames:
        t0 = time.perf_counter()
        d = dense_predict(feats, soft, n, prot, device, chunk=512, window=win)
        res['times'].append(time.perf_counter() - t0)
        res['max_abs'] = max(res['max_abs'], (d - soft[n]).abs().max().item())
        res['argmax_agree'] = min(res['argmax_agree'], (d.argmax(0) == soft[n].argmax(0)).float().mean().item())
    res['per_frame'] = sum(res['times']) / len(res['times'])
    res['peak_rss_mib'] = _peak_rss_mib()
    return res

def child_floor(device, protocol, repeats=3):
    import torch
    prot = _protocol(protocol)
    side = 2 * prot.halo + 1
    n_keys = 21 * (side * side if prot.window == 'square' else int(3.14159 * prot.radius ** 2))
    g = torch.Generator().manual_seed(0)
    a = torch.randn(H * W, C, generator=g).to(device); b = torch.randn(C, n_keys, generator=g).to(device)
    a @ b
    ts = []
    for _ in range(repeats):
        if device == 'cuda': torch.cuda.synchronize()
        t0 = time.perf_counter(); a @ b
        if device == 'cuda': torch.cuda.synchronize()
        ts.append(time.perf_counter() - t0)
    t = min(ts)
    return dict(time_s=t, gflop=2 * H * W * n_keys * C / 1e9, gflops=2 * H * W * n_keys * C / t / 1e9)

def _run(kind, **spec):
    out = subprocess.run([sys.executable, __file__, '--child', json.dumps(dict(kind=kind, **spec))],
                         capture_output=True, text=True)
    if out.returncode: raise RuntimeError(f"child {kind} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--frames', type=int, default=24, help='sequence length (default 24: 3 steady-state frames)')
    p.add_argument('--dense-frames', type=int, default=2, help='frames re-computed by the dense reference (default 2)')
    p.add_argument('--device', default='cpu'); p.add_argument('--protocol', default='stt', choices=['stt', 'crw'])
    p.add_argument('--tile', type=int, default=None, help='query tile side (default: stt_nb.propagation.default_tile)')
    p.add_argument('--threads', type=int, default=None, help='torch threads in every child (default: torch default)')
    p.add_argument('--child', help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        spec = json.loads(a.child); kind = spec.pop('kind'); threads = spec.pop('threads', None)
        if threads:
            import torch; torch.set_num_threads(threads)
        res = {'fast': child_fast, 'dense': child_dense, 'floor': child_floor}[kind](**spec)
        print(json.dumps(res)); return
    import torch
    with tempfile.TemporaryDirectory() as tmp:
        bank = os.path.join(tmp, 'soft.pt')
        fast = _run('fast', T=a.frames, device=a.device, protocol=a.protocol, tile=a.tile, out=bank, threads=a.threads)
        frames = list(range(a.frames - a.dense_frames, a.frames))
        dense = _run('dense', T=a.frames, device=a.device, protocol=a.protocol, frames=frames, bank=bank,
                     threads=a.threads)
    floor = _run('floor', device=a.device, protocol=a.protocol, threads=a.threads)
    feat_mib = C * H * W * 4 / 2**20
    proj100 = fast['peak_rss_mib'] + (100 - a.frames) * K * H * W * 4 / 2**20
    print(f"propagation, {H}x{W}x{C} features, protocol={a.protocol}, device={a.device}, "
          f"threads={a.threads or torch.get_num_threads()}, {a.frames} frames, load average {os.getloadavg()[0]:.1f}")
    print(f"  memory-bounded : {fast['per_frame_steady']:.2f} s/frame in the steady state (21 key frames, "
          f"{fast['n_steady']} frames), {fast['per_frame_all']:.2f} s/frame over the run "
          f"(CPU {fast['cpu_s'] / (a.frames - 1):.2f} s/frame); peak RSS {fast['peak_rss_mib']:.0f} MiB")
    print(f"  dense reference: {dense['per_frame']:.2f} s/frame (frames {frames}); peak RSS {dense['peak_rss_mib']:.0f} MiB")
    print(f"  FLOPs floor    : {floor['time_s']:.2f} s for the windowed matmul FLOPs ({floor['gflop']:.1f} GFLOP "
          f"as one GEMM, {floor['gflops']:.0f} GFLOP/s)")
    print(f"  speed-up vs dense       : {dense['per_frame'] / fast['per_frame_steady']:.1f}x   (target >= 5x)")
    print(f"  time / FLOPs floor      : {fast['per_frame_steady'] / floor['time_s']:.2f}x   (target <= 2x)")
    print(f"  peak RSS, 100 frames    : {proj100:.0f} MiB projected from {a.frames} frames, features streamed "
          f"({proj100 + 100 * feat_mib:.0f} MiB if all 100 feature maps are held in one tensor)   (target <= 2048 MiB)")
    print(f"  labels identical        : max |soft - dense| = {dense['max_abs']:.2e}, argmax agreement "
          f"{100 * dense['argmax_agree']:.3f} %")

if __name__ == '__main__': main()
