"""The library is generated from the notebooks: fail when `nbdev_export` or `nbdev_clean` would change anything."""
from pathlib import Path
import filecmp, shutil, subprocess, sys

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

def _copy_project(dst: Path):
    for name in ('settings.ini', 'setup.py', 'pyproject.toml', 'README.md'):
        if (ROOT / name).exists(): shutil.copy(ROOT / name, dst / name)
    shutil.copytree(ROOT / 'nbs', dst / 'nbs', ignore=shutil.ignore_patterns('.ipynb_checkpoints', '_proc'))
    shutil.copytree(ROOT / 'stt_nb', dst / 'stt_nb', ignore=shutil.ignore_patterns('__pycache__'))

def _diff(a: Path, b: Path, pattern: str) -> list[str]:
    fa = {p.relative_to(a) for p in a.rglob(pattern) if '__pycache__' not in p.parts}
    fb = {p.relative_to(b) for p in b.rglob(pattern) if '__pycache__' not in p.parts}
    out = [f'only in repo: {p}' for p in sorted(fa - fb)] + [f'only after export: {p}' for p in sorted(fb - fa)]
    out += [f'differs: {p}' for p in sorted(fa & fb) if not filecmp.cmp(a / p, b / p, shallow=False)]
    return out

def test_library_matches_notebooks(tmp_path):
    _copy_project(tmp_path)
    r = subprocess.run([str(BIN / 'nbdev_export')], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    diffs = _diff(ROOT / 'stt_nb', tmp_path / 'stt_nb', '*.py')
    assert not diffs, "stt_nb/ is out of sync with nbs/ (run nbdev_export and commit):\n" + '\n'.join(diffs)

def test_notebooks_are_clean(tmp_path):
    _copy_project(tmp_path)
    r = subprocess.run([str(BIN / 'nbdev_clean')], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    diffs = _diff(ROOT / 'nbs', tmp_path / 'nbs', '*.ipynb')
    assert not diffs, "notebooks are not clean (run nbdev_clean and commit):\n" + '\n'.join(diffs)
