"""The `stt_nb` console command, run as a user runs it (a subprocess of the installed entry point)."""
from pathlib import Path
import shutil, subprocess, sys
import numpy as np
import pandas as pd
import pytest

EXE = shutil.which('stt_nb', path=str(Path(sys.executable).parent)) or 'stt_nb'

def run(*args, **kw):
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=600, **kw)

def test_help_lists_the_commands():
    r = run('--help')
    assert r.returncode == 0 and 'demo' in r.stdout and 'data' in r.stdout

def test_demo_quick_writes_its_outputs(tmp_path):
    r = run('demo', '--quick', '--out', str(tmp_path / 'demo'), '--device', 'cpu')
    assert r.returncode == 0, r.stderr
    assert f"wrote {tmp_path / 'demo'}/" in r.stdout
    df = pd.read_csv(tmp_path / 'demo' / 'results.csv')
    scores = dict(zip(df['method'], df['chroma MAE (Lab units)']))
    assert scores['copy reference (no motion)'] < scores['neutral chroma (predict 0)']
    for f in ('results.md', 'reconstruction.png', 'toy_davis.png', 'config.yaml', 'run.json'):
        assert (tmp_path / 'demo' / f).stat().st_size > 0, f

def test_data_toy_davis_writes_the_davis_layout(tmp_path):
    r = run('data', 'toy-davis', '--root', str(tmp_path / 'davis'), '--n', '1', '--frames', '8', '--seed', '1')
    assert r.returncode == 0, r.stderr
    from stt_nb.data import DavisReader
    reader = DavisReader(tmp_path / 'davis', split='val')
    assert len(reader) == 1
    seq = reader[0]
    assert seq.frames.shape[0] == 8 and seq.frames.shape[1] == 240 and len(seq.object_ids) >= 1

def test_bad_argument_is_one_clear_error(tmp_path):
    r = run('data', 'toy-davis', '--root', str(tmp_path / 'x'), '--n', '0')
    assert r.returncode == 1
    assert r.stderr.startswith('stt_nb data: error:') and 'Traceback' not in r.stderr
    assert not (tmp_path / 'x').exists()                      # nothing half-written

TRAIN = shutil.which('stt_train', path=str(Path(sys.executable).parent)) or 'stt_train'

def test_stt_train_runs_resumes_and_rejects_bad_keys(tmp_path):
    common = ['toy', f'run.out_dir={tmp_path}', 'run.name=r', 'run.progress=false', 'loop.epochs=2', 'run.ckpt_every=1']
    r = subprocess.run([TRAIN, *common, 'loop.max_steps=2'], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / 'r' / 'checkpoints' / 'latest.pt').exists() and 'stt_train toy: 2 steps' in r.stdout
    r = subprocess.run([TRAIN, *common, '--resume', 'loop.max_steps=3'], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert 'stt_train toy: 3 steps' in r.stdout                       # continued from step 2, did one more
    steps = pd.read_json(tmp_path / 'r' / 'metrics.jsonl', lines=True)['step'].tolist()
    assert steps == sorted(set(steps)) and steps[-1] == 3
    r = subprocess.run([TRAIN, 'toy', 'loop.bogus=3'], capture_output=True, text=True, timeout=600)
    assert r.returncode == 1 and "unknown key 'loop.bogus'" in r.stderr and 'Traceback' not in r.stderr
