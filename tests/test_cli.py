"""The `stt_nb` console command, run as a user runs it (a subprocess of the installed entry point)."""
from pathlib import Path
import shutil, subprocess, sys
import numpy as np
import pandas as pd
import pytest

EXE = shutil.which('stt_nb', path=str(Path(sys.executable).parent)) or 'stt_nb'
ABLATE = shutil.which('stt_ablate', path=str(Path(sys.executable).parent)) or 'stt_ablate'

def run(*args, **kw):
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=600, **kw)

def test_help_lists_the_commands():
    r = run('--help')
    assert r.returncode == 0 and 'demo' in r.stdout and 'data' in r.stdout

def test_demo_quick_writes_its_outputs(tmp_path):
    # the default cache ($STT_NB_CACHE, private to the test run: see conftest.py) is used on purpose: the quick runs
    # are shared with the tutorials' fast mode
    r = run('demo', '--quick', '--out', str(tmp_path / 'demo'), '--device', 'cpu')
    assert r.returncode == 0, r.stderr
    assert f"{tmp_path / 'demo' / 'propagation.gif'}" in r.stdout and '[4/4]' in r.stdout
    df = pd.read_csv(tmp_path / 'demo' / 'results.csv')
    assert list(df['variant']) == ['random', 'spatial', 'temporal', 'stt'] and df['J&F-Mean'].between(0, 1).all()
    md = (tmp_path / 'demo' / 'results.md').read_text()
    assert 'STT (step 1 → step 2)' in md and 'temporal only' in md
    for f in ('loss_curves.png', 'propagation.png', 'propagation.gif', 'config.yaml', 'run.json'):
        assert (tmp_path / 'demo' / f).stat().st_size > 0, f

