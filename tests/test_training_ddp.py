"""DDP on CPU: gloo processes launched by `torchrun` on 127.0.0.1 (OMP_NUM_THREADS=1).

The one copy of the engine's multi-process checks (nbs/20_training.ipynb points here):
- the toy task with per-process BatchNorm: the ranks stay in sync, rank 0 checkpoints their parameters;
- `CPUSyncBatchNorm` alone equals `nn.BatchNorm2d` on the global batch (outputs, gradients, running statistics);
- `stt_train spatial` and `stt_train temporal` with `loop.sync_bn=true`: 2 processes × batch B end with the weights
  of 1 process × batch 2B.
"""
import math, os, shutil, socket, subprocess, sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
STT_TRAIN = shutil.which('stt_train', path=str(Path(sys.executable).parent)) or 'stt_train'

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _env() -> dict:
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    for k in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT'): env.pop(k, None)
    return env

def _torchrun(*cmd: str, python: bool = True) -> list[str]:
    "The command line launching `cmd` (a script + args, or with python=False an executable + args) on 2 gloo processes."
    return [sys.executable, '-m', 'torch.distributed.run', '--nnodes', '1', '--nproc_per_node', '2',
            '--master_addr', '127.0.0.1', '--master_port', str(_free_port()), *([] if python else ['--no-python']), *cmd]

def _check(p: subprocess.CompletedProcess):
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-4000:]

# ---------------------------------------------------------------------------------------------------------------
TOY_SCRIPT = '''
import os, sys, torch
from stt_nb.core import config_from_dict
from stt_nb.toytask import ToyTask
from stt_nb.training import task_config_class, train
out = sys.argv[1]; task = ToyTask()
cfg = config_from_dict(task_config_class(task), {
    'run': {'out_dir': out, 'name': 'ddp', 'log_every': 1, 'ckpt_every': 3, 'progress': False, 'device': 'cpu',
            'tensorboard': False},
    'optim': {'name': 'sgd', 'lr': 0.05}, 'loop': {'epochs': 2, 'batch_size': 4},
    'data': {'n_patches': 24, 'patch': 8}})
res = train(cfg, task)
torch.save(dict(res.model.named_parameters()), os.path.join(out, f"params_rank{os.environ['RANK']}.pt"))
'''

def test_ddp_ranks_stay_in_sync(tmp_path: Path):
    from stt_nb.training import read_metrics
    (tmp_path / 'script.py').write_text(TOY_SCRIPT)
    _check(subprocess.run(_torchrun(str(tmp_path / 'script.py'), str(tmp_path)), env=_env(), capture_output=True,
                          text=True, timeout=240))
    a, b = (torch.load(tmp_path / f'params_rank{r}.pt', weights_only=True) for r in (0, 1))
    assert set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a), 'the two ranks ended with different parameters'
    ck = torch.load(tmp_path / 'ddp/checkpoints/latest.pt', weights_only=True)
    assert ck['step'] == 6 and ck['world_size'] == 2 and len(ck['rng']) == 2      # 24 samples / 2 ranks / batch 4 × 2 epochs
    assert all(torch.equal(ck['model'][k], a[k]) for k in a)                      # rank 0 checkpointed these weights
    assert not torch.equal(ck['rng'][0]['torch'], ck['rng'][1]['torch'])          # ranks draw different randomness
    assert len(ck['log_window']) == 2                                              # every rank's logging window
    assert read_metrics(tmp_path / 'ddp')['step'].tolist() == list(range(1, 7))   # one log, written by rank 0 only

