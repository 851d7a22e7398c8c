"""Benchmark: what a step-2 training step of the `tiny` recipe spends its time on, on CPU, and whether the memory
format or the batch size makes it cheaper.

Issue 20, item 7: "if convergence needs more, make training faster first (profile a step-2 step on CPU: threads,
memory format, data loading, batch)". Threads and data loading are `bench_tiny_threads.py`'s record
(`results/tiny_threads_cpu.md`). This script measures the rest, in one process, with 2 torch threads:

1. **Where the time goes.** `torch.profiler` over `profile_steps` of full STT (`stt`: the step-2 recipe with both
   distillation losses; a random stand-in teacher, so no step-1 checkpoint is needed): the share of self CPU time in
   convolutions (forward and backward) and the top operators.
2. **Memory format.** Forward + backward of the step-2 student (ResNet-18, `student` preset) on one step's images
   (batch × 2 frames, 128²), contiguous against channels_last, in the order A B A B so that drift shows.
3. **Batch.** `profile_steps` of temporal only (step 2 from scratch) at batch 2, 4 (the recipe's) and 8: seconds per
   step and pairs per second.

Run it on a quiet machine: a second torch process on 2 cores slows both 5-12x.

    python tests/benchmarks/bench_tiny_step.py [--out tests/benchmarks/results/tiny_step_cpu] [--reps 6]
"""
import argparse, dataclasses, datetime, json, os, platform, subprocess, tempfile, time
from pathlib import Path

import torch

from stt_nb.core import atomic_write


def conv_profile(steps: int = 3) -> dict:
    "Self-CPU-time shares of one profiled run of `steps` full-STT steps (after one untimed warm-up run)."
    from torch.profiler import ProfilerActivity, profile
    from stt_nb.ablations import plan_variant
    from stt_nb.training import profile_steps
    plan = plan_variant('stt', 'tiny', 0)
    cfg = dataclasses.replace(plan.config, model=dataclasses.replace(plan.config.model, teacher='random', init='random'),
                              loop=dataclasses.replace(plan.config.loop, num_workers=0))
    profile_steps(cfg, plan.kind, steps=1, warmup=1)                                  # warm-up: allocator, kernels
    with profile(activities=[ProfilerActivity.CPU]) as p: timing = profile_steps(cfg, plan.kind, steps=steps, warmup=0)
    ev = p.key_averages()
    total = sum(e.self_cpu_time_total for e in ev)
    conv = sum(e.self_cpu_time_total for e in ev if 'convolution' in e.key)
    top = sorted(ev, key=lambda e: -e.self_cpu_time_total)[:8]
    return {'step_s': timing['step'], 'conv_share': conv / total,
            'top': [(e.key, round(e.self_cpu_time_total / total, 3)) for e in top]}


def memory_format(batch: int = 4, reps: int = 6) -> list:
    "Seconds per forward + backward of the student on `2 * batch` 128² images, contiguous vs channels_last, A B A B."
    from stt_nb.backbone import build_backbone
    torch.manual_seed(0)
    m = build_backbone('student', 18)
    x = torch.randn(2 * batch, 3, 128, 128)

    def run(fmt):
        mm, xx = m.to(memory_format=fmt), x.contiguous(memory_format=fmt)
        def once():
            outs = mm(xx)
            sum(o.pow(2).mean() for o in (outs if isinstance(outs, (list, tuple)) else [outs])).backward()
        for _ in range(2): once()                                                    # warm-up in this format
        t = time.perf_counter()
        for _ in range(reps): once()
        return (time.perf_counter() - t) / reps

    rows = []
    for fmt, name in [(torch.contiguous_format, 'contiguous'), (torch.channels_last, 'channels_last')] * 2:
        rows.append((name, run(fmt)))
    return rows


def batch_sizes(batches=(2, 4, 8), steps: int = 6, warmup: int = 2) -> list:
    "`profile_steps` of temporal only at each batch size: (batch, s/step, pairs/s)."
    from stt_nb.ablations import plan_variant
    from stt_nb.training import profile_steps
    plan = plan_variant('temporal', 'tiny', 0)
    rows = []
    for b in batches:
        cfg = dataclasses.replace(plan.config, loop=dataclasses.replace(plan.config.loop, batch_size=b, num_workers=0))
        r = profile_steps(cfg, plan.kind, steps=steps, warmup=warmup)
        rows.append((b, r['step'], b / r['step']))
    return rows


