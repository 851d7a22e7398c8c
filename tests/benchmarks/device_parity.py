"""CPU = GPU? Train the tiny step-1 and step-2 configs for N steps on two devices and compare them (issue 11, point 5).

For each device (and each seed) a child process of this script trains

* step 1: `configs/spatial/tiny_cpu.yaml` (MoCo v2, R18, 64² views, shuffled BN in 2 groups) for `--steps` steps;
* step 2: `configs/temporal/tiny_cpu.yaml` for `--steps` steps, from a random student and a random teacher
  (`--step2-init random`, the default: both devices start from the same weights, drawn on the CPU) or from that
  device's own step-1 checkpoint (`--step2-init step1`: the chain the ablation grid runs);

in float32 (`run.amp=none`), with TF32 off (`torch.backends.cuda.matmul.allow_tf32` and `cudnn.allow_tf32`, and
`run.tf32=false`), deterministic algorithms where torch has them (`torch.use_deterministic_algorithms(True,
warn_only=True)`, `CUBLAS_WORKSPACE_CONFIG=:4096:8`, `run.deterministic=true`), the same seed and so the same data
order; it logs every step (`run.log_every=1`, the engine's `metrics.jsonl`) and evaluates the step-2 student on a toy
DAVIS benchmark with `run_eval` (J&F). The parent compares the devices step by step and prints a table.

Targets (exit status 1 when one fails): (1) the first 10 losses of each phase agree to `--loss-rtol` (1e-3) relative;
(2) the mean J&F of the two devices lies within one seed standard deviation (the pooled sample std of the J&F over
`--seeds`, which needs >= 2 seeds; with one seed only `--jf-tol`, if given, is judged, else the J&F is reported).

Devices: 'cpu', 'cuda', 'cuda:N', and 'cpu-generic' = the CPU with generic kernels (`ATEN_CPU_CAPABILITY=default
ONEDNN_MAX_CPU_ISA=SSE41`), a second "device" on a machine without a GPU. `--devices auto` (default) means cpu,cuda
when CUDA is available and cpu,cpu-generic otherwise (the report then says that CUDA was not available).

    python tests/benchmarks/device_parity.py --steps 20 --seeds 0,1 --out tests/benchmarks/results/device_parity.md
    python tests/benchmarks/device_parity.py --steps 4 --bench quick        # seconds-to-minutes on a CPU

On `cpu-generic` the step-1 views themselves differ (uint8 antialiased resize kernels are ISA-specific, ±1/255 on
~13 % of pixels), so its step-1 comparison measures data + kernels; CPU vs CUDA on one machine share the data.

`--bench quick` is a 1 × 8-frame toy DAVIS at 120 px, `tiny` (default) the ablation grid's 3 × 24 frames at 240 px
evaluated at 480 px. The script imports stt_nb from this checkout; data come from $STT_NB_CACHE (built on first use).
"""
from __future__ import annotations
import argparse, json, math, os, subprocess, sys, tempfile, time, warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GENERIC_ENV = {'ATEN_CPU_CAPABILITY': 'default', 'ONEDNN_MAX_CPU_ISA': 'SSE41'}
DETERMINISTIC_ENV = {'CUBLAS_WORKSPACE_CONFIG': ':4096:8'}
PHASES = ('step1', 'step2')
FIRST = 10                                   # the target compares this many first steps


# ---------------------------------------------------------------------------------------------------------------
# Comparison (pure functions: tested in tests/test_device_parity.py)

def rel_diff(a: float, b: float) -> float:
    "|a − b| / max(|a|, |b|); 0 when both are 0, inf when only one is finite or either is NaN."
    if math.isnan(a) or math.isnan(b): return math.inf
    if a == b: return 0.0
    if not (math.isfinite(a) and math.isfinite(b)): return math.inf
    return abs(a - b) / max(abs(a), abs(b))