# ---------------------------------------------------------------------------------------------------------------
BN_SCRIPT = '''
import os, sys, torch
import torch.distributed as dist
from torch import nn
from stt_nb.training import CPUSyncBatchNorm
dist.init_process_group('gloo'); rank = dist.get_rank()
torch.manual_seed(0)
x = torch.randn(8, 3, 5, 5) * 3 + 2                      # the global batch [8, 3, 5, 5]; rank r holds rows 4r..4r+3
g = torch.randn(8, 3, 5, 5)                              # a fixed weighting: loss = sum(y * g)
for momentum in (0.1, None):                             # None: cumulative average of the statistics
    bn = CPUSyncBatchNorm.convert(nn.BatchNorm2d(3, momentum=momentum))
    with torch.no_grad(): bn.weight.copy_(torch.tensor([1.0, 0.5, 2.0])); bn.bias.copy_(torch.tensor([0.0, 1.0, -1.0]))
    xr = x[4 * rank:4 * rank + 4].clone().requires_grad_()
    for _ in range(2): y = bn(xr)                        # two training forwards: the running statistics move twice
    (y * g[4 * rank:4 * rank + 4]).sum().backward()
    for p in (bn.weight, bn.bias): dist.all_reduce(p.grad)   # what DDP sums (before its division by the world size)
    bn.eval()
    torch.save({'y': y.detach(), 'x_grad': xr.grad, 'w_grad': bn.weight.grad, 'b_grad': bn.bias.grad,
                'running_mean': bn.running_mean, 'running_var': bn.running_var, 'n': bn.num_batches_tracked,
                'eval': bn(x).detach()}, os.path.join(sys.argv[1], f'bn_{momentum}_rank{rank}.pt'))
dist.destroy_process_group()
'''

def test_cpu_sync_batchnorm_equals_batchnorm_on_the_global_batch(tmp_path: Path):
    (tmp_path / 'bn.py').write_text(BN_SCRIPT)
    _check(subprocess.run(_torchrun(str(tmp_path / 'bn.py'), str(tmp_path)), env=_env(), capture_output=True,
                          text=True, timeout=240))
    torch.manual_seed(0)
    x = torch.randn(8, 3, 5, 5) * 3 + 2; g = torch.randn(8, 3, 5, 5)
    for momentum in (0.1, None):
        ref = torch.nn.BatchNorm2d(3, momentum=momentum)
        with torch.no_grad(): ref.weight.copy_(torch.tensor([1.0, 0.5, 2.0])); ref.bias.copy_(torch.tensor([0.0, 1.0, -1.0]))
        xx = x.clone().requires_grad_()
        for _ in range(2): y = ref(xx)
        (y * g).sum().backward()
        ref.eval()
        want = {'y': y.detach(), 'x_grad': xx.grad, 'w_grad': ref.weight.grad, 'b_grad': ref.bias.grad,
                'running_mean': ref.running_mean, 'running_var': ref.running_var, 'eval': ref(x).detach()}
        got = [torch.load(tmp_path / f'bn_{momentum}_rank{r}.pt', weights_only=True) for r in (0, 1)]
        assert all(int(o['n']) == 2 for o in got)
        # Tolerance: both sides compute the same float32 formulas, summed in a different order (per rank, then
        # across ranks; torch's kernel in one pass), so they differ by float32 rounding only: a few ulp of the
        # O(1)-O(100) values here (a running_var near 9, weight gradients summing 200 terms of size ~1).
        # 1e-5 relative + 1e-5 absolute is ~100 ulp; a wrong statistic (per-rank, or biased running variance:
        # a factor 200/199) is off by 1e-3 or more.
        tol = dict(rtol=1e-5, atol=1e-5)
        for k in ('y', 'x_grad'):
            torch.testing.assert_close(torch.cat([o[k] for o in got]), want[k], **tol, msg=f'{k}, momentum {momentum}')
        for k in ('w_grad', 'b_grad', 'running_mean', 'running_var', 'eval'):
            for o in got: torch.testing.assert_close(o[k], want[k], **tol, msg=f'{k}, momentum {momentum}')

