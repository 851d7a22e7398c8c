"""Benchmark: one step-1 (MoCo v2) training step — throughput, peak memory, and time outside the backbone.

A full step is: query encoder forward (backbone + head), momentum update of the key encoder, shuffled-BN key
forward, InfoNCE against the queue, enqueue, backward, SGD step. The backbone part of it is the query backbone's
forward + backward and the key backbone's forward (the same tensors, timed alone in the same process, interleaved
with the full steps); everything else — head, momentum update, shuffle, loss, queue, optimiser — is the overhead
whose share of the step time should stay ≤ 20 %. Each configuration runs in a fresh process so that peak memory is
not polluted: on CPU it is the growth of the peak resident set size over the run, on CUDA
`torch.cuda.max_memory_allocated`. Also prints the data pipeline's rate (two MoCo v2 views per image, one worker).

    python tests/benchmarks/bench_step1.py [--device cpu|cuda] [--depth 18] [--batch 32] [--size 224]
                                           [--steps 3] [--amp none|bf16|fp16] [--bn-splits 1] [--no-data]

Timings on a shared machine are noisy: compare the ratios printed by one run.
"""
import argparse, json, resource, subprocess, sys, time

def _rss_kib() -> int:
    with open('/proc/self/statm') as f: return int(f.read().split()[1]) * resource.getpagesize() // 1024

def measure(depth: int, batch: int, size: int, steps: int, device: str, amp: str, bn_splits: int) -> dict:
    import torch
    from stt_nb.contrastive import build_moco
    torch.manual_seed(0)
    dev = torch.device(device)
    model = build_moco(depth=depth, bn_splits=bn_splits, device=dev)      # MoCo v2 defaults: K 65,536, dim 128, MLP
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.03 * batch / 256, momentum=0.9,
                          weight_decay=1e-4)
    xq, xk = torch.randn(batch, 3, size, size, device=dev), torch.randn(batch, 3, size, size, device=dev)
    dtype = {'bf16': torch.bfloat16, 'fp16': torch.float16}.get(amp)
    scaler = torch.amp.GradScaler(dev.type) if amp == 'fp16' else None
    sync = (lambda: torch.cuda.synchronize(dev)) if dev.type == 'cuda' else (lambda: None)
    def full_step():
        with torch.autocast(dev.type, dtype=dtype, enabled=dtype is not None):
            loss = model(xq, xk)['loss']
        opt.zero_grad(set_to_none=True)
        if scaler is not None: scaler.scale(loss).backward(); scaler.step(opt); scaler.update()
        else: loss.backward(); opt.step()
    def backbone_only():
        with torch.autocast(dev.type, dtype=dtype, enabled=dtype is not None):
            f = model.encoder_q(xq)[-1]                                   # [B, C, h, w] query backbone
            with torch.no_grad(): model.encoder_k(xk)                     # key backbone
        f.float().mean().backward()
        model.zero_grad(set_to_none=True)
    def timed(fn):
        sync(); t0 = time.perf_counter(); fn(); sync(); return time.perf_counter() - t0
    if dev.type == 'cuda': torch.cuda.reset_peak_memory_stats(dev); base = torch.cuda.memory_allocated(dev)
    else: base = _rss_kib()
    timed(full_step); timed(backbone_only)                                # warm-up (allocations, kernels, threads)
    if dev.type == 'cuda': peak_mib = (torch.cuda.max_memory_allocated(dev) - base) / 2**20
    else: peak_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
    t_step, t_bb = [], []
    for _ in range(steps):                                                # interleaved, so load changes hit both
        t_step.append(timed(full_step)); t_bb.append(timed(backbone_only))
    med = lambda xs: sorted(xs)[len(xs) // 2]
    s, b = med(t_step), med(t_bb)
    return dict(step_s=s, backbone_s=b, outside_frac=1 - b / s, images_per_s=batch / s, peak_mib=peak_mib,
                threads=torch.get_num_threads())

def data_rate(size: int, n: int = 16) -> float:
    "Images/s (each giving two views) of the step-1 dataset on the bundled images at native resolution, one worker."
    from stt_nb.contrastive import ImageDataConfig, build_image_dataset
    ds = build_image_dataset(ImageDataConfig(source='embedded', size=size, embedded_short_side=None), seed=0)
    ds[0]
    t0 = time.perf_counter()
    for i in range(n): ds[i % len(ds)]
    return n / (time.perf_counter() - t0)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--device', default='cpu'); p.add_argument('--depth', type=int, default=18)
    p.add_argument('--batch', type=int, default=32); p.add_argument('--size', type=int, default=224)
    p.add_argument('--steps', type=int, default=3); p.add_argument('--amp', default='none', choices=['none', 'bf16', 'fp16'])
    p.add_argument('--bn-splits', type=int, default=1); p.add_argument('--no-data', action='store_true')
    p.add_argument('--child', help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        print(json.dumps(measure(**json.loads(a.child)))); return
    spec = dict(depth=a.depth, batch=a.batch, size=a.size, steps=a.steps, device=a.device, amp=a.amp, bn_splits=a.bn_splits)
    out = subprocess.run([sys.executable, __file__, '--child', json.dumps(spec)], capture_output=True, text=True)
    if out.returncode: sys.exit(out.stderr)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"MoCo v2 step: R{a.depth} {a.size}x{a.size} batch {a.batch} device={a.device} amp={a.amp} "
          f"bn_splits={a.bn_splits} queue 65536 (median of {a.steps} steps, {r['threads']} threads)")
    print(f"  step {r['step_s']:.3f} s   backbone fwd+bwd (q) + fwd (k) {r['backbone_s']:.3f} s   "
          f"outside the backbone {100 * r['outside_frac']:.1f} % (target <= 20 %)")
    print(f"  throughput {r['images_per_s']:.2f} images/s   peak memory {r['peak_mib']:.0f} MiB")
    if not a.no_data:
        print(f"  data pipeline (2 views/image, 1 worker, bundled images): {data_rate(a.size):.1f} images/s")

if __name__ == '__main__': main()