def write_record(rec: dict, out: Path):
    "The record as `out.json` and a readable `out.md` (each written atomically)."
    prof, mf, bs = rec['profile'], rec['memory_format'], rec['batch']
    cl = [s for n, s in mf if n == 'channels_last']; ct = [s for n, s in mf if n == 'contiguous']
    student = sum(ct) / len(ct) / prof['step_s']
    tp = {b: t for b, _, t in bs}
    md = [f'# What a `tiny` step-2 step costs on CPU, and what does not make it cheaper\n',
          f"`tests/benchmarks/bench_tiny_step.py`, {rec['date']}, {rec['machine']}, torch {rec['torch']}, "
          f"{rec['threads']} threads, commit {rec['commit']} (plus uncommitted changes, if any). One process, nothing else "
          "running.\n",
          '## Where the time goes (full STT, random stand-in teacher, 3 profiled steps)\n',
          f"Step {prof['step_s']:.3f} s; convolutions (forward and backward) take {prof['conv_share']:.0%} of the self CPU "
          "time. `aten::uniform_` and `aten::normal_` are the models' initialisation, which `profile_steps` does inside "
          "the profiled call; they are not part of a step.\n",
          '| operator | share of self CPU time |', '|---|---|'] + [f'| `{k}` | {v:.1%} |' for k, v in prof['top']] + [
          '\n## Memory format (student forward + backward, 8 images at 128², order A B A B)\n',
          '| format | s |', '|---|---|'] + [f'| {n} | {s:.3f} |' for n, s in mf] + [
          f'\nchannels_last / contiguous (means): {sum(cl) / sum(ct):.2f}\n',
          '## Batch (temporal only, 2 warm-up + 6 timed steps)\n',
          '| batch | s / step | pairs / s |', '|---|---|---|'] + [f'| {b} | {s:.3f} | {t:.2f} |' for b, s, t in bs] + [
          '\n## Reading\n',
          f"- The step is bound by the ResNet-18's convolutions: the student's forward + backward on the step's 8 images "
          f"alone is {student:.0%} of a full-STT step.",
          f"- channels_last changes that by a factor {sum(cl) / sum(ct):.2f}, within the A/A spread "
          f"({min(ct):.3f}–{max(ct):.3f} s).",
          f"- Per pair the cost is nearly flat in the batch: batch 8 trains {tp.get(8, float('nan')) / tp.get(4, float('nan')) - 1:.0%} "
          "more pairs per second than batch 4. Bigger, fewer steps buy no training for free.",
          '- So no setting of threads (`tiny_threads_cpu.md`), memory format or batch makes a `tiny` step much cheaper on '
          'this CPU; a longer recipe costs its steps in proportion.']
    for suffix, text in (('.json', json.dumps(rec, indent=1)), ('.md', '\n'.join(md) + '\n')):
        with atomic_write(out.with_suffix(suffix), 'w') as f: f.write(text)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', default='tests/benchmarks/results/tiny_step_cpu', help='record path without suffix')
    ap.add_argument('--reps', type=int, default=6)
    a = ap.parse_args(argv)
    torch.set_num_threads(2)
    os.environ.setdefault('STT_NB_CACHE', tempfile.mkdtemp())                         # profile_steps writes nothing kept
    prof = conv_profile()
    print(f"full STT step {prof['step_s']:.3f} s; convolutions {prof['conv_share']:.0%} of self CPU time", flush=True)
    mf = memory_format(reps=a.reps)
    for name, s in mf: print(f'student fwd+bwd, 8 images at 128², {name:13s} {s:.3f} s', flush=True)
    bs = batch_sizes()
    for b, s, tp in bs: print(f'temporal only, batch {b}: {s:.3f} s/step, {tp:.2f} pairs/s', flush=True)
    try: commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()
    except OSError: commit = '?'
    rec = {'date': datetime.date.today().isoformat(), 'machine': f'{platform.machine()}, {os.cpu_count()} cores',
           'torch': torch.__version__, 'threads': torch.get_num_threads(), 'commit': commit, 'profile': prof,
           'memory_format': mf, 'batch': bs}
    write_record(rec, Path(a.out))
    print(f'wrote {a.out}.md and .json')
    return rec


if __name__ == '__main__': main()
