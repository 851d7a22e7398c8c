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
