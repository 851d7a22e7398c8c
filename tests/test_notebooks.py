"""Run every notebook's test cells, one pytest test per notebook.

Each notebook is executed exactly as `nbdev_test` executes it (nbdev's own `test_nb`). Cells carry the flags of
settings.ini `tst_flags`; here they are handled so that nothing is skipped silently:

- `slow` cells **run** here, at CI size: the kernel sees `STT_NB_FAST=1` and each slow cell shrinks its input (a
  smaller image, fewer steps, the `quick` scale) but asserts the same property. `--full` runs them at the size
  the notebook documents (and `nbdev_test --flags slow` does the same outside pytest).
- `gpu` cells run when CUDA is available, and are otherwise reported as skipped with the reason.
- `long` cells (a long run whose claim has no float tolerance: a model learns, a whole command runs) run here,
  except in the generic-kernel pass (`ATEN_CPU_CAPABILITY` set), which repeats only what kernels can change.
- `grid` cells (the tiny ablation grid, about 52 minutes per seed of its default paradigm group on 2 cores, and the demo) run only with
  `--nb-flags grid`; otherwise one skipped test per notebook says which cells were left out and why.

The tutorials (`nbs/tutorials/`) are not run here: `tests/test_tutorials.py` executes them through a real Jupyter
kernel in their fast mode.
"""
from configparser import ConfigParser
from pathlib import Path
import json, os, re, pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(p for p in (ROOT / 'nbs').rglob('*.ipynb')
             if '.ipynb_checkpoints' not in p.parts and not p.name.startswith('_')
             and p.relative_to(ROOT / 'nbs').parts[0] != 'tutorials')     # covered by tests/test_tutorials.py

REASONS = {
    'gpu': "needs a CUDA GPU; none is available in this run",
    'grid': "the tiny-scale ablation grid (about 52 min per seed of its default group on 2 CPU cores, record grid_tiny_v4) / the demo; the same code runs at the "
            "quick scale in the notebook's slow cells; run with --nb-flags grid",
    'data': "needs a real benchmark on disk; run with --nb-flags data",
    'long': "a long run whose assertions have no float tolerance (a model learns; a whole command runs): run in the "
            "default pass, not repeated in the generic-kernel pass (ATEN_CPU_CAPABILITY set); run with --nb-flags long",
}

def _tst_flags() -> list[str]:
    cfg = ConfigParser(delimiters=['=']); cfg.read(ROOT / 'settings.ini')
    return cfg['DEFAULT'].get('tst_flags', '').split()

def _flagged(nb: Path) -> dict[str, int]:
    "Flag → number of code cells carrying it (`#| slow`, `#| grid` ...) in notebook `nb`."
    counts: dict[str, int] = {}
    for c in json.loads(nb.read_text(encoding='utf-8'))['cells']:
        if c['cell_type'] != 'code': continue
        for line in ''.join(c['source']).splitlines():
            m = re.match(r'\s*#\|\s*(.*)$', line)
            if not m: continue
            for f in m.group(1).split():
                if f in _tst_flags(): counts[f] = counts.get(f, 0) + 1
    return counts

def _forced(config) -> list[str]:
    "The flags whose cells run in this session."
    import torch
    force = ['slow'] + config.getoption('--nb-flags').split()
    if not os.environ.get('ATEN_CPU_CAPABILITY'): force.append('long')     # see REASONS['long'] and conftest.py
    if torch.cuda.is_available(): force.append('gpu')
    return sorted(set(force))

@pytest.mark.parametrize('nb', NBS, ids=[str(p.relative_to(ROOT / 'nbs')) for p in NBS])
def test_notebook(nb: Path, request, monkeypatch):
    from nbdev.test import test_nb
    if not request.config.getoption('--full'): monkeypatch.setenv('STT_NB_FAST', '1')
    else: monkeypatch.delenv('STT_NB_FAST', raising=False)
    cwd = os.getcwd()
    try:
        ok, secs = test_nb(nb, skip_flags=_tst_flags(), force_flags=_forced(request.config), basepath=ROOT)
    finally: os.chdir(cwd)
    assert ok, f"{nb.relative_to(ROOT)} failed (traceback above)"

SKIPPABLE = [(nb, f, n) for nb in NBS for f, n in sorted(_flagged(nb).items()) if f != 'slow']

@pytest.mark.parametrize('nb,flag,n', SKIPPABLE, ids=[f"{p.relative_to(ROOT / 'nbs')}-{f}" for p, f, _ in SKIPPABLE])
def test_flagged_cells(nb: Path, flag: str, n: int, request):
    "One line in the summary for each notebook whose flagged cells did not run, with the reason."
    if flag in _forced(request.config): pytest.skip(f"ran inside test_notebook[{nb.name}] (flag {flag!r} forced)")
    pytest.skip(f"{n} cell(s) flagged {flag!r} in {nb.relative_to(ROOT)} not run: {REASONS.get(flag, 'flag not forced')}")

def test_every_flag_has_a_reason():
    "A flag used in a notebook but without a reason here would be skipped without explanation."
    used = {f for nb in NBS for f in _flagged(nb)}
    assert used <= set(REASONS) | {'slow'}, sorted(used - set(REASONS) - {'slow'})
