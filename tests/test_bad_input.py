"""Bad input, listed: each bad file or config, where it is read, and the text its one error must contain.

Two kinds of bad input are listed here:

* **checkpoint files** that are not checkpoints (random bytes, an empty file, an HTML page, a truncated real
  checkpoint, a valid torch file holding a list or a tensor), fed to every reader of checkpoints in the package;
  the error must name the file and say what is wrong with it, and nothing may be written where an output was asked;
* **configs** with a required value (`???`) left unset, wrong keys or unparsable YAML; the error must name the
  config file and the key.

The command-line cases run the installed console scripts, as a user would: exit status 1, the message on stderr,
no traceback.
"""
from pathlib import Path
import os, shutil, subprocess, sys

import pytest
import torch

from stt_nb.backbone import build_backbone

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / 'configs'

# ---------------------------------------------------------------------------------------------------------------
# Checkpoint files: (how to write it, the text every reader's error must contain besides the file name)

def _state_dict() -> dict:
    return build_backbone('test_s8', 18).state_dict()

def _truncated(p: Path):
    torch.save(_state_dict(), p)
    data = p.read_bytes()
    p.write_bytes(data[:len(data) // 2])

BAD_FILES = {
    'random bytes': (lambda p: p.write_bytes(os.urandom(8192)), 'not a PyTorch checkpoint'),
    'empty file':   (lambda p: p.write_bytes(b''), 'the file is empty'),
    'html page':    (lambda p: p.write_text('<!DOCTYPE html><title>403 Forbidden</title>'), 'not a PyTorch checkpoint'),
    'truncated':    (_truncated, 'truncated or corrupt'),
    'a list':       (lambda p: torch.save([1, 2, 3], p), 'it holds a list, not a dict of tensors'),
    'a tensor':     (lambda p: torch.save(torch.zeros(3), p), 'it holds a Tensor, not a dict of tensors'),
}

# a training checkpoint is a dict with a 'model' entry: a list or a tensor is refused by that rule
TRAINING_CKPT = {'a list': "not a training checkpoint (no 'model' entry)",
                 'a tensor': "not a training checkpoint (no 'model' entry)"}

def _read_training(p, out):
    from stt_nb.training import load_checkpoint
    load_checkpoint(p)

def _load_weights(p, out):
    from stt_nb.backbone import load_backbone_weights
    load_backbone_weights(build_backbone('test_s8', 18), p)

def _eval_backbone(p, out):
    from stt_nb.evaluate import load_eval_backbone
    load_eval_backbone(p)

def _step2_init(p, out):
    from stt_nb.stt import STT, StudentTeacherConfig, STTLossConfig
    STT(StudentTeacherConfig(depth=18, init=str(p), teacher=None), STTLossConfig(global_weight=0))

def _step2_teacher(p, out):
    from stt_nb.stt import STT, StudentTeacherConfig, STTLossConfig
    STT(StudentTeacherConfig(depth=18, init='random', teacher=str(p), teacher_depth=18), STTLossConfig())

def _export_student(p, out):
    from stt_nb.stt import export_student
    export_student(p, out)

def _export_encoder(p, out):
    from stt_nb.contrastive import export_encoder
    export_encoder(p, out)

def _ablation_step1(p, out):
    from stt_nb.ablations import plan_variant
    plan_variant('stt', 'paper', spatial_checkpoint=str(p), root=out.parent / 'ablations',
                 temporal_overrides=['data.root=/data/youtube_vos2018/train/JPEGImages_s256'])

READERS = {
    'training.load_checkpoint': _read_training,
    'backbone.load_backbone_weights': _load_weights,
    'evaluate.load_eval_backbone': _eval_backbone,
    'stt model.init': _step2_init,
    'stt model.teacher': _step2_teacher,
    'stt.export_student': _export_student,
    'contrastive.export_encoder': _export_encoder,
    'ablations spatial_checkpoint': _ablation_step1,
}

@pytest.mark.parametrize('bad', list(BAD_FILES))
@pytest.mark.parametrize('reader', list(READERS))
def test_bad_checkpoint_file(reader, bad, tmp_path):
    write, says = BAD_FILES[bad]
    if reader == 'training.load_checkpoint': says = TRAINING_CKPT.get(bad, says)
    path = tmp_path / 'weights.pth'
    write(path)
    out = tmp_path / 'exported' / 'backbone.pt'
    with pytest.raises(ValueError) as e:
        READERS[reader](path, out)
    msg = str(e.value)
    assert str(path) in msg and says in msg, f"{reader} on {bad}: {msg!r}"
    err = e.value                                   # one error: no "during handling of the above exception" chain
    assert err.__cause__ is None and (err.__context__ is None or err.__suppress_context__), "a chain of tracebacks"
    assert not out.exists() and not (tmp_path / 'ablations').exists(), "nothing written for a bad input"

def test_the_bad_files_are_what_they_claim():
    "The truncated file starts like a real checkpoint (a zip archive) and the list/tensor files load with torch."
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / 'x.pt'
        _truncated(p); assert p.read_bytes()[:4] == b'PK\x03\x04'
        with pytest.raises(Exception): torch.load(p, weights_only=True)
        torch.save([1, 2, 3], p); assert torch.load(p, weights_only=True) == [1, 2, 3]

# ---------------------------------------------------------------------------------------------------------------
# Configs: (task, config file, overrides, the text the error must contain)

def _task(name):
    from stt_nb.contrastive import SpatialTask
    from stt_nb.stt import TemporalTask
    return {'spatial': SpatialTask, 'temporal': TemporalTask}[name]()

BAD_CONFIGS = {
    'paper step 2, nothing set': ('temporal', 'temporal/ytvos_r18_s8.yaml', [],
        'ytvos_r18_s8.yaml: required keys model.init, model.teacher, data.root are not set; set them in the file '
        'or override them (model.init=VALUE model.teacher=VALUE data.root=VALUE)'),
    'paper step 2, no step-1 model': ('temporal', 'temporal/ytvos_r50_s8.yaml', ['data.root=/d', 'model.teacher=/t.pth'],
        'ytvos_r50_s8.yaml: required key model.init is not set; set it in the file or override it (model.init=VALUE)'),
    'temporal only, no data': ('temporal', 'temporal/temporal_only.yaml', [],
        'temporal_only.yaml: required key data.root is not set'),
    'paper step 1 R18, no data': ('spatial', 'spatial/imagenet_r18.yaml', ['loop.epochs=1'],
        'imagenet_r18.yaml: required key data.root is not set'),
    'paper step 1 R50, no data': ('spatial', 'spatial/imagenet_r50.yaml', [],
        'imagenet_r50.yaml: required key data.root is not set'),
    'unknown override key': ('temporal', 'temporal/tiny_cpu.yaml', ['loss.local_wieght=1'], "unknown key 'loss.local_wieght'"),
    'wrong override type': ('spatial', 'spatial/tiny_cpu.yaml', ['loop.epochs=many'], 'loop.epochs: expected an integer'),
}

@pytest.mark.parametrize('case', list(BAD_CONFIGS))
def test_bad_config(case):
    from stt_nb.core import ConfigError, load_config
    from stt_nb.training import task_config_class
    task, rel, overrides, says = BAD_CONFIGS[case]
    with pytest.raises(ConfigError) as e:
        load_config(task_config_class(_task(task)), CONFIGS / rel, overrides)
    assert says in str(e.value), str(e.value)

def test_required_keys_once_set_load():
    "The same files load once their required keys are set (a null model.init is a choice: random init)."
    from stt_nb.core import load_config
    from stt_nb.training import task_config_class
    cfg = load_config(task_config_class(_task('temporal')), CONFIGS / 'temporal/ytvos_r18_s8.yaml',
                      ['model.init=null', 'model.teacher=/t.pth', 'data.root=/d'])
    assert (cfg.model.init, cfg.model.teacher, cfg.data.root) == (None, '/t.pth', '/d')

@pytest.mark.parametrize('text, says', [('model: [unclosed', 'cannot parse'), ('- a\n- b\n', 'top level must be a mapping'),
                                        ('model:\n  depht: 18\n', "unknown config key(s) ['model.depht']")])
def test_bad_config_file(tmp_path, text, says):
    from stt_nb.core import ConfigError, load_config
    from stt_nb.training import task_config_class
    p = tmp_path / 'mine.yaml'; p.write_text(text)
    with pytest.raises(ConfigError) as e: load_config(task_config_class(_task('temporal')), p)
    assert str(p) in str(e.value) and says in str(e.value), str(e.value)

# ---------------------------------------------------------------------------------------------------------------
# The same, from the command line

def _exe(name: str) -> str: return shutil.which(name, path=str(Path(sys.executable).parent)) or name

@pytest.fixture(scope='module')
def garbage(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp('bad') / 'download.pth'
    p.write_text('<html>404 Not Found</html>')
    return p

@pytest.fixture(scope='module')
def toy(tmp_path_factory) -> Path:
    from stt_nb.toys import toy_davis
    return toy_davis(tmp_path_factory.mktemp('toy') / 'davis', n_sequences=1, n_frames=6, height=120, seed=3)

CLI = {   # argv (with {garbage} / {toy} / {tmp} filled in), the text stderr must contain
    'stt_train paper config, required keys unset': (
        ['stt_train', 'temporal', '--config', str(CONFIGS / 'temporal/ytvos_r18_s8.yaml'), 'run.out_dir={tmp}/runs'],
        'required keys model.init, model.teacher, data.root are not set'),
    'stt_train unknown key': (['stt_train', 'toy', 'loop.bogus=3'], "unknown key 'loop.bogus'"),
    'stt_train corrupt step-1 model': (
        ['stt_train', 'temporal', '--config', str(CONFIGS / 'temporal/tiny_cpu.yaml'), 'model.init={garbage}',
         'model.teacher=null', 'loss.global_weight=0', 'run.out_dir={tmp}/runs'], '{garbage}: not a PyTorch checkpoint'),
    'stt_eval corrupt checkpoint': (
        ['stt_eval', 'davis', '--checkpoint', '{garbage}', '--data-root', '{toy}', '--out', '{tmp}/eval', '--no-progress'],
        '{garbage}: not a PyTorch checkpoint'),
    'stt_eval metrics, missing results': (
        ['stt_eval', 'metrics', '--davis-root', '{toy}', '--results', '{tmp}/nope'], 'nope'),
    'stt_ablate unknown variant': (['stt_ablate', '--scale', 'quick', '--variants', 'stt_t0.9', '--root', '{tmp}/abl'], 'stt_t0.9'),
    'stt_nb data, bad count': (['stt_nb', 'data', 'toy-davis', '--root', '{tmp}/x', '--n', '0'], 'stt_nb data: error:'),
}

@pytest.mark.parametrize('case', list(CLI))
def test_bad_input_on_the_command_line(case, garbage, toy, tmp_path):
    argv, says = CLI[case]
    fill = lambda s: s.format(garbage=garbage, toy=toy, tmp=tmp_path)
    env = {**os.environ, 'STT_NB_CACHE': str(tmp_path / 'cache'), 'OMP_NUM_THREADS': '1'}
    r = subprocess.run([_exe(argv[0]), *map(fill, argv[1:])], capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 1, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    assert fill(says) in r.stderr and 'Traceback' not in r.stderr, r.stderr
    written = [p for p in tmp_path.rglob('*') if p.is_file()]
    assert not written, f"files written despite the bad input: {written}"

# ---------------------------------------------------------------------------------------------------------------
# A careless or hurried user (issue 21): each probe is the user's command, run through the console entry points
# in this process (`stt_train_main` & co. are what the installed scripts call; the subprocess cases above check
# the scripts themselves). Each asserts the one-line error or the stated behaviour, and that nothing was written.

import json, math

def _cli(capsys, prog: str, *argv: str) -> tuple[int, str]:
    "Run console command `prog` in this process; its exit status and stderr."
    from stt_nb import cli
    main = {'stt_train': cli.stt_train_main, 'stt_eval': cli.stt_eval_main, 'stt_ablate': cli.stt_ablate_main,
            'stt_nb': cli.stt_nb_main}[prog]
    capsys.readouterr()
    try: rc = main(list(argv))
    except SystemExit as e: rc = e.code                      # argparse's usage errors
    err = capsys.readouterr().err
    assert 'Traceback' not in err, err
    return rc, err

TOY = ['data.source=synthetic', 'run.progress=false', 'run.tensorboard=false', 'run.log_every=1', 'run.ckpt_every=2']

def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob('*')) if p.is_file()}

def test_probe1_resume_applies_a_changed_lr_from_the_resumed_step_or_refuses(capsys, tmp_path):
    from stt_nb.training import read_metrics
    base = ['toy', *TOY, f'run.out_dir={tmp_path}', 'run.name=r1', 'loop.epochs=5']
    assert _cli(capsys, 'stt_train', *base, 'loop.max_steps=2')[0] == 0
    with pytest.warns(UserWarning, match=r'with optim\.lr 0\.03 → 0\.5, loop\.max_steps 2 → 4: the learning-rate '
                                         r'schedule is rebuilt'):
        rc, err = _cli(capsys, 'stt_train', *base, '--resume', 'auto', 'loop.max_steps=4', 'optim.lr=0.5')
    assert rc == 0, err
    lrs = read_metrics(tmp_path / 'r1').set_index('step')['lr']
    # the lr of step k is 0.5 × the cosine factor of the new 4-step schedule at k - 1: ½(1 + cos(π (k-1) / 4))
    for k in (3, 4): assert math.isclose(lrs[k], 0.5 * 0.5 * (1 + math.cos(math.pi * (k - 1) / 4)), rel_tol=1e-9), lrs
    assert math.isclose(lrs[1], 0.03) and math.isclose(lrs[2], 0.03 * 0.5 * (1 + math.cos(math.pi / 2)))   # as first run
    import yaml
    assert yaml.safe_load((tmp_path / 'r1/config.yaml').read_text())['optim']['lr'] == 0.5   # what runs from step 3 on
    starts = json.loads((tmp_path / 'r1/run.json').read_text())['starts']
    assert [s['step'] for s in starts] == [0, 2] and starts[1]['changed'] == {'optim.lr': [0.03, 0.5], 'loop.max_steps': [2, 4]}
    # a change that would make the run something else is refused, naming it, and nothing is written
    before = _snapshot(tmp_path / 'r1')
    rc, err = _cli(capsys, 'stt_train', *base, '--resume', 'auto', 'loop.max_steps=6', 'loop.batch_size=16')
    assert rc == 1 and 'cannot resume with a changed loop.batch_size (32 → 16)' in err and 'run.name' in err, err
    assert _snapshot(tmp_path / 'r1') == before

def test_probe2_a_fresh_run_refuses_a_folder_it_did_not_create(capsys, tmp_path):
    mine = tmp_path / 'mine'; mine.mkdir()
    (mine / 'config.yaml').write_text('my: notes\n'); (mine / 'run.json').write_text('{"mine": 1}')
    before = _snapshot(mine)
    rc, err = _cli(capsys, 'stt_train', 'toy', *TOY, f'run.out_dir={tmp_path}', 'run.name=mine', 'loop.max_steps=2')
    assert rc == 1 and 'holds files no run of stt_nb wrote (config.yaml, run.json)' in err, err
    assert _snapshot(mine) == before
    assert _cli(capsys, 'stt_train', 'toy', *TOY, f'run.out_dir={tmp_path}', 'run.name=mine', 'loop.max_steps=2',
                'run.overwrite=true')[0] == 0                                    # written only when asked
    assert (mine / '.stt_nb_run').is_file() and (mine / 'checkpoints/latest.pt').is_file()
    rc, err = _cli(capsys, 'stt_train', 'toy', *TOY, 'run.out_dir=/', 'run.name=etc')
    assert rc == 1 and "run.out_dir='/' resolves to /, a system folder" in err, err
    rc, err = _cli(capsys, 'stt_train', 'toy', *TOY, 'run.out_dir=/usr/lib', 'run.name=x')
    assert rc == 1 and 'a system folder' in err, err
    rc, err = _cli(capsys, 'stt_train', 'toy', *TOY, f'run.out_dir={tmp_path}', 'run.name=../escape')
    assert rc == 1 and 'run.name must be a plain folder name' in err, err
    assert not (tmp_path.parent / 'escape').exists()

@pytest.fixture(scope='module')
def small_davis(tmp_path_factory) -> Path:
    from stt_nb.toys import toy_davis
    return toy_davis(tmp_path_factory.mktemp('toy3') / 'davis', n_sequences=1, n_frames=6, height=64, seed=3)

EVAL = ['--input-size', '64', '--no-progress', '--workers', '1']

def test_probe3_eval_output_holds_one_models_predictions(capsys, tmp_path, small_davis):
    out = tmp_path / 'eval'
    assert _cli(capsys, 'stt_eval', 'davis', '--data-root', str(small_davis), '--out', str(out), *EVAL)[0] == 0
    before = _snapshot(out)
    rc, err = _cli(capsys, 'stt_eval', 'davis', '--data-root', str(small_davis), '--out', str(out), '--seed', '1', *EVAL)
    assert rc == 1 and 'holds the predictions of another evaluation (seed 0' in err and '--overwrite' in err, err
    assert _snapshot(out) == before                                             # nothing mixed in
    assert _cli(capsys, 'stt_eval', 'davis', '--data-root', str(small_davis), '--out', str(out), *EVAL)[0] == 0  # same one: fine
    assert _cli(capsys, 'stt_eval', 'davis', '--data-root', str(small_davis), '--out', str(out), '--seed', '1',
                '--overwrite', *EVAL)[0] == 0
    assert json.loads((out / 'eval_config.json').read_text())['identity']['seed'] == 1
    # a folder with files no evaluation wrote is refused too
    (tmp_path / 'notes').mkdir(); (tmp_path / 'notes' / 'todo.txt').write_text('x')
    rc, err = _cli(capsys, 'stt_eval', 'davis', '--data-root', str(small_davis), '--out', str(tmp_path / 'notes'), *EVAL)
    assert rc == 1 and 'files no evaluation of this checkpoint wrote (todo.txt)' in err, err

def test_probe4_a_missing_input_frame_is_named_before_anything_runs(capsys, tmp_path, small_davis):
    root = tmp_path / 'davis'; shutil.copytree(small_davis, root)
    seq = (root / 'ImageSets/2017/val.txt').read_text().split()[0]
    (root / 'JPEGImages/480p' / seq / '00001.jpg').unlink()
    rc, err = _cli(capsys, 'stt_eval', 'davis', '--data-root', str(root), '--out', str(tmp_path / 'e'), *EVAL)
    assert rc == 1 and f"frame {root / 'JPEGImages/480p' / seq / '00001.jpg'} is missing" in err, err
    assert not (tmp_path / 'e').exists()

def test_probe5_required_values_are_checked_on_every_path(capsys, tmp_path):
    rc, err = _cli(capsys, 'stt_train', 'toy', *TOY, f'run.out_dir={tmp_path}', 'run.name=???')
    assert rc == 1 and "override 'run.name=???'" in err, err
    rc, err = _cli(capsys, 'stt_train', 'toy', *TOY, f'run.out_dir={tmp_path}', 'loop.epochs=???')
    assert rc == 1 and "override 'loop.epochs=???'" in err, err
    from stt_nb.core import ConfigError
    from stt_nb.training import run_training
    with pytest.raises(ConfigError, match=r'required key run\.name is not set'):
        run_training('toy', {'run': {'name': '???', 'out_dir': str(tmp_path)}, 'data': {'source': 'synthetic'}})
    assert not any(tmp_path.iterdir())

def test_probe6_every_error_is_one_line(capsys, tmp_path, small_davis):
    rc, err = _cli(capsys, 'stt_train', 'toy', *TOY, f'run.out_dir={tmp_path}', 'optim.lr=.inf')
    assert rc == 1 and 'optim.lr must be a finite number > 0, got inf' in err, err
    rc, err = _cli(capsys, 'stt_train', 'toy', '--config', str(tmp_path), f'run.out_dir={tmp_path}')
    assert rc == 1 and f'{tmp_path} is a folder, not a config file' in err, err
    rc, err = _cli(capsys, 'stt_train', 'toy', *TOY, f'run.out_dir={tmp_path}', 'run.name=blowup', 'optim.lr=1e30',
                   'loop.max_steps=6')                                           # a loss that becomes non-finite
    assert rc == 1 and 'non-finite loss at step' in err, err
    (tmp_path / 'afile').write_text('x')
    rc, err = _cli(capsys, 'stt_eval', 'davis', '--data-root', str(small_davis), '--out', str(tmp_path / 'afile/out'), *EVAL)
    assert rc == 1 and f"{tmp_path / 'afile'} is a file" in err, err
    root = tmp_path / 'bench'; root.mkdir(); (root / 'sub').symlink_to(root)   # a benchmark holding a link loop
    rc, err = _cli(capsys, 'stt_ablate', '--list', '--scale', 'quick', '--variants', 'random', '--data-root', str(root),
                   '--root', str(tmp_path / 'abl'))
    assert rc == 1 and f"the folder {root / 'sub'} is a symbolic link back to {root}" in err, err
    assert len(err.strip().splitlines()) == 1, err
    # a training checkpoint of another depth: one line naming the file and the mismatch
    from stt_nb.backbone import build_backbone
    from stt_nb.training import save_checkpoint
    other = save_checkpoint(tmp_path / 'r50.pt', build_backbone('test_s8', 50))
    rc, err = _cli(capsys, 'stt_train', 'toy', *TOY, f'run.out_dir={tmp_path}', 'run.name=wrong', '--resume', str(other))
    assert rc == 1 and f'{other}: its weights do not fit this ToyNet' in err and len(err) < 600, err
    assert 'STT_NB_DEBUG=1' in err and not (tmp_path / 'wrong').exists()

def test_probe7_a_damaged_log_is_refused_before_the_folder_changes(capsys, tmp_path):
    base = ['toy', *TOY, f'run.out_dir={tmp_path}', 'run.name=r', 'loop.epochs=5']
    assert _cli(capsys, 'stt_train', *base, 'loop.max_steps=2')[0] == 0
    log = tmp_path / 'r/metrics.jsonl'
    lines = log.read_text().splitlines(); log.write_text('\n'.join([lines[0], 'garbage', *lines[1:]]) + '\n')
    before = _snapshot(tmp_path / 'r')
    rc, err = _cli(capsys, 'stt_train', *base, 'loop.max_steps=4', '--resume', 'auto')
    assert rc == 1 and 'line 2 is not a JSON object' in err and 'folder was left as it was' in err, err
    assert _snapshot(tmp_path / 'r') == before

@pytest.mark.parametrize('bad', ['missing checkpoint', 'not a DAVIS root'])
def test_probe8_a_failed_evaluation_creates_no_folder(capsys, tmp_path, small_davis, bad):
    args = (['--checkpoint', str(tmp_path / 'nope.pt'), '--data-root', str(small_davis)] if bad == 'missing checkpoint'
            else ['--data-root', str(tmp_path)])
    rc, err = _cli(capsys, 'stt_eval', 'davis', *args, '--out', str(tmp_path / 'o/e'), *EVAL)
    assert rc == 1 and not (tmp_path / 'o').exists(), err

def test_probe9_options_are_checked_where_they_are_given(capsys, tmp_path, small_davis):
    for opt in ('seed=1', 'device=cpu'):
        rc, err = _cli(capsys, 'stt_ablate', '--scale', 'quick', '--variants', 'temporal', '--eval-option', opt,
                       '--root', str(tmp_path / 'abl'))
        assert rc == 1 and 'set by the grid itself' in err, err
    assert not (tmp_path / 'abl').exists()                                       # refused before any training
    for opt in ('--batch-size', '--input-size'):
        rc, err = _cli(capsys, 'stt_eval', 'davis', '--data-root', str(small_davis), '--out', str(tmp_path / 'e'), opt, '0')
        assert rc == 2 and f'argument {opt}: must be an integer >= 1, got 0' in err, err
    # a run that died before its first checkpoint: the advice is the one that works
    base = ['toy', *TOY, f'run.out_dir={tmp_path}', 'run.name=nockpt', 'run.ckpt_every=0', 'loop.max_steps=2']
    assert _cli(capsys, 'stt_train', *base)[0] == 0
    rc, err = _cli(capsys, 'stt_train', *base)
    assert rc == 1 and 'stopped before its first checkpoint' in err and 'run.overwrite=true' in err, err
    assert _cli(capsys, 'stt_train', *base, 'run.overwrite=true')[0] == 0
    # a hand-truncated results.csv row is named, not read as empty cells
    from stt_nb.ablations import update_results
    csv = tmp_path / 'grid/results.csv'
    update_results(csv, [dict(variant='random', seed=s, scale='quick', task='davis', **{'J&F-Mean': 0.5, 'J-Mean': 0.4,
                                                                                       'F-Mean': 0.6}) for s in (0, 1)])
    csv.write_text(csv.read_text().rstrip('\n')[:-4] + '\n')           # the last field cut off
    rc, err = _cli(capsys, 'stt_ablate', '--report', '--scale', 'quick', '--out', str(tmp_path / 'grid'))
    assert rc == 1 and 'line 3 has 6 of the header' in err, err

def test_probe9_train_seconds_count_every_segment(tmp_path):
    import time
    from stt_nb.toytask import ToyTask
    from stt_nb.training import run_training
    class Slow(ToyTask):
        def training_step(self, model, batch): time.sleep(0.05); return super().training_step(model, batch)
    cfg = {'run': {'out_dir': str(tmp_path), 'name': 's', 'ckpt_every': 6, 'progress': False, 'tensorboard': False},
           'loop': {'epochs': 8, 'batch_size': 8, 'max_steps': 6}, 'data': {'source': 'synthetic'}}
    first = run_training(Slow(), cfg)
    assert first.seconds >= 6 * 0.05
    cfg['loop']['max_steps'] = 7
    t0 = time.perf_counter(); res = run_training(Slow(), cfg, resume=True); wall = time.perf_counter() - t0
    assert res.step == 7 and 7 * 0.05 <= res.seconds <= first.seconds + wall   # the sleeps of both segments, no more

def test_probe10_a_floor_script_names_a_records_missing_backbones_before_it_builds_anything(tmp_path):
    """`bench_puppet_floors.py --models-from RECORD` reads the absolute weights paths a record holds: on another machine
    (or after the cache was cleared) they are missing. A run that is in this machine's cache under the same run folder
    is found there; the missing ones are all named, in one error, before any benchmark is built or model scored."""
    cache = tmp_path / 'cache'
    found = cache / 'ablations/runs/temporal-aaaaaaaaaaaa/backbone.pt'
    found.parent.mkdir(parents=True); found.write_bytes(b'')
    rec = tmp_path / 'rec'; rec.mkdir()
    rows = [('temporal', 0, 'vip', '/elsewhere/ablations/runs/temporal-aaaaaaaaaaaa/backbone.pt'),   # in this cache
            ('joint', 1, 'vip', '/elsewhere/ablations/runs/joint-bbbbbbbbbbbb/backbone.pt'),         # nowhere
            ('joint', 1, 'davis', '/elsewhere/ablations/runs/joint-cccccccccccc/backbone.pt'),       # another task
            ('random', 0, 'vip', 'random')]
    (rec / 'results.csv').write_text('variant,seed,task,weights\n' + ''.join(f'{v},{s},{t},{w}\n' for v, s, t, w in rows))
    before = sorted(str(p.relative_to(cache)) for p in cache.rglob('*'))
    r = subprocess.run([sys.executable, 'bench_puppet_floors.py', '--task', 'vip', '--models-from', str(rec)],
                       cwd=ROOT / 'tests' / 'benchmarks', env={**os.environ, 'STT_NB_CACHE': str(cache)},
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and '1 trained backbone(s) are not on this machine' in r.stderr, r.stderr
    assert 'joint seed 1: /elsewhere/ablations/runs/joint-bbbbbbbbbbbb/backbone.pt' in r.stderr
    assert 'temporal-aaaaaaaaaaaa' not in r.stderr and 'joint-cccccccccccc' not in r.stderr
    assert sorted(str(p.relative_to(cache)) for p in cache.rglob('*')) == before      # no benchmark was built
