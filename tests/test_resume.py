"""`kill -9` and resume, for real: `stt_train spatial` and `stt_train temporal` (tiny CPU configs at a reduced size)
are SIGKILLed half-way through appending a metrics line, and half-way through writing a checkpoint, then resumed
with `--resume`. The losses of every step and the final weights must be bit-identical to an uninterrupted run.

Every run is a fresh process with the same environment (OMP_NUM_THREADS=1), so the same kernels run in the
same order: equality is exact (`torch.equal`, `DataFrame.equals`), no tolerance. The two tasks run side by side
(one thread each, waiting on its processes), which keeps both cores busy: the test takes ~30 s on 2 cores.
"""
import json, os, random, signal, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
CHILD = Path(__file__).with_name('_kill_child.py')
CKPT_EVERY = 4

# 12 steps each (`loop.max_steps`, so that the count does not depend on how many bundled images and clips the
# training split holds), checkpoints at steps 4, 8 and 12 (the last step always checkpoints).
OVERRIDES = {
    # ~22 training images / batch 4 = 5 steps per epoch, 3 epochs capped at 12 (checkpoints fall mid-epoch);
    # bn_splits 2 and one loader worker as in the tiny config
    'spatial': ['data.size=32', 'loop.batch_size=4', 'loop.epochs=3', 'loop.max_steps=12'],
    # clips × 4 repeats pairs / batch 2 (8 steps per epoch with 4 training clips), capped at 12; random student and
    # (seeded) random R18 teacher
    'temporal': ['data.size=64', 'data.repeats=4', 'loop.batch_size=2', 'loop.epochs=3', 'loop.max_steps=12',
                 'model.init=random', 'model.teacher=random', 'model.teacher_depth=18'],
}
# where the checkpoint kill lands: inside save_checkpoint (step_XXXXXX.pt) for one task, in the copy that
# replaces latest.pt for the other (the file a resume reads; a copy only where the file system has no hard links, so
# the child switches them off: see _kill_child.py)
SAVE_MODE = {'spatial': 'save', 'temporal': 'copy'}
TOTAL = 12

def _argv(task: str, out: Path, name: str, resume: bool = False) -> list[str]:
    return [task, '--config', str(ROOT / f'configs/{task}/tiny_cpu.yaml'), *(['--resume'] if resume else []),
            *OVERRIDES[task], f'run.ckpt_every={CKPT_EVERY}', 'run.log_every=1', 'run.progress=false',
            'run.tensorboard=false', 'run.device=cpu', f'run.out_dir={out}', f'run.name={name}']

_CHILDREN: list[subprocess.Popen] = []

@pytest.fixture(autouse=True)
def _no_stray_children():
    "Kill what a failed test left running (each child leads its own process group)."
    yield
    while _CHILDREN:
        p = _CHILDREN.pop()
        if p.poll() is None: os.killpg(p.pid, signal.SIGKILL); p.wait(30)

def _start(out: Path, tag: str, mode: str, step: int, argv: list[str]) -> subprocess.Popen:
    "A child training process in its own process group (SIGKILL also takes its DataLoader worker), output to files."
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    for k in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK'): env.pop(k, None)
    with open(out / f'{tag}.out', 'w') as o, open(out / f'{tag}.err', 'w') as e:
        p = subprocess.Popen([sys.executable, str(CHILD), mode, str(step), str(out / f'{tag}.stalled'), *argv],
                             stdout=o, stderr=e, env=env, start_new_session=True)
    _CHILDREN.append(p)
    return p

def _kill_when_stalled(p: subprocess.Popen, out: Path, tag: str, timeout: float = 180):
    "Wait until the child reports its stall, then SIGKILL its process group."
    marker = out / f'{tag}.stalled'
    t0 = time.monotonic()
    while not marker.exists():
        if p.poll() is not None: raise AssertionError(f'{tag} ended ({p.returncode}) without stalling:\n'
                                                      + (out / f'{tag}.err').read_text()[-3000:])
        if time.monotonic() - t0 > timeout: raise AssertionError(f'{tag}: no stall within {timeout} s')
        time.sleep(0.02)
    os.killpg(p.pid, signal.SIGKILL)
    assert p.wait(30) == -signal.SIGKILL

def _finish(p: subprocess.Popen, out: Path, tag: str) -> str:
    rc = p.wait(300)
    err = (out / f'{tag}.err').read_text()
    assert rc == 0, f'{tag} failed ({rc}):\n{err[-3000:]}'
    return err