def compare_losses(a: list[float], b: list[float], first: int = FIRST) -> dict:
    """Step-by-step relative differences of two loss lists (step i = index i − 1): `rows` [(step, a, b, rel)],
    `max_first` (over the first `first` common steps), `max_all`, `n` (common steps) and `length_mismatch`."""
    n = min(len(a), len(b))
    rows = [(i + 1, float(a[i]), float(b[i]), rel_diff(float(a[i]), float(b[i]))) for i in range(n)]
    rels = [r[3] for r in rows]
    return {'rows': rows, 'n': n, 'max_first': max(rels[:first], default=math.nan),
            'max_all': max(rels, default=math.nan), 'length_mismatch': len(a) != len(b)}

def pooled_std(groups: list[list[float]]) -> float:
    "Pooled sample standard deviation of several groups (each with >= 2 values); NaN when no group has 2."
    num = sum(sum((x - sum(g) / len(g)) ** 2 for x in g) for g in groups if len(g) >= 2)
    dof = sum(len(g) - 1 for g in groups if len(g) >= 2)
    return math.sqrt(num / dof) if dof else math.nan

def jf_verdict(jf_a: list[float], jf_b: list[float], tol: float | None = None) -> dict:
    """Mean J&F per device, their difference, the pooled seed std, and `ok`: |mean_a − mean_b| <= seed std (>= 2
    seeds on each device), else <= `tol` when given, else None (not judged)."""
    ma, mb = sum(jf_a) / len(jf_a), sum(jf_b) / len(jf_b)
    diff, std = abs(ma - mb), pooled_std([jf_a, jf_b])
    if min(len(jf_a), len(jf_b)) >= 2 and math.isfinite(std):
        return {'mean_a': ma, 'mean_b': mb, 'diff': diff, 'std': std, 'ok': diff <= std, 'rule': 'diff <= seed std'}
    if tol is not None:
        return {'mean_a': ma, 'mean_b': mb, 'diff': diff, 'std': std, 'ok': diff <= tol, 'rule': f'diff <= tol {tol:g}'}
    return {'mean_a': ma, 'mean_b': mb, 'diff': diff, 'std': std, 'ok': None, 'rule': 'not judged (one seed, no --jf-tol)'}

def loss_table(cmp: dict, dev_a: str, dev_b: str, limit: int | None = None) -> str:
    "Markdown table of `compare_losses` rows (the first `limit`, all if None)."
    lines = [f'| step | loss {dev_a} | loss {dev_b} | rel diff |', '| ---: | ---: | ---: | ---: |']
    for step, a, b, r in cmp['rows'][:limit]:
        lines.append(f'| {step} | {a:.7g} | {b:.7g} | {r:.2e} |')
    return '\n'.join(lines)

def judge(loss_cmps: dict, jf: dict | None, rtol: float) -> list[str]:
    "The failed targets (empty when all pass): `loss_cmps` maps a label to a `compare_losses` result."
    fails = []
    for label, c in loss_cmps.items():
        if c['n'] == 0: fails.append(f'{label}: no common steps'); continue
        if not c['max_first'] <= rtol:
            fails.append(f"{label}: max rel diff over the first {min(FIRST, c['n'])} losses {c['max_first']:.2e} > {rtol:g}")
        if c['length_mismatch']: fails.append(f'{label}: the two runs logged different numbers of steps')
    if jf is not None and jf['ok'] is False:
        fails.append(f"J&F: |{jf['mean_a']:.4f} − {jf['mean_b']:.4f}| = {jf['diff']:.4f} fails {jf['rule']}")
    return fails


# ---------------------------------------------------------------------------------------------------------------
# Child: one device, one seed

