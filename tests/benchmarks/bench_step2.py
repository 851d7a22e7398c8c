"""Benchmark: one STT step-2 training step — time, peak memory, and the share spent in the losses.

A full step is: chroma dropout, the student backbone forward over the 2B frames, the frozen teacher's forward over
the 2B RGB frames (no grad), the two reconstruction losses (windowed affinities at stride 4 / radius 12 and stride 8 /
radius 6), local distillation (pooled fine affinity, uncertainty score, selection, masked MSE), global distillation,
backward and the Adam step. The *backbone* part is the student's forward + backward and the teacher's forward on the
same tensors, timed alone in the same process and interleaved with the full steps; the rest — the losses, their
backward and the optimiser — should stay <= 30 % of the step. Each configuration runs in a fresh process so that the
peak memory is its own: on CPU the growth of the peak resident set size, on CUDA `torch.cuda.max_memory_allocated`.
On CUDA also reports images/s (2 frames per pair).

    python tests/benchmarks/bench_step2.py [--device cpu|cuda] [--depth 18] [--teacher-depth 50] [--batch 8]
                                           [--size 256] [--steps 3] [--amp none|bf16|fp16] [--selection release]

Timings on a shared machine are noisy: compare the ratios printed by one run.
"""
import argparse, json, resource, subprocess, sys, time

def _rss_kib() -> int:
    with open('/proc/self/statm') as f: return int(f.read().split()[1]) * resource.getpagesize() // 1024

def measure(depth: int, teacher_depth: int, batch: int, size: int, steps: int, device: str, amp: str,
            selection: str) -> dict:
    import torch
    from stt_nb.stt import STT, STTLossConfig, StudentTeacherConfig
    torch.manual_seed(0)
    dev = torch.device(device)
    model = STT(StudentTeacherConfig(depth=depth, teacher='random', teacher_depth=teacher_depth),
                STTLossConfig(selection=selection)).to(dev).train()
    opt = torch.optim.Adam(model.student.parameters(), lr=5e-5)
    lab = torch.randn(batch, 2, 3, size, size, device=dev) * 0.5       # [B, 2, 3, S, S] normalised Lab pairs
    rgb = torch.randn(batch, 2, 3, size, size, device=dev)             # [B, 2, 3, S, S] ImageNet-normalised RGB
    dtype = {'bf16': torch.bfloat16, 'fp16': torch.float16}.get(amp)
    scaler = torch.amp.GradScaler(dev.type) if amp == 'fp16' else None
    sync = (lambda: torch.cuda.synchronize(dev)) if dev.type == 'cuda' else (lambda: None)
    def full_step():
        with torch.autocast(dev.type, dtype=dtype, enabled=dtype is not None):
            loss = model(lab, rgb, channel=1)['loss']
        opt.zero_grad(set_to_none=True)
        if scaler is not None: scaler.scale(loss).backward(); scaler.step(opt); scaler.update()
        else: loss.backward(); opt.step()
    def backbone_only():
        with torch.autocast(dev.type, dtype=dtype, enabled=dtype is not None):
            feats = model.student(lab.transpose(0, 1).flatten(0, 1))       # 2B frames, one forward
            with torch.no_grad(): model.teacher(rgb.transpose(0, 1).flatten(0, 1))
        sum(f.float().mean() for f in feats).backward()
        model.zero_grad(set_to_none=True)
    def timed(fn):
        sync(); t0 = time.perf_counter(); fn(); sync(); return time.perf_counter() - t0
    if dev.type == 'cuda': torch.cuda.reset_peak_memory_stats(dev); base = torch.cuda.memory_allocated(dev)
    else: base = _rss_kib()
    timed(full_step)                                                   # warm-up (allocations, kernels, threads)
    if dev.type == 'cuda': peak_mib = (torch.cuda.max_memory_allocated(dev) - base) / 2**20
    else: peak_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
    timed(backbone_only)
    t_step, t_bb = [], []
    for _ in range(steps):                                             # interleaved, so load changes hit both
        t_step.append(timed(full_step)); t_bb.append(timed(backbone_only))
    med = lambda xs: sorted(xs)[len(xs) // 2]
    s, b = med(t_step), med(t_bb)
    return dict(step_s=s, backbone_s=b, loss_frac=1 - b / s, images_per_s=2 * batch / s, peak_mib=peak_mib,
                threads=torch.get_num_threads())

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--device', default='cpu'); p.add_argument('--depth', type=int, default=18)
    p.add_argument('--teacher-depth', type=int, default=50)
    p.add_argument('--batch', type=int, default=8); p.add_argument('--size', type=int, default=256)
    p.add_argument('--steps', type=int, default=3); p.add_argument('--amp', default='none', choices=['none', 'bf16', 'fp16'])
    p.add_argument('--selection', default='release', choices=['release', 'flattened', 'none', 'release_soft'])
    p.add_argument('--child', help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        print(json.dumps(measure(**json.loads(a.child)))); return
    spec = dict(depth=a.depth, teacher_depth=a.teacher_depth, batch=a.batch, size=a.size, steps=a.steps,
                device=a.device, amp=a.amp, selection=a.selection)
    out = subprocess.run([sys.executable, __file__, '--child', json.dumps(spec)], capture_output=True, text=True)
    if out.returncode: sys.exit(out.stderr)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"STT step 2: student R{a.depth}, teacher R{a.teacher_depth}, {a.size}x{a.size}, batch {a.batch} pairs, "
          f"device={a.device} amp={a.amp} selection={a.selection} (median of {a.steps} steps, {r['threads']} threads)")
    print(f"  step {r['step_s']:.3f} s   backbones (student fwd+bwd, teacher fwd) {r['backbone_s']:.3f} s   "
          f"losses + optimiser {100 * r['loss_frac']:.1f} % (target <= 30 %)")
    print(f"  throughput {r['images_per_s']:.2f} images/s ({2 * a.batch} frames per step)   "
          f"peak memory {r['peak_mib']:.0f} MiB")

if __name__ == '__main__': main()