def _temporaries(run: Path) -> list[str]:
    return sorted(p.name for d in (run, run / 'checkpoints') if d.is_dir() for p in d.glob('.*.tmp'))

def test_sigkill_then_resume_is_exact(tmp_path: Path):
    with ThreadPoolExecutor(2) as ex:
        runs = {task: ex.submit(_kill_and_resume, tmp_path / task, task) for task in ('spatial', 'temporal')}
    for f in runs.values(): f.result()                                 # re-raises a failed task's assertion

def _kill_and_resume(tmp_path: Path, task: str):
    """One uninterrupted run, and next to it one run killed twice: during the metrics append of step `k_log`,
    then (resumed) during the checkpoint write of step `k_save`, then resumed to the end."""
    tmp_path.mkdir()
    from stt_nb.training import META_COLUMNS, read_metrics
    rng = random.Random(f'kill-{task}')                                 # seeded: the same kill steps every run
    k_log = rng.choice(range(CKPT_EVERY + 1, TOTAL + 1))               # any step after the first checkpoint
    resumed_at = (k_log - 1) // CKPT_EVERY * CKPT_EVERY                 # the last checkpoint before it (step k logs first)
    k_save = rng.choice(range(max(resumed_at + CKPT_EVERY, 2 * CKPT_EVERY), TOTAL + 1, CKPT_EVERY))
    save_mode = SAVE_MODE[task]
    where = f'{task}: killed while logging step {k_log}, then while writing the checkpoint of step {k_save} ({save_mode})'
    run = tmp_path / 'cut'
    full = _start(tmp_path, 'full', 'run', 0, _argv(task, tmp_path, 'full'))

    # kill 1: half a metrics line
    _kill_when_stalled(_start(tmp_path, 'kill1', 'log', k_log, _argv(task, tmp_path, 'cut')), tmp_path, 'kill1')
    text = (run / 'metrics.jsonl').read_text()
    last = text.rsplit('\n', 1)[-1]
    assert last.startswith(f'{{"step": {k_log}, ') and not text.endswith('\n'), (where, last)
    assert torch.load(run / 'checkpoints/latest.pt', weights_only=True)['step'] == resumed_at, where

    # kill 2 (after resuming): half a checkpoint file
    p = _start(tmp_path, 'kill2', save_mode, k_save, _argv(task, tmp_path, 'cut', resume=True))
    _kill_when_stalled(p, tmp_path, 'kill2')
    assert 'dropping the incomplete last line' in (tmp_path / 'kill2.err').read_text(), where
    ck = run / 'checkpoints'
    assert torch.load(ck / 'latest.pt', weights_only=True)['step'] == k_save - CKPT_EVERY, where  # the previous one, whole
    half = f'.step_{k_save:06d}.pt.' if save_mode == 'save' else '.latest.pt.'
    tmps = [q for q in ck.glob('.*.tmp') if q.name.startswith(half)]
    assert len(tmps) == 1 and tmps[0].stat().st_size == 4 << 20, (where, _temporaries(run))
    assert (ck / f'step_{k_save:06d}.pt').exists() == (save_mode == 'copy'), where

    # resume to the end: the half-written temporary is removed (with a warning), the result is exact
    err = _finish(_start(tmp_path, 'resume', 'run', 0, _argv(task, tmp_path, 'cut', resume=True)), tmp_path, 'resume')
    assert 'removed 1 unfinished temporary file' in err and tmps[0].name in err, err[-2000:]
    assert _temporaries(run) == [], (where, _temporaries(run))
    _finish(full, tmp_path, 'full')
    ref, got = read_metrics(tmp_path / 'full'), read_metrics(run)
    cols = ['step', 'epoch', 'lr'] + [c for c in ref.columns if c not in META_COLUMNS]   # every loss term
    assert ref['step'].tolist() == list(range(1, TOTAL + 1))
    assert got[cols].equals(ref[cols]), (where, (got[cols] - ref[cols]).abs().max())
    a = torch.load(tmp_path / 'full/checkpoints/latest.pt', weights_only=True)
    b = torch.load(ck / 'latest.pt', weights_only=True)
    assert a['step'] == b['step'] == TOTAL and a['model'].keys() == b['model'].keys()
    bad = [k for k, v in a['model'].items() if not torch.equal(b['model'][k], v)]
    assert not bad, (where, bad[:5])
    assert len(json.loads((run / 'run.json').read_text())['starts']) == 3                # three starts, one run