def child(device: str, steps: int, seed: int, bench: str, work: Path, step2_init: str, extra1: list[str],
          extra2: list[str]) -> dict:
    "Train both phases on `device` and evaluate the step-2 student; returns losses, J&F and what the run saw."
    import torch
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True, warn_only=True)
    from stt_nb.ablations import get_scale, toy_benchmark
    from stt_nb.evaluate import run_eval
    from stt_nb.stt import export_student
    from stt_nb.training import META_COLUMNS, read_metrics, run_training
    dev = 'cpu' if device == 'cpu-generic' else device
    common = [f'run.out_dir={work / "runs"}', f'run.device={dev}', f'run.seed={seed}', 'run.log_every=1',
              f'run.ckpt_every={steps}', 'run.progress=false', 'run.tensorboard=false', 'run.overwrite=true',
              'run.amp=none', 'run.tf32=false', 'run.deterministic=true', f'loop.max_steps={steps}']
    out = {'device': device, 'seed': seed, 'steps': steps, 'torch': torch.__version__,
           'cpu_capability': torch.backends.cpu.get_cpu_capability(), 'threads': torch.get_num_threads(),
           'env': {k: os.environ.get(k) for k in (*GENERIC_ENV, *DETERMINISTIC_ENV, 'OMP_NUM_THREADS')}}
    if dev.startswith('cuda'): out['gpu'] = torch.cuda.get_device_name(torch.device(dev))
    nondet = set()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        t0 = time.perf_counter()
        r1 = run_training('stt_nb.contrastive:SpatialTask', REPO / 'configs/spatial/tiny_cpu.yaml',
                          overrides=common + ['run.name=step1', *extra1])
        ck1 = str(r1.checkpoint)
        init = ['model.init=random', 'model.teacher=random'] if step2_init == 'random' else \
               [f'model.init={ck1}', f'model.teacher={ck1}']
        r2 = run_training('stt_nb.stt:TemporalTask', REPO / 'configs/temporal/tiny_cpu.yaml',
                          overrides=common + ['run.name=step2', *init, *extra2])
        out['train_s'] = round(time.perf_counter() - t0, 1)
        for phase, res in zip(PHASES, (r1, r2)):
            df = read_metrics(res.run_dir)
            out[phase] = {c: [float(x) for x in df[c]] for c in df.columns if c not in META_COLUMNS}
        student = export_student(r2.checkpoint, work / 'student.pt')
        s = get_scale(bench)
        t0 = time.perf_counter()
        table = run_eval('davis', student, toy_benchmark(s), work / 'eval', device=dev, progress=False,
                         **dict(s.eval_options))
        out['eval_s'] = round(time.perf_counter() - t0, 1)
        out['jf'] = float(table['J&F-Mean'].iloc[0])
        for w in caught:
            msg = str(w.message)
            if 'deterministic' in msg: nondet.add(msg.split('\n')[0][:200])
    out['nondeterministic_ops'] = sorted(nondet)
    return out


# ---------------------------------------------------------------------------------------------------------------
# Parent: one child per device and seed, then the comparison

def resolve_devices(spec: str) -> tuple[list[str], bool]:
    "The two devices to compare, and whether CUDA is available."
    import torch
    cuda = torch.cuda.is_available()
    devs = (['cpu', 'cuda'] if cuda else ['cpu', 'cpu-generic']) if spec == 'auto' else [d.strip() for d in spec.split(',')]
    if len(devs) != 2: raise SystemExit(f"--devices: give exactly two devices, got {devs}")
    for d in devs:
        if d.startswith('cuda') and not cuda:
            raise SystemExit(f"--devices {spec}: CUDA is not available on this machine (try --devices auto, which "
                             "compares cpu with cpu-generic)")
        if not (d in ('cpu', 'cpu-generic') or d.startswith('cuda')): raise SystemExit(f"--devices: unknown device {d!r}")
    return devs, cuda