# ---------------------------------------------------------------------------------------------------------------
def _teacher_file(path: Path) -> Path:
    "A seeded random ResNet-18 for step 2's init-free runs: every process must load the same teacher."
    from stt_nb.backbone import build_backbone
    torch.manual_seed(123)
    torch.save(build_backbone('teacher', 18).state_dict(), path)
    return path

COMMON = ['loop.num_workers=0', 'loop.sync_bn=true', 'run.log_every=1', 'run.ckpt_every=1000', 'run.progress=false',
          'run.tensorboard=false', 'run.device=cpu']

def _overrides(task: str, tmp: Path) -> tuple[list[str], int]:
    "Reduced-size overrides of configs/<task>/tiny_cpu.yaml and the per-process batch B of the 2-process run."
    if task == 'spatial':
        # 26 images: 13 per process / B 4 = 3 steps per epoch, 26 / 8 = 3 in one process. Two steps only: from the
        # third step on this 32-pixel MoCo miniature amplifies float rounding explosively (we measured a 1e-7
        # relative perturbation of the initial weights growing to 3e-4 by step 3, 2e-3 by step 6), so later
        # steps could no longer tell rounding from a real difference.
        # lr_scale_batch=8 makes the lr 0.01 × global batch / 8: equal only if both runs scale by the *global* batch.
        # bn_splits=1: SplitBatchNorm's groups would stand for per-GPU BatchNorm, the opposite of SyncBN.
        return ['data.size=32', 'loop.epochs=2', 'loop.max_steps=2', 'model.bn_splits=1', 'optim.lr_scale_batch=8'], 4
    teacher = _teacher_file(tmp / 'teacher_r18.pt')
    # 4 training shots × 2 repeats = 8 pairs: 4 per process / B 2 = 2 steps per epoch, 8 / 4 = 2 in one process; 3
    # epochs. The release selection, the local and global losses and chroma dropout are all on (the tiny config's
    # loss). The release init (zero-γ residual BNs), as when the tolerances below were measured: the tiny config's
    # torchvision init makes a 64-pixel student amplify float rounding faster.
    return ['data.size=64', 'data.repeats=2', 'loop.epochs=3', 'model.init=random', 'model.init_scheme=release',
            f'model.teacher={teacher}', 'model.teacher_depth=18'], 2

def _initial_weights(task: str, argv: list[str]) -> dict:
    "The state dict both runs start from (rank 0 / the single process build the model after seeding with run.seed)."
    from stt_nb.cli import parse_train_args
    from stt_nb.core import load_config, seed_everything
    from stt_nb.training import get_task, task_config_class
    a = parse_train_args(argv); t = get_task(task)
    cfg = load_config(task_config_class(t), a.config, a.overrides)
    seed_everything(cfg.run.seed)
    return t.build_model(cfg, torch.device('cpu')).state_dict()