def test_ablate_runs_lists_and_resumes(tmp_path, capsys):
    from stt_nb.cli import stt_ablate_main
    base = ['--scale', 'quick', '--root', str(tmp_path / 'cache'), '--out', str(tmp_path / 'grid'), '--no-progress']
    r = subprocess.run([ABLATE, *base, '--variants', 'random', '--seeds', '0', '1'], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(tmp_path / 'grid' / 'results.csv')
    assert list(df['seed']) == [0, 1] and (df['variant'] == 'random').all()
    assert df['result_key'].nunique() == 2 and df['code'].nunique() == 1 and not df['stale'].any()
    assert '**paradigm**' in (tmp_path / 'grid' / 'results.md').read_text()
    assert (tmp_path / 'grid' / 'ablations.png').stat().st_size > 0
    r = subprocess.run([ABLATE, *base, '--variants', 'random', '--seeds', '0', '1'], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.count('in results.csv, reused') == 2, r.stdout   # a rerun evaluates nothing
    # a report says what the grid changed from the scale's defaults (here the quick scale's own input size, so the
    # result key and the row are the same ones)
    r = subprocess.run([ABLATE, *base, '--variants', 'random', '--seeds', '0', '--eval-option', 'input_size=120'],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.count('in results.csv, reused') == 1, r.stdout
    assert 'seeds [0], davis; evaluation options: `input_size=120`' in (tmp_path / 'grid' / 'results.md').read_text()
    # --report: the tables from the rows already there (a record), nothing run; the seed-0 row alone on request
    (tmp_path / 'grid' / 'results.md').unlink()
    r = subprocess.run([ABLATE, *base, '--report', '--seeds', '0'], capture_output=True, text=True)
    assert r.returncode == 0 and 'in results.csv' not in r.stdout, r.stderr
    md = (tmp_path / 'grid' / 'results.md').read_text()
    assert 'seeds [0], davis' in md and 'rows: 1 (1 variants × seeds [0])' in md and f"`{df['code'][0]}`" in md, md
    # the rest in this process, through the function the console script calls (a fresh interpreter per command
    # costs ~5 s; the script itself is exercised above)
    def ablate(*args):
        capsys.readouterr(); rc = stt_ablate_main([*base, *args]); out = capsys.readouterr(); return rc, out.out, out.err
    for bad, name in [(['--task', 'jhmdb'], 'jhmdb'), (['--out', str(tmp_path / 'nothing')], 'results.csv')]:
        rc, out, err = ablate('--report', *bad)
        assert rc == 1 and name in err and 'Traceback' not in err, err
    rc, out, err = ablate('--groups', 'pyramid', '--list')
    assert rc == 0 and 'stt_single' in out and 'False' in out, out
    assert 'missing' in out and 'cached' not in out, out
    rc, out, err = ablate('--variants', 'random', '--seeds', '0', '--list')
    assert rc == 0 and 'cached' in out, out
    for bad, name in [(['--variants', 'stt_t0.9'], 'stt_t0.9'), (['--groups', 'colour'], 'colour'),
                      (['--scale', 'huge'], 'huge')]:
        rc, out, err = ablate(*bad)
        assert rc == 1 and name in err and 'valid' in err and 'Traceback' not in err, err

def test_data_toy_davis_writes_the_davis_layout(tmp_path):
    r = run('data', 'toy-davis', '--root', str(tmp_path / 'davis'), '--n', '1', '--frames', '8', '--seed', '1')
    assert r.returncode == 0, r.stderr
    from stt_nb.data import DavisReader
    reader = DavisReader(tmp_path / 'davis', split='val')
    assert len(reader) == 1
    seq = reader[0]
    assert seq.frames.shape[0] == 8 and seq.frames.shape[1] == 240 and len(seq.object_ids) >= 1

def test_data_held_out_benchmark_and_training_split(tmp_path):
    "The held-out toy DAVIS v3 from the shell (its backgrounds are held-out shots), and the training folders' split."
    r = run('data', 'toy-davis-v3', '--root', str(tmp_path / 'v3'), '--n', '1', '--frames', '12')   # window_px: 240 px
    assert r.returncode == 0, r.stderr
    from stt_nb.data import DavisReader
    from stt_nb.media import split_frames
    from stt_nb.toys import load_toy_motion
    reader = DavisReader(tmp_path / 'v3', split='val')
    bg = load_toy_motion(tmp_path / 'v3', reader.videos[0])['background']
    assert set(range(bg['start'], bg['start'] + 12)) <= set(split_frames('held_out', bg['clip']))
    r = run('data', 'videos', '--root', str(tmp_path / 'v'), '--size', '32', '--split', 'train')
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / 'v').iterdir() if p.is_dir())[0] == 'bikes-000-030'

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

EVAL = shutil.which('stt_eval', path=str(Path(sys.executable).parent)) or 'stt_eval'

@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp('toy') / 'davis'
    assert run('data', 'toy-davis', '--root', str(root), '--n', '1', '--frames', '8', '--seed', '2').returncode == 0
    return root

def test_stt_eval_metrics_is_a_drop_in_for_the_official_script(toy, tmp_path):
    res = tmp_path / 'res'
    shutil.copytree(toy / 'Annotations' / '480p', res)                 # ground truth as predictions
    (res / 'global_results-val.csv').write_text('stale\n')             # never reused
    r = subprocess.run([EVAL, 'metrics', '--davis_path', str(toy), '--results_path', str(res), '--workers', '1'],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    g = pd.read_csv(res / 'global_results-val.csv')
    assert g['J&F-Mean'].item() == 1.0 and g['J-Mean'].item() == 1.0 and g['F-Mean'].item() == 1.0
    assert (res / 'per-sequence_results-val.csv').exists() and 'J&F-Mean' in r.stdout
    r = subprocess.run([EVAL, 'metrics', '--davis-root', str(toy), '--results', str(tmp_path / 'nope')],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 1 and 'nope' in r.stderr and 'Traceback' not in r.stderr

def test_stt_eval_davis_runs_the_pipeline_with_random_weights(toy, tmp_path):
    out = tmp_path / 'eval'
    r = subprocess.run([EVAL, 'davis', '--checkpoint', 'random', '--data-root', str(toy), '--out', str(out),
                        '--input-size', '240', '--workers', '1', '--no-progress', '--device', 'cpu'],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    seq = (toy / 'ImageSets' / '2017' / 'val.txt').read_text().split()[0]
    assert len(list((out / seq).glob('*.png'))) == 8                    # one indexed PNG per frame
    jf = pd.read_csv(out / 'global_results-val.csv')['J&F-Mean'].item()
    assert 0 <= jf < 0.9                                                # untrained features are far from the oracle