def run_child(args, device: str, seed: int, work: Path) -> dict:
    "Run `child` in a fresh process with the device's environment; its JSON result."
    env = {**os.environ, **DETERMINISTIC_ENV, 'PYTHONPATH': os.pathsep.join([str(REPO), os.environ.get('PYTHONPATH', '')])}
    if device == 'cpu-generic': env.update(GENERIC_ENV)
    res = work / 'result.json'
    cmd = [sys.executable, str(Path(__file__).resolve()), '--child', device, '--steps', str(args.steps),
           '--seeds', str(seed), '--bench', args.bench, '--step2-init', args.step2_init, '--work', str(work),
           '--json', str(res)] + [f'--extra1={x}' for x in args.extra1] + [f'--extra2={x}' for x in args.extra2]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0 or not res.is_file():
        raise RuntimeError(f"child {device} seed {seed} failed (exit {p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    out = json.loads(res.read_text()); out['wall_s'] = round(time.perf_counter() - t0, 1)
    return out

def report(args, devs: list[str], cuda: bool, results: dict) -> tuple[str, list[str]]:
    "The markdown report and the failed targets, from results[(device, seed)]."
    a, b = devs
    seeds = sorted({s for _, s in results})
    lines = [f'# Device parity: {a} vs {b}', '',
             f'{args.steps} steps of each phase, seeds {seeds}, step 2 from {args.step2_init} init, toy DAVIS '
             f'`{args.bench}`; float32, TF32 off, deterministic algorithms (warn only). Started {args.started}.', '']
    if not cuda:
        lines += ['**CUDA was not available on this machine: the GPU comparison was NOT run.** The second device is '
                  'the CPU with generic kernels (`ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41`), which '
                  'exercises the comparison and measures how far kernel rounding alone moves the runs.', '']
    if 'cpu-generic' in devs:
        lines += ['With `cpu-generic` the step-1 *data* differ too: the MoCo v2 views are resized in uint8 '
                  "(torchvision's antialiased `RandomResizedCrop`), whose AVX2/AVX-512 kernel rounds differently from "
                  'the generic one (about 13 % of the pixels differ by 1/255), so step-1 losses differ from the first '
                  'step on. CPU and CUDA on one machine share the data (the DataLoader runs on the CPU for both); the '
                  "step-2 pairs are resized in float and agree.", '']
    for d in devs:
        r = results[(d, seeds[0])]
        lines.append(f"- {d}: torch {r['torch']}, CPU capability {r['cpu_capability']}, {r['threads']} threads"
                     + (f", GPU {r['gpu']}" if r.get('gpu') else '')
                     + f"; train {r['train_s']} s, eval {r['eval_s']} s per seed")
    lines.append('')
    cmps = {}
    for phase in PHASES:
        for s in seeds:
            ra, rb = results[(a, s)], results[(b, s)]
            cmps[f'{phase} seed {s}'] = c = compare_losses(ra[phase]['loss'], rb[phase]['loss'])
            terms = sorted(set(ra[phase]) & set(rb[phase]) - {'loss'})
            per_term = {t: compare_losses(ra[phase][t], rb[phase][t])['max_first'] for t in terms}
            lines += [f'## {phase}, seed {s}: max rel diff first {min(FIRST, c["n"])} losses {c["max_first"]:.2e}, '
                      f'all {c["n"]} {c["max_all"]:.2e}', '', loss_table(c, a, b), '',
                      'Max rel diff of each term over the first steps: '
                      + ', '.join(f'{t} {v:.2e}' for t, v in per_term.items()), '']
    jf = jf_verdict([results[(a, s)]['jf'] for s in seeds], [results[(b, s)]['jf'] for s in seeds], args.jf_tol)
    lines += ['## J&F of the step-2 student', '', '| seed | ' + ' | '.join(devs) + ' |', '| ---: | ---: | ---: |']
    lines += [f"| {s} | {results[(a, s)]['jf']:.4f} | {results[(b, s)]['jf']:.4f} |" for s in seeds]
    lines += ['', f"mean {a} {jf['mean_a']:.4f}, mean {b} {jf['mean_b']:.4f}, |diff| {jf['diff']:.4f}, pooled seed std "
                  f"{jf['std']:.4f}: {jf['rule']} → {({True: 'PASS', False: 'FAIL', None: 'not judged'})[jf['ok']]}", '']
    nondet = sorted({m for r in results.values() for m in r['nondeterministic_ops']})
    if nondet: lines += ['Ops without a deterministic implementation (torch warnings):', ''] + [f'- {m}' for m in nondet] + ['']
    fails = judge(cmps, jf, args.loss_rtol)
    lines += ['## Verdict', ''] + ([f'- FAIL {f}' for f in fails] or
                                   [f'- PASS: first {FIRST} losses within {args.loss_rtol:g} relative; J&F {jf["rule"]}'])
    return '\n'.join(lines) + '\n', fails

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--steps', type=int, default=20, help='optimiser steps of each phase (default 20)')
    p.add_argument('--devices', default='auto', help="two devices, e.g. 'cpu,cuda' (default auto: cpu,cuda or cpu,cpu-generic)")
    p.add_argument('--seeds', default='0', help="comma-separated seeds (default 0; >= 2 to judge J&F by the seed std)")
    p.add_argument('--seed', type=int, default=None, help='one seed (shorthand for --seeds N)')
    p.add_argument('--bench', default='tiny', choices=['quick', 'tiny'], help='toy DAVIS of this ablation scale')
    p.add_argument('--step2-init', default='random', choices=['random', 'step1'])
    p.add_argument('--loss-rtol', type=float, default=1e-3, help='target for the first 10 losses (default 1e-3)')
    p.add_argument('--jf-tol', type=float, default=None, help='J&F tolerance when fewer than 2 seeds')
    p.add_argument('--out', default=None, help='markdown report (written atomically)')
    p.add_argument('--work', default=None, help='scratch folder (default: a temporary one, removed)')
    p.add_argument('--extra1', action='append', default=[], help='extra step-1 override (repeatable)')
    p.add_argument('--extra2', action='append', default=[], help='extra step-2 override (repeatable)')
    p.add_argument('--child', default=None, help=argparse.SUPPRESS)
    p.add_argument('--json', default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.steps < 1: p.error('--steps must be >= 1')
    seeds = [args.seed] if args.seed is not None else [int(s) for s in args.seeds.split(',') if s.strip()]
    sys.path.insert(0, str(REPO))
    if args.child:
        out = child(args.child, args.steps, seeds[0], args.bench, Path(args.work), args.step2_init, args.extra1, args.extra2)
        Path(args.json).write_text(json.dumps(out))
        return 0
    args.started = time.strftime('%Y-%m-%dT%H:%M:%S%z')
    devs, cuda = resolve_devices(args.devices)
    if not cuda: print('NOTE: CUDA is not available: comparing cpu with cpu-generic (generic CPU kernels) instead; '
                       'the GPU part is NOT done.', flush=True)
    tmp = tempfile.TemporaryDirectory(prefix='device_parity_') if args.work is None else None
    work = Path(args.work or tmp.name)
    try:
        results = {}
        for s in seeds:
            for d in devs:
                print(f'[{time.strftime("%H:%M:%S")}] {d}, seed {s}: {args.steps} steps of step 1 and step 2, then J&F',
                      flush=True)
                results[(d, s)] = run_child(args, d, s, work / f'{d.replace(":", "_")}_seed{s}')
                print(f"  losses step1 {results[(d, s)]['step1']['loss'][:3]}..., J&F {results[(d, s)]['jf']:.4f} "
                      f"({results[(d, s)]['wall_s']} s)", flush=True)
    finally:
        if tmp is not None: tmp.cleanup()
    text, fails = report(args, devs, cuda, results)
    print(text)
    if args.out:
        from stt_nb.core import atomic_write
        with atomic_write(Path(args.out), 'w') as f: f.write(text)
    return 1 if fails else 0

if __name__ == '__main__':
    sys.exit(main())