@pytest.mark.parametrize('task', ['spatial', 'temporal'])
def test_stt_train_sync_bn_two_processes_equal_one_with_the_global_batch(tmp_path: Path, task: str):
    from stt_nb.training import META_COLUMNS, read_metrics
    over, B = _overrides(task, tmp_path)
    base = [task, '--config', str(ROOT / f'configs/{task}/tiny_cpu.yaml'), *COMMON, *over, f'run.out_dir={tmp_path}']
    two = subprocess.Popen(_torchrun(STT_TRAIN, *base, 'run.name=two', f'loop.batch_size={B}', python=False), env=_env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    one = subprocess.run([STT_TRAIN, *base, 'run.name=one', f'loop.batch_size={2 * B}'], env=_env(),
                         capture_output=True, text=True, timeout=300)
    out, err = two.communicate(timeout=300)
    _check(one); assert two.returncode == 0, out[-2000:] + err[-4000:]
    a = torch.load(tmp_path / 'one/checkpoints/latest.pt', weights_only=True)
    b = torch.load(tmp_path / 'two/checkpoints/latest.pt', weights_only=True)
    assert (a['world_size'], b['world_size'], a['step']) == (1, 2, b['step']) and a['step'] >= 2
    ma, mb = read_metrics(tmp_path / 'one'), read_metrics(tmp_path / 'two')
    assert ma['step'].tolist() == mb['step'].tolist() == list(range(1, a['step'] + 1))
    # What may differ: both runs compute the same mathematical function of the same global batch (same items, same
    # augmentations, same lr, global BatchNorm statistics, one chroma channel and one distillation normaliser per
    # global batch), but in a different float32 summation order (sums over 2B items vs two sums over B and an
    # all-reduce; different GEMM shapes; DDP's gradient average). Measured (2 cores, default and SSE4.1 kernels):
    # relative loss differences <= 2e-5, weight differences <= 6e-5, running-statistic differences <= 1.2e-4.
    # What a real difference looks like (measured with per-process BatchNorm instead): losses 2-5% apart from
    # step 1 on, running statistics 0.25-0.36 apart, spatial weights 4e-2 apart. The tolerances sit in between.
    terms = [c for c in ma.columns if c not in META_COLUMNS]
    torch.testing.assert_close(torch.tensor(mb[terms].to_numpy()), torch.tensor(ma[terms].to_numpy()), rtol=2e-4,
                               atol=1e-6, msg=lambda m: f'{task}: per-step losses {terms} differ\n{m}')
    assert ma['lr'].tolist() == mb['lr'].tolist()                                   # same schedule, same scaling
    # Weights. SGD (spatial) moves a weight by lr × gradient, so rounding-sized gradient differences give weight
    # differences that are a small fraction of how far the weight moved: measured (2 steps), the largest per-tensor
    # ratio max|b - a| / max|a - init| is 2 % with default kernels and 5.3 % with generic ones (an absolute bound of
    # 1e-4 measured on one data set failed on another: conv1 differed by 2.1e-4 with generic kernels). Per-process
    # BatchNorm instead, the real difference this test is for, gives ratios of 6-9 (many tensors > 5). Bound: 25 %.
    # Adam (temporal) moves every coordinate by about lr × sign-like m/sqrt(v), so a gradient component within
    # rounding of zero can step either way: its weight may differ by up to 2 lr per step, bounded by 2 × the sum of
    # the logged lrs (1.1e-4 here; measured 6e-5).
    w_atol = 2 * float(ma['lr'].sum())
    init = _initial_weights(task, base) if task == 'spatial' else None
    for k, v in a['model'].items():
        if k == 'queue.keys':     # MoCo's queue holds the same keys, in rank order within each batch: compare as sets
            d = torch.cdist(v, b['model'][k])
            assert max(float(d.min(0).values.max()), float(d.min(1).values.max())) < 1e-4, k
        elif 'running_' in k:     # BatchNorm statistics: global in both runs
            torch.testing.assert_close(b['model'][k], v, rtol=1e-3, atol=1e-3, msg=f'{task}: {k}')
        elif v.dtype.is_floating_point and task == 'spatial':
            d, m = float((b['model'][k] - v).abs().max()), float((v - init[k]).abs().max())
            assert d <= 0.25 * m + 1e-7, f'{task}: {k}: the runs differ by {d:.3g}, {d / max(m, 1e-30):.1%} of how far it moved ({m:.3g})'
        elif v.dtype.is_floating_point:
            torch.testing.assert_close(b['model'][k], v, rtol=0, atol=w_atol, msg=lambda msg, k=k: f'{task}: {k}: {msg}')
        else: assert torch.equal(b['model'][k], v), k                              # num_batches_tracked, queue pointer
    if task == 'spatial':         # the weight comparison can fail: training moved them far beyond rounding
        moved = max(float((a['model'][k] - v).abs().max()) for k, v in init.items()
                    if v.dtype.is_floating_point and k != 'queue.keys')
        assert moved > 1e-2, f'the weights barely moved ({moved:.2g})'
