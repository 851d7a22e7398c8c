"""Run every notebook's test cells, one pytest test per notebook.

Each notebook is executed exactly as `nbdev_test` executes it (nbdev's own `test_nb`): cells flagged with a
`tst_flags` flag from settings.ini are skipped unless `--nb-flags` names the flag. The tutorials (`nbs/tutorials/`)
are not run here: `tests/test_tutorials.py` executes them through a real Jupyter kernel in their fast mode.
"""
from configparser import ConfigParser
from pathlib import Path
import os, pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(p for p in (ROOT / 'nbs').rglob('*.ipynb')
             if '.ipynb_checkpoints' not in p.parts and not p.name.startswith('_')
             and p.relative_to(ROOT / 'nbs').parts[0] != 'tutorials')     # covered by tests/test_tutorials.py

def _tst_flags() -> list[str]:
    cfg = ConfigParser(delimiters=['=']); cfg.read(ROOT / 'settings.ini')
    return cfg['DEFAULT'].get('tst_flags', '').split()

@pytest.mark.parametrize('nb', NBS, ids=[str(p.relative_to(ROOT / 'nbs')) for p in NBS])
def test_notebook(nb: Path, request):
    from nbdev.test import test_nb
    force = request.config.getoption('--nb-flags').split()
    cwd = os.getcwd()
    try:
        ok, secs = test_nb(nb, skip_flags=_tst_flags(), force_flags=force, basepath=ROOT)
    finally: os.chdir(cwd)
    assert ok, f"{nb.relative_to(ROOT)} failed (traceback above)"
